package httpclient

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/accountkit/cancellation/ports"
)

// Standard Webhooks (https://www.standardwebhooks.com) headers that a
// [Webhook] sends and a [WebhookVerifier] checks.
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// WebhookContentType is the content type of a webhook's body: a CloudEvent
// in the structured content mode of the CloudEvents HTTP binding.
const WebhookContentType = "application/cloudevents+json"

// DefaultWebhookTolerance is how far a webhook's timestamp may be from the
// receiver's clock, either way, unless WebhookVerifierOptions says
// otherwise (the Standard Webhooks recommendation).
const DefaultWebhookTolerance = 5 * time.Minute

// webhookSecretPrefix starts a Standard Webhooks secret.
const webhookSecretPrefix = "whsec_"

// Errors of a [WebhookVerifier]; both mean: do not act on the request.
var (
	// ErrWebhookSignature: a header is missing or malformed, or no
	// signature matches the body under any secret.
	ErrWebhookSignature = errors.New("httpclient: webhook signature does not verify")
	// ErrWebhookTimestamp: the signature's timestamp is outside the
	// tolerance window (a replayed or badly delayed request).
	ErrWebhookTimestamp = errors.New("httpclient: webhook timestamp outside the tolerance")
)

// parseWebhookSecret decodes a Standard Webhooks secret: "whsec_" and the
// base64 of 24 to 64 random bytes. The prefix may be left out.
func parseWebhookSecret(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, webhookSecretPrefix))
	switch {
	case err != nil:
		return nil, errors.New("httpclient: webhook secret: not whsec_ followed by base64")
	case len(key) < 24 || len(key) > 64:
		return nil, fmt.Errorf("httpclient: webhook secret: %d bytes; Standard Webhooks secrets are 24 to 64 bytes", len(key))
	}
	return key, nil
}

// NewWebhookSecret returns a new random secret in the Standard Webhooks
// form, "whsec_" and the base64 of 32 bytes from crypto/rand, to share
// with a receiver.
func NewWebhookSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return webhookSecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// SignWebhook returns the Standard Webhooks signature header value for a
// message: "v1," and the base64 of the HMAC-SHA256, keyed by secret, of
// id, the Unix time of at and body joined by dots. Senders set it as the
// webhook-signature header beside webhook-id (id) and webhook-timestamp
// (at in Unix seconds).
func SignWebhook(secret, id string, at time.Time, body []byte) (string, error) {
	key, err := parseWebhookSecret(secret)
	if err != nil {
		return "", err
	}
	return "v1," + base64.StdEncoding.EncodeToString(webhookMAC(key, id, at.Unix(), body)), nil
}

func webhookMAC(key []byte, id string, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write(strconv.AppendInt(nil, ts, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Webhook is a [ports.EventPublisher] that POSTs each event, as CloudEvents
// JSON (content type [WebhookContentType]), to one endpoint, signed with
// the Standard Webhooks scheme: webhook-id is the event's ID (so a
// receiver deduplicates retries by it), webhook-timestamp the attempt's
// Unix time and webhook-signature its HMAC-SHA256 under the shared secret.
// Each attempt, retries included, is signed afresh. The Idempotency-Key
// header carries the event ID too.
//
// Any 2xx answer accepts the event. Failures are *Error values, as for a
// [Client]: a 408, 429, 5xx or lost connection wraps [ErrUnavailable] and
// is retried within the call, then by the workflow; another 4xx wraps
// [ErrRejected] (the workflow still retries it with backoff, so fix the
// receiver and nothing is lost). A Webhook is safe for concurrent use.
type Webhook struct {
	cl  *Client
	key []byte
	now func() time.Time
}

// Compile-time check.
var _ ports.EventPublisher = (*Webhook)(nil)

// NewWebhook returns a Webhook that posts to endpoint, an absolute http or
// https URL, signed with secret (see [NewWebhookSecret]). opts work as for
// [New]; Options.Authorize may add credentials of the receiver's own.
func NewWebhook(endpoint, secret string, opts Options) (*Webhook, error) {
	key, err := parseWebhookSecret(secret)
	if err != nil {
		return nil, err
	}
	cl, err := New(endpoint, opts)
	if err != nil {
		return nil, err
	}
	return &Webhook{cl: cl, key: key, now: time.Now}, nil
}

// Publish implements [ports.EventPublisher]: it posts e and returns nil
// once the receiver answered 2xx.
func (w *Webhook) Publish(ctx context.Context, e ports.CloudEvent) error {
	c := call{method: http.MethodPost, route: "{webhook}", contentType: WebhookContentType,
		idempotencyKey: e.ID, limit: 4 << 10}
	body, err := json.Marshal(e)
	switch {
	case e.ID == "":
		c.refuse = "the event has no id"
	case err != nil:
		c.refuse = "the event does not encode as JSON: " + err.Error()
	}
	c.body = body
	c.sign = func(h http.Header) {
		ts := w.now().Unix()
		h.Set(HeaderWebhookID, e.ID)
		h.Set(HeaderWebhookTimestamp, strconv.FormatInt(ts, 10))
		h.Set(HeaderWebhookSignature, "v1,"+base64.StdEncoding.EncodeToString(webhookMAC(w.key, e.ID, ts, body)))
	}
	_, err = w.cl.do(ctx, c)
	return err
}

// WebhookVerifierOptions configure a [WebhookVerifier].
type WebhookVerifierOptions struct {
	// Tolerance is how far the timestamp may be from Now, either way
	// (default DefaultWebhookTolerance).
	Tolerance time.Duration
	// Now tells the time (default time.Now).
	Now func() time.Time
}

// WebhookVerifier checks Standard Webhooks signatures for a receiver of a
// [Webhook] (or of any Standard Webhooks sender). It accepts a request
// when its timestamp is within the tolerance and any of the
// space-separated signatures of its webhook-signature header is a "v1"
// signature that matches under any of its secrets (several secrets let a
// receiver rotate them). Signatures are compared in constant time. It is
// safe for concurrent use.
type WebhookVerifier struct {
	keys      [][]byte
	tolerance time.Duration
	now       func() time.Time
}

// NewWebhookVerifier returns a verifier for the given secrets, at least
// one, each "whsec_" and base64 as [NewWebhookSecret] makes them.
func NewWebhookVerifier(opts WebhookVerifierOptions, secrets ...string) (*WebhookVerifier, error) {
	if len(secrets) == 0 {
		return nil, errors.New("httpclient: webhook verifier: no secret")
	}
	if opts.Tolerance < 0 {
		return nil, errors.New("httpclient: webhook verifier: negative Tolerance")
	}
	v := &WebhookVerifier{tolerance: opts.Tolerance, now: opts.Now}
	setDefault(&v.tolerance, DefaultWebhookTolerance)
	if v.now == nil {
		v.now = time.Now
	}
	for i, s := range secrets {
		key, err := parseWebhookSecret(s)
		if err != nil {
			return nil, fmt.Errorf("secret %d: %w", i, err)
		}
		v.keys = append(v.keys, key)
	}
	return v, nil
}

// Verify checks the Standard Webhooks headers of a request against its
// body, read whole and unchanged. It returns nil, or an error wrapping
// [ErrWebhookSignature] or [ErrWebhookTimestamp].
func (v *WebhookVerifier) Verify(h http.Header, body []byte) error {
	id, tsText, sigs := h.Get(HeaderWebhookID), h.Get(HeaderWebhookTimestamp), h.Get(HeaderWebhookSignature)
	if id == "" || tsText == "" || sigs == "" {
		return fmt.Errorf("%w: webhook-id, webhook-timestamp and webhook-signature are required", ErrWebhookSignature)
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: webhook-timestamp is not a Unix time", ErrWebhookSignature)
	}
	now := v.now().Unix()
	if tol := int64(v.tolerance / time.Second); ts < now-tol || ts > now+tol {
		return fmt.Errorf("%w: %ds from now, tolerance %s", ErrWebhookTimestamp, ts-now, v.tolerance)
	}
	matched := 0
	for _, key := range v.keys {
		want := webhookMAC(key, id, ts, body)
		for _, sig := range strings.Fields(sigs) {
			version, b64, ok := strings.Cut(sig, ",")
			if !ok || version != "v1" {
				continue
			}
			got, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				continue
			}
			// Every candidate is compared, in constant time each, so the
			// time taken tells nothing of which one matched.
			if hmac.Equal(got, want) {
				matched++
			}
		}
	}
	if matched == 0 {
		return fmt.Errorf("%w: no v1 signature matches", ErrWebhookSignature)
	}
	return nil
}

// VerifyEvent verifies a webhook of a [Webhook] as Verify does, decodes
// its CloudEvent, and checks that the event's ID is the signed
// webhook-id, so that a receiver deduplicating by either is not misled.
func (v *WebhookVerifier) VerifyEvent(h http.Header, body []byte) (ports.CloudEvent, error) {
	if err := v.Verify(h, body); err != nil {
		return ports.CloudEvent{}, err
	}
	var e ports.CloudEvent
	if err := json.Unmarshal(body, &e); err != nil {
		return ports.CloudEvent{}, fmt.Errorf("httpclient: webhook body is not a CloudEvent: %w", err)
	}
	if e.ID != h.Get(HeaderWebhookID) {
		return ports.CloudEvent{}, fmt.Errorf("%w: the event id differs from webhook-id", ErrWebhookSignature)
	}
	return e, nil
}

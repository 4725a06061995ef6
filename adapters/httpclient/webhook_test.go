package httpclient_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation/adapters/httpclient"
	"github.com/accountkit/cancellation/ports"
	"github.com/accountkit/cancellation/ports/portstest"
)

// The published test vector of the Standard Webhooks scheme, from the
// reference Go library's test TestWebhookSign:
// https://github.com/standard-webhooks/standard-webhooks/blob/449485caf9c0303530c19524fbe4096680aafcf1/libraries/go/webhook_test.go
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	// vectorWrong is the reference tests' non-matching signature.
	vectorWrong = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
)

func vectorHeader(sig string) http.Header {
	h := http.Header{}
	h.Set(httpclient.HeaderWebhookID, vectorID)
	h.Set(httpclient.HeaderWebhookTimestamp, "1614265330")
	h.Set(httpclient.HeaderWebhookSignature, sig)
	return h
}

func vectorVerifier(t *testing.T, now time.Time, secrets ...string) *httpclient.WebhookVerifier {
	t.Helper()
	v, err := httpclient.NewWebhookVerifier(httpclient.WebhookVerifierOptions{Now: func() time.Time { return now }}, secrets...)
	require.NoError(t, err)
	return v
}

func TestWebhookSignatureMatchesTheStandardWebhooksVector(t *testing.T) {
	t.Parallel()
	sig, err := httpclient.SignWebhook(vectorSecret, vectorID, time.Unix(vectorTimestamp, 0), []byte(vectorBody))
	require.NoError(t, err)
	require.Equal(t, vectorSignature, sig)
	// The whsec_ prefix is optional, as in the reference library.
	sig, err = httpclient.SignWebhook(strings.TrimPrefix(vectorSecret, "whsec_"), vectorID, time.Unix(vectorTimestamp, 0), []byte(vectorBody))
	require.NoError(t, err)
	require.Equal(t, vectorSignature, sig)
}

func TestWebhookVerifierOnTheStandardWebhooksVector(t *testing.T) {
	t.Parallel()
	at := time.Unix(vectorTimestamp, 0)
	other := httpclient.NewWebhookSecret()
	t.Run("OK", func(t *testing.T) {
		require.NoError(t, vectorVerifier(t, at, vectorSecret).Verify(vectorHeader(vectorSignature), []byte(vectorBody)))
	})
	t.Run("OKWithinTolerance", func(t *testing.T) {
		require.NoError(t, vectorVerifier(t, at.Add(4*time.Minute), vectorSecret).Verify(vectorHeader(vectorSignature), []byte(vectorBody)))
		require.NoError(t, vectorVerifier(t, at.Add(-4*time.Minute), vectorSecret).Verify(vectorHeader(vectorSignature), []byte(vectorBody)))
	})
	t.Run("SeveralSignatures", func(t *testing.T) {
		h := vectorHeader(strings.Join([]string{vectorWrong, "v2," + strings.TrimPrefix(vectorSignature, "v1,"), vectorSignature, vectorWrong}, " "))
		require.NoError(t, vectorVerifier(t, at, vectorSecret).Verify(h, []byte(vectorBody)))
	})
	t.Run("SeveralSecrets", func(t *testing.T) {
		require.NoError(t, vectorVerifier(t, at, other, vectorSecret).Verify(vectorHeader(vectorSignature), []byte(vectorBody)), "a rotated secret still verifies")
	})
	t.Run("ErrWebhookSignature", func(t *testing.T) {
		v := vectorVerifier(t, at, vectorSecret)
		require.ErrorIs(t, v.Verify(vectorHeader(vectorWrong), []byte(vectorBody)), httpclient.ErrWebhookSignature)
		require.ErrorIs(t, v.Verify(vectorHeader(vectorSignature), []byte(`{"test": 2432232315}`)), httpclient.ErrWebhookSignature, "a changed body")
		require.ErrorIs(t, v.Verify(vectorHeader("v2,"+strings.TrimPrefix(vectorSignature, "v1,")), []byte(vectorBody)), httpclient.ErrWebhookSignature, "only v1 is known")
		require.ErrorIs(t, vectorVerifier(t, at, other).Verify(vectorHeader(vectorSignature), []byte(vectorBody)), httpclient.ErrWebhookSignature, "another secret")
		for _, name := range []string{httpclient.HeaderWebhookID, httpclient.HeaderWebhookTimestamp, httpclient.HeaderWebhookSignature} {
			h := vectorHeader(vectorSignature)
			h.Del(name)
			require.ErrorIs(t, v.Verify(h, []byte(vectorBody)), httpclient.ErrWebhookSignature, "without %s", name)
		}
		h := vectorHeader(vectorSignature)
		h.Set(httpclient.HeaderWebhookID, "msg_other")
		require.ErrorIs(t, v.Verify(h, []byte(vectorBody)), httpclient.ErrWebhookSignature, "the id is signed")
	})
	t.Run("ErrWebhookTimestamp", func(t *testing.T) {
		require.ErrorIs(t, vectorVerifier(t, at.Add(6*time.Minute), vectorSecret).Verify(vectorHeader(vectorSignature), []byte(vectorBody)), httpclient.ErrWebhookTimestamp, "too old")
		require.ErrorIs(t, vectorVerifier(t, at.Add(-6*time.Minute), vectorSecret).Verify(vectorHeader(vectorSignature), []byte(vectorBody)), httpclient.ErrWebhookTimestamp, "too new")
	})
}

func TestWebhookSecretsRefusedWhenMalformed(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "whsec_", "whsec_not base64!", "whsec_" + "c2hvcnQ="} {
		_, err := httpclient.NewWebhook("https://receiver.example/hook", s, httpclient.Options{})
		require.Error(t, err, "secret %q", s)
		_, err = httpclient.NewWebhookVerifier(httpclient.WebhookVerifierOptions{}, s)
		require.Error(t, err, "secret %q", s)
	}
	_, err := httpclient.NewWebhookVerifier(httpclient.WebhookVerifierOptions{})
	require.Error(t, err, "no secret")
	require.True(t, strings.HasPrefix(httpclient.NewWebhookSecret(), "whsec_"))
	require.NotEqual(t, httpclient.NewWebhookSecret(), httpclient.NewWebhookSecret())
}

// receiver is a webhook endpoint that verifies each request, accepts each
// webhook-id once, and plays the faults of portstest.
type receiver struct {
	// refused is told of each request that does not verify (t.Errorf
	// unless a test expects refusals).
	refused  func(format string, args ...any)
	srv      *httptest.Server
	verifier *httpclient.WebhookVerifier

	mu         sync.Mutex
	events     map[string]ports.CloudEvent
	deliveries map[string]int
	requests   []http.Header
	fault      portstest.Fault
	faultCalls int
}

func newReceiver(t *testing.T, secret string) *receiver {
	t.Helper()
	v, err := httpclient.NewWebhookVerifier(httpclient.WebhookVerifierOptions{}, secret)
	require.NoError(t, err)
	rc := &receiver{refused: t.Errorf, verifier: v, events: map[string]ports.CloudEvent{}, deliveries: map[string]int{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) webhook(t *testing.T, secret string) *httpclient.Webhook {
	t.Helper()
	w, err := httpclient.NewWebhook(rc.srv.URL+"/hooks/cancellation", secret, httpclient.Options{
		HTTPClient: rc.srv.Client(), Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
	})
	require.NoError(t, err)
	return w
}

func (rc *receiver) inject(fault portstest.Fault, calls int) bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.fault, rc.faultCalls = fault, calls
	return true
}

func (rc *receiver) takeFault() portstest.Fault {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.faultCalls == 0 {
		return ""
	}
	if rc.faultCalls > 0 {
		rc.faultCalls--
	}
	return rc.fault
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	rc.requests = append(rc.requests, r.Header.Clone())
	rc.mu.Unlock()
	if playFault(rc.takeFault(), w, r, http.HandlerFunc(rc.accept)) {
		return
	}
	rc.accept(w, r)
}

func (rc *receiver) accept(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || r.Method != http.MethodPost || r.URL.Path != "/hooks/cancellation" ||
		r.Header.Get("Content-Type") != httpclient.WebhookContentType {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	e, err := rc.verifier.VerifyEvent(r.Header, body)
	if err != nil {
		rc.refused("receiver: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.deliveries[e.ID] == 0 {
		rc.deliveries[e.ID] = 1
		rc.events[e.ID] = e
	}
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) delivered(id string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.deliveries[id]
}

func TestWebhookPublisherAndVerifierAgree(t *testing.T) {
	t.Parallel()
	secret := httpclient.NewWebhookSecret()
	rc := newReceiver(t, secret)
	w := rc.webhook(t, secret)
	e := ports.CloudEvent{
		SpecVersion: "1.0", ID: "can_1/event/5", Source: "urn:accountkit:cancellation", Type: "cancellation.approved",
		Subject: "can_1", Time: time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC), DataContentType: "application/json",
		Data: json.RawMessage(`{"id":"can_1","state":"approved"}`),
	}
	require.NoError(t, w.Publish(t.Context(), e))
	rc.mu.Lock()
	got := rc.events[e.ID]
	h := rc.requests[0]
	rc.mu.Unlock()
	require.Equal(t, e, got, "the receiver decodes the event sent")
	require.Equal(t, e.ID, h.Get(httpclient.HeaderWebhookID))
	require.Equal(t, e.ID, h.Get("Idempotency-Key"))

	t.Run("RetriesSignedAfreshUnderTheSameID", func(t *testing.T) {
		rc.inject(portstest.FaultUnavailable, 1)
		e := e
		e.ID = "can_1/event/6"
		require.NoError(t, w.Publish(t.Context(), e))
		rc.mu.Lock()
		reqs := rc.requests[len(rc.requests)-2:]
		rc.mu.Unlock()
		for _, h := range reqs {
			require.Equal(t, e.ID, h.Get(httpclient.HeaderWebhookID))
			require.NotEmpty(t, h.Get(httpclient.HeaderWebhookSignature))
		}
		require.Equal(t, 1, rc.delivered(e.ID))
	})

	t.Run("WrongSecretRefused", func(t *testing.T) {
		rcStrict := newReceiver(t, httpclient.NewWebhookSecret())
		rcStrict.refused = func(string, ...any) {} // the refusal is expected
		err := rcStrict.webhook(t, secret).Publish(t.Context(), e)
		require.ErrorIs(t, err, httpclient.ErrRejected)
		require.Zero(t, rcStrict.delivered(e.ID))
	})
}

// webhookUnderTest returns a Webhook posting to a new verifying receiver,
// for the EventPublisher suites of TestConformance.
func webhookUnderTest(t *testing.T) portstest.Faulty[ports.EventPublisher] {
	secret := httpclient.NewWebhookSecret()
	rc := newReceiver(t, secret)
	return portstest.Faulty[ports.EventPublisher]{Port: rc.webhook(t, secret), Inject: rc.inject, Deliveries: rc.delivered}
}

package httpclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Defaults of [Options].
const (
	DefaultTimeout          = 10 * time.Second
	DefaultAttempts         = 3
	DefaultBackoff          = 100 * time.Millisecond
	DefaultMaxBackoff       = 2 * time.Second
	DefaultMaxResponseBytes = 1 << 20
	DefaultMaxDocumentBytes = 32 << 20
	DefaultUserAgent        = "accountkit-cancellation-httpclient/1"
)

// Options configure a [Client]. The zero value of a field selects its
// default.
type Options struct {
	// HTTPClient sends the requests; set its Transport to add mTLS, a
	// proxy or tracing. Its own Timeout, if any, also applies to every
	// attempt. Default: a client over [http.DefaultTransport].
	HTTPClient *http.Client
	// Authorize, if not nil, is called on every request before it is sent,
	// retries included, to add the host's credentials (see [BearerToken]).
	// An error it returns ends the call, unretried.
	Authorize func(*http.Request) error
	// Timeout bounds each attempt, from sending the request to reading the
	// whole response (default DefaultTimeout). The caller's context bounds
	// the whole call, retries and waits included.
	Timeout time.Duration
	// Attempts is how often a call is tried at most (default
	// DefaultAttempts); 1 turns retries off. Every call of the contract may
	// be repeated: GET, PUT and DELETE by HTTP's rules, each POST by its
	// Idempotency-Key.
	Attempts int
	// Backoff is the wait before the first retry (default DefaultBackoff),
	// doubled before each further retry up to MaxBackoff (default
	// DefaultMaxBackoff). Each wait is drawn at random between half the
	// step and the whole step (jitter), so that replicas retrying together
	// spread out. A Retry-After header of the host is obeyed up to
	// MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// MaxResponseBytes bounds a JSON response body (default
	// DefaultMaxResponseBytes); a larger body fails the call.
	MaxResponseBytes int64
	// MaxDocumentBytes bounds a document that GetDocument reads (default
	// DefaultMaxDocumentBytes); a larger one fails the call.
	MaxDocumentBytes int64
	// UserAgent is sent with every request (default DefaultUserAgent).
	UserAgent string
}

// BearerToken returns an Options.Authorize function that sends token as an
// RFC 6750 bearer token. The token never appears in an error.
func BearerToken(token string) func(*http.Request) error {
	return func(r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
}

// Client calls one host service that serves the host REST contract (see
// [OpenAPI]) under a base URL. It implements every port of package ports,
// so one Client can back them all, or a host creates one per service
// (billing, IAM, messaging, storage) and hands each the ports it serves.
// A Client is safe for concurrent use.
type Client struct {
	base *url.URL
	opt  Options
}

// New returns a Client for the service at baseURL, an absolute http or
// https URL such as "https://billing.internal/cancellation"; the contract's
// paths are appended to it. baseURL must not hold credentials (use
// Options.Authorize), a query or a fragment. Negative options are refused.
func New(baseURL string, opts Options) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("httpclient: base URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("httpclient: base URL %q: the scheme must be http or https", u.Redacted())
	case u.Host == "":
		return nil, fmt.Errorf("httpclient: base URL %q: no host", u.Redacted())
	case u.User != nil:
		return nil, errors.New("httpclient: base URL: credentials in the URL are refused; use Options.Authorize")
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("httpclient: base URL %q: no query or fragment allowed", u.Redacted())
	}
	if opts.Timeout < 0 || opts.Attempts < 0 || opts.Backoff < 0 || opts.MaxBackoff < 0 ||
		opts.MaxResponseBytes < 0 || opts.MaxDocumentBytes < 0 {
		return nil, errors.New("httpclient: options: Timeout, Attempts, Backoff, MaxBackoff, MaxResponseBytes and MaxDocumentBytes must not be negative")
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	setDefault(&opts.HTTPClient, &http.Client{})
	setDefault(&opts.Timeout, DefaultTimeout)
	setDefault(&opts.Attempts, DefaultAttempts)
	setDefault(&opts.Backoff, DefaultBackoff)
	setDefault(&opts.MaxBackoff, DefaultMaxBackoff)
	setDefault(&opts.MaxResponseBytes, DefaultMaxResponseBytes)
	setDefault(&opts.MaxDocumentBytes, DefaultMaxDocumentBytes)
	setDefault(&opts.UserAgent, DefaultUserAgent)
	opts.MaxBackoff = max(opts.MaxBackoff, opts.Backoff)
	return &Client{base: u, opt: opts}, nil
}

// setDefault sets *v to def when *v is the zero value.
func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// call is one operation of the contract.
type call struct {
	method string
	// route is the contract's path template, named in errors: it carries
	// no identifier, query or body.
	route string
	// path is the escaped path after the base URL; query is added to it.
	path  string
	query url.Values
	// body and contentType are sent when body is not nil.
	body        []byte
	contentType string
	// idempotencyKey is sent as the Idempotency-Key header when set.
	idempotencyKey string
	// limit bounds the response body.
	limit int64
	// refuse, if set, says why c must not be sent: it lacks an
	// identifier or its idempotency key.
	refuse string
	// sign, if set, adds headers to each attempt just before it is sent
	// (a webhook signature carries the attempt's time).
	sign func(http.Header)
}

// response is what an attempt brought back.
type response struct {
	status   int
	attempts int
	header   http.Header
	body     []byte
}

// do runs c, retrying what may be retried, and returns the response when
// its status is 2xx or one of ok (the statuses the caller handles, such as
// a documented 404); any other outcome is an *Error.
func (cl *Client) do(ctx context.Context, c call, ok ...int) (*response, error) {
	if c.refuse != "" {
		return nil, &Error{Endpoint: c.endpoint(), kind: ErrRejected, cause: errors.New(c.refuse)}
	}
	attempts := cl.opt.Attempts
	var last *Error
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return nil, cl.fail(c, last, n-1, err)
		}
		resp, err := cl.attempt(ctx, c)
		switch {
		case err != nil:
			if ctx.Err() != nil { // the caller gave up, not the host
				return nil, cl.fail(c, last, n, ctx.Err())
			}
			last = &Error{Endpoint: c.endpoint(), Attempts: n, kind: ErrUnavailable, cause: err}
			switch {
			case errors.Is(err, errTooLarge):
				last.kind = ErrBadResponse
				return nil, last
			case errors.Is(err, errAuthorize):
				last.kind = ErrRejected
				return nil, last
			}
		case resp.status < 300 || slices.Contains(ok, resp.status):
			resp.attempts = n
			return resp, nil
		default:
			last = &Error{Endpoint: c.endpoint(), Status: resp.status, Attempts: n, kind: statusKind(resp.status)}
			if last.kind != ErrUnavailable {
				return nil, last
			}
		}
		if n >= attempts {
			return nil, last
		}
		if err := sleep(ctx, cl.backoff(n, resp)); err != nil {
			return nil, cl.fail(c, last, n, err)
		}
	}
}

// fail returns the error of a call that ended because its context did:
// it wraps ctx's error and keeps the status of the last attempt, if any.
func (cl *Client) fail(c call, last *Error, attempts int, ctxErr error) *Error {
	e := &Error{Endpoint: c.endpoint(), Attempts: attempts, cause: ctxErr}
	if last != nil {
		e.Status, e.kind = last.Status, last.kind
	}
	return e
}

// statusKind classifies a status that is neither 2xx nor accepted: 408,
// 429 and 5xx are temporary, other 4xx are the host's refusal, and
// anything else (1xx, 3xx) breaks the contract.
func statusKind(status int) error {
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status >= 500:
		return ErrUnavailable
	case status >= 400:
		return ErrRejected
	default:
		return ErrBadResponse
	}
}

var (
	errTooLarge  = errors.New("response body over the limit")
	errAuthorize = errors.New("Options.Authorize failed")
)

// attempt sends c once, bounded by the per-attempt timeout, and reads the
// response body up to c.limit.
func (cl *Client) attempt(ctx context.Context, c call) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, cl.opt.Timeout)
	defer cancel()
	var err error
	u := *cl.base
	u.RawPath = cl.base.EscapedPath() + c.path
	if u.Path, err = url.PathUnescape(u.RawPath); err != nil {
		return nil, err
	}
	u.RawQuery = c.query.Encode()
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, u.String(), body)
	if err != nil {
		return nil, err
	}
	if c.body != nil {
		req.Header.Set("Content-Type", c.contentType)
	}
	if c.idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", c.idempotencyKey)
	}
	req.Header.Set("User-Agent", cl.opt.UserAgent)
	if c.sign != nil {
		c.sign(req.Header)
	}
	if cl.opt.Authorize != nil {
		if err := cl.opt.Authorize(req); err != nil {
			return nil, errAuthorize // its text may carry a secret: keep it out
		}
	}
	resp, err := cl.opt.HTTPClient.Do(req)
	if err != nil {
		var ue *url.Error // its text holds the URL: keep only the cause
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, err
	}
	defer resp.Body.Close()
	r := &response{status: resp.StatusCode, header: resp.Header}
	limit := c.limit
	if resp.StatusCode >= 300 {
		limit = 4 << 10 // read a little so the connection can be reused; never shown
	}
	if resp.ContentLength > limit && resp.StatusCode < 300 {
		return nil, errTooLarge
	}
	r.body, err = io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(r.body)) > limit {
		if resp.StatusCode < 300 {
			return nil, errTooLarge
		}
		r.body = nil
	}
	if resp.StatusCode >= 300 {
		r.body = nil // error bodies are never passed on
	}
	return r, nil
}

// backoff returns the wait after the n-th failed attempt: the n-th step
// of the doubling series with jitter, or the host's Retry-After when it
// asked for one, capped at MaxBackoff.
func (cl *Client) backoff(n int, resp *response) time.Duration {
	if resp != nil {
		if s, err := strconv.Atoi(resp.header.Get("Retry-After")); err == nil && s >= 0 {
			return min(time.Duration(s)*time.Second, cl.opt.MaxBackoff)
		}
	}
	step := cl.opt.Backoff
	for i := 1; i < n && step < cl.opt.MaxBackoff; i++ {
		step *= 2
	}
	step = min(step, cl.opt.MaxBackoff)
	return step/2 + rand.N(step/2+1)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// endpoint names c in errors: method and route template.
func (c *call) endpoint() string { return c.method + " " + c.route }

package httpclient_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accountkit/cancellation/adapters/httpclient"
	"github.com/accountkit/cancellation/ports"
	"github.com/stretchr/testify/require"
)

// rawHost is a host that answers with handler and records the requests
// it receives; it checks nothing against the contract, to play broken
// hosts.
type rawHost struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
}

func newRawHost(t *testing.T, handler func(n int, w http.ResponseWriter, r *http.Request)) *rawHost {
	t.Helper()
	h := &rawHost{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.reqs = append(h.reqs, r.Clone(context.Background()))
		n := len(h.reqs)
		h.mu.Unlock()
		handler(n, w, r)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// requests returns the requests received so far.
func (h *rawHost) requests() []*http.Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*http.Request(nil), h.reqs...)
}

func (h *rawHost) client(t *testing.T, opts httpclient.Options) *httpclient.Client {
	t.Helper()
	setDefault(&opts.Backoff, time.Millisecond)
	setDefault(&opts.MaxBackoff, 5*time.Millisecond)
	c, err := httpclient.New(h.srv.URL, opts)
	require.NoError(t, err)
	return c
}

func items(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, body)
}

func TestNew(t *testing.T) {
	t.Parallel()
	t.Run("RefusesBadBaseURL", func(t *testing.T) {
		for _, base := range []string{"", "billing.internal", "ftp://billing.internal", "https://", "https://user:pw@billing.internal", "https://billing.internal/?a=b", "https://billing.internal/#x", "http://[::1"} {
			_, err := httpclient.New(base, httpclient.Options{})
			require.Error(t, err, "%q", base)
			require.NotContains(t, err.Error(), "pw", "a password in the base URL must not be echoed")
		}
	})
	t.Run("RefusesNegativeOptions", func(t *testing.T) {
		_, err := httpclient.New("https://billing.internal", httpclient.Options{Attempts: -1})
		require.ErrorContains(t, err, "Attempts")
	})
	t.Run("BasePathKept", func(t *testing.T) {
		h := newRawHost(t, func(_ int, w http.ResponseWriter, _ *http.Request) { items(w, `{"items":[]}`) })
		for _, base := range []string{h.srv.URL + "/billing/v2", h.srv.URL + "/billing/v2/"} {
			c, err := httpclient.New(base, httpclient.Options{})
			require.NoError(t, err)
			_, err = c.OpenObligations(t.Context(), "acct 1/x?y")
			require.NoError(t, err)
		}
		for _, r := range h.requests() {
			require.Equal(t, "/billing/v2/accounts/acct%201%2Fx%3Fy/obligations", r.URL.EscapedPath(), "the id is one escaped path segment")
			require.Equal(t, httpclient.DefaultUserAgent, r.Header.Get("User-Agent"))
		}
	})
}

// TestRetries shows which failures are retried: temporary ones (5xx, 408,
// 429, dropped connections, attempt timeouts), up to Attempts, with the
// same Idempotency-Key; never a permanent 4xx.
func TestRetries(t *testing.T) {
	t.Parallel()
	t.Run("TemporaryThenOK", func(t *testing.T) {
		for _, status := range []int{500, 502, 503, 504, 408, 429} {
			h := newRawHost(t, func(n int, w http.ResponseWriter, _ *http.Request) {
				if n < 3 {
					w.WriteHeader(status)
					return
				}
				items(w, `{"items":[{"ref":"m-1","description":"d","blocking":true,"remedy":"r"}]}`)
			})
			got, err := h.client(t, httpclient.Options{}).OpenMatters(t.Context(), "acct-1")
			require.NoError(t, err, "status %d", status)
			require.Equal(t, []ports.Matter{{Ref: "m-1", Description: "d", Blocking: true, Remedy: "r"}}, got)
			require.Len(t, h.requests(), 3)
		}
	})
	t.Run("GivesUpAfterAttempts", func(t *testing.T) {
		h := newRawHost(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) })
		_, err := h.client(t, httpclient.Options{Attempts: 4}).OpenMatters(t.Context(), "acct-1")
		require.ErrorIs(t, err, httpclient.ErrUnavailable)
		var he *httpclient.Error
		require.ErrorAs(t, err, &he)
		require.Equal(t, http.StatusBadGateway, he.Status)
		require.Equal(t, 4, he.Attempts)
		require.True(t, he.Temporary())
		require.Len(t, h.requests(), 4)
	})
	t.Run("PermanentNotRetried", func(t *testing.T) {
		for _, status := range []int{400, 401, 403, 409, 422} {
			h := newRawHost(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) })
			err := h.client(t, httpclient.Options{}).Notify(t.Context(), ports.Notification{IdempotencyKey: "k", Channel: ports.ChannelSMS})
			require.ErrorIs(t, err, httpclient.ErrRejected, "status %d", status)
			require.NotErrorIs(t, err, ports.ErrNotFound)
			var he *httpclient.Error
			require.ErrorAs(t, err, &he)
			require.False(t, he.Temporary())
			require.Len(t, h.requests(), 1, "status %d must not be retried", status)
		}
	})
	t.Run("KeyedPOSTRetriedWithSameKey", func(t *testing.T) {
		h := newRawHost(t, func(n int, w http.ResponseWriter, _ *http.Request) {
			if n == 1 {
				panic(http.ErrAbortHandler) // the connection drops
			}
			w.WriteHeader(http.StatusAccepted)
		})
		c := h.client(t, httpclient.Options{})
		require.NoError(t, c.SendCode(t.Context(), ports.OTPMessage{Phone: "+15550100001", Code: "123456", IdempotencyKey: "otp-1"}))
		require.NoError(t, c.CloseAccount(t.Context(), "acct-1", "close-1"))
		var keys []string
		for _, r := range h.requests() {
			keys = append(keys, r.Header.Get("Idempotency-Key"))
		}
		require.Equal(t, []string{"otp-1", "otp-1", "close-1"}, keys)
	})
	t.Run("AttemptTimeoutRetried", func(t *testing.T) {
		h := newRawHost(t, func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				<-r.Context().Done() // hangs until the client gives up this attempt
				return
			}
			w.WriteHeader(http.StatusNoContent)
		})
		require.NoError(t, h.client(t, httpclient.Options{Timeout: time.Second}).DeleteDocument(t.Context(), "doc"))
		require.Len(t, h.requests(), 2)
	})
}

// TestMissingIdentifiersRefused shows that a call without its account
// id, document key or idempotency key fails with ErrRejected, naming what
// is missing, and sends nothing: a POST without a key could act twice.
func TestMissingIdentifiersRefused(t *testing.T) {
	t.Parallel()
	h := newRawHost(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	c := h.client(t, httpclient.Options{})
	ctx := t.Context()
	_, errAccount := c.Account(ctx, "")
	_, errList := c.OpenCases(ctx, "")
	_, errGet := c.GetDocument(ctx, "")
	for i, tc := range []struct {
		missing string
		err     error
	}{
		{"account id", errAccount},
		{"account id", errList},
		{"account id", c.CloseAccount(ctx, "", "k")},
		{"idempotency key", c.CloseAccount(ctx, "acct-1", "")},
		{"idempotency key", c.Notify(ctx, ports.Notification{Channel: ports.ChannelSMS, To: "+15550100001"})},
		{"idempotency key", c.SendCode(ctx, ports.OTPMessage{Phone: "+15550100001", Code: "123456"})},
		{"document key", errGet},
		{"document key", c.PutDocument(ctx, "", "image/png", []byte{1})},
		{"document key", c.DeleteDocument(ctx, "")},
	} {
		require.ErrorIs(t, tc.err, httpclient.ErrRejected, "case %d", i)
		require.ErrorContains(t, tc.err, "the "+tc.missing+" is empty", "case %d", i)
		require.NotErrorIs(t, tc.err, ports.ErrNotFound, "case %d", i)
	}
	require.Empty(t, h.requests(), "nothing is sent")
}

// TestContextEndsCall shows that a call ends with its context's error,
// during an attempt and during the wait between attempts, and sends
// nothing once the context is done.
func TestContextEndsCall(t *testing.T) {
	t.Parallel()
	t.Run("AlreadyDone", func(t *testing.T) {
		h := newRawHost(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := h.client(t, httpclient.Options{}).CloseAccount(ctx, "acct-1", "k")
		require.ErrorIs(t, err, context.Canceled)
		require.Empty(t, h.requests())
	})
	t.Run("DuringBackoff", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		h := newRawHost(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
		answered := make(chan struct{}, 1)
		transport := h.srv.Client().Transport
		c := h.client(t, httpclient.Options{
			Backoff: time.Hour, MaxBackoff: time.Hour, Attempts: 5,
			// Signals once the first answer is in: the client then waits.
			HTTPClient: &http.Client{Transport: roundTripperFunc(func(r *http.Request) (*http.Response, error) {
				resp, err := transport.RoundTrip(r)
				if err == nil {
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					resp.Body = io.NopCloser(bytes.NewReader(body))
					answered <- struct{}{}
				}
				return resp, err
			})},
		})
		done := make(chan error, 1)
		go func() { _, err := c.APIKeys(ctx, "acct-1"); done <- err }()
		<-answered
		cancel()
		err := <-done // a backoff of an hour would hang the test
		require.ErrorIs(t, err, context.Canceled)
		var he *httpclient.Error
		require.ErrorAs(t, err, &he)
		require.Equal(t, http.StatusServiceUnavailable, he.Status, "the last status is kept")
		require.Len(t, h.requests(), 1)
	})
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestNotFound shows the mapping of 404: ports.ErrNotFound where a port
// documents it, success for DeleteDocument, and a plain rejection for a
// checker, which must never read "nothing found" from a wrong URL.
func TestNotFound(t *testing.T) {
	t.Parallel()
	h := newRawHost(t, func(_ int, w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	c := h.client(t, httpclient.Options{})
	_, err := c.Account(t.Context(), "acct-1")
	require.ErrorIs(t, err, ports.ErrNotFound)
	require.ErrorIs(t, c.CloseAccount(t.Context(), "acct-1", "k"), ports.ErrNotFound)
	_, err = c.GetDocument(t.Context(), "a/b")
	require.ErrorIs(t, err, ports.ErrNotFound)
	require.NoError(t, c.DeleteDocument(t.Context(), "a/b"))
	got, err := c.OpenObligations(t.Context(), "acct-1")
	require.ErrorIs(t, err, httpclient.ErrRejected)
	require.NotErrorIs(t, err, ports.ErrNotFound)
	require.Nil(t, got)
	require.Len(t, h.requests(), 5, "a 404 is not retried")
}

// TestBrokenAnswers shows that answers against the contract fail the
// call with ErrBadResponse and are not retried: a checker list without
// "items" (never "nothing found"), invalid JSON, a wrong account, a
// redirect.
func TestBrokenAnswers(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"NoItems":     `{}`,
		"NullItems":   `{"items":null}`,
		"NotJSON":     `<html>secret-page</html>`,
		"WrongType":   `{"items":"secret-value"}`,
		"WrongFields": `{"items":[{"ref":7}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			h := newRawHost(t, func(_ int, w http.ResponseWriter, _ *http.Request) { items(w, body) })
			got, err := h.client(t, httpclient.Options{}).DataHoldings(t.Context(), "acct-1")
			require.ErrorIs(t, err, httpclient.ErrBadResponse)
			require.Nil(t, got)
			require.NotContains(t, err.Error(), "secret")
			require.Len(t, h.requests(), 1)
		})
	}
	t.Run("MissingMember", func(t *testing.T) {
		// A missing boolean must not read as false: a non-blocking matter
		// or an unverified account would let the customer past a rule.
		h := newRawHost(t, func(_ int, w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/matters") {
				items(w, `{"items":[{"ref":"m-1","description":"domain","remedy":"transfer it"}]}`)
				return
			}
			items(w, `{"id":"acct-1","kind":"personal","identity_verified":null,"recovery_phone":"+15550100001","email":"a@example.com","locale":"en","closed":false}`)
		})
		c := h.client(t, httpclient.Options{})
		_, err := c.OpenMatters(t.Context(), "acct-1")
		require.ErrorIs(t, err, httpclient.ErrBadResponse)
		require.ErrorContains(t, err, `item 0: the member "blocking" is missing`)
		_, err = c.Account(t.Context(), "acct-1")
		require.ErrorIs(t, err, httpclient.ErrBadResponse)
		require.ErrorContains(t, err, `the member "identity_verified" is missing`)
	})
	t.Run("OtherAccount", func(t *testing.T) {
		h := newRawHost(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			items(w, `{"id":"acct-2","kind":"personal","identity_verified":true,"recovery_phone":"+15550100001","email":"a@example.com","locale":"en","closed":false}`)
		})
		_, err := h.client(t, httpclient.Options{}).Account(t.Context(), "acct-1")
		require.ErrorIs(t, err, httpclient.ErrBadResponse)
		require.ErrorContains(t, err, "differs")
	})
	t.Run("Redirect", func(t *testing.T) {
		h := newRawHost(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotModified) })
		_, err := h.client(t, httpclient.Options{}).Account(t.Context(), "acct-1")
		require.ErrorIs(t, err, httpclient.ErrBadResponse)
	})
}

// TestResponseBodyBounded shows that a body over the limit fails the call,
// whether its length is announced or not, and is not retried.
func TestResponseBodyBounded(t *testing.T) {
	t.Parallel()
	big := `{"items":[` + strings.Repeat(`{"ref":"x","kind":"dispute","summary":"s","opened_at":"2024-05-06T07:08:09Z"},`, 100) + `{"ref":"y","kind":"dispute","summary":"s","opened_at":"2024-05-06T07:08:09Z"}]}`
	for name, announce := range map[string]bool{"ContentLength": true, "Chunked": false} {
		t.Run(name, func(t *testing.T) {
			h := newRawHost(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				if announce {
					w.Header().Set("Content-Length", fmt.Sprint(len(big)))
				}
				items(w, big[:len(big)/2])
				w.(http.Flusher).Flush()
				fmt.Fprint(w, big[len(big)/2:])
			})
			c := h.client(t, httpclient.Options{MaxResponseBytes: int64(len(big)) - 1})
			_, err := c.OpenCases(t.Context(), "acct-1")
			require.ErrorIs(t, err, httpclient.ErrBadResponse)
			require.Len(t, h.requests(), 1)
			got, err := h.client(t, httpclient.Options{MaxResponseBytes: int64(len(big))}).OpenCases(t.Context(), "acct-1")
			require.NoError(t, err, "a body of exactly the limit is read")
			require.Len(t, got, 101)
		})
	}
	t.Run("Document", func(t *testing.T) {
		h := newRawHost(t, func(_ int, w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, strings.Repeat("x", 2000)) })
		_, err := h.client(t, httpclient.Options{MaxDocumentBytes: 1999, MaxResponseBytes: 1 << 20}).GetDocument(t.Context(), "k")
		require.ErrorIs(t, err, httpclient.ErrBadResponse)
		got, err := h.client(t, httpclient.Options{MaxDocumentBytes: 2000, MaxResponseBytes: 10}).GetDocument(t.Context(), "k")
		require.NoError(t, err, "documents have their own limit")
		require.Len(t, got, 2000)
	})
}

// TestErrorsLeakNothing shows that an error names the endpoint template
// and the status, and holds neither the host's body, nor the URL with its
// identifiers, nor the credential.
func TestErrorsLeakNothing(t *testing.T) {
	t.Parallel()
	h := newRawHost(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		http.Error(w, "stack trace at db-7; token "+r.Header.Get("Authorization"), http.StatusInternalServerError)
	})
	c := h.client(t, httpclient.Options{Authorize: httpclient.BearerToken("tok-s3cr3t")})
	_, err := c.SubUsers(t.Context(), "acct-secret-id")
	require.Error(t, err)
	require.Equal(t, "httpclient: GET /accounts/{accountId}/sub-users: status 500 after 3 attempts: host unavailable", err.Error())
	require.Equal(t, "Bearer tok-s3cr3t", h.requests()[0].Header.Get("Authorization"), "the token is sent")

	t.Run("TransportError", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close() // nothing listens there any more
		c, err := httpclient.New(srv.URL+"/svc", httpclient.Options{Attempts: 2, Backoff: time.Millisecond, Authorize: httpclient.BearerToken("tok-s3cr3t")})
		require.NoError(t, err)
		_, err = c.Account(t.Context(), "acct-secret-id")
		require.ErrorIs(t, err, httpclient.ErrUnavailable)
		require.NotErrorIs(t, err, ports.ErrNotFound)
		require.NotContains(t, err.Error(), "acct-secret-id")
		require.NotContains(t, err.Error(), "/svc")
		require.NotContains(t, err.Error(), "s3cr3t")
	})
	t.Run("AuthorizeFails", func(t *testing.T) {
		c := h.client(t, httpclient.Options{Authorize: func(*http.Request) error { return errors.New("vault token s3cr3t expired") }})
		n := len(h.requests())
		_, err := c.Account(t.Context(), "acct-1")
		require.ErrorIs(t, err, httpclient.ErrRejected)
		require.NotContains(t, err.Error(), "s3cr3t")
		require.Len(t, h.requests(), n, "nothing is sent without credentials")
	})
}

// TestHolidays shows the round trip of the calendar's holidays, and that a
// bad answer fails.
func TestHolidays(t *testing.T) {
	t.Parallel()
	h := newFakeHost(t)
	h.mu.Lock()
	h.holidays = httpclient.Holidays{TimeZone: "Asia/Shanghai", Dates: []string{"2026-10-01", "2026-10-02"}}
	h.mu.Unlock()
	c := h.client(t, httpclient.Options{})
	from, to := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
	loc, days, err := c.Holidays(t.Context(), from, to)
	require.NoError(t, err)
	require.Equal(t, "Asia/Shanghai", loc.String())
	require.Equal(t, []time.Time{time.Date(2026, 10, 1, 0, 0, 0, 0, loc), time.Date(2026, 10, 2, 0, 0, 0, 0, loc)}, days)
	q := h.seen()[0].URL.Query()
	require.Equal(t, "2026-01-01", q.Get("from"))
	require.Equal(t, "2026-12-31", q.Get("to"))

	for _, bad := range []httpclient.Holidays{{TimeZone: "Mars/Olympus", Dates: []string{}}, {TimeZone: "UTC"}} {
		raw := newRawHost(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			items(w, fmt.Sprintf(`{"time_zone":%q,"dates":%s}`, bad.TimeZone, map[bool]string{true: "[]", false: "null"}[bad.Dates != nil]))
		})
		_, _, err := raw.client(t, httpclient.Options{}).Holidays(t.Context(), from, to)
		require.ErrorIs(t, err, httpclient.ErrBadResponse, "%+v", bad)
	}
	raw := newRawHost(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		items(w, `{"time_zone":"UTC","dates":["1 May"]}`)
	})
	_, _, err = raw.client(t, httpclient.Options{}).Holidays(t.Context(), from, to)
	require.ErrorIs(t, err, httpclient.ErrBadResponse)
}

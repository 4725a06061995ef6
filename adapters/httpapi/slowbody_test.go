package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/httpapi"
	"github.com/accountkit/cancellation/adapters/memory"
)

// slowReader sends the first half of a body, lets the clock run past
// half the Idempotency-Key lease, then sends the rest: an upload trickling
// in for longer than its reservation is good for.
type slowReader struct {
	first, rest io.Reader
	reserved    <-chan struct{}
	clock       *memory.Clock
	wait        time.Duration
	waited      bool
}

func (s *slowReader) Read(p []byte) (int, error) {
	if n, err := s.first.Read(p); n > 0 || err != io.EOF {
		return n, err
	}
	if !s.waited {
		s.waited = true
		<-s.reserved // the server holds the key and reads the body
		s.clock.Advance(s.wait)
	}
	return s.rest.Read(p)
}

// signalReserve tells when the first Idempotency-Key is reserved.
type signalReserve struct {
	*memory.Store
	reserved chan struct{}
	once     *sync.Once
}

func (s signalReserve) ReserveIdempotency(ctx context.Context, rec cancellation.IdempotencyRecord, now time.Time) (cancellation.IdempotencyRecord, bool, error) {
	cur, ok, err := s.Store.ReserveIdempotency(ctx, rec, now)
	s.once.Do(func() { close(s.reserved) })
	return cur, ok, err
}

// TestHandler_IdempotentBodyMustArriveWithinTheLease: a body still arriving
// when half the key's lease has passed is refused (408 body_too_slow) and
// nothing is stored, so the reservation never expires under a running
// operation; the key is released, and a retry with the same key runs once.
func TestHandler_IdempotentBodyMustArriveWithinTheLease(t *testing.T) {
	t.Parallel()
	const lease = time.Minute
	reserved := make(chan struct{})
	e := newEnv(t, func(_ *cancellation.Config, o *httpapi.Options) {
		o.IdempotencyLease = lease
		o.Store = signalReserve{o.Store.(*memory.Store), reserved, new(sync.Once)}
	})
	id := e.phoneVerified()
	before := e.version(id)
	body, ct := multipartBody(t, "passport", colourScan())
	half := len(body) / 2
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/cancellations/"+id+"/documents",
		&slowReader{first: bytes.NewReader(body[:half]), rest: bytes.NewReader(body[half:]), reserved: reserved, clock: e.kit.Clock, wait: lease/2 + time.Second})
	require.NoError(t, err)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+tokVerified)
	req.Header.Set("Idempotency-Key", "k-slow")
	res, err := http.DefaultClient.Do(req) // streamed: the validating transport reads the body first
	require.NoError(t, err)
	data, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusRequestTimeout, res.StatusCode, "body: %s", data)
	require.Contains(t, string(data), `"body_too_slow"`)
	require.Equal(t, before, e.version(id), "nothing stored")

	retry := e.upload(tokVerified, id, "passport", colourScan(), "Idempotency-Key", "k-slow")
	require.Equal(t, http.StatusCreated, retry.Status, "the key was released: body %s", retry.Body)
	require.Empty(t, retry.Header.Get("Idempotent-Replayed"))
}

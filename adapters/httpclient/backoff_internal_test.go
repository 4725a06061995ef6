package httpclient

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestBackoffDoublesWithJitter shows the wait after the n-th failure: a
// random value between half and all of Backoff*2^(n-1), capped at
// MaxBackoff, and the host's Retry-After, capped too.
func TestBackoffDoublesWithJitter(t *testing.T) {
	t.Parallel()
	cl, err := New("https://host.example", Options{Backoff: 100 * time.Millisecond, MaxBackoff: time.Second})
	require.NoError(t, err)
	for n, step := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 9: time.Second} {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := cl.backoff(n, nil)
			require.GreaterOrEqual(t, d, step/2, "attempt %d", n)
			require.LessOrEqual(t, d, step, "attempt %d", n)
			seen[d] = true
		}
		require.Greater(t, len(seen), 1, "attempt %d: the wait must be jittered", n)
	}
	retryAfter := func(v string) *response { return &response{header: http.Header{"Retry-After": {v}}} }
	require.Equal(t, 0*time.Second, cl.backoff(1, retryAfter("0")))
	require.Equal(t, time.Second, cl.backoff(1, retryAfter("120")), "Retry-After is capped at MaxBackoff")
	d := cl.backoff(1, retryAfter("Wed, 21 Oct 2015 07:28:00 GMT"))
	require.LessOrEqual(t, d, 100*time.Millisecond, "a date is not obeyed: the usual step applies")
}

package httpapi_test

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/httpapi"
	"github.com/accountkit/cancellation/adapters/memory"
)

// pairedStore holds the first two Updates until both have arrived (or a
// second has not come within a while), so that two requests both read
// the same version before either writes: the interleaving of two browser
// tabs that a separate If-Match read cannot see.
type pairedStore struct {
	cancellation.Store
	mu      sync.Mutex
	armed   bool
	waiting int
	both    chan struct{}
}

func (s *pairedStore) arm() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.armed, s.waiting, s.both = true, 0, make(chan struct{})
}

func (s *pairedStore) Update(ctx context.Context, r *cancellation.Request) error {
	s.mu.Lock()
	if s.armed {
		s.waiting++
		both := s.both
		if s.waiting == 2 {
			s.armed = false
			close(both)
		}
		s.mu.Unlock()
		select {
		case <-both:
		case <-time.After(2 * time.Second):
		}
	} else {
		s.mu.Unlock()
	}
	return s.Store.Update(ctx, r)
}

// eventCount counts the events of type typ in a request's history.
func (e *env) eventCount(id string, typ cancellation.EventType) int {
	e.t.Helper()
	r, err := e.svc.Review(context.Background(), cancellation.Reviewer{ID: "rev-audit"}, id) // the whole trail
	require.NoError(e.t, err)
	n := 0
	for _, ev := range r.History() {
		if ev.Type == typ {
			n++
		}
	}
	return n
}

// concurrently sends two requests at once and returns their statuses.
func concurrently(a, b func() resp) [2]resp {
	var out [2]resp
	var wg sync.WaitGroup
	for i, f := range []func() resp{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); out[i] = f() }()
	}
	wg.Wait()
	return out
}

// requireOneWins checks that of two answers exactly one is 2xx and the
// other 412 precondition_failed.
func requireOneWins(t *testing.T, rs [2]resp) {
	t.Helper()
	ok, failed := 0, 0
	for _, r := range rs {
		switch {
		case r.Status >= 200 && r.Status < 300:
			ok++
		case r.Status == http.StatusPreconditionFailed:
			require.Equal(t, "precondition_failed", r.problem(t).Code)
			failed++
		}
	}
	require.Equal(t, 1, ok, "exactly one 2xx: %d and %d (%s / %s)", rs[0].Status, rs[1].Status, rs[0].Body, rs[1].Body)
	require.Equal(t, 1, failed, "exactly one 412: %d and %d", rs[0].Status, rs[1].Status)
}

// TestHandler_IfMatchIsAtomic: two tabs sending the same If-Match at the
// same moment, both having read the same version: one write succeeds, the
// other answers 412, and the stored request shows one change (the
// precondition is checked in the Service's write, not by a separate read).
func TestHandler_IfMatchIsAtomic(t *testing.T) {
	t.Parallel()
	var ps *pairedStore
	e := newEnv(t, func(c *cancellation.Config, _ *httpapi.Options) {
		ps = &pairedStore{Store: c.Store}
		c.Store = ps
	})

	t.Run("customer withdraw", func(t *testing.T) {
		id := e.start(tokVerified).ID
		tag := e.do(http.MethodGet, "/v1/cancellations/"+id, tokVerified, nil).Header.Get("ETag")
		ps.arm()
		withdraw := func() resp {
			return e.do(http.MethodPost, "/v1/cancellations/"+id+"/withdraw", tokVerified, nil, "If-Match", tag)
		}
		requireOneWins(t, concurrently(withdraw, withdraw))
		require.Equal(t, 1, e.eventCount(id, cancellation.EventWithdrawn))
	})

	t.Run("reviewer decisions", func(t *testing.T) {
		rid := e.toReview(tokEligible, memory.AccountEligible, "+15550100001", false)
		tag := e.do(http.MethodGet, "/v1/reviews/"+rid, tokReviewer, nil).Header.Get("ETag")
		ps.arm()
		reject := func() resp {
			return e.do(http.MethodPost, "/v1/reviews/"+rid+"/reject", tokReviewer, map[string]any{"reasons": []string{"identity_mismatch"}}, "If-Match", tag)
		}
		requireOneWins(t, concurrently(reject, reject))
		require.Equal(t, 1, e.eventCount(rid, cancellation.EventRejected))
	})
}

// TestHandler_StaleIfMatchDecidesNothing: a reviewer decision sent with
// the tag of a version the request has since left (here: flagged overdue
// by maintenance, still in review) answers 412 and decides nothing.
func TestHandler_StaleIfMatchDecidesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rid := e.toReview(tokEligible, memory.AccountEligible, "+15550100001", false)
	tag := e.do(http.MethodGet, "/v1/reviews/"+rid, tokReviewer, nil).Header.Get("ETag")
	e.kit.Clock.Advance(10 * 24 * time.Hour)
	_, err := e.svc.RunMaintenance(context.Background())
	require.NoError(t, err)
	before := e.version(rid)
	require.NotEqual(t, tag, `"`+strconv.FormatInt(before, 10)+`"`, "maintenance changed the request")

	for path, body := range map[string]any{"/approve": map[string]string{"note": "ok"}, "/reject": map[string]any{"reasons": []string{"identity_mismatch"}}} {
		r := e.do(http.MethodPost, "/v1/reviews/"+rid+path, tokReviewer, body, "If-Match", tag)
		p := r.requireProblem(t, http.StatusPreconditionFailed, "precondition_failed")
		require.Contains(t, p.Detail, `"`+strconv.FormatInt(before, 10)+`"`, "the detail names the current tag")
	}
	require.Equal(t, before, e.version(rid))
	got, err := e.kit.Store.Get(context.Background(), rid)
	require.NoError(t, err)
	require.Equal(t, cancellation.StateInReview, got.State())
}

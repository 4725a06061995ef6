package cancellation_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// listSpy counts what each List call of due work (OrderByWake) returns,
// and the other List calls (such as the count of stuck effects).
type listSpy struct {
	cancellation.Store
	mu     sync.Mutex
	sizes  []int
	others int
}

func (s *listSpy) List(ctx context.Context, q cancellation.Query) ([]*cancellation.Request, error) {
	rs, err := s.Store.List(ctx, q)
	s.mu.Lock()
	if q.OrderByWake {
		s.sizes = append(s.sizes, len(rs))
	} else {
		s.others++
	}
	s.mu.Unlock()
	return rs, err
}

func TestMaintenance_WorksABacklogInBoundedBatches(t *testing.T) {
	spy := &listSpy{}
	f := setup(t, func(c *cancellation.Config) {
		spy.Store = c.Store
		c.Store = spy
	})
	const n = 300 // a full batch of 256 and a short one
	for i := range n {
		f.start(f.personal(ports.AccountID(fmt.Sprintf("acct-backlog-%03d", i))).ID)
	}
	f.clock.Advance(8 * 24 * time.Hour) // every application is abandoned
	spy.sizes = nil
	rep := f.maintain()
	require.Equal(t, n, rep.Expired)
	require.Equal(t, n, rep.Examined, "each due request is examined once")
	// The closing pass (approved and scheduled requests) finds none.
	require.Equal(t, []int{0, 256, 44}, spy.sizes, "listed in keyset batches, never all at once")
	spy.sizes, spy.others = nil, 0
	require.Zero(t, f.maintain().Examined)
	require.Equal(t, []int{0, 0}, spy.sizes)
	require.Equal(t, 1, spy.others, "one page of the stuck-effects index, which is empty")
}

// getSpy counts the Store's Get calls.
type getSpy struct {
	cancellation.Store
	mu   sync.Mutex
	gets int
}

func (s *getSpy) Get(ctx context.Context, id string) (*cancellation.Request, error) {
	s.mu.Lock()
	s.gets++
	s.mu.Unlock()
	return s.Store.Get(ctx, id)
}

func (s *getSpy) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.gets
	s.gets = 0
	return n
}

func TestUseCases_ReadTheRequestOnce(t *testing.T) {
	spy := &getSpy{}
	f := setup(t, func(c *cancellation.Config) {
		spy.Store = c.Store
		c.Store = spy
	})
	a := f.personal("acct-read-once")
	r := f.start(a.ID)
	spy.count()
	r = f.confirm(r)
	require.Equal(t, 1, spy.count(), "Confirm reads the request once")
	r = f.submit(f.verifyPhone(r))
	spy.count()
	// Approval, the closing and the notifications: several writes, one
	// read; the effect runner goes on from what it just wrote.
	r, err := f.svc.Approve(f.ctx, staff, r.ID(), "ok")
	require.NoError(t, err)
	require.Equal(t, cancellation.StateCancelled, r.State())
	require.Equal(t, 1, spy.count(), "Approve reads the request once")
}

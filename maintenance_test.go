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

// listSpy counts what each List call returns.
type listSpy struct {
	cancellation.Store
	mu    sync.Mutex
	sizes []int
}

func (s *listSpy) List(ctx context.Context, q cancellation.Query) ([]*cancellation.Request, error) {
	rs, err := s.Store.List(ctx, q)
	s.mu.Lock()
	s.sizes = append(s.sizes, len(rs))
	s.mu.Unlock()
	return rs, err
}

func TestMaintenance_WorksABacklogInBoundedBatches(t *testing.T) {
	spy := &listSpy{}
	f := setup(t, func(c *cancellation.Config) {
		spy.Store = c.Store
		c.Store = spy
	})
	const n = 520 // two full batches of 256 and a short one
	for i := range n {
		f.start(f.personal(ports.AccountID(fmt.Sprintf("acct-backlog-%03d", i))).ID)
	}
	f.clock.Advance(8 * 24 * time.Hour) // every application is abandoned
	spy.sizes = nil
	rep := f.maintain()
	require.Equal(t, n, rep.Expired)
	require.Equal(t, n, rep.Examined, "each due request is examined once")
	require.Equal(t, []int{256, 256, 8}, spy.sizes, "listed in keyset batches, never all at once")
	spy.sizes = nil
	require.Zero(t, f.maintain().Examined)
	require.Equal(t, []int{0}, spy.sizes)
}

package cancellation_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
)

// firstUpdate runs before on the first Update it sees once armed, then
// fails that Update with err (nil: passes it through).
type firstUpdate struct {
	cancellation.Store
	mu     sync.Mutex
	armed  bool
	before func()
	err    error
}

func (s *firstUpdate) arm(before func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.armed, s.before, s.err = true, before, err
}

func (s *firstUpdate) Update(ctx context.Context, r *cancellation.Request) error {
	s.mu.Lock()
	armed, before, err := s.armed, s.before, s.err
	s.armed = false
	s.mu.Unlock()
	if armed {
		if before != nil {
			before()
		}
		if err != nil {
			return err
		}
	}
	return s.Store.Update(ctx, r)
}

// asJSON is r encoded, for go-cmp.
func asJSON(t *testing.T, r *cancellation.Request) any {
	t.Helper()
	b, err := r.MarshalBinary()
	require.NoError(t, err)
	var v any
	require.NoError(t, json.Unmarshal(b, &v))
	return v
}

// TestApprove_UpdateFailsOnce: Approve changes the request it just read,
// not a copy, so a failed write must neither leave that change anywhere
// (the Store, a copy read before) nor be reused: a conflict is retried
// from a fresh read, keeping the other writer's change; an outage leaves
// the request as it was, and approving again works.
func TestApprove_UpdateFailsOnce(t *testing.T) {
	t.Run("Conflict", func(t *testing.T) {
		store := &firstUpdate{}
		f := setup(t, func(c *cancellation.Config) { store.Store = c.Store; c.Store = store })
		a := f.personal("acct-approve-conflict")
		r := f.toReview(a.ID)
		held, err := f.cfg.Store.Get(f.ctx, r.ID())
		require.NoError(t, err)
		heldBefore := asJSON(t, held)
		// Another writer (a claim) gets in between Approve's read and its
		// write: the write conflicts.
		store.arm(func() {
			_, err := f.svc.Claim(f.ctx, staff, r.ID())
			require.NoError(t, err)
		}, nil)
		got, err := f.svc.Approve(f.ctx, staff, r.ID(), "looks fine")
		require.NoError(t, err)
		require.Equal(t, cancellation.StateCancelled, got.State())
		var claimed, approved int
		for _, e := range f.history(r.ID()) {
			switch e.Type {
			case cancellation.EventClaimed:
				claimed++
			case cancellation.EventApproved:
				approved++
			}
		}
		require.Equal(t, 1, claimed, "the other writer's change is kept")
		require.Equal(t, 1, approved, "approved once")
		require.Empty(t, cmp.Diff(heldBefore, asJSON(t, held)), "a copy read before changed")
	})
	t.Run("Outage", func(t *testing.T) {
		store := &firstUpdate{}
		f := setup(t, func(c *cancellation.Config) { store.Store = c.Store; c.Store = store })
		a := f.personal("acct-approve-outage")
		r := f.toReview(a.ID)
		held, err := f.cfg.Store.Get(f.ctx, r.ID())
		require.NoError(t, err)
		heldBefore := asJSON(t, held)
		before := f.storedJSON(r.ID())
		sent := len(f.kit.Notifier.Sent())
		store.arm(nil, rawOutage)
		got, err := f.svc.Approve(f.ctx, staff, r.ID(), "looks fine")
		require.Nil(t, got)
		requireUnavailable(t, err)
		f.requireUnchanged(r.ID(), before)
		require.Empty(t, cmp.Diff(heldBefore, asJSON(t, held)), "a copy read before changed")
		require.Len(t, f.kit.Notifier.Sent(), sent, "nothing sent for an approval not stored")
		require.Equal(t, cancellation.StateCancelled, f.approve(r).State())
		require.Empty(t, cmp.Diff(heldBefore, asJSON(t, held)), "a copy read before changed")
	})
}

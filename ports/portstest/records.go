package portstest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
)

// TestRecordPurger is the conformance suite of the optional
// cancellation.RecordPurger: the deletion of ended requests, with their
// history, once their retention is over. newStore returns a Store that
// implements it; the subtests share it, one after the other.
func TestRecordPurger(t *testing.T, f StoreFeatures, newStore func(t *testing.T) cancellation.Store) {
	e := newStoreEnv(t, newStore)
	rp, ok := e.store.(cancellation.RecordPurger)
	if !ok {
		t.Fatalf("the store does not implement cancellation.RecordPurger")
	}
	ctx := t.Context()
	withdraw := func(svc *cancellation.Service) *cancellation.Request {
		t.Helper()
		r := e.inReview(t, e.account(t))
		r, err := svc.Withdraw(ctx, r.Account(), r.ID())
		require.NoError(t, err)
		return r
	}
	gone := func(r *cancellation.Request) {
		t.Helper()
		_, err := e.store.Get(ctx, r.ID())
		require.ErrorIs(t, err, cancellation.ErrNotFound, "the request is deleted")
		events, err := e.store.History(ctx, r.ID())
		if err == nil {
			require.Empty(t, events, "its events are deleted")
		} else {
			require.ErrorIs(t, err, cancellation.ErrNotFound)
		}
		for _, q := range []cancellation.Query{{Account: r.Account()}, {}, {States: []cancellation.State{r.State()}, OrderByDue: true}} {
			rs, err := e.store.List(ctx, q)
			require.NoError(t, err)
			require.NotContains(t, requestIDs(rs), r.ID(), "no index still finds it (%+v)", q)
		}
	}
	kept := func(r *cancellation.Request) {
		t.Helper()
		got, err := e.store.Get(ctx, r.ID())
		require.NoError(t, err, "the request is kept")
		require.Equal(t, r.Version(), got.Version())
		events, err := e.store.History(ctx, r.ID())
		require.NoError(t, err)
		require.Len(t, events, r.HistoryLen(), "its events are kept")
	}

	// Two withdrawn requests, ended and settled 1ns apart (their
	// notifications carried out inline), an active one, and a withdrawn
	// one whose notification is still to be carried out (a Service with
	// EffectsDeferred).
	first := withdraw(e.svc)
	e.kit.Clock.Set(e.kit.Clock.Now().Add(time.Nanosecond))
	second := withdraw(e.svc)
	require.Equal(t, first.EndedAt(), first.SettledAt())
	require.Equal(t, first.SettledAt().Add(time.Nanosecond), second.SettledAt())
	active := e.inReview(t, e.account(t))
	require.True(t, active.SettledAt().IsZero())
	deferred := e.serviceOn(t, e.store, func(c *cancellation.Config) { c.Effects = cancellation.EffectsDeferred })
	pending := withdraw(deferred)
	require.NotEmpty(t, pending.PendingEffects(), "precondition: its notification is pending")
	require.True(t, pending.SettledAt().IsZero())
	require.False(t, pending.EndedAt().IsZero())

	t.Run("NothingSettledBeforeTheBoundIsKept", func(t *testing.T) {
		n, err := rp.PurgeEnded(ctx, first.SettledAt().Add(-time.Nanosecond), 10)
		require.NoError(t, err)
		require.Zero(t, n)
		for _, r := range []*cancellation.Request{first, second, active, pending} {
			kept(r)
		}
	})
	t.Run("TheBoundIsInclusiveToTheNanosecond", func(t *testing.T) {
		n, err := rp.PurgeEnded(ctx, first.SettledAt(), 10)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		gone(first)
		kept(second)
	})
	t.Run("LimitCapsABatchOldestFirst", func(t *testing.T) {
		e.kit.Clock.Set(e.kit.Clock.Now().Add(time.Minute))
		third := withdraw(e.svc) // settled later than second
		far := e.kit.Clock.Now().Add(100 * 365 * 24 * time.Hour)
		n, err := rp.PurgeEnded(ctx, far, 1)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		gone(second)
		kept(third)
		n, err = rp.PurgeEnded(ctx, far, 10)
		require.NoError(t, err)
		require.Equal(t, 1, n, "only the settled one is left to purge")
		gone(third)
	})
	t.Run("ActiveAndPendingAreNeverPurged", func(t *testing.T) {
		n, err := rp.PurgeEnded(ctx, e.kit.Clock.Now().Add(100*365*24*time.Hour), 10)
		require.NoError(t, err)
		require.Zero(t, n)
		kept(active)
		kept(pending)
	})
	t.Run("ItsAccountStartsAgain", func(t *testing.T) {
		r, err := e.svc.Start(ctx, first.Account())
		require.NoError(t, err)
		kept(r)
	})
}

package portstest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
)

// TestIdempotencyStore is the conformance suite of the optional
// cancellation.IdempotencyStore: the Idempotency-Key records of the HTTP
// API. newStore returns a Store that implements it.
func TestIdempotencyStore(t *testing.T, f StoreFeatures, newStore func(t *testing.T) cancellation.Store) {
	base := time.Date(2030, time.March, 4, 10, 0, 0, 0, time.UTC)
	open := func(t *testing.T) cancellation.IdempotencyStore {
		s, ok := newStore(t).(cancellation.IdempotencyStore)
		if !ok {
			t.Fatalf("the store does not implement cancellation.IdempotencyStore")
		}
		return s
	}
	record := func(t *testing.T, scope, owner string, expires time.Time) cancellation.IdempotencyRecord {
		return cancellation.IdempotencyRecord{
			Scope: uniqueName(t, scope), Key: "key-" + uniqueName(t, "k"),
			Fingerprint: "fp-" + owner, Owner: owner, ExpiresAt: expires,
		}
	}
	t.Run("ReserveCompleteReplay", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		ctx := t.Context()
		first := record(t, "account-a", "owner-1", base.Add(time.Minute))
		got, ok, err := s.ReserveIdempotency(ctx, first, base)
		require.NoError(t, err)
		require.True(t, ok, "a new key is reserved")
		require.False(t, got.Done())

		second := first
		second.Owner, second.Fingerprint = "owner-2", "fp-other"
		got, ok, err = s.ReserveIdempotency(ctx, second, base.Add(time.Second))
		require.NoError(t, err)
		require.False(t, ok, "a key in flight is not reserved twice")
		require.Equal(t, "owner-1", got.Owner)
		require.Equal(t, "fp-owner-1", got.Fingerprint, "the first request's fingerprint is returned")
		require.False(t, got.Done(), "the first request is still running")

		done := first
		done.Fingerprint = "fp-complete" // a streamed body is hashed by the time it completes
		done.Response = []byte(`{"status":201}`)
		done.ExpiresAt = base.Add(24 * time.Hour)
		require.NoError(t, s.CompleteIdempotency(ctx, done))
		done.Response[0] = 'X' // the store keeps its own copy

		got, ok, err = s.ReserveIdempotency(ctx, second, base.Add(time.Hour))
		require.NoError(t, err)
		require.False(t, ok, "a completed key stays until it expires")
		require.Equal(t, `{"status":201}`, string(got.Response))
		require.True(t, got.Done())
		require.Equal(t, "fp-complete", got.Fingerprint, "completion records the fingerprint")
		require.True(t, got.ExpiresAt.Equal(base.Add(24*time.Hour)), "completion sets the new expiry, got %v", got.ExpiresAt)

		require.ErrorIs(t, s.CompleteIdempotency(ctx, done), cancellation.ErrNotFound, "a record completes once")
		empty := second
		empty.Key += "-empty"
		_, ok, err = s.ReserveIdempotency(ctx, empty, base)
		require.NoError(t, err)
		require.True(t, ok)
		require.ErrorIs(t, s.CompleteIdempotency(ctx, empty), cancellation.ErrInvalidInput, "a completion needs a response")
	})
	t.Run("KeysAreScopedToTheCaller", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		a := record(t, "account-a", "owner-a", base.Add(time.Minute))
		b := a
		b.Scope, b.Owner = uniqueName(t, "account-b"), "owner-b"
		_, ok, err := s.ReserveIdempotency(t.Context(), a, base)
		require.NoError(t, err)
		require.True(t, ok)
		_, ok, err = s.ReserveIdempotency(t.Context(), b, base)
		require.NoError(t, err)
		require.True(t, ok, "another caller's identical key is its own")
	})
	t.Run("ConcurrentReservationsOneWins", func(t *testing.T) {
		t.Parallel()
		stores := []cancellation.IdempotencyStore{open(t)}
		if f.SharedBackend {
			stores = append(stores, open(t)) // as another replica would
		}
		rec := record(t, "account-a", "", base.Add(time.Minute))
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rec
				r.Owner = "owner-" + string(rune('a'+i))
				_, ok, err := stores[i%len(stores)].ReserveIdempotency(t.Context(), r, base)
				if err != nil {
					t.Errorf("reserve: %v", err)
				}
				if ok {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		require.Equal(t, int32(1), wins.Load(), "exactly one concurrent reservation wins")
	})
	t.Run("ExpiredReservationIsTakenOver", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		ctx := t.Context()
		dead := record(t, "account-a", "owner-dead", base.Add(time.Minute))
		_, ok, err := s.ReserveIdempotency(ctx, dead, base)
		require.NoError(t, err)
		require.True(t, ok)
		next := dead
		next.Owner, next.ExpiresAt = "owner-next", base.Add(3*time.Minute)
		got, ok, err := s.ReserveIdempotency(ctx, next, base.Add(time.Minute))
		require.NoError(t, err)
		require.True(t, ok, "a reservation is taken over once it expired")
		require.Equal(t, "owner-next", got.Owner)
		late := dead
		late.Response = []byte("late")
		require.ErrorIs(t, s.CompleteIdempotency(ctx, late), cancellation.ErrNotFound, "the dead holder cannot complete another's reservation")
	})
	t.Run("ReleaseFreesOnlyTheHoldersUnfinishedKey", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		ctx := t.Context()
		rec := record(t, "account-a", "owner-1", base.Add(time.Hour))
		_, ok, err := s.ReserveIdempotency(ctx, rec, base)
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, s.ReleaseIdempotency(ctx, rec.Scope, rec.Key, "owner-other"))
		other := rec
		other.Owner = "owner-2"
		_, ok, err = s.ReserveIdempotency(ctx, other, base)
		require.NoError(t, err)
		require.False(t, ok, "another owner's release changes nothing")

		require.NoError(t, s.ReleaseIdempotency(ctx, rec.Scope, rec.Key, rec.Owner))
		_, ok, err = s.ReserveIdempotency(ctx, other, base)
		require.NoError(t, err)
		require.True(t, ok, "a released key may be used again")

		other.Response = []byte("done")
		require.NoError(t, s.CompleteIdempotency(ctx, other))
		require.NoError(t, s.ReleaseIdempotency(ctx, other.Scope, other.Key, other.Owner))
		got, ok, err := s.ReserveIdempotency(ctx, rec, base)
		require.NoError(t, err)
		require.False(t, ok, "a completed record is not released")
		require.Equal(t, "done", string(got.Response))
	})
	t.Run("PurgeDeletesExpiredRecords", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		ctx := t.Context()
		// Far in the past, so that no other test's records are in range
		// except on a shared backend, where the count may include them.
		old := base.AddDate(-5, 0, 0)
		expired := record(t, "account-a", "owner-1", old)
		done := record(t, "account-b", "owner-2", old.Add(time.Second))
		live := record(t, "account-c", "owner-3", old.Add(time.Hour))
		for _, r := range []cancellation.IdempotencyRecord{expired, done, live} {
			_, ok, err := s.ReserveIdempotency(ctx, r, old.Add(-time.Hour))
			require.NoError(t, err)
			require.True(t, ok)
		}
		done.Response = []byte("done")
		require.NoError(t, s.CompleteIdempotency(ctx, done))
		n, err := s.PurgeIdempotency(ctx, old.Add(time.Second))
		require.NoError(t, err)
		if f.SharedBackend {
			require.GreaterOrEqual(t, n, 2)
		} else {
			require.Equal(t, 2, n, "the expired reservation and the expired completed record")
		}
		// The purged records are gone: a reservation "before" they expired
		// now succeeds. The live one is still there.
		for _, r := range []cancellation.IdempotencyRecord{expired, done} {
			r.Owner = "owner-new"
			_, ok, err := s.ReserveIdempotency(ctx, r, old.Add(-time.Hour))
			require.NoError(t, err)
			require.True(t, ok, "record %s was purged", r.Scope)
		}
		got, ok, err := s.ReserveIdempotency(ctx, live, old.Add(-time.Hour))
		require.NoError(t, err)
		require.False(t, ok, "a record that has not expired is kept")
		require.Equal(t, "owner-3", got.Owner)
	})
}

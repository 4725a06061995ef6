package portstest

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// TestIdentifierStore is the conformance suite of the optional
// cancellation.IdentifierStore: the hashed identifiers of recently closed
// accounts. newStore returns a Store that implements it.
func TestIdentifierStore(t *testing.T, f StoreFeatures, newStore func(t *testing.T) cancellation.Store) {
	base := time.Date(2031, time.May, 6, 10, 0, 0, 0, time.UTC)
	open := func(t *testing.T) cancellation.IdentifierStore {
		s, ok := newStore(t).(cancellation.IdentifierStore)
		if !ok {
			t.Fatalf("the store does not implement cancellation.IdentifierStore")
		}
		return s
	}
	hash := func(t *testing.T, name string) string {
		h := sha256.Sum256([]byte(uniqueName(t, name)))
		return hex.EncodeToString(h[:])
	}
	t.Run("KeptUntilItExpires", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		a, b := hash(t, "a"), hash(t, "b")
		require.NoError(t, s.KeepIdentifiers(ctx, []cancellation.IdentifierHash{{Hash: a, KeyID: "k1", ExpiresAt: base.Add(time.Hour)}}))
		for _, c := range []struct {
			hashes []string
			at     time.Time
			want   bool
		}{
			{[]string{a}, base, true},
			{[]string{b, a}, base, true},
			{[]string{b}, base, false},
			{[]string{a}, base.Add(time.Hour), false},
			{nil, base, false},
		} {
			got, err := s.IdentifierKept(ctx, c.hashes, c.at)
			require.NoError(t, err)
			require.Equal(t, c.want, got, "IdentifierKept(%v, %v)", c.hashes, c.at)
		}
	})
	t.Run("KeptAgainKeepsTheLaterExpiry", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		a := hash(t, "a")
		require.NoError(t, s.KeepIdentifiers(ctx, []cancellation.IdentifierHash{{Hash: a, KeyID: "k1", ExpiresAt: base.Add(2 * time.Hour)}}))
		require.NoError(t, s.KeepIdentifiers(ctx, []cancellation.IdentifierHash{{Hash: a, KeyID: "k1", ExpiresAt: base.Add(time.Hour)}}))
		got, err := s.IdentifierKept(ctx, []string{a}, base.Add(90*time.Minute))
		require.NoError(t, err)
		require.True(t, got, "an earlier expiry does not shorten the period")
		require.NoError(t, s.KeepIdentifiers(ctx, []cancellation.IdentifierHash{{Hash: a, KeyID: "k2", ExpiresAt: base.Add(3 * time.Hour)}}))
		got, err = s.IdentifierKept(ctx, []string{a}, base.Add(150*time.Minute))
		require.NoError(t, err)
		require.True(t, got, "a later expiry extends it")
	})
	t.Run("RefusesAHashWithoutKeyID", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		require.ErrorIs(t, s.KeepIdentifiers(t.Context(), []cancellation.IdentifierHash{{Hash: hash(t, "a"), ExpiresAt: base}}), cancellation.ErrInvalidInput)
	})
	t.Run("PurgeDeletesTheExpired", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		old := time.Date(1991, time.January, 1, 0, 0, 0, 0, time.UTC)
		gone, stays := hash(t, "gone"), hash(t, "stays")
		require.NoError(t, s.KeepIdentifiers(ctx, []cancellation.IdentifierHash{
			{Hash: gone, KeyID: "k1", ExpiresAt: old},
			{Hash: stays, KeyID: "k1", ExpiresAt: old.Add(time.Hour)},
		}))
		n, err := s.PurgeIdentifiers(ctx, old)
		require.NoError(t, err)
		if f.SharedBackend {
			require.GreaterOrEqual(t, n, 1)
		} else {
			require.Equal(t, 1, n)
		}
		got, err := s.IdentifierKept(ctx, []string{gone}, old.Add(-time.Hour))
		require.NoError(t, err)
		require.False(t, got, "purged")
		got, err = s.IdentifierKept(ctx, []string{stays}, old)
		require.NoError(t, err)
		require.True(t, got, "not expired yet")
	})
}

// TestClosureQuotaStore is the conformance suite of the optional
// cancellation.ClosureQuotaStore: the organisation quota's counts.
// newStore returns a Store that implements it.
func TestClosureQuotaStore(t *testing.T, f StoreFeatures, newStore func(t *testing.T) cancellation.Store) {
	base := time.Date(2031, time.June, 1, 10, 0, 0, 0, time.UTC)
	open := func(t *testing.T) cancellation.ClosureQuotaStore {
		s, ok := newStore(t).(cancellation.ClosureQuotaStore)
		if !ok {
			t.Fatalf("the store does not implement cancellation.ClosureQuotaStore")
		}
		return s
	}
	t.Run("AdmitsUpToTheLimitInTheWindow", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		org := ports.OrganizationID(uniqueName(t, "org"))
		ok, window, err := s.AdmitClosures(ctx, org, []ports.AccountID{"a", "b"}, base.Add(-time.Hour), base, 3)
		require.NoError(t, err)
		require.True(t, ok)
		require.Empty(t, window)
		later := base.Add(time.Minute)
		ok, window, err = s.AdmitClosures(ctx, org, []ports.AccountID{"c", "d"}, later.Add(-time.Hour), later, 3)
		require.NoError(t, err)
		require.False(t, ok, "2 + 2 > 3: refused whole")
		require.Len(t, window, 2)
		require.True(t, window[0].Equal(base), "the window's times come back, got %v", window)
		ok, _, err = s.AdmitClosures(ctx, org, []ports.AccountID{"c"}, later.Add(-time.Hour), later, 3)
		require.NoError(t, err)
		require.True(t, ok)
		// Out of the window, the old ones no longer count.
		ok, window, err = s.AdmitClosures(ctx, org, []ports.AccountID{"e", "f"}, base, base.Add(2*time.Hour), 3)
		require.NoError(t, err)
		require.True(t, ok, "only the admission after since counts")
		require.Len(t, window, 1)
		// Another organisation has its own count.
		ok, _, err = s.AdmitClosures(ctx, org+"-other", []ports.AccountID{"x", "y", "z"}, base.Add(-time.Hour), base, 3)
		require.NoError(t, err)
		require.True(t, ok)
	})
	t.Run("ReleaseGivesTheAdmissionBack", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		org := ports.OrganizationID(uniqueName(t, "org"))
		ok, _, err := s.AdmitClosures(ctx, org, []ports.AccountID{"a"}, base.Add(-time.Hour), base, 1)
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, s.ReleaseClosure(ctx, cancellation.ClosureAdmission{Organization: org, Account: "a", At: base}))
		require.NoError(t, s.ReleaseClosure(ctx, cancellation.ClosureAdmission{Organization: org, Account: "a", At: base}), "none is not an error")
		ok, _, err = s.AdmitClosures(ctx, org, []ports.AccountID{"b"}, base.Add(-time.Hour), base, 1)
		require.NoError(t, err)
		require.True(t, ok)
	})
	t.Run("ConcurrentAdmissionsNeverExceedTheLimit", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		org := ports.OrganizationID(uniqueName(t, "org"))
		var wg sync.WaitGroup
		var mu sync.Mutex
		admitted := 0
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, _, err := s.AdmitClosures(ctx, org, []ports.AccountID{ports.AccountID(rune('a' + i))}, base.Add(-time.Hour), base, 3)
				if err != nil {
					return // a store may refuse a contended write; it never over-admits
				}
				mu.Lock()
				defer mu.Unlock()
				if ok {
					admitted++
				}
			}()
		}
		wg.Wait()
		require.LessOrEqual(t, admitted, 3)
		ok, window, err := s.AdmitClosures(ctx, org, []ports.AccountID{"z"}, base.Add(-time.Hour), base, 3)
		require.NoError(t, err)
		require.Equal(t, admitted < 3, ok)
		require.Len(t, window, admitted)
	})
	t.Run("PurgeDeletesOldAdmissions", func(t *testing.T) {
		t.Parallel()
		s, ctx := open(t), t.Context()
		org := ports.OrganizationID(uniqueName(t, "org"))
		old := time.Date(1992, time.January, 1, 0, 0, 0, 0, time.UTC)
		ok, _, err := s.AdmitClosures(ctx, org, []ports.AccountID{"a"}, old.Add(-time.Hour), old, 1)
		require.NoError(t, err)
		require.True(t, ok)
		n, err := s.PurgeClosures(ctx, old)
		require.NoError(t, err)
		if f.SharedBackend {
			require.GreaterOrEqual(t, n, 1)
		} else {
			require.Equal(t, 1, n)
		}
		_, window, err := s.AdmitClosures(ctx, org, nil, old.Add(-time.Hour), old, 1)
		require.NoError(t, err)
		require.Empty(t, window)
	})
}

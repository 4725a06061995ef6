package cancellation_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
)

// TestRunMaintenance_PurgesExpiredIdempotencyKeys shows that maintenance
// deletes the Idempotency-Key records of an IdempotencyStore once they
// expire, keeps the live ones, and counts what it purged.
func TestRunMaintenance_PurgesExpiredIdempotencyKeys(t *testing.T) {
	f := setup(t)
	is := cancellation.IdempotencyStore(f.kit.Store)
	for i, exp := range []time.Duration{time.Minute, 2 * time.Minute, time.Hour} {
		_, ok, err := is.ReserveIdempotency(f.ctx, cancellation.IdempotencyRecord{
			Scope: "account:acct-1", Key: string(rune('a' + i)), Fingerprint: "fp", Owner: "o", ExpiresAt: t0.Add(exp),
		}, t0)
		require.NoError(t, err)
		require.True(t, ok)
	}
	require.Zero(t, f.maintain().IdempotencyPurged, "nothing has expired yet")
	f.clock.Advance(2 * time.Minute)
	require.Equal(t, 2, f.maintain().IdempotencyPurged)
	_, ok, err := is.ReserveIdempotency(f.ctx, cancellation.IdempotencyRecord{Scope: "account:acct-1", Key: "c", Owner: "p", ExpiresAt: t0.Add(2 * time.Hour)}, f.clock.Now())
	require.NoError(t, err)
	require.False(t, ok, "the live record is kept")
}

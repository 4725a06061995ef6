package sqlstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/adapters/sqlstore"
	"github.com/accountkit/cancellation/ports/portstest"
)

// TestRecordPurger runs the RecordPurger suite on each dialect, then reads
// the tables themselves: no settled request row is left, and no event row
// whose request is gone.
func TestRecordPurger(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d dialect) {
		dsn := d.newDSN(t)
		portstest.TestRecordPurger(t, portstest.StoreFeatures{SharedBackend: true}, func(t *testing.T) cancellation.Store { return openStore(t, dsn) })
		s := openStore(t, dsn)
		count := func(query string) int {
			t.Helper()
			var n int
			require.NoError(t, s.DB().QueryRowContext(t.Context(), query).Scan(&n))
			return n
		}
		require.Zero(t, count("SELECT count(*) FROM cancellation_requests WHERE settled_at IS NOT NULL"), "the purged rows are deleted")
		require.Equal(t, 3, count("SELECT count(*) FROM cancellation_requests"), "the active, the pending and the restarted request stay")
		require.Zero(t, count("SELECT count(*) FROM cancellation_events WHERE request_id NOT IN (SELECT id FROM cancellation_requests)"), "no event of a purged request is left")
		require.NotZero(t, count("SELECT count(*) FROM cancellation_events"), "the kept requests keep their events")
	})
}

// TestMigration9BackfillsSettledAtOfVersion3Database writes, at schema
// version 3, a withdrawn request whose notification was sent (settled,
// its end time with a fraction of a second), a withdrawn one whose
// notification is still pending and one in review, then opens the
// database: migration 9 fills settled_at to the nanosecond for the settled
// one only, and PurgeEnded deletes it and nothing else, and forgets the
// copy the Store's cache held of it.
func TestMigration9BackfillsSettledAtOfVersion3Database(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d dialect) {
		dsn := d.newDSN(t)
		db := migratedTo(t, d, dsn, 1, 2, 3) // schema 3

		e := newEnv()
		mem := e.service(t, memory.NewStore())
		write := func(r *cancellation.Request) {
			t.Helper()
			data, err := r.MarshalBinary()
			require.NoError(t, err)
			_, err = db.ExecContext(t.Context(), sqlstore.Bind(d.name,
				"INSERT INTO cancellation_requests (id, account, state, version, created_at, due_at, wake_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
				r.ID(), string(r.Account()), string(r.State()), r.Version(), r.CreatedAt().UnixNano(), nullable(r.DueAt()), nullable(r.NextWake()), string(data))
			require.NoError(t, err)
		}
		settled := e.inReview(t, mem, e.account("v3-"+randomHex(5)))
		e.kit.Clock.Set(t0.Add(time.Minute + 123456789))
		settled, err := mem.Withdraw(t.Context(), settled.Account(), settled.ID())
		require.NoError(t, err)
		require.Equal(t, t0.Add(time.Minute+123456789), settled.SettledAt())
		store := memory.NewStore()
		deferred := e.service(t, store, func(c *cancellation.Config) { c.Effects = cancellation.EffectsDeferred })
		pending := e.inReview(t, deferred, e.account("v3-"+randomHex(5)))
		pending, err = deferred.Withdraw(t.Context(), pending.Account(), pending.ID())
		require.NoError(t, err)
		require.NotEmpty(t, pending.PendingEffects(), "precondition: its notification is pending")
		active := e.inReview(t, mem, e.account("v3-"+randomHex(5)))
		for _, r := range []*cancellation.Request{settled, pending, active} {
			write(r)
		}

		s := openStore(t, dsn) // migrates to the current schema
		require.Equal(t, schemaVersions(), appliedVersions(t, s.DB()))
		for _, r := range []*cancellation.Request{settled, pending, active} {
			var col *int64
			require.NoError(t, s.DB().QueryRowContext(t.Context(), sqlstore.Bind(d.name, "SELECT settled_at FROM cancellation_requests WHERE id = ?"), r.ID()).Scan(&col))
			if r.SettledAt().IsZero() {
				require.Nil(t, col, r.ID())
				continue
			}
			require.NotNil(t, col, r.ID())
			require.Equal(t, r.SettledAt().UnixNano(), *col, "the backfill keeps every nanosecond of %s", r.SettledAt())
		}
		_, err = s.Get(t.Context(), settled.ID())
		require.NoError(t, err)
		require.True(t, sqlstore.Cached(s, settled.ID()), "precondition: the read cached it")
		n, err := s.PurgeEnded(t.Context(), settled.SettledAt(), 10)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.False(t, sqlstore.Cached(s, settled.ID()), "no copy of the purged record stays in the process")
		_, err = s.Get(t.Context(), settled.ID())
		require.ErrorIs(t, err, cancellation.ErrNotFound)
		n, err = s.PurgeEnded(t.Context(), t0.Add(100*365*24*time.Hour), 10)
		require.NoError(t, err)
		require.Zero(t, n, "neither the pending nor the active request is purged")
	})
}

package sqlstore_test

import (
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/adapters/sqlstore"
)

// TestMigration6BackfillsFailingSinceOfVersion3Database writes, at schema
// version 3, requests whose account closing keeps failing (their
// failing_since times with nine, one and no fraction digits) and one whose
// closing failed and then succeeded, then opens the database: migration 6
// fills failing_since to the nanosecond from each request's data, so that
// FailingBefore and OrderByFailing find exactly the failing ones, in
// order, and keyset paging by Query.Cursor agrees with the column.
func TestMigration6BackfillsFailingSinceOfVersion3Database(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d dialect) {
		dsn := d.newDSN(t)
		db := migratedTo(t, d, dsn, 1, 2, 3) // schema 3

		e := newEnv()
		mem := e.service(t, memory.NewStore())
		rv := cancellation.Reviewer{ID: "r"}
		write := func(r *cancellation.Request) {
			t.Helper()
			data, err := r.MarshalBinary()
			require.NoError(t, err)
			_, err = db.ExecContext(t.Context(), sqlstore.Bind(d.name,
				"INSERT INTO cancellation_requests (id, account, state, version, created_at, due_at, wake_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
				r.ID(), string(r.Account()), string(r.State()), r.Version(), r.CreatedAt().UnixNano(), nullable(r.DueAt()), nullable(r.NextWake()), string(data))
			require.NoError(t, err)
		}
		var failing []*cancellation.Request
		for i, frac := range []time.Duration{123456789, 500000000, 0} {
			acct := e.account("v3-" + randomHex(5))
			r := e.inReview(t, mem, acct)
			e.kit.Clock.Set(t0.Add(time.Duration(i+1)*time.Minute + frac))
			e.kit.Platform.FailNext(memory.PortAccountCloser, 1, nil)
			r, err := mem.Approve(t.Context(), rv, r.ID(), "ok")
			require.NoError(t, err)
			require.Equal(t, t0.Add(time.Duration(i+1)*time.Minute+frac), r.FailingSince())
			write(r)
			failing = append(failing, r)
		}
		// Failed once, then closed: nothing is failing.
		healed := e.inReview(t, mem, e.account("v3-"+randomHex(5)))
		e.kit.Platform.FailNext(memory.PortAccountCloser, 1, nil)
		healed, err := mem.Approve(t.Context(), rv, healed.ID(), "ok")
		require.NoError(t, err)
		e.kit.Clock.Advance(time.Hour)
		_, err = mem.RunMaintenance(t.Context())
		require.NoError(t, err)
		healed, err = mem.Get(t.Context(), healed.Account(), healed.ID())
		require.NoError(t, err)
		require.Equal(t, cancellation.StateCancelled, healed.State())
		write(healed)

		s := openStore(t, dsn) // migrates to the current schema
		require.Equal(t, schemaVersions(), appliedVersions(t, s.DB()))
		for _, r := range append(failing, healed) {
			var col *int64
			require.NoError(t, s.DB().QueryRowContext(t.Context(), sqlstore.Bind(d.name, "SELECT failing_since FROM cancellation_requests WHERE id = ?"), r.ID()).Scan(&col))
			if r.FailingSince().IsZero() {
				require.Nil(t, col, r.ID())
				continue
			}
			require.NotNil(t, col, r.ID())
			require.Equal(t, r.FailingSince().UnixNano(), *col, "the backfill keeps every nanosecond of %s", r.FailingSince())
		}
		q := cancellation.Query{FailingBefore: failing[1].FailingSince(), OrderByFailing: true}
		rs, err := s.List(t.Context(), q)
		require.NoError(t, err)
		require.Equal(t, []string{failing[0].ID(), failing[1].ID()}, requestIDs(rs), "inclusive to the nanosecond")
		q.FailingBefore = e.kit.Clock.Now()
		q.After, q.Limit = q.Cursor(failing[0]), 1
		rs, err = s.List(t.Context(), q)
		require.NoError(t, err)
		require.Equal(t, []string{failing[1].ID()}, requestIDs(rs), "the cursor of a backfilled row is its own")
	})
}

func nullable(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// TestStuckAndPastQueriesUseTheirIndexes: SQLite plans the stuck-effects
// query (FailingBefore, OrderByFailing) on the failing_since index and an
// account's past requests (newest first) on the account index, without a
// scan of the table or a sort.
func TestStuckAndPastQueriesUseTheirIndexes(t *testing.T) {
	t.Parallel()
	s := openStore(t, sqliteDSN(t))
	for _, c := range []struct {
		q     cancellation.Query
		index string
	}{
		{cancellation.Query{FailingBefore: t0, OrderByFailing: true, Limit: 51}, "cancellation_requests_failing"},
		{cancellation.Query{FailingBefore: t0, OrderByFailing: true, After: cancellation.Cursor{At: t0, ID: "can_x"}, Limit: 51}, "cancellation_requests_failing"},
		{cancellation.Query{Account: "a", States: cancellation.PastStates, Descending: true, Limit: 21}, "cancellation_requests_account"},
		{cancellation.Query{Account: "a", States: cancellation.PastStates, Descending: true, After: cancellation.Cursor{At: t0, ID: "can_x"}, Limit: 21}, "cancellation_requests_account"},
	} {
		query, args := sqlstore.ListSQL(sqlstore.SQLite, c.q)
		rows, err := s.DB().QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
		require.NoError(t, err)
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			require.NoError(t, rows.Scan(&id, &parent, &notused, &detail))
			plan = append(plan, detail)
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
		joined := strings.Join(plan, "; ")
		require.Contains(t, joined, "USING INDEX "+c.index, "%s: %s", query, joined)
		require.NotContains(t, joined, "TEMP B-TREE", "no sort: %s", joined)
	}
}

// TestMigrateAppliesAMissingVersionBelowTheHighest: versions are assigned
// to branches developed side by side, so a database may record a version
// without one below it; Migrate applies the missing one too.
func TestMigrateAppliesAMissingVersionBelowTheHighest(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d dialect) {
		db := migratedTo(t, d, d.newDSN(t), 1, 3) // not 2
		require.NoError(t, sqlstore.Migrate(t.Context(), db, d.name))
		require.Equal(t, schemaVersions(), appliedVersions(t, db))
		var n int
		require.NoError(t, db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM cancellation_events").Scan(&n), "migration 2 was applied")
	})
}

// migratedTo opens the database of dsn without migrating it and applies
// the embedded migrations of the given versions only.
func migratedTo(t *testing.T, d dialect, dsn string, versions ...int) *sql.DB {
	t.Helper()
	db := rawDB(t, d, dsn)
	_, err := db.ExecContext(t.Context(), sqlstore.VersionTableSQL(d.name))
	require.NoError(t, err)
	ms, err := sqlstore.Migrations(d.name)
	require.NoError(t, err)
	for _, m := range ms {
		if slices.Contains(versions, m.Version) {
			_, err = db.ExecContext(t.Context(), m.SQL)
			require.NoError(t, err)
		}
	}
	return db
}

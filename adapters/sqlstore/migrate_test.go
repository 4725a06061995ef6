package sqlstore_test

import (
	"context"
	"database/sql"
	"io/fs"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/sqlstore"
	"github.com/accountkit/cancellation/ports"
)

// TestMigrations checks the embedded files: versions from 1 up to
// SchemaVersion in each dialect, each once (a number may be unused), the
// same names in both, the same files in MigrationFS, and each recording its version.
func TestMigrations(t *testing.T) {
	t.Parallel()
	var names [2][]string
	for i, d := range []sqlstore.Dialect{sqlstore.SQLite, sqlstore.Postgres} {
		ms, err := sqlstore.Migrations(d)
		require.NoError(t, err)
		require.Equal(t, sqlstore.SchemaVersion, ms[len(ms)-1].Version)
		files, err := sqlstore.MigrationFS(d)
		require.NoError(t, err)
		for j, m := range ms {
			if j > 0 {
				require.Greater(t, m.Version, ms[j-1].Version)
			} else {
				require.Equal(t, 1, m.Version)
			}
			require.Contains(t, m.SQL, "INSERT INTO cancellation_schema_version", m.Name)
			b, err := fs.ReadFile(files, m.Name)
			require.NoError(t, err)
			require.Equal(t, m.SQL, string(b))
			names[i] = append(names[i], m.Name)
		}
		require.NotEmpty(t, sqlstore.VersionTableSQL(d))
	}
	require.Equal(t, names[0], names[1], "both dialects have the same migrations")
	_, err := sqlstore.Migrations("mysql")
	require.ErrorContains(t, err, `unknown dialect "mysql"`)
}

// TestMigrateConcurrently opens one new database from several pools at
// once, as replicas starting together would: every Open succeeds, each
// migration is applied once, and a later Migrate finds nothing to do.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d dialect) {
		dsn := d.newDSN(t)
		stores := make([]*sqlstore.Store, 6)
		var g errgroup.Group
		for i := range stores {
			g.Go(func() error {
				s, err := sqlstore.Open(context.Background(), dsn)
				stores[i] = s
				return err
			})
		}
		require.NoError(t, g.Wait())
		for _, s := range stores {
			t.Cleanup(func() { require.NoError(t, s.Close()) })
		}
		s := stores[0]
		require.Equal(t, schemaVersions(), appliedVersions(t, s.DB()))
		require.NoError(t, sqlstore.Migrate(t.Context(), s.DB(), d.name))
		require.Equal(t, schemaVersions(), appliedVersions(t, s.DB()))
		// Every store works on the shared table.
		for _, s := range stores {
			require.NoError(t, s.Create(t.Context(), started(t, uniqueAccount("migrate"))))
		}
	})
}

// TestNewAfterMigrate is the path of a host that owns its *sql.DB: Migrate,
// then New; Close leaves the host's pool open.
func TestNewAfterMigrate(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d dialect) {
		opened := openStore(t, d.newDSN(t)) // a pool configured as Open does
		db := opened.DB()
		require.NoError(t, sqlstore.Migrate(t.Context(), db, d.name))
		s, err := sqlstore.New(db, d.name)
		require.NoError(t, err)
		r := started(t, uniqueAccount("new"))
		require.NoError(t, s.Create(t.Context(), r))
		require.NoError(t, s.Close())
		require.NoError(t, db.PingContext(t.Context()), "Close of a Store from New leaves the host's pool open")
		_, err = opened.Get(t.Context(), r.ID())
		require.NoError(t, err)
	})
}

// TestMigrateWithOwnTooling applies the embedded files as a host's
// migration tool would (the version table first, then each file): Open
// then recognises the database and applies nothing again.
func TestMigrateWithOwnTooling(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d dialect) {
		dsn := d.newDSN(t)
		var db *sql.DB
		switch d.name {
		case sqlstore.Postgres:
			db = adminDB(t, dsn)
		default:
			var err error
			db, err = sql.Open("sqlite", "file:"+strings.TrimPrefix(dsn, "sqlite://"))
			require.NoError(t, err)
			t.Cleanup(func() { _ = db.Close() })
		}
		_, err := db.ExecContext(t.Context(), sqlstore.VersionTableSQL(d.name))
		require.NoError(t, err)
		ms, err := sqlstore.Migrations(d.name)
		require.NoError(t, err)
		for _, m := range ms {
			_, err := db.ExecContext(t.Context(), m.SQL)
			require.NoError(t, err, m.Name)
		}
		s := openStore(t, dsn)
		require.Equal(t, schemaVersions(), appliedVersions(t, s.DB()))
		require.NoError(t, s.Create(t.Context(), started(t, uniqueAccount("tooling"))))
	})
}

// TestMigrateHonoursContext migrates with a context that is already done:
// nothing is applied.
func TestMigrateHonoursContext(t *testing.T) {
	t.Parallel()
	s := openStore(t, sqliteDSN(t))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, sqlstore.Migrate(ctx, s.DB(), sqlstore.SQLite), context.Canceled)
	require.ErrorContains(t, sqlstore.Migrate(t.Context(), nil, sqlstore.SQLite), "needs a *sql.DB")
}

// TestActiveIndexMatchesActiveStates holds the partial unique index of the
// migration (and the Store's ActiveFor query) to cancellation.Active: for
// every state, a request in it blocks a new one for the account exactly
// when the state is active.
func TestActiveIndexMatchesActiveStates(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d dialect) {
		s := openStore(t, d.newDSN(t))
		for _, state := range cancellation.States {
			acct := uniqueAccount("state-" + string(state))
			first := patched(t, started(t, acct), map[string]any{"state": state})
			require.NoError(t, s.Create(t.Context(), first), state)
			active, err := s.ActiveFor(t.Context(), acct)
			if cancellation.Active(state) {
				require.NoError(t, err, state)
				require.Equal(t, first.ID(), active.ID())
			} else {
				require.ErrorIs(t, err, cancellation.ErrNotFound, state)
			}
			err = s.Create(t.Context(), started(t, acct))
			if cancellation.Active(state) {
				require.ErrorIs(t, err, cancellation.ErrActiveRequestExists, "a %s request blocks a new one", state)
			} else {
				require.NoError(t, err, "a %s request does not block a new one", state)
			}
		}
	})
}

// appliedVersions reads the versions recorded in
// cancellation_schema_version.
func appliedVersions(t testing.TB, db *sql.DB) []int {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), "SELECT version FROM cancellation_schema_version ORDER BY version")
	require.NoError(t, err)
	defer rows.Close()
	var out []int
	for rows.Next() {
		var v int
		require.NoError(t, rows.Scan(&v))
		out = append(out, v)
	}
	require.NoError(t, rows.Err())
	return out
}

// TestMigration0005UpgradesVersion3 writes a database at schema version 3
// holding a request in the new state returned (and one awaiting_approval),
// which version 3's unique index does not know, then opens it: migration
// 0005 runs, and the account's second request is refused as the
// one-active-request rule requires.
func TestMigration0005UpgradesVersion3(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d dialect) {
		dsn := d.newDSN(t)
		db := rawDB(t, d, dsn)
		_, err := db.ExecContext(t.Context(), sqlstore.VersionTableSQL(d.name))
		require.NoError(t, err)
		ms, err := sqlstore.Migrations(d.name)
		require.NoError(t, err)
		for _, m := range ms {
			if m.Version <= 3 {
				_, err := db.ExecContext(t.Context(), m.SQL)
				require.NoError(t, err, m.Name)
			}
		}
		var accts []ports.AccountID
		for _, state := range []cancellation.State{cancellation.StateReturned, cancellation.StateAwaitingApproval} {
			acct := uniqueAccount("v3-" + string(state))
			r := patched(t, started(t, acct), map[string]any{"state": state})
			data, err := r.MarshalBinary()
			require.NoError(t, err)
			_, err = db.ExecContext(t.Context(), sqlstore.Bind(d.name,
				"INSERT INTO cancellation_requests (id, account, state, version, created_at, data) VALUES (?, ?, ?, 1, ?, ?)"),
				r.ID(), string(acct), string(state), r.CreatedAt().UnixNano(), string(data))
			require.NoError(t, err)
			accts = append(accts, acct)
		}

		s := openStore(t, dsn) // migrates from 3
		require.Equal(t, schemaVersions(), appliedVersions(t, s.DB()))
		for _, acct := range accts {
			active, err := s.ActiveFor(t.Context(), acct)
			require.NoError(t, err)
			require.True(t, cancellation.Active(active.State()))
			require.ErrorIs(t, s.Create(t.Context(), started(t, acct)), cancellation.ErrActiveRequestExists)
		}
	})
}

package sqlstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/sqlstore"
)

// TestOpenSQLiteForms opens a file through each documented SQLite DSN form
// and finds the same database behind them.
func TestOpenSQLiteForms(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "forms.db")
	first := openStore(t, path) // a plain path ending in .db
	r := started(t, uniqueAccount("forms"))
	require.NoError(t, first.Create(t.Context(), r))
	for _, dsn := range []string{
		path,
		"sqlite://" + path,
		"sqlite:" + path,
		"SQLITE://" + path,
		"file:" + path,
		"file:" + path + "?_synchronous=NORMAL&_busy_timeout=2000",
		"sqlite://" + path + "?_pragma=cache_size(-4000)",
	} {
		t.Run(dsn, func(t *testing.T) {
			s := openStore(t, dsn)
			require.Equal(t, sqlstore.SQLite, s.Dialect())
			got, err := s.Get(t.Context(), r.ID())
			require.NoError(t, err)
			require.Equal(t, r.ID(), got.ID())
		})
	}
	for _, ext := range []string{".sqlite", ".sqlite3"} {
		s := openStore(t, filepath.Join(dir, "other"+ext))
		require.Equal(t, sqlstore.SQLite, s.Dialect())
	}
}

// TestOpenSQLiteSettings checks the pragmas Open sets on every connection:
// WAL, a busy timeout, foreign keys, synced commits, and that the DSN can
// override one.
func TestOpenSQLiteSettings(t *testing.T) {
	t.Parallel()
	pragma := func(s *sqlstore.Store, name string) string {
		t.Helper()
		var v string
		require.NoError(t, s.DB().QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&v))
		return v
	}
	s := openStore(t, sqliteDSN(t))
	require.Equal(t, "wal", pragma(s, "journal_mode"))
	require.Equal(t, "10000", pragma(s, "busy_timeout"))
	require.Equal(t, "1", pragma(s, "foreign_keys"))
	require.Equal(t, "2", pragma(s, "synchronous")) // FULL

	o := openStore(t, sqliteDSN(t)+"?_synchronous=NORMAL&_busy_timeout=2500")
	require.Equal(t, "1", pragma(o, "synchronous"))
	require.Equal(t, "2500", pragma(o, "busy_timeout"))
	require.Equal(t, "wal", pragma(o, "journal_mode"))
}

// TestOpenBadInput gives Open what it cannot use: each error names the
// problem, keeps passwords out, and nothing panics.
func TestOpenBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, c := range []struct {
		name, dsn string
		dsnError  bool     // errors.Is(err, sqlstore.ErrDSN)
		want      []string // in the message
	}{
		{"Empty", "", true, []string{"empty"}},
		{"UnknownScheme", "mysql://app:s3cret@db:3306/app", true, []string{`unsupported scheme "mysql"`, "postgres://"}},
		{"NoRecognisedForm", "/var/lib/app/cancellation.txt", true, []string{"not a recognised form", ".db"}},
		{"MalformedPostgresURL", "postgres://app:s3cret@[::1:5432/app", true, []string{"parsing PostgreSQL DSN"}},
		{"PostgresWithoutSlashes", "postgres:app@db/app", true, []string{"postgres://user@host:port/database"}},
		{"BadPostgresParameter", "postgres://app:s3cret@127.0.0.1:5432/app?sslmode=sometimes", true, []string{"parsing PostgreSQL DSN", "sslmode"}},
		{"SQLiteWithHost", "sqlite://server/x.db", true, []string{`names a host "server"`, "sqlite:///"}},
		{"SQLiteWithoutFile", "sqlite://", true, []string{"names no file"}},
		{"FileWithoutFile", "file:?mode=ro", true, []string{"names no file"}},
		{"SQLiteInMemory", "sqlite::memory:", true, []string{"in-memory SQLite"}},
		{"FileInMemory", "file::memory:?cache=shared", true, []string{"in-memory SQLite"}},
		{"FileMemoryMode", "file:x.db?mode=memory", true, []string{"in-memory SQLite"}},
		{"BareMemory", ":memory:", true, []string{"not a recognised form"}},
		{"MalformedSQLiteQuery", "sqlite:///tmp/x.db?%zz", true, []string{"parameters of SQLite DSN"}},
		{"BadSQLiteParameter", "sqlite://" + filepath.Join(dir, "p.db") + "?_txlock=sometimes", false, []string{"connecting to sqlite database", "_txlock"}},
		{"MissingDirectory", "sqlite://" + filepath.Join(dir, "missing", "x.db"), false, []string{"connecting to sqlite database", "missing/x.db", "missing does not exist"}},
		{"UnreachableServer", "postgres://app:s3cret@127.0.0.1:1/app?connect_timeout=2&sslmode=disable", false, []string{"connecting to postgres database", "127.0.0.1:1", "connect"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := requireOpenFails(t, c.dsn, c.dsnError, c.want...)
			requireNoSecret(t, err, "s3cret")
		})
	}
}

// TestOpenHonoursContext gives Open a context that is already done.
func TestOpenHonoursContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := sqlstore.Open(ctx, sqliteDSN(t))
	require.ErrorIs(t, err, context.Canceled)
}

// TestNewBadInput checks New's arguments.
func TestNewBadInput(t *testing.T) {
	t.Parallel()
	_, err := sqlstore.New(nil, sqlstore.SQLite)
	require.ErrorContains(t, err, "needs a *sql.DB")
	s := openStore(t, sqliteDSN(t))
	_, err = sqlstore.New(s.DB(), "mysql")
	require.ErrorContains(t, err, `unknown dialect "mysql"`)
}

// TestCorruptRows writes damaged rows with SQL, behind the Store's back:
// every read of them fails with an error wrapping cancellation.ErrCorrupt
// that names the request, and nothing panics.
func TestCorruptRows(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d dialect) {
		s := openStore(t, d.newDSN(t))
		for _, c := range []struct {
			name   string
			damage func(data string) string
			column string // another column to set, with value
			value  any
			want   string
		}{
			{name: "GarbageJSON", damage: func(string) string { return `{"id": "can_x", garbage` }, want: "invalid character"},
			{name: "NotAnObject", damage: func(string) string { return `[1, 2, 3]` }},
			{name: "EmptyData", damage: func(string) string { return `` }, want: "unexpected end of JSON input"},
			{name: "BrokenHistoryHash", damage: func(data string) string {
				return strings.Replace(data, `"eligibility":"pass"`, `"eligibility":"blocked"`, 1)
			}, want: "history event 1 was altered"},
			{name: "UnknownState", damage: func(data string) string {
				return strings.Replace(data, `"state":"started"`, `"state":"paused"`, 1)
			}, want: `unknown state "paused"`},
			{name: "VersionDisagrees", column: "version", value: 7, want: "its data has version 1, the row 7"},
			{name: "StateDisagrees", column: "state", value: "confirmed", want: `its data has state "started", the row "confirmed"`},
		} {
			t.Run(c.name, func(t *testing.T) {
				acct := uniqueAccount("corrupt")
				r := started(t, acct)
				require.NoError(t, s.Create(t.Context(), r))
				healthy := started(t, uniqueAccount("healthy"))
				require.NoError(t, s.Create(t.Context(), healthy))
				if c.damage != nil {
					var data string
					require.NoError(t, s.DB().QueryRowContext(t.Context(), sqlstore.Bind(d.name, "SELECT data FROM cancellation_requests WHERE id = ?"), r.ID()).Scan(&data))
					execSQL(t, s, "UPDATE cancellation_requests SET data = ? WHERE id = ?", c.damage(data), r.ID())
				}
				if c.column != "" {
					execSQL(t, s, "UPDATE cancellation_requests SET "+c.column+" = ? WHERE id = ?", c.value, r.ID())
				}
				requireCorrupt := func(err error) {
					t.Helper()
					require.ErrorIs(t, err, cancellation.ErrCorrupt)
					require.Contains(t, err.Error(), r.ID(), "the error names the request")
					require.Contains(t, err.Error(), c.want)
				}
				_, err := s.Get(t.Context(), r.ID())
				requireCorrupt(err)
				_, err = s.List(t.Context(), cancellation.Query{Account: acct})
				requireCorrupt(err)
				// The damaged row does not hide the others (maintenance and
				// the review queue go on).
				all, err := s.List(t.Context(), cancellation.Query{})
				requireCorrupt(err)
				require.Contains(t, requestIDs(all), healthy.ID())
				require.NotContains(t, requestIDs(all), r.ID())
				if c.column != "state" { // a row in a terminal state is not active
					_, err = s.ActiveFor(t.Context(), acct)
					requireCorrupt(err)
				}
			})
		}
	})
}

// TestOpenRefusesNewerSchema opens a database that a newer version of this
// package migrated.
func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d dialect) {
		dsn := d.newDSN(t)
		s := openStore(t, dsn)
		execSQL(t, s, "INSERT INTO cancellation_schema_version (version, applied_at) VALUES (?, ?)", sqlstore.SchemaVersion+98, "2030-01-01T00:00:00Z")
		_, err := sqlstore.Open(t.Context(), dsn)
		require.ErrorIs(t, err, sqlstore.ErrSchemaTooNew)
		require.Contains(t, err.Error(), fmt.Sprintf("schema version %d", sqlstore.SchemaVersion+98))
		require.Contains(t, err.Error(), fmt.Sprintf("versions up to %d", sqlstore.SchemaVersion))
		require.ErrorIs(t, sqlstore.Migrate(t.Context(), s.DB(), d.name), sqlstore.ErrSchemaTooNew)
		// Refusing changed nothing: the store still works.
		r := started(t, uniqueAccount("newer"))
		require.NoError(t, s.Create(t.Context(), r))
	})
}

// execSQL runs a statement on the store's database, behind its back.
func execSQL(t testing.TB, s *sqlstore.Store, query string, args ...any) {
	t.Helper()
	_, err := s.DB().ExecContext(context.Background(), sqlstore.Bind(s.Dialect(), query), args...)
	require.NoError(t, err)
}

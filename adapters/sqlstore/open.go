package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" driver: pure Go, no cgo
)

// Dialect names the SQL database behind a Store.
type Dialect string

// The supported dialects.
const (
	// SQLite is a database file, through the pure-Go driver
	// modernc.org/sqlite (driver name "sqlite").
	SQLite Dialect = "sqlite"
	// Postgres is a PostgreSQL server, through
	// github.com/jackc/pgx/v5/stdlib (driver name "pgx").
	Postgres Dialect = "postgres"
)

func (d Dialect) valid() bool { return d == SQLite || d == Postgres }

// ErrDSN is wrapped by the errors of Open for a DSN it cannot use: an
// unknown scheme, a malformed URL, a path of no recognised form.
var ErrDSN = errors.New("sqlstore: unusable DSN")

// sqliteDefaults are the driver parameters Open sets for a SQLite file
// unless the DSN sets the same key: wait up to 10 s for another writer
// (another process, or another Store on the file) instead of failing with
// SQLITE_BUSY, write-ahead logging so readers never wait for the writer,
// foreign keys on, a synced commit (a committed state change survives a
// power cut, not only a crash), and BEGIN IMMEDIATE for transactions so a
// transaction that writes takes the write lock before it reads.
var sqliteDefaults = [][2]string{
	{"_busy_timeout", "10000"},
	{"_journal_mode", "WAL"},
	{"_foreign_keys", "1"},
	{"_synchronous", "FULL"},
	{"_txlock", "immediate"},
}

// postgresConnectTimeout bounds each connection attempt when the DSN sets
// no connect_timeout.
const postgresConnectTimeout = 10 * time.Second

// Pool sizes Open sets. A SQLite file has one writer at a time (the Store
// queues its own writes) and concurrent readers; a PostgreSQL pool is
// bounded so that replicas do not exhaust max_connections. Hosts tune them
// through Store.DB.
const (
	sqliteMaxConns   = 4
	postgresMaxConns = 10
)

// Open opens the database that dsn names, brings its schema up to date with
// Migrate, and returns a Store over it that Close closes. The DSN chooses
// the dialect:
//
//   - postgres://... or postgresql://... : PostgreSQL through pgx, in the
//     URL form that libpq and pgx document (sslmode, search_path,
//     connect_timeout and the other parameters pass through; without
//     connect_timeout each connection attempt is bounded by 10 s).
//   - sqlite:///abs/path/x.db (an absolute path after "sqlite://"), or
//     sqlite:path/x.db (a path, relative to the working directory unless it
//     starts with "/"): a SQLite file.
//   - file:path/x.db or file:/abs/path/x.db: a SQLite URI filename, given to
//     SQLite as it is.
//   - a plain path ending in ".db", ".sqlite" or ".sqlite3", such as
//     /var/lib/app/cancellation.db: a SQLite file. It takes no parameters.
//
// The query of a sqlite: or file: DSN passes to the driver
// (modernc.org/sqlite): its keys _busy_timeout, _journal_mode,
// _foreign_keys, _synchronous and _txlock replace the defaults (10000 ms,
// WAL, 1, FULL, immediate); _pragma=... adds a PRAGMA; SQLite's own URI
// parameters (mode, vfs, ...) work too. The file is created when missing;
// its directory must exist. An in-memory database (":memory:",
// mode=memory) is refused: it would not be durable, and each pooled
// connection would see its own.
//
// Open pings the database with ctx. Errors name the problem: a DSN of no
// recognised form wraps ErrDSN, an unreachable server says so, a schema
// newer than this code wraps ErrSchemaTooNew. Passwords never appear in
// them.
func Open(ctx context.Context, dsn string) (*Store, error) {
	dialect, db, err := openDB(dsn)
	if err != nil {
		return nil, err
	}
	if err := ping(ctx, db, dialect); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlstore: connecting to %s database %s: %w%s", dialect, redact(dsn), err, hint(dsn, dialect))
	}
	if err := Migrate(ctx, db, dialect); err != nil {
		_ = db.Close()
		return nil, err
	}
	if dialect == SQLite {
		// Lets SQLite gather the statistics its planner lacks (it would
		// rather scan created_at than use wake_at without them). Advisory:
		// a failure changes nothing that matters.
		_, _ = db.ExecContext(ctx, "PRAGMA optimize=0x10002")
	}
	s, err := New(db, dialect)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// openDB parses dsn and returns a configured, not yet connected *sql.DB.
func openDB(dsn string) (Dialect, *sql.DB, error) {
	dialect, driverDSN, _, err := parseDSN(dsn)
	if err != nil {
		return "", nil, err
	}
	switch dialect {
	case Postgres:
		cfg, err := pgx.ParseConfig(driverDSN)
		if err != nil {
			return "", nil, fmt.Errorf("%w: parsing PostgreSQL DSN: %w", ErrDSN, err)
		}
		if cfg.ConnectTimeout == 0 {
			cfg.ConnectTimeout = postgresConnectTimeout
		}
		db := stdlib.OpenDB(*cfg)
		db.SetMaxOpenConns(postgresMaxConns)
		db.SetMaxIdleConns(postgresMaxConns)
		db.SetConnMaxIdleTime(5 * time.Minute)
		return dialect, db, nil
	default:
		db, err := sql.Open("sqlite", driverDSN)
		if err != nil {
			return "", nil, fmt.Errorf("%w: opening SQLite DSN %s: %w", ErrDSN, redact(dsn), err)
		}
		db.SetMaxOpenConns(sqliteMaxConns)
		db.SetMaxIdleConns(sqliteMaxConns)
		return dialect, db, nil
	}
}

// hint explains the commonest reason why a SQLite file does not open: its
// directory is missing.
func hint(dsn string, d Dialect) string {
	if d != SQLite {
		return ""
	}
	_, _, path, err := parseDSN(dsn)
	if err != nil || path == "" {
		return ""
	}
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return fmt.Sprintf(" (the directory %s does not exist)", dir)
	}
	return ""
}

// parseDSN recognises the forms Open documents and returns the dialect and
// the DSN for its driver, and for SQLite the file's path when it can tell
// it (for the error hint).
func parseDSN(dsn string) (Dialect, string, string, error) {
	dsn = strings.TrimSpace(dsn)
	if dsn == "" {
		return "", "", "", fmt.Errorf("%w: the DSN is empty", ErrDSN)
	}
	scheme, _, hasScheme := strings.Cut(dsn, ":")
	scheme = strings.ToLower(scheme)
	switch {
	case hasScheme && (scheme == "postgres" || scheme == "postgresql"):
		if !strings.HasPrefix(dsn[len(scheme)+1:], "//") {
			return "", "", "", fmt.Errorf("%w: a PostgreSQL DSN is a URL, postgres://user@host:port/database", ErrDSN)
		}
		return Postgres, dsn, "", nil
	case hasScheme && scheme == "sqlite":
		return sqliteURL(dsn)
	case hasScheme && scheme == "file":
		path, query, _ := strings.Cut(dsn[len("file:"):], "?")
		if path == "" {
			return "", "", "", fmt.Errorf("%w: file: DSN names no file", ErrDSN)
		}
		q, err := url.ParseQuery(query)
		if err != nil {
			return "", "", "", fmt.Errorf("%w: parameters of SQLite DSN %s: %w", ErrDSN, redact(dsn), err)
		}
		file := ""
		if p, ok := strings.CutPrefix(path, "//"); !ok || strings.HasPrefix(p, "/") {
			file, _ = url.PathUnescape(p)
		}
		if err := notInMemory(path, q); err != nil {
			return "", "", "", err
		}
		return SQLite, "file:" + path + "?" + withDefaults(q), file, nil
	case strings.Contains(dsn, "://"):
		return "", "", "", fmt.Errorf("%w: unsupported scheme %q: use postgres://, postgresql://, sqlite:, file: or a path ending in .db", ErrDSN, scheme)
	case hasSQLiteSuffix(dsn):
		return SQLite, "file:" + escapeSQLitePath(dsn) + "?" + withDefaults(url.Values{}), dsn, nil
	}
	return "", "", "", fmt.Errorf("%w: not a recognised form: use postgres://..., postgresql://..., sqlite:///path.db, file:path.db or a path ending in .db, .sqlite or .sqlite3", ErrDSN)
}

// sqliteURL parses sqlite:///abs/path.db and sqlite:path.db.
func sqliteURL(dsn string) (Dialect, string, string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", "", "", fmt.Errorf("%w: malformed SQLite DSN: %w", ErrDSN, err)
	}
	path := u.Path
	if u.Opaque != "" {
		if path, err = url.PathUnescape(u.Opaque); err != nil {
			return "", "", "", fmt.Errorf("%w: malformed SQLite path: %w", ErrDSN, err)
		}
	}
	switch {
	case u.Host != "" || u.User != nil:
		return "", "", "", fmt.Errorf("%w: SQLite DSN names a host %q: use sqlite:///absolute/path.db (three slashes) or sqlite:relative/path.db", ErrDSN, u.Host)
	case path == "" || path == "/":
		return "", "", "", fmt.Errorf("%w: SQLite DSN names no file", ErrDSN)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", "", "", fmt.Errorf("%w: parameters of SQLite DSN: %w", ErrDSN, err)
	}
	if err := notInMemory(path, q); err != nil {
		return "", "", "", err
	}
	return SQLite, "file:" + escapeSQLitePath(path) + "?" + withDefaults(q), path, nil
}

// notInMemory refuses an in-memory SQLite database: each connection of the
// pool would see a database of its own, and nothing would be durable.
func notInMemory(path string, q url.Values) error {
	if strings.HasPrefix(path, ":memory:") || strings.EqualFold(q.Get("mode"), "memory") {
		return fmt.Errorf("%w: an in-memory SQLite database is not durable and not shared by the pool's connections: use a file, or adapters/memory in tests", ErrDSN)
	}
	return nil
}

func hasSQLiteSuffix(path string) bool {
	for _, ext := range []string{".db", ".sqlite", ".sqlite3"} {
		if strings.HasSuffix(strings.ToLower(path), ext) {
			return true
		}
	}
	return false
}

// escapeSQLitePath escapes what ends or escapes the path of a SQLite URI
// filename.
func escapeSQLitePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

// withDefaults adds the default driver parameters that q does not set and
// encodes the result.
func withDefaults(q url.Values) string {
	for _, kv := range sqliteDefaults {
		if !q.Has(kv[0]) {
			q.Set(kv[0], kv[1])
		}
	}
	return q.Encode()
}

// redact returns dsn fit for an error message: without its password, or
// only its scheme when it does not parse as a URL.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		scheme, _, _ := strings.Cut(dsn, ":")
		return scheme + ":..."
	}
	return u.Redacted()
}

// ping connects once. A new SQLite connection switches the file to WAL,
// which SQLite refuses with SQLITE_BUSY, without waiting for busy_timeout,
// while another process holds a lock on a file still in rollback mode (two
// processes opening a new database at once). That is retried for up to
// 10 s; other errors are returned at once.
func ping(ctx context.Context, db *sql.DB, dialect Dialect) error {
	deadline := time.Now().Add(10 * time.Second)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err := db.PingContext(ctx)
		if err == nil || dialect != SQLite || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// isBusy reports whether err is SQLite's SQLITE_BUSY or SQLITE_LOCKED.
func isBusy(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked") || strings.Contains(msg, "SQLITE_LOCKED")
}

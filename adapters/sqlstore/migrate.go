package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// SchemaVersion is the schema version this code writes and reads: the
// version of the last migration of each dialect.
const SchemaVersion = 9

// ErrSchemaTooNew is wrapped by the error of Migrate (and so of Open) when
// the database was migrated by a newer version of this package than the
// running one: the code would misread it, so it refuses to use it. The
// message names both versions.
var ErrSchemaTooNew = errors.New("sqlstore: database schema is newer than this code")

// migrationFiles holds migrations/DIALECT/NNNN_name.sql.
//
//go:embed migrations
var migrationFiles embed.FS

// Migration is one versioned schema change, as embedded in this package
// under migrations/DIALECT/.
type Migration struct {
	// Version counts up from 1. Numbers are assigned to changes developed
	// in parallel, so one may be unused (a gap); Migrate applies every
	// version the database does not record, not only those above its
	// newest, so a migration merged later with a lower number still runs.
	Version int
	// Name is the file name, such as "0001_requests.sql".
	Name string
	// SQL is the file's content: statements separated by semicolons. Its
	// last statement records Version in the cancellation_schema_version
	// table, so a host that applies the files with its own migration tool
	// (after creating that table with VersionTableSQL) leaves a database
	// that Open and Migrate recognise.
	SQL string
}

// Migrations returns the dialect's migrations in version order, for hosts
// that migrate with their own tooling. MigrationFS gives the same files as
// a file system.
func Migrations(d Dialect) ([]Migration, error) {
	if !d.valid() {
		return nil, fmt.Errorf("sqlstore: unknown dialect %q", d)
	}
	entries, err := fs.ReadDir(migrationFiles, path.Join("migrations", string(d)))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: reading embedded migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: embedded migration %s has no version number", e.Name())
		}
		b, err := migrationFiles.ReadFile(path.Join("migrations", string(d), e.Name()))
		if err != nil {
			return nil, fmt.Errorf("sqlstore: reading embedded migration %s: %w", e.Name(), err)
		}
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range out {
		switch {
		case i == 0 && m.Version != 1:
			return nil, fmt.Errorf("sqlstore: embedded %s migrations start at version %d, not 1", d, m.Version)
		case i > 0 && m.Version == out[i-1].Version:
			return nil, fmt.Errorf("sqlstore: embedded %s migrations hold version %d twice", d, m.Version)
		}
	}
	return out, nil
}

// MigrationFS returns the dialect's migration files (NNNN_name.sql at its
// root), for migration tools that read a file system.
func MigrationFS(d Dialect) (fs.FS, error) {
	if !d.valid() {
		return nil, fmt.Errorf("sqlstore: unknown dialect %q", d)
	}
	return fs.Sub(migrationFiles, path.Join("migrations", string(d)))
}

// versionTable creates the table that records applied migrations.
var versionTable = map[Dialect]string{
	SQLite:   `CREATE TABLE IF NOT EXISTS cancellation_schema_version (version INTEGER NOT NULL PRIMARY KEY, applied_at TEXT NOT NULL) STRICT`,
	Postgres: `CREATE TABLE IF NOT EXISTS cancellation_schema_version (version integer NOT NULL PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
}

// VersionTableSQL returns the statement that creates the
// cancellation_schema_version table (if it does not exist), for hosts that
// apply Migrations with their own tooling: run it before the first file.
func VersionTableSQL(d Dialect) string { return versionTable[d] }

// Migrate brings the database's schema up to SchemaVersion: it applies, in
// one transaction, every embedded migration that the
// cancellation_schema_version table does not record. It is idempotent and
// safe to run from several processes at once: on PostgreSQL the
// transaction holds an advisory lock (pg_advisory_xact_lock) for the
// current schema, on SQLite it begins with BEGIN IMMEDIATE, so migrations
// run one at a time and the later ones find nothing to do. A database at a
// version newer than SchemaVersion returns an error wrapping
// ErrSchemaTooNew and is left untouched. Open calls Migrate; hosts that
// create their Store with New call it themselves (or apply Migrations with
// their own tooling).
func Migrate(ctx context.Context, db *sql.DB, d Dialect) error {
	if db == nil {
		return errors.New("sqlstore: Migrate needs a *sql.DB")
	}
	migrations, err := Migrations(d)
	if err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: migrating: %w", err)
	}
	defer conn.Close()
	if err := migrate(ctx, conn, d, migrations); err != nil {
		return fmt.Errorf("sqlstore: migrating %s database: %w", d, err)
	}
	return nil
}

func migrate(ctx context.Context, conn *sql.Conn, d Dialect, migrations []Migration) (err error) {
	// Statements run on one connection; BEGIN is explicit so that SQLite
	// takes the write lock first whatever the host's DSN says.
	begin := []string{"BEGIN IMMEDIATE"}
	if d == Postgres {
		// The lock is per schema, so that databases sharing a server but
		// not a schema do not wait for each other.
		begin = []string{"BEGIN", "SELECT pg_advisory_xact_lock(1667330926, hashtext(coalesce(current_schema(), '')))"}
	}
	for i, stmt := range begin {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			if i > 0 {
				rollback(ctx, conn)
			}
			return fmt.Errorf("beginning: %w", err)
		}
	}
	defer func() {
		if err != nil {
			rollback(ctx, conn)
		}
	}()
	if _, err := conn.ExecContext(ctx, versionTable[d]); err != nil {
		return fmt.Errorf("creating cancellation_schema_version: %w", err)
	}
	applied, current, err := appliedVersions(ctx, conn)
	if err != nil {
		return fmt.Errorf("reading the schema version: %w", err)
	}
	if current > SchemaVersion {
		return fmt.Errorf("%w: the database is at schema version %d, this code knows versions up to %d: upgrade github.com/accountkit/cancellation",
			ErrSchemaTooNew, current, SchemaVersion)
	}
	for _, m := range migrations {
		if applied[m.Version] {
			continue
		}
		if _, err := conn.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("applying %s: %w", m.Name, err)
		}
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// rollback ends the open transaction on conn, even when ctx is done. A
// connection that cannot roll back is discarded rather than returned to the
// pool inside a transaction.
func rollback(ctx context.Context, conn *sql.Conn) {
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); err != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}

// appliedVersions returns the versions the cancellation_schema_version
// table records and the highest of them. Migrate applies every embedded
// migration not recorded, not only those above the highest: versions are
// assigned to branches developed side by side, so a database may have met
// a later version before an earlier one.
func appliedVersions(ctx context.Context, conn *sql.Conn) (map[int]bool, int, error) {
	rows, err := conn.QueryContext(ctx, `SELECT version FROM cancellation_schema_version`)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	applied, current := map[int]bool{}, 0
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, 0, err
		}
		applied[v], current = true, max(current, v)
	}
	return applied, current, rows.Err()
}

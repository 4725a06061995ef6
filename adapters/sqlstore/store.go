package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// Store is a cancellation.Store on database/sql: one row per request in the
// table cancellation_requests, the request's JSON in its data column beside
// the columns that List filters and orders on. It is safe for concurrent
// use, and any number of Stores, in one process or many, may share a
// database: the database itself enforces one active request per account
// and optimistic concurrency, so replicas of a Service can share it.
type Store struct {
	db      *sql.DB
	dialect Dialect
	owned   bool
	q       queries
	// writes admits one write at a time to a SQLite file, which has a
	// single writer: queueing here keeps this Store's writers from
	// spinning in SQLite's busy handler. Other processes and Stores on
	// the file wait through busy_timeout. Nil for PostgreSQL.
	writes chan struct{}
	// stmts holds the prepared fixed statements of a SQLite Store, by
	// query: SQLite spends as long preparing a small statement as running
	// it. (pgx caches prepared statements itself.)
	stmts sync.Map
	// recent answers reads of rows this Store just wrote, or read
	// before in the same bytes (see cache).
	recent cache
}

var _ cancellation.Store = (*Store)(nil)

// New returns a Store over db, which the host opened and keeps: Close does
// not close it. It does not touch the database: run Migrate first (or apply
// Migrations with your own tooling).
//
// For SQLite, open db with the modernc.org/sqlite driver and a DSN that
// sets busy_timeout and WAL mode, as Open does (for example
// "file:/path/x.db?_busy_timeout=10000&_journal_mode=WAL&_txlock=immediate").
// For PostgreSQL, pgx's stdlib driver is the one tested; another driver
// works where its errors carry the SQLSTATE and constraint name in their
// message.
func New(db *sql.DB, d Dialect) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlstore: New needs a *sql.DB")
	}
	if !d.valid() {
		return nil, fmt.Errorf("sqlstore: unknown dialect %q: use sqlstore.SQLite or sqlstore.Postgres", d)
	}
	s := &Store{db: db, dialect: d, q: newQueries(d)}
	if d == SQLite {
		s.writes = make(chan struct{}, 1)
	}
	return s, nil
}

// DB returns the database handle, for tuning its pool and for the host's
// own health checks.
func (s *Store) DB() *sql.DB { return s.db }

// Dialect returns the Store's dialect.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close closes the database when Open opened it; for a Store from New it
// closes only the Store's prepared statements, the host's *sql.DB being the
// host's to close.
func (s *Store) Close() error {
	s.stmts.Range(func(_, st any) bool {
		_ = st.(*sql.Stmt).Close()
		return true
	})
	if !s.owned {
		return nil
	}
	return s.db.Close()
}

// exec runs one of the Store's fixed statements.
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s.dialect != SQLite {
		return s.db.ExecContext(ctx, query, args...)
	}
	st, err := s.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// scanRow runs one of the Store's fixed queries and scans its one row into
// dest; no row is sql.ErrNoRows.
func (s *Store) scanRow(ctx context.Context, query string, args []any, dest ...any) error {
	if s.dialect != SQLite {
		return s.db.QueryRowContext(ctx, query, args...).Scan(dest...)
	}
	st, err := s.prepared(ctx, query)
	if err != nil {
		return err
	}
	return st.QueryRowContext(ctx, args...).Scan(dest...)
}

// prepared returns the statement for query, prepared once for the Store
// (database/sql prepares it again on each connection that runs it).
func (s *Store) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(query, st); loaded {
		_ = st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// row is a request as the table holds it, with the events to append.
type row struct {
	id, account, state string
	version            int64
	createdAt          int64
	dueAt, wakeAt      sql.NullInt64
	failingSince       sql.NullInt64
	settledAt          sql.NullInt64
	// data is a string, not bytes: it is scanned, bound as text,
	// compared with the cache's, kept there and decoded
	// (Request.UnmarshalString) without a copy.
	data       string
	kind       string
	claimBy    sql.NullString
	claimUntil sql.NullInt64
	events     []event
}

// event is a row of cancellation_events.
type event struct {
	seq  int64
	data string
}

// encodeBuffers are the scratch buffers encode encodes into: each
// encoding is copied out once, as the string that is bound and cached.
var encodeBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

// encode turns r into a row; the data column holds r.MarshalBinary (JSON),
// and each new event its Event.MarshalBinary (both appended to a reused
// buffer with AppendBinary).
func encode(r *cancellation.Request) (row, error) {
	buf := encodeBuffers.Get().(*[]byte)
	defer func() {
		if cap(*buf) <= 64<<10 {
			encodeBuffers.Put(buf)
		}
	}()
	b, err := r.AppendBinary((*buf)[:0])
	*buf = b[:0]
	if err != nil {
		return row{}, fmt.Errorf("sqlstore: encoding request %s: %w", r.ID(), err)
	}
	rw := row{
		id: r.ID(), account: string(r.Account()), state: string(r.State()), version: r.Version(),
		createdAt: unixNanos(r.CreatedAt()), dueAt: nullNanos(r.DueAt()), wakeAt: nullNanos(r.NextWake()),
		failingSince: nullNanos(r.FailingSince()), settledAt: nullNanos(r.SettledAt()), data: string(b), kind: string(r.AccountKind()),
	}
	if c, ok := r.Claim(); ok {
		rw.claimBy, rw.claimUntil = sql.NullString{String: c.By, Valid: true}, sql.NullInt64{Int64: unixNanos(c.Until), Valid: true}
	}
	for _, e := range r.NewEvents() {
		eb, err := e.AppendBinary((*buf)[:0])
		*buf = eb[:0]
		if err != nil {
			return row{}, fmt.Errorf("sqlstore: encoding event %d of request %s: %w", e.Seq, r.ID(), err)
		}
		rw.events = append(rw.events, event{seq: int64(e.Seq), data: string(eb)})
	}
	return rw, nil
}

// decode restores the request of a row read back: its JSON must be valid
// and agree with the row's columns, or the error wraps
// cancellation.ErrCorrupt and names the request.

func decode(id, account, state string, version int64, data string) (*cancellation.Request, error) {
	r := new(cancellation.Request)
	if err := r.UnmarshalString(data); err != nil {
		if !errors.Is(err, cancellation.ErrCorrupt) {
			err = fmt.Errorf("%w: %w", cancellation.ErrCorrupt, err)
		}
		if !strings.Contains(err.Error(), id) {
			err = fmt.Errorf("request %s: %w", id, err)
		}
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	var bad string
	switch {
	case r.ID() != id:
		bad = fmt.Sprintf("its data has id %q", r.ID())
	case string(r.Account()) != account:
		bad = fmt.Sprintf("its data has account %q, the row %q", r.Account(), account)
	case string(r.State()) != state:
		bad = fmt.Sprintf("its data has state %q, the row %q", r.State(), state)
	case r.Version() != version:
		bad = fmt.Sprintf("its data has version %d, the row %d", r.Version(), version)
	default:
		return r, nil
	}
	return nil, fmt.Errorf("sqlstore: request %s: %w: %s", id, cancellation.ErrCorrupt, bad)
}

// Times are stored as Unix nanoseconds, which order as time.Time does
// between the years 1678 and 2262; times outside are clamped to those
// bounds.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

func unixNanos(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// nullNanos stores the zero time as NULL.
func nullNanos(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: unixNanos(t), Valid: true}
}

// acquire waits for this Store's turn to write to a SQLite file; release
// ends it. Both are no-ops for PostgreSQL.
func (s *Store) acquire(ctx context.Context) error {
	if s.writes == nil {
		return ctx.Err()
	}
	select {
	case s.writes <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) release() {
	if s.writes != nil {
		<-s.writes
	}
}

// Create stores a new request; see cancellation.Store. The partial unique
// index cancellation_requests_one_active refuses a second active request
// for the account, from any replica, with an error wrapping
// cancellation.ErrActiveRequestExists; an existing id is a
// cancellation.ErrConflict.
func (s *Store) Create(ctx context.Context, r *cancellation.Request) error {
	if err := checkNew(r); err != nil {
		return err
	}
	if r.Version() != 1 {
		return fmt.Errorf("sqlstore: creating request %s: version is %d, want 1: %w", r.ID(), r.Version(), cancellation.ErrConflict)
	}
	rw, err := encode(r)
	if err != nil {
		return err
	}
	if err := s.acquire(ctx); err != nil {
		return err
	}
	defer s.release()
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.txExec(ctx, tx, s.q.insert, rw.id, rw.account, rw.state, rw.version, rw.createdAt, nullArg(rw.dueAt), nullArg(rw.wakeAt), nullArg(rw.failingSince), nullArg(rw.settledAt), rw.data,
			rw.kind, nullStringArg(rw.claimBy), nullArg(rw.claimUntil)); err != nil {
			return err
		}
		return s.appendEvents(ctx, tx, rw)
	})
	switch s.uniqueViolation(err) {
	case "":
	case indexOneActive:
		return fmt.Errorf("%w: %s", cancellation.ErrActiveRequestExists, r.Account())
	default:
		return fmt.Errorf("sqlstore: request %s exists: %w", r.ID(), cancellation.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: creating request %s: %w", r.ID(), err)
	}
	return nil
}

// Get returns a request; see cancellation.Store. A row that fails
// validation returns an error wrapping cancellation.ErrCorrupt that names
// the request.
func (s *Store) Get(ctx context.Context, id string) (*cancellation.Request, error) {
	if err := malformed(id); err != nil {
		return nil, err
	}
	return s.one(ctx, s.q.get, id, "request ", "")
}

// ActiveFor returns the account's active request; see cancellation.Store.
func (s *Store) ActiveFor(ctx context.Context, account ports.AccountID) (*cancellation.Request, error) {
	if err := malformed(string(account)); err != nil {
		return nil, err
	}
	return s.one(ctx, s.q.active, string(account), "the active request of account ", "no active request for account ")
}

// one runs a query that selects at most one request: what followed by
// arg names it in errors, notFound followed by arg follows ErrNotFound
// when there is none (both are put together only on error, not on every
// read). A row that fails validation returns decode's error, which names
// the request.
func (s *Store) one(ctx context.Context, query, arg, what, notFound string) (*cancellation.Request, error) {
	var rw row
	err := s.scanRow(ctx, query, []any{arg}, &rw.id, &rw.account, &rw.state, &rw.version, &rw.data)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("%w: %s%s", cancellation.ErrNotFound, notFound, arg)
	case err != nil:
		return nil, fmt.Errorf("sqlstore: reading %s%s: %w", what, arg, err)
	}
	return s.decode(rw)
}

// decode is the package's decode, answered from s.recent when the row's
// bytes are the ones cached for it. The first read of a row's bytes only
// notes them; the second caches a copy of the request (see cache).
func (s *Store) decode(rw row) (*cancellation.Request, error) {
	r, seen := s.recent.get(rw.id, rw.data)
	if r != nil && string(r.Account()) == rw.account && string(r.State()) == rw.state && r.Version() == rw.version {
		return r, nil
	}
	r, err := decode(rw.id, rw.account, rw.state, rw.version, rw.data)
	switch {
	case err != nil:
	case seen:
		s.recent.put(r.Clone(), rw.data)
	default:
		s.recent.saw(rw.id, rw.data)
	}
	return r, err
}

// Update replaces a request with optimistic concurrency in one statement,
// UPDATE ... WHERE id = ? AND version = r.Version()-1; see
// cancellation.Store. When no row matches, it tells ErrNotFound (no such
// id) from ErrConflict (another version, or another account).
func (s *Store) Update(ctx context.Context, r *cancellation.Request) error {
	if err := malformed(r.ID(), string(r.Account())); err != nil {
		return err
	}
	rw, err := encode(r)
	if err != nil {
		return err
	}
	if err := s.acquire(ctx); err != nil {
		return err
	}
	n, err := s.update(ctx, rw)
	s.release()
	if s.uniqueViolation(err) == indexOneActive {
		return fmt.Errorf("%w: %s", cancellation.ErrActiveRequestExists, r.Account())
	}
	if err != nil {
		return fmt.Errorf("sqlstore: updating request %s: %w", r.ID(), err)
	}
	if n == 1 {
		s.recent.put(r.AsStored(), rw.data)
		return nil
	}
	var version int64
	var account string
	err = s.scanRow(ctx, s.q.probe, []any{rw.id}, &version, &account)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: %s", cancellation.ErrNotFound, r.ID())
	case err != nil:
		return fmt.Errorf("sqlstore: updating request %s: %w", r.ID(), err)
	case account != rw.account:
		return fmt.Errorf("sqlstore: request %s cannot change account: %w", r.ID(), cancellation.ErrConflict)
	}
	return fmt.Errorf("%w: request %s is at version %d, update expects %d", cancellation.ErrConflict, r.ID(), version, r.Version()-1)
}

// List returns the requests matching q, in q's order; see
// cancellation.Store.
func (s *Store) List(ctx context.Context, q cancellation.Query) ([]*cancellation.Request, error) {
	if err := cancellation.CheckQuery(q); err != nil {
		return nil, err
	}
	if q.Account != "" && malformed(string(q.Account)) != nil {
		return nil, nil // no request has a malformed account
	}
	query, args := s.q.list(q)
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: listing requests: %w", err)
	}
	defer rows.Close()
	var out []*cancellation.Request
	var bad []error
	for rows.Next() {
		var rw row
		if err := rows.Scan(&rw.id, &rw.account, &rw.state, &rw.version, &rw.data); err != nil {
			return nil, fmt.Errorf("sqlstore: listing requests: %w", err)
		}
		// The first pages of the review queue are read over and over:
		// rows whose bytes this Store cached (on their second read) are
		// copied from its cache, the others decoded and validated.
		r, err := s.decode(rw)
		if err != nil {
			bad = append(bad, err) // a damaged row must not hide the others
			continue
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: listing requests: %w", err)
	}
	return out, errors.Join(bad...)
}

// The names of the table's unique constraints.
const (
	indexOneActive = "cancellation_requests_one_active"
	indexPrimary   = "cancellation_requests_pkey"
)

// uniqueViolation returns the name of the unique index err violates, or ""
// when err is not a unique violation.
func (s *Store) uniqueViolation(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	if s.dialect == Postgres {
		var pg *pgconn.PgError
		if errors.As(err, &pg) {
			if pg.Code != "23505" {
				return ""
			}
			if pg.ConstraintName == indexOneActive {
				return indexOneActive
			}
			return indexPrimary
		}
		// Another driver: PostgreSQL's own message names the constraint.
		if !strings.Contains(msg, "duplicate key value violates unique constraint") {
			return ""
		}
		if strings.Contains(msg, strconv.Quote(indexOneActive)) {
			return indexOneActive
		}
		return indexPrimary
	}
	// SQLite's own message, whatever the driver: "UNIQUE constraint
	// failed: cancellation_requests.account" for the partial index,
	// "... cancellation_requests.id" for the primary key.
	switch {
	case strings.Contains(msg, "UNIQUE constraint failed: cancellation_requests.account"):
		return indexOneActive
	case strings.Contains(msg, "UNIQUE constraint failed: cancellation_requests.id"):
		return indexPrimary
	}
	return ""
}

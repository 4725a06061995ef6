package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/adapters/sqlstore"
	"github.com/accountkit/cancellation/ports"
)

// BenchmarkTransitions measures a transition through the Store (Get, then
// Update of the next version with its one new event, as a Service writes
// it) beside its floor: the very statements the Store sends, sent directly
// with database/sql with the same bytes on the same database (on SQLite
// the SELECT, then UPDATE and the event's INSERT in a transaction, all
// prepared once as the Store prepares them; on PostgreSQL the SELECT, then
// the one UPDATE ... RETURNING feeding the events' INSERT). So x-floor is
// the Store's own overhead: encoding, decoding, verifying. On PostgreSQL
// it also times the older floor of three statements (SELECT, then UPDATE
// and INSERT in a transaction), reported as µs/floor-3stmt.
//
// It runs at 10 events of history and at 212 (the longest a customer's
// request reaches with the timed writes: the cap is
// cancellation.CustomerHistoryLimit), on SQLite with synchronous=NORMAL
// and PostgreSQL with synchronous_commit=off, so that the commit does not
// wait for the disk and the Store's own work shows; each twice:
//   - cache=hit: the Store reads the row it has just written, so its
//     cache answers the Get without decoding (one replica doing all
//     the writes to a request);
//   - cache=miss: a second Store on the same database does the Get, so
//     every read decodes and verifies a row it did not write, as a
//     replica reads another's write. The floor's SELECT then goes through
//     that Store's database handle too: SQLite reloads the pages another
//     connection changed, which is SQLite's cost, not the Store's.
//
// Floor and Store take turns in each iteration. It reports medians;
// x-floor is the Store's median time over the floor's.
// PostgreSQL runs when CANCELLATION_POSTGRES_DSN is set.
//
//	go test -run='^$' -bench=Transitions -benchtime=200x ./adapters/sqlstore/
func BenchmarkTransitions(b *testing.B) {
	const perRecording = 10
	for _, c := range []struct {
		name   string
		d      dialect
		params string
	}{
		{"sqlite-normal-sync", dialects[0], "_synchronous=NORMAL"},
		{"postgres-async-commit", dialects[1], "synchronous_commit=off"},
	} {
		for _, size := range []int{10, 212} {
			for _, miss := range []bool{false, true} {
				name := fmt.Sprintf("%s/events=%d/cache=%s", c.name, size, map[bool]string{false: "hit", true: "miss"}[miss])
				b.Run(name, func(b *testing.B) {
					d := c.d
					skipPostgresUnset(b, d)
					dsn := d.newDSN(b)
					dsn += map[bool]string{true: "&", false: "?"}[strings.Contains(dsn, "?")] + c.params
					s := openStore(b, dsn)
					reader := s
					if miss {
						reader = openStore(b, dsn) // another replica
					}
					e := newEnv()
					ctx := context.Background()

					var rec recording
					var floor, floor3, store []time.Duration
					var bare bareRow
					for i := range b.N {
						if i%perRecording == 0 {
							rec = e.record(b, size+perRecording)
							rec.replay(b, s, size)
							bare = newBareRow(b, s, reader, rec.writes[len(rec.writes)-1])
						}
						next := rec.writes[rec.at]
						start := time.Now()
						bare.sameSQL(b, s)
						floor = append(floor, time.Since(start))
						if d.name == sqlstore.Postgres {
							start = time.Now()
							bare.threeStatements(b, s)
							floor3 = append(floor3, time.Since(start))
						}
						start = time.Now()
						if _, err := reader.Get(ctx, next.ID()); err != nil {
							b.Fatal(err)
						}
						if err := s.Update(ctx, next); err != nil {
							b.Fatal(err)
						}
						store = append(store, time.Since(start))
						rec.at++
					}
					// Medians: a stall of the shared machine lands on one side.
					f, st := median(floor), median(store)
					b.ReportMetric(float64(f.Nanoseconds())/1000, "µs/floor")
					if len(floor3) > 0 {
						b.ReportMetric(float64(median(floor3).Nanoseconds())/1000, "µs/floor-3stmt")
					}
					b.ReportMetric(float64(st.Nanoseconds())/1000, "µs/store")
					b.ReportMetric(float64(st)/float64(f), "x-floor")
				})
			}
		}
	}
}

// skipPostgresUnset skips a PostgreSQL benchmark when postgresEnv is not
// set; SQLite always runs.
func skipPostgresUnset(b *testing.B, d dialect) {
	b.Helper()
	if d.name == sqlstore.Postgres && os.Getenv(postgresEnv) == "" {
		b.Skipf("set %s (e.g. %s) to benchmark PostgreSQL", postgresEnv, exampleDSN)
	}
}

// templateInReview is a request in review, built over a memory Store, and
// its stored document: the template the 100,000-row benchmarks copy.
func (e *env) templateInReview(b *testing.B) (*cancellation.Request, []byte) {
	b.Helper()
	tmpl := e.inReview(b, e.service(b, memory.NewStore()), e.account("tmpl-"+randomHex(4)))
	data, err := tmpl.MarshalBinary()
	require.NoError(b, err)
	return tmpl, data
}

func median(ds []time.Duration) time.Duration {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// recording is a request's writes as a Service made them over a memory
// store: its Create, then each Update with its new events. Replayed in
// order on another Store, they are the same writes.
type recording struct {
	writes []*cancellation.Request
	at     int // the next write to replay
}

// spyStore keeps a copy of every request written to it.
type spyStore struct {
	cancellation.Store
	writes []*cancellation.Request
}

func (s *spyStore) Create(ctx context.Context, r *cancellation.Request) error {
	s.writes = append(s.writes, r.Clone())
	return s.Store.Create(ctx, r)
}

func (s *spyStore) Update(ctx context.Context, r *cancellation.Request) error {
	s.writes = append(s.writes, r.Clone())
	return s.Store.Update(ctx, r)
}

// record starts a request and consents to a changed voucher until its
// history holds events events, recording every write.
func (e *env) record(b testing.TB, events int) recording {
	b.Helper()
	spy := &spyStore{Store: memory.NewStore()}
	svc := e.service(b, spy)
	ctx := context.Background()
	acct := e.account("bench-" + randomHex(6))
	r, err := svc.Start(ctx, acct)
	require.NoError(b, err)
	for i := 0; r.HistoryLen() < events; i++ {
		e.kit.Platform.DeleteRights(acct).AddRight(acct, ports.Right{Kind: ports.RightVoucher, Ref: fmt.Sprintf("v-%d", i%2), Value: ports.Money{Amount: 100, Currency: "USD"}})
		rep, err := svc.CheckEligibility(ctx, acct)
		require.NoError(b, err)
		if r.State() == cancellation.StateStarted {
			r, err = svc.Confirm(ctx, acct, r.ID(), cancellation.Confirmation{
				NotesVersion: svc.Notes().Version, Irreversible: true,
				Attestations: cancellation.Attestations{BackupDoneOrWaived: true, NotEvading: true, OtherMattersHandled: true},
				Consents:     rep.Consents(),
			})
		} else {
			r, err = svc.Consent(ctx, acct, r.ID(), rep.Consents())
		}
		require.NoError(b, err)
	}
	return recording{writes: spy.writes}
}

// replay makes s hold the request as it was when its history had events
// events, with the clock stopped.
func (rec *recording) replay(b *testing.B, s *sqlstore.Store, events int) {
	b.StopTimer()
	defer b.StartTimer()
	ctx := context.Background()
	require.NoError(b, s.Create(ctx, rec.writes[0]))
	rec.at = 1
	for ; rec.writes[rec.at-1].HistoryLen() < events; rec.at++ {
		require.NoError(b, s.Update(ctx, rec.writes[rec.at]))
	}
}

// bareRow is the floor's own row (its id is its account too), with the
// Store's statements and the bytes of a request and its new event.
type bareRow struct {
	id      string
	version int64
	// readDB is the database handle of the Store that reads: the writer's
	// own, or (cache=miss) the other replica's, whose connections see the
	// writer's changes as a replica's do (SQLite reloads the pages
	// another connection changed).
	readDB *sql.DB
	fl     sqlstore.FloorSQL
	// SQLite: the Store's statements, prepared once as the Store does.
	get, upd, insert *sql.Stmt
	// The older floor: SELECT, then UPDATE and INSERT in a transaction.
	sel3, upd3, insert3 string
}

func newBareRow(b *testing.B, s, reader *sqlstore.Store, like *cancellation.Request) bareRow {
	b.StopTimer()
	defer b.StartTimer()
	r := bareRow{id: "bare-" + randomHex(8), version: 1, readDB: reader.DB()}
	fl, err := sqlstore.Floor(s, like, r.id)
	require.NoError(b, err)
	r.fl = fl
	d := s.Dialect()
	r.sel3 = sqlstore.Bind(d, "SELECT id, account, state, version, data FROM cancellation_requests WHERE id = ?")
	r.upd3 = sqlstore.Bind(d, "UPDATE cancellation_requests SET data = ?, version = ? WHERE id = ? AND version = ?")
	r.insert3 = sqlstore.Bind(d, "INSERT INTO cancellation_events (request_id, seq, data) VALUES (?, ?, ?)")
	_, err = s.DB().Exec(sqlstore.Bind(d, "INSERT INTO cancellation_requests (id, account, state, version, created_at, data) VALUES (?, ?, 'withdrawn', 1, 0, ?)"), r.id, r.id, fl.Data)
	require.NoError(b, err)
	if d == sqlstore.SQLite {
		for _, p := range []struct {
			st  **sql.Stmt
			sql string
			db  *sql.DB
		}{{&r.get, fl.Get, r.readDB}, {&r.upd, fl.Update, s.DB()}, {&r.insert, fl.InsertEvent, s.DB()}} {
			*p.st, err = p.db.Prepare(p.sql)
			require.NoError(b, err)
			st := *p.st
			b.Cleanup(func() { _ = st.Close() })
		}
	}
	return r
}

// sameSQL is the floor: the statements the Store sends for a Get and an
// Update, with the same bytes, sent directly.
func (r *bareRow) sameSQL(b *testing.B, s *sqlstore.Store) {
	ctx := context.Background()
	var id, account, state string
	var data []byte
	var version int64
	args := r.fl.UpdateArgs(r.version)
	if r.get == nil { // PostgreSQL: the UPDATE feeds the INSERT, one statement
		if err := r.readDB.QueryRowContext(ctx, r.fl.Get, r.id).Scan(&id, &account, &state, &version, &data); err != nil {
			b.Fatal(err)
		}
		res, err := s.DB().ExecContext(ctx, r.fl.UpdateAppend, append(args, []int64{r.version + 1}, []string{r.fl.Event})...)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			b.Fatalf("inserted %d events: %v", n, err)
		}
		r.version++
		return
	}
	if err := r.get.QueryRowContext(ctx, r.id).Scan(&id, &account, &state, &version, &data); err != nil {
		b.Fatal(err)
	}
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	res, err := tx.StmtContext(ctx, r.upd).ExecContext(ctx, args...)
	if err != nil {
		b.Fatal(err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		b.Fatalf("updated %d rows: %v", n, err)
	}
	if _, err := tx.StmtContext(ctx, r.insert).ExecContext(ctx, r.id, r.version+1, r.fl.Event); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	r.version++
}

// threeStatements is the older floor: SELECT, then a bare UPDATE of data
// and version and the event's INSERT in one transaction.
func (r *bareRow) threeStatements(b *testing.B, s *sqlstore.Store) {
	ctx := context.Background()
	var id, account, state, data string
	var version int64
	if err := r.readDB.QueryRowContext(ctx, r.sel3, r.id).Scan(&id, &account, &state, &version, &data); err != nil {
		b.Fatal(err)
	}
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	res, err := tx.ExecContext(ctx, r.upd3, r.fl.Data, r.version+1, r.id, r.version)
	if err != nil {
		b.Fatal(err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		b.Fatalf("updated %d rows: %v", n, err)
	}
	if _, err := tx.ExecContext(ctx, r.insert3, r.id, r.version+1, r.fl.Event); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	r.version++
}

// BenchmarkServiceDecision measures a whole use case over the Store: a
// reviewer's rejection through the Service (Get, decision, Update with the
// notification effect, the notification, Get and Update recording it).
func BenchmarkServiceDecision(b *testing.B) {
	for _, d := range dialects {
		b.Run(string(d.name), func(b *testing.B) {
			skipPostgresUnset(b, d)
			s := openStore(b, d.newDSN(b))
			e := newEnv()
			svc := e.service(b, s)
			ids := make([]string, b.N)
			for i := range ids {
				ids[i] = e.inReview(b, svc, e.account("decide-"+randomHex(6))).ID()
			}
			b.ResetTimer()
			for _, id := range ids {
				if _, err := svc.Reject(b.Context(), cancellation.Reviewer{ID: "reviewer"}, id, []cancellation.ReasonCode{cancellation.ReasonIdentityMismatch}, ""); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
		})
	}
}

// bulkInsert stores n request rows straight into cancellation_requests, in
// one transaction, by INSERTs of up to 500 rows; row(i) gives the i-th
// row's values in the order of columns. On PostgreSQL it then ANALYZEs the
// table, so that the planner sees the rows. It seeds the benchmarks'
// large tables, which the Service would take minutes to write.
func bulkInsert(b *testing.B, s *sqlstore.Store, d sqlstore.Dialect, columns []string, n int, row func(i int) []any) {
	b.Helper()
	ctx := context.Background()
	const chunk = 500
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(columns)), ", ") + ")"
	insert := func(rows int) string {
		return sqlstore.Bind(d, "INSERT INTO cancellation_requests ("+strings.Join(columns, ", ")+") VALUES "+
			strings.TrimSuffix(strings.Repeat(tuple+", ", rows), ", "))
	}
	tx, err := s.DB().BeginTx(ctx, nil)
	require.NoError(b, err)
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	full := insert(chunk)
	args := make([]any, 0, len(columns)*chunk)
	flush := func(stmt string) {
		_, err := tx.ExecContext(ctx, stmt, args...)
		require.NoError(b, err)
		args = args[:0]
	}
	for i := range n {
		v := row(i)
		require.Len(b, v, len(columns), "row %d", i)
		args = append(args, v...)
		if len(args) == cap(args) {
			flush(full)
		}
	}
	if len(args) > 0 {
		flush(insert(len(args) / len(columns)))
	}
	require.NoError(b, tx.Commit())
	if d == sqlstore.Postgres {
		_, err := s.DB().ExecContext(ctx, "ANALYZE cancellation_requests")
		require.NoError(b, err)
	}
}

// BenchmarkQueueDepth lists a page of 50 of the review queue over 100,000
// requests in review, on SQLite and PostgreSQL: the first page, the page
// at depth 5,000 by cursor (Query.After) and the same by offset, and a
// maintenance listing with nothing due. By cursor a deep page is read from
// the index as the first is.
//
//	go test -run='^$' -bench=QueueDepth ./adapters/sqlstore/
func BenchmarkQueueDepth(b *testing.B) {
	const rows, depth, page = 100_000, 5_000, 50
	for _, d := range dialects {
		b.Run(string(d.name), func(b *testing.B) {
			skipPostgresUnset(b, d)
			s := openStore(b, d.newDSN(b))
			e := newEnv()
			ctx := context.Background()
			tmpl, data := e.templateInReview(b)
			due := tmpl.DueAt().UTC().Format(time.RFC3339Nano)
			bulkInsert(b, s, d.name, []string{"id", "account", "state", "version", "created_at", "due_at", "wake_at", "data"}, rows, func(i int) []any {
				id, acct := fmt.Sprintf("can_q%07d", i), fmt.Sprintf("acct-q%07d", i)
				at := tmpl.DueAt().Add(time.Duration((i*7919)%rows) * time.Second)
				doc := strings.NewReplacer(tmpl.ID(), id, `"`+string(tmpl.Account())+`"`, `"`+acct+`"`,
					fmt.Sprintf(`"version":%d`, tmpl.Version()), `"version":1`,
					`"due_at":"`+due+`"`, `"due_at":"`+at.UTC().Format(time.RFC3339Nano)+`"`).Replace(string(data))
				return []any{id, acct, "in_review", 1, tmpl.CreatedAt().UnixNano(), at.UnixNano(), at.UnixNano(), doc}
			})
			q := cancellation.Query{States: []cancellation.State{cancellation.StateInReview}, OrderByDue: true, Limit: page}
			head, err := s.List(ctx, cancellation.Query{States: q.States, OrderByDue: true, Limit: depth})
			require.NoError(b, err)
			deep := q
			deep.After = q.Cursor(head[depth-1])
			offset := q
			offset.Offset = depth
			for _, c := range []struct {
				name string
				q    cancellation.Query
			}{
				{"first-page", q},
				{"cursor-depth-5000", deep},
				{"offset-depth-5000", offset},
				{"nothing-due", cancellation.Query{WakeBefore: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), OrderByWake: true, Limit: 256}},
			} {
				b.Run(c.name, func(b *testing.B) {
					for b.Loop() {
						rs, err := s.List(ctx, c.q)
						if err != nil || (c.name != "nothing-due" && len(rs) != page) {
							b.Fatalf("%d requests: %v", len(rs), err)
						}
					}
				})
			}
		})
	}
}

package sqlstore_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/sqlstore"
)

// BenchmarkTransitions measures transitions per second through the Store
// (Get, then Update of the next version of a request in review, with its
// eligibility report and history) beside the floor the Store cannot beat:
// a bare single-row UPDATE ... SET data = ?, version = ? WHERE id = ? AND
// version = ? of the same bytes on the same database, which runs first.
// The store's x-floor-time metric is its time per transition over the
// floor's (1 is the floor itself). PostgreSQL runs when
// CANCELLATION_POSTGRES_DSN is set.
//
//	go test -run='^$' -bench=Transitions -benchtime=2s ./adapters/sqlstore/
func BenchmarkTransitions(b *testing.B) {
	for _, c := range []struct {
		name   string
		d      dialect
		params string
	}{
		{"sqlite", dialects[0], ""},
		{"postgres", dialects[1], ""},
		// Commits that do not wait for the disk (SQLite's WAL synced at
		// checkpoints only, PostgreSQL's asynchronous commit): the floor
		// drops to the CPU and the round trip, and the Store's own work
		// shows.
		{"sqlite-normal-sync", dialects[0], "_synchronous=NORMAL"},
		{"postgres-async-commit", dialects[1], "synchronous_commit=off"},
	} {
		d := c.d
		b.Run(c.name, func(b *testing.B) {
			if d.name == sqlstore.Postgres && os.Getenv(postgresEnv) == "" {
				b.Skipf("set %s (e.g. %s) to benchmark PostgreSQL", postgresEnv, exampleDSN)
			}
			dsn := d.newDSN(b)
			if c.params != "" {
				dsn += map[bool]string{true: "&", false: "?"}[strings.Contains(dsn, "?")] + c.params
			}
			s := openStore(b, dsn)
			e := newEnv()
			r := e.inReview(b, e.service(b, s), e.account("bench-"+randomHex(4)))
			data, err := r.MarshalBinary()
			require.NoError(b, err)

			var store, bare float64
			b.Run("bare-update", func(b *testing.B) {
				id := "bare-" + randomHex(6)
				other := patched(b, r, map[string]any{"id": id, "account": "bare-" + randomHex(4), "version": 1})
				require.NoError(b, s.Create(b.Context(), other))
				update := sqlstore.Bind(d.name, "UPDATE cancellation_requests SET data = ?, version = ? WHERE id = ? AND version = ?")
				b.ResetTimer()
				for i := range b.N {
					res, err := s.DB().ExecContext(context.Background(), update, string(data), i+2, id, i+1)
					if err != nil {
						b.Fatal(err)
					}
					if n, err := res.RowsAffected(); err != nil || n != 1 {
						b.Fatalf("updated %d rows: %v", n, err)
					}
				}
				bare = float64(b.N) / b.Elapsed().Seconds()
				b.ReportMetric(bare, "transitions/s")
			})
			b.Run("store", func(b *testing.B) {
				cur, err := s.Get(b.Context(), r.ID())
				require.NoError(b, err)
				// The next versions, made with the clock stopped, a batch at
				// a time (a whole b.N of them would load the GC): only the
				// Service can make them otherwise.
				b.ReportMetric(float64(len(data)), "bytes/request")
				next := make([]*cancellation.Request, 0, 256)
				b.ResetTimer()
				for i := range b.N {
					if i%cap(next) == 0 {
						b.StopTimer()
						next = next[:0]
						for j := range min(cap(next), b.N-i) {
							next = append(next, patched(b, cur, map[string]any{"version": cur.Version() + int64(i+j) + 1}))
						}
						b.StartTimer()
					}
					if _, err := s.Get(b.Context(), r.ID()); err != nil {
						b.Fatal(err)
					}
					if err := s.Update(b.Context(), next[i%cap(next)]); err != nil {
						b.Fatal(err)
					}
				}
				store = float64(b.N) / b.Elapsed().Seconds()
				b.ReportMetric(store, "transitions/s")
				if bare > 0 {
					b.ReportMetric(bare/store, "x-floor-time")
				}
			})
		})
	}
}

// BenchmarkServiceDecision measures a whole use case over the Store: a
// reviewer's rejection through the Service (Get, decision, Update with the
// notification effect, the notification, Get and Update recording it).
func BenchmarkServiceDecision(b *testing.B) {
	for _, d := range dialects {
		b.Run(string(d.name), func(b *testing.B) {
			if d.name == sqlstore.Postgres && os.Getenv(postgresEnv) == "" {
				b.Skipf("set %s to benchmark PostgreSQL", postgresEnv)
			}
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

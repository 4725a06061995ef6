package sqlstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/sqlstore"
)

// BenchmarkStuckEffectsPage lists the first page of stuck effects (51
// requests, as Service.StuckEffects asks for a page of 50) among 100,000
// stored requests of which 1% have an effect failing, on SQLite and
// PostgreSQL, beside the floor: the bare indexed SELECT of the same rows
// read with database/sql. The Store adds decoding the requests.
//
//	go test -run='^$' -bench=StuckEffectsPage ./adapters/sqlstore/
func BenchmarkStuckEffectsPage(b *testing.B) {
	const rows, every, page = 100_000, 100, 51
	for _, d := range dialects {
		b.Run(string(d.name), func(b *testing.B) {
			skipPostgresUnset(b, d)
			s := openStore(b, d.newDSN(b))
			e := newEnv()
			ctx := context.Background()
			tmpl, data := e.templateInReview(b)
			bulkInsert(b, s, d.name, []string{"id", "account", "state", "version", "created_at", "due_at", "wake_at", "failing_since", "data"}, rows, func(i int) []any {
				id, acct := fmt.Sprintf("can_f%07d", i), fmt.Sprintf("acct-f%07d", i)
				doc := strings.NewReplacer(tmpl.ID(), id, `"`+string(tmpl.Account())+`"`, `"`+acct+`"`).Replace(string(data))
				var failing any
				if i%every == 0 {
					failing = tmpl.CreatedAt().Add(time.Duration(i) * time.Second).UnixNano()
				}
				return []any{id, acct, "in_review", tmpl.Version(), tmpl.CreatedAt().UnixNano(), tmpl.DueAt().UnixNano(), tmpl.NextWake().UnixNano(), failing, doc}
			})
			before := tmpl.CreatedAt().Add(rows * time.Second)
			q := cancellation.Query{FailingBefore: before, OrderByFailing: true, Limit: page}
			floor := sqlstore.Bind(d.name, "SELECT id, account, state, version, data FROM cancellation_requests WHERE failing_since <= ? ORDER BY failing_since, id LIMIT ?")
			b.Run("store", func(b *testing.B) {
				for b.Loop() {
					rs, err := s.List(ctx, q)
					if err != nil || len(rs) != page {
						b.Fatalf("%d requests: %v", len(rs), err)
					}
				}
			})
			b.Run("floor", func(b *testing.B) {
				for b.Loop() {
					rows, err := s.DB().QueryContext(ctx, floor, before.UnixNano(), page)
					if err != nil {
						b.Fatal(err)
					}
					n := 0
					for rows.Next() {
						var id, account, state string
						var version int64
						var data []byte
						if err := rows.Scan(&id, &account, &state, &version, &data); err != nil {
							b.Fatal(err)
						}
						n++
					}
					if err := rows.Close(); err != nil || n != page {
						b.Fatalf("%d rows: %v", n, err)
					}
				}
			})
		})
	}
}

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

// BenchmarkReviewQueue reads the first page (50) of the filtered review
// queue over 100,000 stored requests, 10,000 of them in review (a third
// of those claimed, a quarter of enterprise accounts, most overdue), on
// SQLite and PostgreSQL, each in a fresh database seeded once by bulk
// INSERTs in one transaction:
//
//   - service-unclaimed: Service.ReviewQueue with the unclaimed filter,
//     the whole use case (the StaffDirectory, the Store, decoding);
//   - store-unclaimed: the Store's List for the same page, read again
//     as reviewers do (rows it decoded before come from its cache, by
//     byte equality);
//   - store-unclaimed-cold: the same on a new Store, every row decoded;
//   - floor-unclaimed: the bare indexed SELECT of the same rows through
//     database/sql, scanned but not decoded: the floor;
//   - service-mine and service-enterprise-overdue: the other filters.
//
// The target is under 20 ms for the service's first page. The requests
// not in review are filler for the index (their data is the template's,
// never read).
//
//	go test -run='^$' -bench=ReviewQueue ./adapters/sqlstore/
func BenchmarkReviewQueue(b *testing.B) {
	const rows, page = 100_000, 50
	for _, d := range dialects {
		b.Run(string(d.name), func(b *testing.B) {
			skipPostgresUnset(b, d)
			s := openStore(b, d.newDSN(b))
			e := newEnv()
			ctx := context.Background()
			now := e.kit.Clock.Now()
			seedQueue(b, s, e, d.name, rows)
			svc := e.service(b, s)
			rv := cancellation.Reviewer{ID: "r"}
			unclaimed := cancellation.Query{States: []cancellation.State{cancellation.StateInReview}, OrderByDue: true, UnclaimedAt: now, Limit: page + 1}
			floor := sqlstore.Bind(d.name, `SELECT id, account, state, version, data FROM cancellation_requests
WHERE state = 'in_review' AND (claim_until IS NULL OR claim_until <= ?) ORDER BY due_at NULLS FIRST, id LIMIT ?`)
			for _, c := range []struct {
				name string
				run  func() (int, error)
			}{
				{"service-unclaimed", func() (int, error) {
					p, err := svc.ReviewQueue(ctx, rv, cancellation.QueueOptions{Limit: page, Claims: cancellation.QueueUnclaimed})
					return len(p.Items), err
				}},
				{"store-unclaimed", func() (int, error) {
					rs, err := s.List(ctx, unclaimed)
					return len(rs) - 1, err
				}},
				{"store-unclaimed-cold", func() (int, error) {
					cold, err := sqlstore.New(s.DB(), d.name) // nothing decoded yet: every row is decoded
					if err != nil {
						return 0, err
					}
					rs, err := cold.List(ctx, unclaimed)
					return len(rs) - 1, err
				}},
				{"floor-unclaimed", func() (int, error) {
					rs, err := s.DB().QueryContext(ctx, floor, now.UnixNano(), page+1)
					if err != nil {
						return 0, err
					}
					defer rs.Close()
					n := -1
					for rs.Next() {
						var id, account, state string
						var version int64
						var data []byte
						if err := rs.Scan(&id, &account, &state, &version, &data); err != nil {
							return 0, err
						}
						n++
					}
					return n, rs.Err()
				}},
				{"service-mine", func() (int, error) {
					p, err := svc.ReviewQueue(ctx, rv, cancellation.QueueOptions{Limit: page, Claims: cancellation.QueueMine})
					return len(p.Items), err
				}},
				{"service-enterprise-overdue", func() (int, error) {
					p, err := svc.ReviewQueue(ctx, rv, cancellation.QueueOptions{Limit: page, Overdue: true, AccountKind: "enterprise"})
					return len(p.Items), err
				}},
			} {
				b.Run(c.name, func(b *testing.B) {
					for b.Loop() {
						n, err := c.run()
						if err != nil || n != page {
							b.Fatalf("%d requests: %v", n, err)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
				})
			}
		})
	}
}

// seedQueue stores rows requests, one in ten in review, by bulkInsert. The requests in review are copies of one
// made by the Service, each with its own id, account, due date, account
// kind and, for a third, a claim by "r" (the benchmark's reviewer) or
// "other" that holds until half an hour from the kit's now.
func seedQueue(b *testing.B, s *sqlstore.Store, e *env, d sqlstore.Dialect, rows int) {
	b.Helper()
	now := e.kit.Clock.Now()
	tmpl, data := e.templateInReview(b)
	due := tmpl.DueAt().UTC().Format(time.RFC3339Nano)
	until := now.Add(30 * time.Minute)
	bulkInsert(b, s, d, []string{"id", "account", "state", "version", "created_at", "due_at", "wake_at", "data", "account_kind", "claim_by", "claim_until"}, rows, func(i int) []any {
		id, acct := fmt.Sprintf("can_b%07d", i), fmt.Sprintf("acct-b%07d", i)
		at := now.Add(-24 * time.Hour).Add(time.Duration((i*7919)%rows) * time.Second)
		state, kind, doc := "rejected", "personal", string(data)
		var claimBy, claimUntil any
		if i%10 == 0 {
			state = "in_review"
			if i%40 == 0 {
				kind = "enterprise"
			}
			r := strings.NewReplacer(tmpl.ID(), id, `"`+string(tmpl.Account())+`"`, `"`+acct+`"`,
				fmt.Sprintf(`"version":%d`, tmpl.Version()), `"version":1`,
				`"due_at":"`+due+`"`, `"due_at":"`+at.UTC().Format(time.RFC3339Nano)+`"`,
				`"account_kind":"personal"`, `"account_kind":"`+kind+`"`)
			doc = r.Replace(doc)
			if i%30 == 0 {
				by := []string{"r", "other"}[i/30%2]
				claimBy, claimUntil = by, until.UnixNano()
				doc = strings.Replace(doc, `,"head":`, fmt.Sprintf(`,"claim":{"by":%q,"at":%q,"until":%q},"head":`,
					by, now.UTC().Format(time.RFC3339Nano), until.UTC().Format(time.RFC3339Nano)), 1)
			}
		}
		return []any{id, acct, state, 1, tmpl.CreatedAt().UnixNano(), at.UnixNano(), at.UnixNano(), doc, kind, claimBy, claimUntil}
	})
}

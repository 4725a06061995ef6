package memory_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
)

// inReviewTemplate returns a request in review, made by a Service, as the
// bytes a Store keeps.
func inReviewTemplate(b *testing.B) *cancellation.Request {
	b.Helper()
	ctx := context.Background()
	kit := memory.NewKit(time.Date(2026, time.March, 2, 10, 0, 0, 0, time.UTC))
	kit.Platform.AddAccount(ports.Account{ID: "tmpl-acct", Kind: ports.Personal, RecoveryPhone: "+15550100000", Email: "t@example.com", Locale: "en"})
	svc, err := cancellation.New(kit.Config())
	require.NoError(b, err)
	r, err := svc.Start(ctx, "tmpl-acct")
	require.NoError(b, err)
	_, err = svc.Confirm(ctx, "tmpl-acct", r.ID(), cancellation.Confirmation{
		NotesVersion: svc.Notes().Version, Irreversible: true,
		Attestations: cancellation.Attestations{BackupDoneOrWaived: true, NotEvading: true, OtherMattersHandled: true},
	})
	require.NoError(b, err)
	_, err = svc.SendCode(ctx, "tmpl-acct", r.ID())
	require.NoError(b, err)
	code, _ := kit.OTP.LastCode("+15550100000")
	_, err = svc.VerifyCode(ctx, "tmpl-acct", r.ID(), code)
	require.NoError(b, err)
	r, err = svc.Submit(ctx, "tmpl-acct", r.ID())
	require.NoError(b, err)
	return r
}

// fillQueue stores n requests in review, each its own account, due one
// second apart in an order unlike their ids', renumbered as version 1
// (the Store does not check the keyed hash of the newest event: the
// Service does).
func fillQueue(b *testing.B, s cancellation.Store, n int) {
	b.Helper()
	tmpl := inReviewTemplate(b)
	data, err := tmpl.MarshalBinary()
	require.NoError(b, err)
	due := tmpl.DueAt().UTC().Format(time.RFC3339Nano)
	for i := range n {
		id := fmt.Sprintf("can_q%07d", i)
		at := tmpl.DueAt().Add(time.Duration((i*7919)%n) * time.Second).UTC().Format(time.RFC3339Nano)
		doc := strings.NewReplacer(tmpl.ID(), id, fmt.Sprintf(`"version":%d`, tmpl.Version()), `"version":1`, `"tmpl-acct"`, fmt.Sprintf(`"acct-q%07d"`, i), `"due_at":"`+due+`"`, `"due_at":"`+at+`"`).Replace(string(data))
		r := new(cancellation.Request)
		require.NoError(b, r.UnmarshalBinary([]byte(doc)))
		require.NoError(b, s.Create(context.Background(), r))
	}
}

// BenchmarkQueueDepth lists a page of 50 of the review queue over 100,000
// requests in review: the first page, the page at depth 5,000 by cursor
// (Query.After) and the same by offset. By cursor a deep page costs what
// the first does. It also runs a maintenance listing with nothing due.
//
//	go test -run='^$' -bench=QueueDepth ./adapters/memory/
func BenchmarkQueueDepth(b *testing.B) {
	const rows, depth, page = 100_000, 5_000, 50
	s := memory.NewStore()
	fillQueue(b, s, rows)
	ctx := context.Background()
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
			b.ReportAllocs()
			for b.Loop() {
				rs, err := s.List(ctx, c.q)
				if err != nil || (c.name != "nothing-due" && len(rs) != page) {
					b.Fatalf("%d requests: %v", len(rs), err)
				}
			}
		})
	}
}

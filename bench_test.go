package cancellation_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// BenchmarkEvaluate shows that RuleSet.Evaluate costs the slowest rule, not
// the sum: ten rules of 5 ms each take about 5 ms side by side against about
// 50 ms one after another.
func BenchmarkEvaluate(b *testing.B) {
	const n, wait = 10, 5 * time.Millisecond
	rules := make([]cancellation.Rule, n)
	for i := range rules {
		rules[i] = waitRule(fmt.Sprintf("rule-%d", i), wait)
	}
	acct := ports.Account{ID: "acct-bench", Kind: ports.Personal}
	ctx := context.Background()
	msPerOp := func(b *testing.B, start time.Time) {
		b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/op")
	}

	b.Run("concurrent", func(b *testing.B) {
		rs := cancellation.RuleSet{Rules: rules, Concurrency: n}
		start := time.Now()
		for b.Loop() {
			if rep := rs.Evaluate(ctx, acct, t0); rep.Outcome != cancellation.OutcomePass {
				b.Fatalf("outcome %s", rep.Outcome)
			}
		}
		msPerOp(b, start)
	})
	b.Run("sequential", func(b *testing.B) {
		start := time.Now()
		for b.Loop() {
			for _, r := range rules {
				if f, err := r.Check(ctx, acct); err != nil || f.Outcome != cancellation.OutcomePass {
					b.Fatalf("%s: %v %v", r.Name(), f.Outcome, err)
				}
			}
		}
		msPerOp(b, start)
	})
}

// BenchmarkWholeFlow runs a whole cancellation over the memory adapters:
// start, confirm, code, verify, submit, approve, cancelled.
func BenchmarkWholeFlow(b *testing.B) {
	f := newFixture(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		a := f.personal(ports.AccountID(fmt.Sprintf("acct-bench-%d", i)))
		r := f.approve(f.toReview(a.ID))
		require.Equal(b, cancellation.StateCancelled, r.State())
	}
}

package cancellation_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// BenchmarkApprove measures what a reviewer waits for when approving, with
// an AccountCloser that takes 200 ms: inline effects (the default) against
// EffectsDeferred, side by side in the same run. Inline, Approve waits for
// the closer; deferred, it returns once the approval is stored (the
// runner closes the account afterwards) and must take under 5 ms.
//
//	go test -run='^$' -bench=Approve -benchtime=20x .
func BenchmarkApprove(b *testing.B) {
	const closing = 200 * time.Millisecond
	for _, mode := range []cancellation.EffectMode{cancellation.EffectsInline, cancellation.EffectsDeferred} {
		b.Run(mode.String(), func(b *testing.B) {
			var f *fixture
			var elapsed time.Duration
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				if i%wholeFlowBatch == 0 {
					f = newFixture(b, withSlowCloser(&slowCloser{}, closing), func(c *cancellation.Config) { c.Effects = mode })
				}
				r := f.toReview(f.personal(ports.AccountID(fmt.Sprintf("acct-bench-approve-%d", i))).ID)
				b.StartTimer()
				t := time.Now()
				got, err := f.svc.Approve(f.ctx, staff, r.ID(), "ok")
				elapsed += time.Since(t)
				require.NoError(b, err)
				require.NotEqual(b, cancellation.StateInReview, got.State())
			}
			b.ReportMetric(float64(elapsed.Microseconds())/1000/float64(b.N), "ms/op")
		})
	}
}

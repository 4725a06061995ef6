package cancellation_test

import (
	"fmt"
	"testing"

	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
)

// BenchmarkWholeFlowEvents runs a whole cancellation (as BenchmarkWholeFlow)
// without an EventPublisher (baseline) and with a memory one (events: six
// CloudEvents built, stored with their transitions, published and
// recorded done), side by side: the difference is what events cost.
func BenchmarkWholeFlowEvents(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts func() []option
	}{
		{"baseline", func() []option { return nil }},
		{"events", func() []option { return []option{withEvents(memory.NewEventPublisher())} }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var f *fixture
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if i%wholeFlowBatch == 0 {
					b.StopTimer()
					f = newFixture(b, tc.opts()...)
					b.StartTimer()
				}
				a := f.personal(ports.AccountID(fmt.Sprintf("acct-bench-%d", i)))
				wholeFlow(b, f, a.ID)
			}
		})
	}
}

package cancellation_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// nopHooks implements every hook and does nothing: the cost of observing.
type nopHooks struct{ cancellation.HookDefaults }

func (nopHooks) Transition(context.Context, cancellation.TransitionInfo)                {}
func (nopHooks) EffectAttempt(context.Context, cancellation.EffectAttemptInfo)          {}
func (nopHooks) RuleEvaluated(context.Context, cancellation.RuleEvaluationInfo)         {}
func (nopHooks) DocumentInspected(context.Context, cancellation.DocumentInspectionInfo) {}
func (nopHooks) BeginOperation(ctx context.Context, _ cancellation.OperationInfo) (context.Context, func(error)) {
	return ctx, func(error) {}
}

// BenchmarkWholeFlowHooks runs the whole flow of BenchmarkWholeFlow without
// hooks and with a hook of every kind that does nothing, side by side: the
// difference is what the hooks' plumbing costs.
func BenchmarkWholeFlowHooks(b *testing.B) {
	for _, bc := range []struct {
		name  string
		hooks []cancellation.Hook
	}{{"none", nil}, {"every_kind", []cancellation.Hook{nopHooks{}}}} {
		b.Run(bc.name, func(b *testing.B) {
			var f *fixture
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if i%wholeFlowBatch == 0 {
					b.StopTimer()
					f = newFixture(b, withHooks(bc.hooks...))
					b.StartTimer()
				}
				a := f.personal(ports.AccountID(fmt.Sprintf("acct-hooks-%d", i)))
				wholeFlow(b, f, a.ID)
			}
		})
	}
}

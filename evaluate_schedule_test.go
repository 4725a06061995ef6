package cancellation_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// TestEvaluate_ConcurrencyBoundsRulesSlowLastTime: RuleSet.Concurrency
// bounds the rules running at once, also when the rules were slow the
// last time they were evaluated (and so start on workers of their own at
// once) and some are left for the spread.
func TestEvaluate_ConcurrencyBoundsRulesSlowLastTime(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("Concurrency=%d", limit), func(t *testing.T) {
			t.Parallel()
			var running, most atomic.Int32
			rules := make([]cancellation.Rule, 6)
			for i := range rules {
				// Names of their own: which rules were slow is remembered
				// process-wide, by name.
				rules[i] = cancellation.RuleFunc{RuleName: fmt.Sprintf("bound-%d-%d", limit, i), Func: func(context.Context, ports.Account) (cancellation.Finding, error) {
					n := running.Add(1)
					for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
					}
					time.Sleep(15 * time.Millisecond) // slow: more than 100 µs, and past the spread
					running.Add(-1)
					return cancellation.Finding{Outcome: cancellation.OutcomePass}, nil
				}}
			}
			rs := cancellation.RuleSet{Rules: rules, Concurrency: limit, Timeout: time.Minute}
			for round := range 2 { // the second round finds every rule slow last time
				most.Store(0)
				rep := rs.Evaluate(context.Background(), ports.Account{ID: "acct-bound"}, t0)
				require.Equal(t, cancellation.OutcomePass, rep.Outcome, "round %d", round)
				require.LessOrEqual(t, int(most.Load()), limit, "round %d: rules running at once", round)
			}
		})
	}
}

// TestEvaluate_RuleQueuedBehindAHangingOneDidNotStart: with one rule at a
// time, a rule that hangs keeps the next from starting; at the deadline
// the hanging rule did not answer and the next did not start, and each
// finding says which.
func TestEvaluate_RuleQueuedBehindAHangingOneDidNotStart(t *testing.T) {
	t.Parallel()
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	var ran atomic.Bool
	rules := []cancellation.Rule{
		cancellation.RuleFunc{RuleName: "queued-hangs", Func: func(context.Context, ports.Account) (cancellation.Finding, error) {
			<-stop // ignores its context
			return cancellation.Finding{Outcome: cancellation.OutcomePass}, nil
		}},
		cancellation.RuleFunc{RuleName: "queued-behind", Func: func(context.Context, ports.Account) (cancellation.Finding, error) {
			ran.Store(true)
			return cancellation.Finding{Outcome: cancellation.OutcomePass}, nil
		}},
	}
	rep := cancellation.RuleSet{Rules: rules, Concurrency: 1, Timeout: 100 * time.Millisecond}.Evaluate(context.Background(), ports.Account{ID: "acct-q"}, t0)
	require.False(t, ran.Load(), "the second rule never started")
	hung, _ := rep.Finding("queued-hangs")
	require.Contains(t, hung.Error, "did not answer within 100ms")
	behind, _ := rep.Finding("queued-behind")
	require.Equal(t, cancellation.OutcomeBlocked, behind.Outcome)
	require.Contains(t, behind.Error, "did not start within 100ms")
}

// ruleLatencies records the latency HookRuleEvaluated reports per rule.
type ruleLatencies struct {
	cancellation.HookDefaults
	mu  sync.Mutex
	got map[string]time.Duration
}

func (h *ruleLatencies) RuleEvaluated(_ context.Context, e cancellation.RuleEvaluationInfo) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got[e.Rule] = e.Latency
}

// TestHookRuleEvaluated_LatencyFromTheEvaluationsStart: the latency a
// rule's hook reports is, as RuleEvaluationInfo.Latency says, the time
// from the evaluation's start to the rule's answer, so that a rule
// queued behind a slow one shows the wait its answer took.
func TestHookRuleEvaluated_LatencyFromTheEvaluationsStart(t *testing.T) {
	rec := &ruleLatencies{got: map[string]time.Duration{}}
	f := setup(t, withHooks(rec), func(c *cancellation.Config) {
		c.RuleConcurrency = 1
		c.ExtraRules = append(c.ExtraRules,
			cancellation.RuleFunc{RuleName: "latency-slow", Func: func(context.Context, ports.Account) (cancellation.Finding, error) {
				time.Sleep(30 * time.Millisecond)
				return cancellation.Finding{Outcome: cancellation.OutcomePass}, nil
			}},
			cancellation.RuleFunc{RuleName: "latency-after", Func: func(context.Context, ports.Account) (cancellation.Finding, error) {
				return cancellation.Finding{Outcome: cancellation.OutcomePass}, nil
			}})
	})
	f.platform.AddAccount(f.personal("acct-latency"))
	_, err := f.svc.CheckEligibility(f.ctx, "acct-latency")
	require.NoError(t, err)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.GreaterOrEqual(t, rec.got["latency-slow"], 30*time.Millisecond)
	require.GreaterOrEqual(t, rec.got["latency-after"], 30*time.Millisecond, "answered after the slow rule, one rule at a time")
}

// namedAfter is a rule whose Name first runs before, once: a way to
// change, in the middle of an Evaluate, which rules count as slow last
// time, as another evaluation running the same rules at once may.
type namedAfter struct {
	cancellation.RuleFunc
	before func()
	once   sync.Once
}

func (r *namedAfter) Name() string {
	r.once.Do(r.before)
	return r.RuleFunc.Name()
}

// TestEvaluate_RulesTurningSlowOrFastMeanwhile: another evaluation may
// find a rule slow or fast while Evaluate orders its rules (slow last
// time first); every rule is still run once and reported, and Evaluate
// neither runs one twice nor leaves one out (nor indexes past its rules,
// which would panic on a worker and end the process).
func TestEvaluate_RulesTurningSlowOrFastMeanwhile(t *testing.T) {
	t.Parallel()
	pass := func(name string, d time.Duration, runs *atomic.Int32) cancellation.RuleFunc {
		return cancellation.RuleFunc{RuleName: name, Func: func(context.Context, ports.Account) (cancellation.Finding, error) {
			if runs != nil {
				runs.Add(1)
			}
			time.Sleep(d)
			return cancellation.Finding{Outcome: cancellation.OutcomePass}, nil
		}}
	}
	evaluate := func(rules ...cancellation.Rule) cancellation.Report {
		return cancellation.RuleSet{Rules: rules, Timeout: 2 * time.Second}.Evaluate(context.Background(), ports.Account{ID: "acct-meanwhile"}, t0)
	}
	for _, turns := range []string{"slow", "fast"} {
		t.Run("turning "+turns, func(t *testing.T) {
			t.Parallel()
			x := "meanwhile-" + turns
			if turns == "fast" {
				evaluate(pass(x, 2*time.Millisecond, nil)) // slow last time
			}
			var runs atomic.Int32
			flip := &namedAfter{RuleFunc: pass(x+"-flips", 0, nil), before: func() {
				d := time.Duration(0)
				if turns == "slow" {
					d = 2 * time.Millisecond
				}
				evaluate(pass(x, d, nil))
			}}
			rep := evaluate(pass(x, 0, &runs), flip, pass(x+"-last", 0, nil))
			require.Equal(t, cancellation.OutcomePass, rep.Outcome, "%+v", rep.Blocked())
			require.Len(t, rep.Findings, 3)
			require.EqualValues(t, 1, runs.Load(), "the rule turning %s ran once", turns)
		})
	}
}

// TestEvaluate_ACallersEarlierDeadlineIsTheOneNamed: when the caller's
// context ends before RuleSet.Timeout, a rule that did not answer is
// reported against the time it had, not against the Timeout it never
// reached.
func TestEvaluate_ACallersEarlierDeadlineIsTheOneNamed(t *testing.T) {
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	rules := []cancellation.Rule{cancellation.RuleFunc{RuleName: "hangs", Func: func(context.Context, ports.Account) (cancellation.Finding, error) {
		<-stop // ignores its context
		return cancellation.Finding{Outcome: cancellation.OutcomePass}, nil
	}}}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	rep := cancellation.RuleSet{Rules: rules, Timeout: time.Minute}.Evaluate(ctx, ports.Account{ID: "acct-d"}, t0)
	fd, ok := rep.Finding("hangs")
	require.True(t, ok)
	require.Equal(t, cancellation.OutcomeBlocked, fd.Outcome)
	require.Contains(t, fd.Error, "did not answer within 100ms")
	require.NotContains(t, fd.Error, "1m0s")
	require.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)
}

// TestEvaluate_RuleBehindOneOnTheCallerPastTheCallersDeadline: on the
// caller, a rule that overruns the caller's deadline keeps the next from
// starting; that one is reported against the caller's deadline too.
func TestEvaluate_RuleBehindOneOnTheCallerPastTheCallersDeadline(t *testing.T) {
	cancellation.ForgetSlowRules("caller-overruns") // a run before marked it slow
	inProcess := func() bool { return true }
	slow := sayRule{inProcess: inProcess, RuleFunc: cancellation.RuleFunc{RuleName: "caller-overruns", Func: func(context.Context, ports.Account) (cancellation.Finding, error) {
		time.Sleep(150 * time.Millisecond) // ignores its context
		return cancellation.Finding{Outcome: cancellation.OutcomePass}, nil
	}}}
	next := sayRule{inProcess: inProcess, RuleFunc: cancellation.RuleFunc{RuleName: "caller-next", Func: func(context.Context, ports.Account) (cancellation.Finding, error) {
		return cancellation.Finding{Outcome: cancellation.OutcomePass}, nil
	}}}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	rep := cancellation.RuleSet{Rules: []cancellation.Rule{slow, next}, Timeout: time.Minute}.Evaluate(ctx, ports.Account{ID: "acct-dn"}, t0)
	fd, ok := rep.Finding("caller-next")
	require.True(t, ok)
	require.Equal(t, cancellation.OutcomeBlocked, fd.Outcome)
	require.Contains(t, fd.Error, "did not start within 100ms")
}

package cancellation_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
)

// goroutineID returns the id of the calling goroutine, read from its
// stack's header ("goroutine 42 [running]:"): the way for a test to tell
// whether a rule ran on the caller of Evaluate.
func goroutineID() uint64 {
	var buf [64]byte
	b := bytes.TrimPrefix(buf[:runtime.Stack(buf[:], false)], []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i >= 0 {
		b = b[:i]
	}
	id, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		panic(fmt.Sprintf("goroutine id in %q: %v", buf, err))
	}
	return id
}

// sayRule is a rule that says, by InProcess, whether it answers in
// process.
type sayRule struct {
	cancellation.RuleFunc
	inProcess func() bool
}

func (r sayRule) InProcess() bool { return r.inProcess() }

// onGoroutines records the goroutine each rule of a name ran on.
type onGoroutines struct {
	mu  sync.Mutex
	ran map[string]uint64
	seq []string // the rules in the order they ran
}

func (g *onGoroutines) record(name string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ran == nil {
		g.ran = map[string]uint64{}
	}
	g.ran[name] = goroutineID()
	g.seq = append(g.seq, name)
}

func (g *onGoroutines) on(name string) uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ran[name]
}

// recordingRule is a rule that records where it ran, then calls check
// (nil: passes).
func recordingRule(g *onGoroutines, name string, check func(ctx context.Context) error) cancellation.RuleFunc {
	return cancellation.RuleFunc{RuleName: name, Func: func(ctx context.Context, _ ports.Account) (cancellation.Finding, error) {
		g.record(name)
		if check != nil {
			if err := check(ctx); err != nil {
				return cancellation.Finding{}, err
			}
		}
		return cancellation.Finding{Outcome: cancellation.OutcomePass}, nil
	}}
}

func yes() bool { return true }

// runningGauge counts the rules running at once and keeps the most.
type runningGauge struct{ now, most atomic.Int32 }

func (g *runningGauge) during(d time.Duration) {
	n := g.now.Add(1)
	for m := g.most.Load(); n > m && !g.most.CompareAndSwap(m, n); m = g.most.Load() {
	}
	time.Sleep(d)
	g.now.Add(-1)
}

// TestEvaluate_InProcessRulesRunOnTheCaller: rules that say they answer
// in process run on the goroutine that called Evaluate, one after another
// in their order; a rule that does not say so, or says it is not, runs on
// another goroutine.
func TestEvaluate_InProcessRulesRunOnTheCaller(t *testing.T) {
	t.Parallel()
	g := &onGoroutines{}
	names := []string{"caller-a", "caller-remote", "caller-b", "caller-says-no", "caller-c"}
	cancellation.ForgetSlowRules(names...)
	rules := []cancellation.Rule{
		sayRule{recordingRule(g, "caller-a", nil), yes},
		recordingRule(g, "caller-remote", nil),
		sayRule{recordingRule(g, "caller-b", nil), yes},
		sayRule{recordingRule(g, "caller-says-no", nil), func() bool { return false }},
		sayRule{recordingRule(g, "caller-c", nil), yes},
	}
	me := goroutineID()
	rep := cancellation.RuleSet{Rules: rules, Timeout: time.Minute}.Evaluate(t.Context(), ports.Account{ID: "acct-caller"}, t0)
	require.Equal(t, cancellation.OutcomePass, rep.Outcome, "%+v", rep.Blocked())
	require.Equal(t, names, findingRules(rep.Findings), "findings in the rules' order")
	for _, name := range []string{"caller-a", "caller-b", "caller-c"} {
		require.Equal(t, me, g.on(name), "%s ran on the caller", name)
	}
	for _, name := range []string{"caller-remote", "caller-says-no"} {
		require.NotZero(t, g.on(name), name)
		require.NotEqual(t, me, g.on(name), "%s ran on another goroutine", name)
	}
	var onCaller []string
	for _, name := range g.seq {
		if g.on(name) == me {
			onCaller = append(onCaller, name)
		}
	}
	require.Equal(t, []string{"caller-a", "caller-b", "caller-c"}, onCaller, "one after another, in their order")
}

// inProcessOf forwards the InProcess of the rule it wraps, if any.
type inProcessOf struct {
	cancellation.Rule
	g *onGoroutines
}

func (r inProcessOf) InProcess() bool {
	p, ok := r.Rule.(ports.InProcess)
	return ok && p.InProcess()
}

func (r inProcessOf) Check(ctx context.Context, acct ports.Account) (cancellation.Finding, error) {
	r.g.record(r.Name())
	return r.Rule.Check(ctx, acct)
}

// TestEvaluate_DefaultRulesOverTheMemoryPlatformRunOnTheCaller: the
// default rules over the memory platform, and over NotApplicable, say
// they answer in process and run on the caller; once the platform waits
// (SetLatency) they no longer do, and run on other goroutines, except the
// one over NotApplicable. A nil checker's rule is not in process. Not
// parallel: the rules' names are the default ones, whose slowness the
// process remembers; the test forgets it before and after.
func TestEvaluate_DefaultRulesOverTheMemoryPlatformRunOnTheCaller(t *testing.T) {
	platform := memory.NewPlatform()
	checkers := cancellation.Checkers{
		Orders: platform, Balances: platform, Authorizations: platform, SubUsers: platform,
		APIKeys: cancellation.NotApplicable{}, Data: platform, Complaints: platform, Matters: platform,
	}
	defaults := cancellation.DefaultRules(checkers)
	var names []string
	for _, r := range defaults {
		names = append(names, r.Name())
	}
	cancellation.ForgetSlowRules(names...)
	t.Cleanup(func() { cancellation.ForgetSlowRules(names...) })
	evaluate := func() (*onGoroutines, uint64) {
		g := &onGoroutines{}
		rules := make([]cancellation.Rule, len(defaults))
		for i, r := range defaults {
			rules[i] = inProcessOf{r, g}
		}
		me := goroutineID()
		rep := cancellation.RuleSet{Rules: rules, Timeout: time.Minute}.Evaluate(t.Context(), ports.Account{ID: "acct-defaults"}, t0)
		require.Equal(t, cancellation.OutcomePass, rep.Outcome, "%+v", rep.Blocked())
		return g, me
	}

	for _, r := range defaults {
		p, ok := r.(ports.InProcess)
		require.True(t, ok, "%s implements ports.InProcess", r.Name())
		require.True(t, p.InProcess(), "%s over the memory platform", r.Name())
	}
	g, me := evaluate()
	for _, name := range names {
		require.Equal(t, me, g.on(name), "%s ran on the caller", name)
	}

	platform.SetLatency(200 * time.Microsecond)
	cancellation.ForgetSlowRules(names...) // a loaded machine may have made one slow
	g, me = evaluate()
	for _, name := range names {
		if name == cancellation.RuleAPIKeys {
			require.Equal(t, me, g.on(name), "%s, over NotApplicable, ran on the caller", name)
			continue
		}
		require.NotEqual(t, me, g.on(name), "%s, over a platform that waits, ran on another goroutine", name)
	}

	nilPort := cancellation.DefaultRules(cancellation.Checkers{})[0].(ports.InProcess)
	require.False(t, nilPort.InProcess(), "a rule over no port is not in process")
}

// TestEvaluate_ConcurrencyCountsTheCallerRunningInProcessRules: while the
// caller runs its in-process rules it takes one of the Concurrency places,
// so that with other rules on workers no more than Concurrency rules run
// at once; with Concurrency 1 the workers wait for the caller.
func TestEvaluate_ConcurrencyCountsTheCallerRunningInProcessRules(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("Concurrency=%d", limit), func(t *testing.T) {
			t.Parallel()
			var gauge runningGauge
			g := &onGoroutines{}
			busy := func(context.Context) error { gauge.during(2 * time.Millisecond); return nil }
			var rules []cancellation.Rule
			var names, local []string
			for i := range 4 {
				name := fmt.Sprintf("counts-%d-remote-%d", limit, i)
				rules = append(rules, recordingRule(g, name, busy))
				names = append(names, name)
			}
			for i := range 2 {
				name := fmt.Sprintf("counts-%d-local-%d", limit, i)
				rules = append(rules, sayRule{recordingRule(g, name, busy), yes})
				names, local = append(names, name), append(local, name)
			}
			cancellation.ForgetSlowRules(names...)
			me := goroutineID()
			rep := cancellation.RuleSet{Rules: rules, Concurrency: limit, Timeout: time.Minute}.Evaluate(t.Context(), ports.Account{ID: "acct-counts"}, t0)
			require.Equal(t, cancellation.OutcomePass, rep.Outcome, "%+v", rep.Blocked())
			for _, name := range local {
				require.Equal(t, me, g.on(name), "%s ran on the caller", name)
			}
			require.LessOrEqual(t, int(gauge.most.Load()), limit, "rules running at once, the caller's among them")
		})
	}
}

// TestEvaluate_InProcessRuleSlowLastTimeRunsOnAWorker: an in-process rule
// that took longer than 100 µs the last time runs on a worker of its own,
// at once, like any rule slow last time; once it answers fast again it is
// back on the caller.
func TestEvaluate_InProcessRuleSlowLastTimeRunsOnAWorker(t *testing.T) {
	t.Parallel()
	const name = "slow-last-time-in-process"
	cancellation.ForgetSlowRules(name)
	var wait atomic.Int64
	g := &onGoroutines{}
	rs := cancellation.RuleSet{Rules: []cancellation.Rule{sayRule{recordingRule(g, name, func(context.Context) error {
		time.Sleep(time.Duration(wait.Load()))
		return nil
	}), yes}}, Timeout: time.Minute}
	evaluate := func() uint64 {
		rep := rs.Evaluate(t.Context(), ports.Account{ID: "acct-slow-last"}, t0)
		require.Equal(t, cancellation.OutcomePass, rep.Outcome, "%+v", rep.Blocked())
		return g.on(name)
	}
	me := goroutineID()
	wait.Store(int64(2 * time.Millisecond))
	require.Equal(t, me, evaluate(), "first on the caller")
	require.True(t, cancellation.SlowRule(name), "it took 2 ms")
	wait.Store(0)
	require.NotEqual(t, me, evaluate(), "slow last time: on a worker")
	// It answers at once now, but a loaded machine may hold a worker up
	// past 100 µs: it is back on the caller once it was fast.
	for range 100 {
		if !cancellation.SlowRule(name) {
			break
		}
		evaluate()
	}
	require.False(t, cancellation.SlowRule(name), "it answered at once")
	require.Equal(t, me, evaluate(), "fast last time: on the caller again")
}

// TestEvaluate_InProcessThatPanicsRunsTheRuleOnAWorker: a rule whose
// InProcess panics is treated as one that may block: it runs, on a
// worker, and its finding is its own; the panic goes no further.
func TestEvaluate_InProcessThatPanicsRunsTheRuleOnAWorker(t *testing.T) {
	t.Parallel()
	const name = "in-process-panics"
	cancellation.ForgetSlowRules(name)
	g := &onGoroutines{}
	rule := sayRule{recordingRule(g, name, nil), func() bool { panic("InProcess broke") }}
	me := goroutineID()
	rep := cancellation.RuleSet{Rules: []cancellation.Rule{rule}, Timeout: time.Minute}.Evaluate(t.Context(), ports.Account{ID: "acct-panics"}, t0)
	require.Equal(t, cancellation.OutcomePass, rep.Outcome, "%+v", rep.Blocked())
	require.NotZero(t, g.on(name), "the rule ran")
	require.NotEqual(t, me, g.on(name), "on a worker")
}

// TestEvaluate_InProcessRuleDoesNotHoldBackTheSpread: while the caller
// runs a long in-process rule, the rules queued behind a hanging one are
// still spread over workers of their own after about 200 µs: here the
// in-process rule waits for such a rule, which would never run if the
// spread waited for the caller.
func TestEvaluate_InProcessRuleDoesNotHoldBackTheSpread(t *testing.T) {
	t.Parallel()
	names := []string{"spread-hangs", "spread-queued", "spread-in-process"}
	cancellation.ForgetSlowRules(names...)
	queuedRan, inProcessDone := make(chan struct{}), make(chan struct{})
	g := &onGoroutines{}
	var sawQueued atomic.Bool
	rules := []cancellation.Rule{
		recordingRule(g, "spread-hangs", func(context.Context) error { <-inProcessDone; return nil }),
		recordingRule(g, "spread-queued", func(context.Context) error { close(queuedRan); return nil }),
		sayRule{recordingRule(g, "spread-in-process", func(context.Context) error {
			defer close(inProcessDone)
			select {
			case <-queuedRan:
				sawQueued.Store(true)
			case <-time.After(5 * time.Second):
			}
			return nil
		}), yes},
	}
	me := goroutineID()
	rep := cancellation.RuleSet{Rules: rules, Concurrency: 8, Timeout: time.Minute}.Evaluate(t.Context(), ports.Account{ID: "acct-spread"}, t0)
	require.Equal(t, cancellation.OutcomePass, rep.Outcome, "%+v", rep.Blocked())
	require.Equal(t, me, g.on("spread-in-process"), "the in-process rule ran on the caller")
	require.True(t, sawQueued.Load(), "the queued rule was spread while the caller ran its rule")
}

// TestEvaluate_InProcessRuleDoesNotExceedConcurrencyWhileSpreading: the
// spread, which comes while the caller runs a long in-process rule, starts
// no more workers than Concurrency leaves beside the caller.
func TestEvaluate_InProcessRuleDoesNotExceedConcurrencyWhileSpreading(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{2, 3} {
		t.Run(fmt.Sprintf("Concurrency=%d", limit), func(t *testing.T) {
			t.Parallel()
			var gauge runningGauge
			g := &onGoroutines{}
			var rules []cancellation.Rule
			var names []string
			for i := range 5 {
				name := fmt.Sprintf("spread-bound-%d-%d", limit, i)
				rules = append(rules, recordingRule(g, name, func(context.Context) error { gauge.during(3 * time.Millisecond); return nil }))
				names = append(names, name)
			}
			local := fmt.Sprintf("spread-bound-%d-local", limit)
			rules = append(rules, sayRule{recordingRule(g, local, func(context.Context) error { gauge.during(20 * time.Millisecond); return nil }), yes})
			cancellation.ForgetSlowRules(append(names, local)...)
			me := goroutineID()
			rep := cancellation.RuleSet{Rules: rules, Concurrency: limit, Timeout: time.Minute}.Evaluate(t.Context(), ports.Account{ID: "acct-spread-bound"}, t0)
			require.Equal(t, cancellation.OutcomePass, rep.Outcome, "%+v", rep.Blocked())
			require.Equal(t, me, g.on(local), "the in-process rule ran on the caller")
			require.LessOrEqual(t, int(gauge.most.Load()), limit, "rules running at once, the caller's among them")
		})
	}
}

// TestEvaluate_InProcessRulePastTheDeadline: an in-process rule that
// ignores its context holds up the caller, but past the deadline it did
// not answer, as on a worker, and the in-process rule after it did not
// start; the hook reports their latency as the deadline at most; the next
// evaluation runs the late rule on a worker, as it was slow.
func TestEvaluate_InProcessRulePastTheDeadline(t *testing.T) {
	t.Parallel()
	// Long enough for a loaded machine to start the rules on the caller.
	const timeout = 100 * time.Millisecond
	const late, next = "past-deadline-late", "past-deadline-next"
	cancellation.ForgetSlowRules(late, next)
	g := &onGoroutines{}
	var wait atomic.Int64
	lateRules := func(late, next string) []cancellation.Rule {
		return []cancellation.Rule{
			sayRule{recordingRule(g, late, func(context.Context) error {
				time.Sleep(time.Duration(wait.Load())) // ignores its context
				return nil
			}), yes},
			sayRule{recordingRule(g, next, nil), yes},
		}
	}
	rs := cancellation.RuleSet{Rules: lateRules(late, next), Timeout: timeout}
	wait.Store(int64(3 * timeout))
	me := goroutineID()
	began := time.Now()
	rep := rs.Evaluate(t.Context(), ports.Account{ID: "acct-late"}, t0)
	require.GreaterOrEqual(t, time.Since(began), 3*timeout, "the rule held up the caller")
	require.Equal(t, me, g.on(late), "the late rule ran on the caller")
	require.Zero(t, g.on(next), "the rule after it did not start")
	lateFinding, ok := rep.Finding(late)
	require.True(t, ok)
	require.Equal(t, cancellation.OutcomeBlocked, lateFinding.Outcome)
	require.Contains(t, lateFinding.Error, "did not answer within 100ms")
	nextFinding, ok := rep.Finding(next)
	require.True(t, ok)
	require.Contains(t, nextFinding.Error, "did not start within 100ms")

	wait.Store(0)
	rs.Timeout = time.Minute // where the rules run, not the deadline, is under test
	rep = rs.Evaluate(t.Context(), ports.Account{ID: "acct-late"}, t0)
	require.Equal(t, cancellation.OutcomePass, rep.Outcome, "%+v", rep.Blocked())
	require.NotEqual(t, me, g.on(late), "slow last time: on a worker")
	require.Equal(t, me, g.on(next), "the next rule on the caller")

	t.Run("hook latency", func(t *testing.T) {
		const late, next = "past-deadline-hook-late", "past-deadline-hook-next"
		cancellation.ForgetSlowRules(late, next)
		wait.Store(int64(3 * timeout))
		rec := &ruleLatencies{got: map[string]time.Duration{}}
		f := setup(t, withHooks(rec), func(c *cancellation.Config) {
			c.RuleTimeout = timeout
			c.ExtraRules = append(c.ExtraRules, lateRules(late, next)...)
		})
		f.platform.AddAccount(f.personal("acct-late-hook"))
		rep, err := f.svc.CheckEligibility(f.ctx, "acct-late-hook")
		require.NoError(t, err)
		require.Equal(t, cancellation.OutcomeBlocked, rep.Outcome)
		rec.mu.Lock()
		defer rec.mu.Unlock()
		require.Contains(t, rec.got, late)
		require.Contains(t, rec.got, next, "without it the bound on next below holds for nothing")
		require.LessOrEqual(t, rec.got[late], timeout, "latency capped at the deadline")
		require.LessOrEqual(t, rec.got[next], timeout, "latency capped at the deadline")
	})
}

// TestEvaluate_TypedNilPortInCheckers: a checker that is a typed nil
// pointer (a *memory.Platform never made, a *NotApplicable) is not in
// process, since asking it panics; its rule runs on a worker and fails
// closed, or passes as not applicable, and Evaluate does not panic.
func TestEvaluate_TypedNilPortInCheckers(t *testing.T) {
	t.Parallel()
	var platform *memory.Platform
	var na *cancellation.NotApplicable
	rules := cancellation.DefaultRules(cancellation.Checkers{
		Orders: platform, Balances: platform, Authorizations: platform, SubUsers: platform,
		APIKeys: na, Data: platform, Complaints: platform, Matters: platform,
	})
	for _, r := range rules {
		p, ok := r.(ports.InProcess)
		require.True(t, ok, "%s implements ports.InProcess", r.Name())
		require.False(t, p.InProcess(), "%s over a typed nil port is not in process", r.Name())
	}
	rep := cancellation.RuleSet{Rules: rules, Timeout: time.Minute}.Evaluate(t.Context(), ports.Account{ID: "acct-typed-nil"}, t0)
	require.Equal(t, cancellation.OutcomeBlocked, rep.Outcome)
	keys, ok := rep.Finding(cancellation.RuleAPIKeys)
	require.True(t, ok)
	require.Equal(t, cancellation.FindingNotApplicable, keys.Code)
	orders, ok := rep.Finding(cancellation.RuleOpenObligations)
	require.True(t, ok)
	require.Equal(t, cancellation.OutcomeBlocked, orders.Outcome)
	require.Equal(t, cancellation.FindingCheckerUnavailable, orders.Code)
}

// laggingDeadline is a context whose deadline has passed before its Done
// channel is closed and its Err says so, as a context.WithTimeout's does
// for a moment: its timer cancels it on a goroutine of its own, which a
// loaded machine may run after the caller wakes up past the deadline. Here
// the moment lasts until the test ends.
type laggingDeadline struct {
	context.Context
	deadline time.Time
}

func (c laggingDeadline) Deadline() (time.Time, bool) { return c.deadline, true }

// TestEvaluate_InProcessRulePastTheDeadlineBeforeTheContextSaysSo: a rule
// on the caller that returns past the deadline did not answer, the rules
// after it do not start, and Evaluate does not wait for a rule on a
// worker, even while the context does not say yet that the deadline
// passed.
func TestEvaluate_InProcessRulePastTheDeadlineBeforeTheContextSaysSo(t *testing.T) {
	t.Parallel()
	const late, next, hangs = "lagging-deadline-late", "lagging-deadline-next", "lagging-deadline-hangs"
	cancellation.ForgetSlowRules(late, next, hangs)
	g := &onGoroutines{}
	// The deadline leaves a loaded machine time to start the late rule.
	deadline := time.Now().Add(200 * time.Millisecond)
	release := make(chan struct{})
	defer close(release)
	rules := []cancellation.Rule{
		sayRule{recordingRule(g, late, func(context.Context) error {
			time.Sleep(time.Until(deadline) + 20*time.Millisecond) // past the deadline, which ctx does not tell
			return nil
		}), yes},
		sayRule{recordingRule(g, next, nil), yes},
		recordingRule(g, hangs, func(context.Context) error { <-release; return nil }), // on a worker
	}
	ctx := laggingDeadline{t.Context(), deadline}
	done := make(chan cancellation.Report, 1)
	go func() {
		done <- cancellation.RuleSet{Rules: rules, Timeout: time.Minute}.Evaluate(ctx, ports.Account{ID: "acct-lagging"}, t0)
	}()
	var rep cancellation.Report
	select {
	case rep = <-done:
	case <-time.After(5 * time.Second):
		require.FailNow(t, "Evaluate waited for the rule on a worker past the deadline")
	}
	require.Equal(t, cancellation.OutcomeBlocked, rep.Outcome)
	hung, ok := rep.Finding(hangs)
	require.True(t, ok)
	// Whether its worker started it by then depends on the machine's load.
	require.Contains(t, hung.Error, context.DeadlineExceeded.Error())
	lateFinding, ok := rep.Finding(late)
	require.True(t, ok)
	require.Contains(t, lateFinding.Error, "did not answer")
	require.Contains(t, lateFinding.Error, context.DeadlineExceeded.Error())
	require.Zero(t, g.on(next), "the rule after it did not start")
	nextFinding, ok := rep.Finding(next)
	require.True(t, ok)
	require.Contains(t, nextFinding.Error, "did not start")
	require.Contains(t, nextFinding.Error, context.DeadlineExceeded.Error())
}

// hostPlatform is a host's port that embeds the memory Platform and
// overrides one checker with a call that blocks, ignoring its context.
type hostPlatform struct {
	*memory.Platform
	release chan struct{}
}

func (h hostPlatform) OpenObligations(context.Context, ports.AccountID) ([]ports.Obligation, error) {
	<-h.release
	return nil, nil
}

// safeHostPlatform declares, as ports.InProcess asks, that it may block.
type safeHostPlatform struct{ hostPlatform }

func (safeHostPlatform) InProcess() bool { return false }

// TestEvaluate_EmbeddedPlatformInheritsInProcess: a type that embeds the
// memory Platform says it answers in process, though it overrides a
// checker with a call that blocks; declaring its own InProcess, as
// ports.InProcess and Platform.InProcess say it must, puts the rule over
// it back on a worker, and Evaluate returns at the deadline.
func TestEvaluate_EmbeddedPlatformInheritsInProcess(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	host := hostPlatform{memory.NewPlatform(), release}
	require.True(t, host.InProcess(), "inherited: the hazard the docs name")

	safe := safeHostPlatform{host}
	rule := cancellation.DefaultRules(cancellation.Checkers{Orders: safe})[0]
	require.Equal(t, cancellation.RuleOpenObligations, rule.Name())
	require.False(t, rule.(ports.InProcess).InProcess(), "a rule over the overriding type is not in process")
	const timeout = 30 * time.Millisecond
	began := time.Now()
	rep := cancellation.RuleSet{Rules: []cancellation.Rule{rule}, Timeout: timeout}.Evaluate(t.Context(), ports.Account{ID: "acct-host"}, t0)
	require.Less(t, time.Since(began), 20*timeout, "Evaluate returned at the deadline")
	f, ok := rep.Finding(cancellation.RuleOpenObligations)
	require.True(t, ok)
	require.Contains(t, f.Error, "did not answer")
}

// TestEvaluate_InProcessRulesAllocateLittle: evaluating the nine default
// rules over ports that answer in process allocates the context's timer
// and cancellation, one evaluation (which keeps the rules' bookkeeping
// inline) and its findings: no worker, no channel, no timer of its own. Not parallel: AllocsPerRun
// counts every goroutine's allocations.
func TestEvaluate_InProcessRulesAllocateLittle(t *testing.T) {
	na := cancellation.NotApplicable{}
	rules := cancellation.DefaultRules(cancellation.Checkers{Orders: na, Balances: na, Authorizations: na,
		SubUsers: na, APIKeys: na, Data: na, Complaints: na, Matters: na})
	var names []string
	for _, r := range rules {
		names = append(names, r.Name())
	}
	cancellation.ForgetSlowRules(names...)
	t.Cleanup(func() { cancellation.ForgetSlowRules(names...) })
	rs := cancellation.RuleSet{Rules: rules}
	acct := ports.Account{ID: "acct-allocs"}
	ctx := context.Background()
	// The least of a few runs: an idle worker of another test may
	// allocate meanwhile.
	least := 1e9
	for range 5 {
		least = min(least, testing.AllocsPerRun(100, func() { rs.Evaluate(ctx, acct, t0) }))
	}
	// context.WithTimeout: about 4 (Go 1.26); the evaluation 1; findings 1.
	require.LessOrEqual(t, least, 7.0, "allocations per Evaluate of nine in-process rules")
}

// ordersOnly embeds NotApplicable for the checkers it does not need and
// overrides one with a call that may block, declaring, as
// NotApplicable.InProcess says it must, that it is not in process.
type ordersOnly struct {
	cancellation.NotApplicable
	release chan struct{}
}

func (o ordersOnly) OpenObligations(context.Context, ports.AccountID) ([]ports.Obligation, error) {
	<-o.release // a call to the host's database, ignoring its context
	return nil, nil
}

func (ordersOnly) InProcess() bool { return false }

// TestEvaluate_EmbeddedNotApplicableOverridingACheckerRunsOnAWorker: the
// rule over a type that embeds NotApplicable and declares its own
// InProcess runs on a worker, so Evaluate returns at the deadline.
func TestEvaluate_EmbeddedNotApplicableOverridingACheckerRunsOnAWorker(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	rule := cancellation.DefaultRules(cancellation.Checkers{Orders: ordersOnly{release: release}})[0]
	require.False(t, rule.(ports.InProcess).InProcess())
	const timeout = 30 * time.Millisecond
	began := time.Now()
	rep := cancellation.RuleSet{Rules: []cancellation.Rule{rule}, Timeout: timeout}.Evaluate(t.Context(), ports.Account{ID: "acct-orders-only"}, t0)
	require.Less(t, time.Since(began), 20*timeout, "Evaluate returned at the deadline")
	f, ok := rep.Finding(cancellation.RuleOpenObligations)
	require.True(t, ok)
	require.Contains(t, f.Error, "did not answer")
}

// placeNotifier records the goroutine each success notice is delivered
// on, after taking took; it says by InProcess whether it answers in
// process.
type placeNotifier struct {
	ports.Notifier
	g         *onGoroutines
	inProcess bool
	took      time.Duration
}

func (n *placeNotifier) Notify(ctx context.Context, m ports.Notification) error {
	if m.Template == cancellation.TemplateCancelled {
		time.Sleep(n.took)
		n.g.record(m.IdempotencyKey)
	}
	return n.Notifier.Notify(ctx, m)
}

func (n *placeNotifier) InProcess() bool { return n.inProcess }

// TestEffects_InProcessPortsRunOnTheCaller: a request's effects whose
// ports all say they answer in process (the memory Notifier and Platform
// do) run one after another on the caller, with nothing spread, however
// long one takes, as in-process rules do; over a port that does not say
// so, the effects not started after a moment are spread over goroutines
// of their own.
func TestEffects_InProcessPortsRunOnTheCaller(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		inProcess bool
		took      time.Duration
	}{{true, 20 * time.Millisecond}, {false, 100 * time.Millisecond}} {
		t.Run(fmt.Sprintf("in process %v", tc.inProcess), func(t *testing.T) {
			t.Parallel()
			notifier := &placeNotifier{g: &onGoroutines{}, inProcess: tc.inProcess, took: tc.took}
			f := newFixture(t, func(c *cancellation.Config) {
				notifier.Notifier = c.Notifier
				c.Notifier = notifier
			})
			require.True(t, f.kit.Notifier.InProcess(), "the memory Notifier answers in process")
			r := f.toReview(f.personal(ports.AccountID("acct-effects-place-" + strconv.FormatBool(tc.inProcess))).ID)
			me := goroutineID()
			// Without a Done channel, Approve carries out the effects on
			// its caller's goroutine (see settleWithin).
			r, err := f.svc.Approve(context.Background(), staff, r.ID(), "ok")
			require.NoError(t, err)
			require.Equal(t, cancellation.StateCancelled, r.State())
			sms, email := notifier.g.on(r.ID()+"/cancelled/sms"), notifier.g.on(r.ID()+"/cancelled/email")
			require.NotZero(t, sms)
			require.NotZero(t, email)
			if tc.inProcess {
				require.Equal(t, []uint64{me, me}, []uint64{sms, email}, "both notices on the caller")
			} else {
				require.False(t, sms == me && email == me, "the second notice waited for the first on the caller")
			}
		})
	}
}

package cancellation

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accountkit/cancellation/ports"
)

// inlineRules is how many rules an evaluation keeps without allocating
// beyond itself: the nine default rules and a few of the host's.
const inlineRules = 16

// evaluation is one RuleSet.Evaluate: where each rule runs, and the
// answers its workers and the caller collect.
type evaluation struct {
	ctx     context.Context // the evaluation's, with its deadline
	until   time.Duration   // ctx's deadline, since began: past it, ctx may not say so yet
	rules   []Rule
	acct    ports.Account
	timeout time.Duration
	began   time.Time
	limit   int // Concurrency

	// names and order are set before any worker starts, and read only
	// after. order holds the rules for workers, those slow last time first
	// (order[:slow]), then the others (order[slow:queued]), then the rules
	// for the caller (order[queued:]), each group in the rules' order.
	names         []string
	memos         []*ruleMemo // by rule, as names; nil past maxRuleMemos
	order         []int
	slow, queued  int
	taken         atomic.Int64  // rules handed to workers; may pass queued
	job           func()        // what every worker runs: ev.work
	done          chan struct{} // closed when left reaches 0; nil without workers
	mu            sync.Mutex
	findings      []Finding
	answers       []ruleAnswer
	left          int  // rules not answered
	closed        bool // Evaluate has returned: late answers are dropped
	workers, want int  // workers started; workers wanted before the spread
	caller        bool // the caller runs rules: it takes a place under limit
	spreadDue     bool // the spread's time has come

	// inline holds names, order and answers for up to inlineRules rules,
	// so that an evaluation is one allocation (and its findings another).
	inline struct {
		names   [inlineRules]string
		memos   [inlineRules]*ruleMemo
		order   [inlineRules]int
		answers [inlineRules]ruleAnswer
	}
}

type ruleAnswer struct {
	latency time.Duration // from the evaluation's start to the answer
	ok      bool          // answered
	// started is set, without the lock, by the worker that starts the
	// rule: Evaluate reads it at the deadline while the rule may start.
	started atomic.Bool
}

// evaluations holds evaluations for reuse: one whose every rule ran on the
// caller is referred to by nothing once Evaluate returns (no worker, no
// timer), and its kilobyte is used again rather than collected.
var evaluations = sync.Pool{New: func() any { return new(evaluation) }}

// release returns ev for reuse, when no worker was started: its findings
// are the report's, and are not reused.
func (ev *evaluation) release() {
	if ev.queued > 0 {
		return // a worker or the spread may still hold it
	}
	*ev = evaluation{}
	evaluations.Put(ev)
}

// newEvaluation names the rules and decides, once, where each runs:
// whether a rule was slow last time, or is in process, is read once, as
// another evaluation may change the first meanwhile and a port the second,
// and order must hold every rule exactly once.
func newEvaluation(ctx context.Context, rules []Rule, acct ports.Account, timeout time.Duration, began time.Time, limit int, buf []Finding) *evaluation {
	n := len(rules)
	deadline, _ := ctx.Deadline() // set: ctx has the set's deadline
	findings := buf[:min(n, cap(buf))]
	if len(findings) < n {
		findings = make([]Finding, n)
	}
	clear(findings)
	ev := evaluations.Get().(*evaluation)
	*ev = evaluation{ctx: ctx, until: deadline.Sub(began), rules: rules, acct: acct, timeout: timeout, began: began, limit: limit, left: n, findings: findings}
	if n <= inlineRules {
		ev.names, ev.memos, ev.order, ev.answers = ev.inline.names[:n], ev.inline.memos[:n], ev.inline.order[:n], ev.inline.answers[:n]
	} else {
		ev.names, ev.memos, ev.order, ev.answers = make([]string, n), make([]*ruleMemo, n), make([]int, n), make([]ruleAnswer, n)
	}
	// Where each rule goes: slow last time, in process, or neither.
	const slow, onCaller, other = 0, 1, 2
	var count [3]int
	var places [inlineRules]int8
	where := places[:0]
	if n > inlineRules {
		where = make([]int8, 0, n)
	}
	for i, rule := range rules {
		ev.names[i] = "unnamed rule"
		if rule != nil {
			ev.names[i] = ruleName(rule)
		}
		ev.memos[i] = memoOf(ev.names[i])
		w := int8(other)
		switch {
		case ev.memos[i].wasSlow():
			w = slow
		case inProcess(rule):
			w = onCaller
		}
		where = append(where, w)
		count[w]++
	}
	ev.slow, ev.queued = count[slow], count[slow]+count[other]
	next := [3]int{slow: 0, other: ev.slow, onCaller: ev.queued}
	for i, w := range where {
		ev.order[next[w]] = i
		next[w]++
	}
	return ev
}

// inProcess reports whether x, a rule or a port, says that it answers in
// the caller's process without blocking; one whose InProcess panics does
// not.
func inProcess(x any) (ok bool) {
	p, is := x.(ports.InProcess)
	if !is {
		return false
	}
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return p.InProcess()
}

// over returns why the evaluation is over at elapsed (since ev.began),
// or nil while it is not. Past the deadline it is over even while ctx
// does not say so yet: a context's timer cancels it on a goroutine of its
// own, which a loaded machine may run after a rule on the caller returned
// past the deadline, and that rule must not count as answered nor the
// next start.
func (ev *evaluation) over(elapsed time.Duration) error {
	if err := errAt(ev.ctx, elapsed); err != nil {
		return err
	}
	if elapsed >= ev.until {
		return context.DeadlineExceeded
	}
	return nil
}

// had returns the time the rules had, gave: the set's Timeout, or the
// caller's deadline when it came first; and within, the same as a finding
// names it (the caller's deadline to the millisecond).
func (ev *evaluation) had() (gave, within time.Duration) {
	gave, within = min(ev.timeout, max(ev.until, 0)), ev.timeout
	if gave < ev.timeout {
		within = gave.Round(time.Millisecond)
	}
	return gave, within
}

// run runs the rule order[k] and records its answer; t0 is when it was
// taken. It returns when the rule answered. Times are durations since
// ev.began, read from the monotonic clock only (time.Since), which costs
// half a time.Now; the deadline is checked against them, not the clock
// again.
func (ev *evaluation) run(k int, t0 time.Duration) time.Duration {
	i := ev.order[k]
	if err := ev.over(t0); err != nil {
		// Past the deadline, which a rule before it on the caller may
		// have overrun: the evaluation gave up on the rule at the deadline.
		gave, within := ev.had()
		f := failed(ev.names[i], ev.memos[i], fmt.Errorf("rule did not start within %v: %w", within, err))
		ev.put(i, &f, min(time.Since(ev.began), gave))
		return t0
	}
	ev.answers[i].started.Store(true)
	var f Finding
	err := checkRule(ev.ctx, ev.rules[i], ev.acct, &f)
	t1 := time.Since(ev.began)
	ev.memos[i].mark(k < ev.slow, t1-t0)
	if ev.over(t1) != nil {
		return t1 // answered past the deadline: did not answer
	}
	complete(ev.names[i], ev.memos[i], &f, err)
	ev.put(i, &f, t1)
	return t1
}

// work is the job of every worker: it takes the next rule for workers not
// taken, until none is left.
func (ev *evaluation) work() {
	t0 := time.Since(ev.began) // when the worker's next rule starts
	for {
		k := int(ev.taken.Add(1) - 1)
		if k >= ev.queued {
			return
		}
		t0 = ev.run(k, t0)
	}
}

// runOnCaller runs the rules for the caller, one after another.
func (ev *evaluation) runOnCaller() {
	t0 := time.Since(ev.began)
	for k := ev.queued; k < len(ev.order); k++ {
		t0 = ev.run(k, t0)
	}
}

// spread is the spread's timer: from now on, every rule for workers not
// taken gets a worker of its own, as Concurrency allows.
func (ev *evaluation) spread() {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	ev.spreadDue = true
	ev.grow()
}

// grow starts the workers wanted (before the spread: ev.want; after: one
// per rule for workers that no worker has taken or is about to take), up
// to limit running rules with the caller's. ev.mu must be held.
func (ev *evaluation) grow() {
	if ev.closed {
		return
	}
	room := ev.limit - ev.workers
	if ev.caller {
		room--
	}
	need := ev.want - ev.workers
	if ev.spreadDue {
		need = ev.queued - max(ev.workers, int(ev.taken.Load()))
	}
	more := max(0, min(room, need))
	for range more {
		goWork(ev.job)
	}
	ev.workers += more
}

// put records rule i's finding, unless the evaluation is over.
func (ev *evaluation) put(i int, f *Finding, latency time.Duration) {
	if ev.done == nil {
		// No workers: the caller, which runs every rule, is the only one
		// here, and the evaluation is not over.
		ev.findings[i], ev.answers[i].latency, ev.answers[i].ok = *f, latency, true
		ev.left--
		return
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if ev.closed {
		return
	}
	ev.findings[i], ev.answers[i].latency, ev.answers[i].ok = *f, latency, true
	if ev.left--; ev.left == 0 {
		close(ev.done)
	}
}

// close ends the evaluation and returns its findings and answers, which
// no worker writes from then on.
func (ev *evaluation) close() ([]Finding, []ruleAnswer) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	ev.closed = true
	return ev.findings, ev.answers
}

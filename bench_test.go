package cancellation_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
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

// wholeFlowBatch is how many flows one fixture (platform and store) serves
// before the benchmark starts over with a fresh one, so that the cost per
// flow does not grow with b.N.
const wholeFlowBatch = 64

// nextFlow returns the fixture and a new account for flow i: every
// wholeFlowBatch flows a fresh fixture, built (and passed to fresh, if
// not nil) outside the timer and outside cpu.
func nextFlow(b *testing.B, cpu *cpuMeter, f *fixture, i int, fresh func(*fixture)) (*fixture, ports.Account) {
	if i%wholeFlowBatch == 0 {
		cpu.pause()
		b.StopTimer()
		f = newFixture(b)
		if fresh != nil {
			fresh(f)
		}
		b.StartTimer()
		cpu.resume()
	}
	return f, f.personal(ports.AccountID(fmt.Sprintf("acct-bench-%d", i)))
}

// cpuMeter adds up the process's CPU time over the timed part of a
// benchmark and reports it per operation as cpu-ns/op. On a machine
// shared with other work, wall time swings with the load (a flow waits
// for its rules' goroutines to be scheduled), CPU time much less: compare
// the two benchmarks' cpu-ns/op.
type cpuMeter struct {
	total, since time.Duration
	ok           bool
}

func newCPUMeter() *cpuMeter {
	m := &cpuMeter{}
	m.since, m.ok = processCPU()
	return m
}

func (m *cpuMeter) pause() {
	if now, ok := processCPU(); ok && m.ok {
		m.total += now - m.since
	}
}

func (m *cpuMeter) resume() { m.since, _ = processCPU() }

// report stops the meter and reports cpu-ns/op (nothing where the
// platform does not measure it).
func (m *cpuMeter) report(b *testing.B) {
	m.pause()
	if m.ok && b.N > 0 {
		b.ReportMetric(float64(m.total.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkWholeFlow runs a whole cancellation over the memory adapters:
// start, confirm, code, verify, submit, approve, cancelled. Compare it with
// BenchmarkWholeFlowFloor, run beside it.
func BenchmarkWholeFlow(b *testing.B) {
	var f *fixture
	var a ports.Account
	b.ReportAllocs()
	cpu := newCPUMeter()
	for i := 0; b.Loop(); i++ {
		f, a = nextFlow(b, cpu, f, i, nil)
		r := f.approve(f.toReview(a.ID))
		require.Equal(b, cancellation.StateCancelled, r.State())
	}
	cpu.report(b)
}

// BenchmarkWholeFlowFloor does directly the work a whole flow cannot avoid:
// the 45 rule checks (9 rules at the dry run, start, confirmation,
// submission and approval), the 11 chained event hashes, the 4 HMACs of
// the one-time code and the 8 writes of the request into a map. The ratio
// BenchmarkWholeFlow / BenchmarkWholeFlowFloor is the library's overhead.
func BenchmarkWholeFlowFloor(b *testing.B) {
	var f *fixture
	var rules []cancellation.Rule
	var stored map[string][]byte
	event := make([]byte, 240) // about one event's encoding
	key := []byte("0123456789abcdef0123456789abcdef")
	var a ports.Account
	b.ReportAllocs()
	cpu := newCPUMeter()
	for i := 0; b.Loop(); i++ {
		f, a = nextFlow(b, cpu, f, i, func(f *fixture) {
			rules = cancellation.DefaultRules(f.cfg.Checkers)
			stored = map[string][]byte{}
		})
		for range 5 {
			for _, r := range rules {
				if fd, err := r.Check(f.ctx, a); err != nil || fd.Outcome != cancellation.OutcomePass {
					b.Fatalf("%s: %v %v", r.Name(), fd.Outcome, err)
				}
			}
		}
		prev := sha256.Sum256(nil)
		for range 11 {
			h := sha256.New()
			h.Write(event)
			h.Write(prev[:])
			h.Sum(prev[:0])
		}
		for range 4 {
			m := hmac.New(sha256.New, key)
			m.Write(event[:40])
			event[0] = m.Sum(nil)[0]
		}
		id := fmt.Sprintf("can_%d", i)
		for range 8 {
			stored[id] = event
		}
	}
	cpu.report(b)
}

// BenchmarkEvaluateInstant measures what RuleSet.Evaluate costs beyond its
// rules: the default rules over an in-memory platform answer at once.
func BenchmarkEvaluateInstant(b *testing.B) {
	f := newFixture(b)
	a := f.personal("acct-bench")
	rs := cancellation.RuleSet{Rules: cancellation.DefaultRules(f.cfg.Checkers)}
	b.ReportAllocs()
	for b.Loop() {
		if rep := rs.Evaluate(f.ctx, a, t0); rep.Outcome != cancellation.OutcomePass {
			b.Fatalf("outcome %s", rep.Outcome)
		}
	}
}

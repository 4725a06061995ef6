package cancellation_test

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

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
func nextFlow(b *testing.B, cpu *cpuMeter, f *fixture, i int, fresh func(*fixture), opts ...option) (*fixture, ports.Account) {
	if i%wholeFlowBatch == 0 {
		cpu.pause()
		b.StopTimer()
		f = newFixture(b, opts...)
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
// dry run, start, confirm, code, verify, submit, approve, cancelled; with
// the kit's receipt key (receipt=signed: the cancellation's receipt is
// signed) and without one (receipt=none: no receipt, as before receipts
// existed, and as a Service without Config.ReceiptKey runs). Compare each
// with BenchmarkWholeFlowFloor's of the same name, run beside it.
func BenchmarkWholeFlow(b *testing.B) {
	for _, signed := range []bool{true, false} {
		b.Run(receiptCase(signed), func(b *testing.B) {
			var f *fixture
			var a ports.Account
			b.ReportAllocs()
			cpu := newCPUMeter()
			for i := 0; b.Loop(); i++ {
				f, a = nextFlow(b, cpu, f, i, nil, withReceipts(signed))
				wholeFlow(b, f, a.ID)
			}
			cpu.report(b)
		})
	}
}

func receiptCase(signed bool) string {
	if signed {
		return "receipt=signed"
	}
	return "receipt=none"
}

// withReceipts keeps the kit's receipt key, or drops it.
func withReceipts(signed bool) option {
	return func(c *cancellation.Config) {
		if !signed {
			c.ReceiptKey = nil
		}
	}
}

// wholeFlow takes a new request of the account from the dry run to
// cancelled, calling the Service as a host does. It checks what a host
// would, and no more: the fixture's helpers (testing.TB.Helper and
// require on every step) cost a tenth of a flow, which is not the
// library's.
func wholeFlow(b *testing.B, f *fixture, id ports.AccountID) {
	must := func(r *cancellation.Request, err error, want cancellation.State) *cancellation.Request {
		if err != nil {
			b.Fatal(err)
		}
		if r.State() != want {
			b.Fatalf("request %s is %s, want %s", r.ID(), r.State(), want)
		}
		return r
	}
	ctx, svc := f.ctx, f.svc
	rep, err := svc.CheckEligibility(ctx, id)
	if err != nil {
		b.Fatal(err)
	}
	r, err := svc.Start(ctx, id)
	r = must(r, err, cancellation.StateStarted)
	r, err = svc.Confirm(ctx, id, r.ID(), cancellation.Confirmation{
		NotesVersion: svc.Notes().Version, Irreversible: true,
		Attestations: cancellation.Attestations{BackupDoneOrWaived: true, NotEvading: true, OtherMattersHandled: true},
		Consents:     rep.Consents(),
	})
	r = must(r, err, cancellation.StateConfirmed)
	if _, err := svc.SendCode(ctx, id, r.ID()); err != nil {
		b.Fatal(err)
	}
	code, ok := f.kit.OTP.LastCode(phoneFor(id))
	if !ok {
		b.Fatal("no code reached the recovery phone")
	}
	r, err = svc.VerifyCode(ctx, id, r.ID(), code)
	r = must(r, err, cancellation.StatePhoneVerified)
	r, err = svc.Submit(ctx, id, r.ID())
	r = must(r, err, cancellation.StateInReview)
	r, err = svc.Approve(ctx, staff, r.ID(), "looks fine")
	must(r, err, cancellation.StateCancelled)
}

// BenchmarkWholeFlowFloor does directly the work a whole flow cannot avoid:
// the 45 rule checks (9 rules at the dry run, start, confirmation,
// submission and approval), the 11 chained event HMACs (the kit keys the
// history, as Config.HistoryKeys should be), the 4 HMACs of the one-time
// code, the 8 writes of the request into a map and, for receipt=signed,
// the Ed25519 signature of a receipt the size of the flow's (about 1 KB).
// The ratio BenchmarkWholeFlow / BenchmarkWholeFlowFloor, case by case,
// is the library's overhead.
func BenchmarkWholeFlowFloor(b *testing.B) {
	for _, signed := range []bool{true, false} {
		b.Run(receiptCase(signed), func(b *testing.B) {
			var f *fixture
			var rules []cancellation.Rule
			var stored map[string][]byte
			var receiptKey ed25519.PrivateKey
			event := make([]byte, 240)    // about one event's encoding
			receipt := make([]byte, 1030) // the signed part of the flow's receipt
			// One HMAC per key, reset for each use, as the library keeps
			// them: the cheapest way to do the work.
			historyMAC := hmac.New(sha256.New, []byte("0123456789abcdef0123456789abcdef"))
			codeMAC := hmac.New(sha256.New, []byte("fedcba9876543210fedcba9876543210"))
			sum := make([]byte, 0, sha256.Size)
			var a ports.Account
			b.ReportAllocs()
			cpu := newCPUMeter()
			for i := 0; b.Loop(); i++ {
				f, a = nextFlow(b, cpu, f, i, func(f *fixture) {
					rules = cancellation.DefaultRules(f.cfg.Checkers)
					stored = map[string][]byte{}
					receiptKey = f.kit.ReceiptKey.Key
				})
				for range 5 {
					for _, r := range rules {
						if fd, err := r.Check(f.ctx, a); err != nil || fd.Outcome != cancellation.OutcomePass {
							b.Fatalf("%s: %v %v", r.Name(), fd.Outcome, err)
						}
					}
				}
				sum = sum[:0]
				for range 11 {
					historyMAC.Reset()
					historyMAC.Write(event)
					historyMAC.Write(sum)
					sum = historyMAC.Sum(sum[:0])
				}
				for range 4 {
					codeMAC.Reset()
					codeMAC.Write(event[:40])
					event[0] = codeMAC.Sum(sum[:0])[0]
				}
				if signed {
					receipt[0] = ed25519.Sign(receiptKey, receipt)[0]
				}
				id := fmt.Sprintf("can_%d", i)
				for range 8 {
					stored[id] = event
				}
			}
			cpu.report(b)
		})
	}
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

package portstest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/accountkit/cancellation/ports"
	"github.com/accountkit/cancellation/ports/portstest"
	"github.com/stretchr/testify/require"
)

// toy is a system behind a port that plays the faults of portstest, with
// switches that break the port over it in the ways the fault suites must
// catch.
type toy struct {
	mu         sync.Mutex
	fault      portstest.Fault
	calls      int
	items      map[ports.AccountID][]ports.Obligation
	deliveries map[string]int
	breakage
}

// breakage says how a toy port is broken.
type breakage struct {
	swallow   bool // the port reports "nothing found" when the system fails
	ignoreCtx bool // the port waits for a slow system past its context
	redeliver bool // the system delivers a key again when asked again
}

var errToy = errors.New("toy: system failed")

func (s *toy) inject(f portstest.Fault, calls int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault, s.calls = f, calls
	return true
}

// call plays the armed fault around effect, as a remote system would.
func (s *toy) call(ctx context.Context, effect func()) error {
	s.mu.Lock()
	fault := portstest.Fault("")
	if s.calls != 0 {
		fault = s.fault
		if s.calls > 0 {
			s.calls--
		}
	}
	s.mu.Unlock()
	switch fault {
	case portstest.FaultUnavailable:
		return errToy
	case portstest.FaultSlow:
		if s.ignoreCtx {
			time.Sleep(portstest.SlowFaultHold)
		} else {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(portstest.SlowFaultHold):
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	effect()
	s.mu.Unlock()
	if fault == portstest.FaultDropped {
		return errToy
	}
	return nil
}

func (s *toy) OpenObligations(ctx context.Context, id ports.AccountID) ([]ports.Obligation, error) {
	var out []ports.Obligation
	err := s.call(ctx, func() { out = append(out, s.items[id]...) })
	if err != nil && s.swallow {
		return nil, nil
	}
	return out, err
}

func (s *toy) Notify(ctx context.Context, n ports.Notification) error {
	return s.call(ctx, func() {
		if s.deliveries[n.IdempotencyKey] == 0 || s.redeliver {
			s.deliveries[n.IdempotencyKey]++
		}
	})
}

// runToySuites runs the fault suites of the OrderChecker and the Notifier
// against a toy with the switches of brk.
func runToySuites(t *testing.T, brk breakage) {
	t.Run("OrderChecker", func(t *testing.T) { toyChecker(t, brk) })
	t.Run("Notifier", func(t *testing.T) { toyNotifier(t, brk) })
}

func toyChecker(t *testing.T, brk breakage) {
	portstest.TestOrderCheckerFaults(t, portstest.Features{}, func(_ *testing.T, data map[ports.AccountID][]ports.Obligation) portstest.Faulty[ports.OrderChecker] {
		s := &toy{items: data, breakage: brk}
		return portstest.Faulty[ports.OrderChecker]{Port: s, Inject: s.inject}
	})
}

func toyNotifier(t *testing.T, brk breakage) {
	portstest.TestNotifierFaults(t, portstest.Features{}, func(*testing.T) portstest.Faulty[ports.Notifier] {
		s := &toy{deliveries: map[string]int{}, breakage: brk}
		return portstest.Faulty[ports.Notifier]{Port: s, Inject: s.inject, Deliveries: func(key string) int {
			s.mu.Lock()
			defer s.mu.Unlock()
			return s.deliveries[key]
		}}
	})
}

// TestFaultSuitesPassASoundPort shows that a port that reports failures,
// honours its context and delivers each key once passes the fault suites.
func TestFaultSuitesPassASoundPort(t *testing.T) {
	t.Parallel()
	runToySuites(t, breakage{})
}

// TestFaultSuitesCatchBrokenPorts shows that the fault suites fail a port
// that hides an outage behind "nothing found", one that waits past its
// context, and one that delivers a key twice after a lost answer. Each
// broken port runs in a child process (TestToyHelper), whose failure is
// the expected outcome.
func TestFaultSuitesCatchBrokenPorts(t *testing.T) {
	t.Parallel()
	for brk, failing := range map[string]string{
		"swallow":   "--- FAIL: TestToyHelper/OrderChecker/Outage",
		"ignorectx": "--- FAIL: TestToyHelper/OrderChecker/Slow",
		"redeliver": "--- FAIL: TestToyHelper/Notifier/DroppedEveryTime",
	} {
		t.Run(brk, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestToyHelper$", "-test.v")
			cmd.Env = append(os.Environ(), "PORTSTEST_TOY_BROKEN="+brk)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit, "the suites must fail a broken port:\n%s", out)
			require.Contains(t, string(out), failing)
		})
	}
}

// TestToyHelper runs the fault suites against the toy broken as the
// environment says; it is skipped unless TestFaultSuitesCatchBrokenPorts
// starts it.
func TestToyHelper(t *testing.T) {
	var brk breakage
	switch os.Getenv("PORTSTEST_TOY_BROKEN") {
	case "swallow":
		brk.swallow = true
	case "ignorectx":
		brk.ignoreCtx = true
	case "redeliver":
		brk.redeliver = true
	default:
		t.Skip("a helper of TestFaultSuitesCatchBrokenPorts")
	}
	runToySuites(t, brk)
}

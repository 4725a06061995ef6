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

// slowCloser closes accounts through the platform after a delay, counting
// the calls that finished.
type slowCloser struct {
	ports.AccountCloser
	delay    time.Duration
	started  atomic.Int32
	finished atomic.Int32
}

func (c *slowCloser) CloseAccount(ctx context.Context, id ports.AccountID, key string) error {
	c.started.Add(1)
	defer c.finished.Add(1)
	time.Sleep(c.delay) // a closer that ignores its context, the worst case
	return c.AccountCloser.CloseAccount(ctx, id, key)
}

// withSlowCloser wires a closer that takes d.
func withSlowCloser(c *slowCloser, d time.Duration) option {
	return func(cfg *cancellation.Config) {
		c.AccountCloser, c.delay = cfg.Closer, d
		cfg.Closer = c
	}
}

func deferred(c *cancellation.Config) { c.Effects = cancellation.EffectsDeferred }

// runService starts s.Run and returns a stop function that ends it and
// waits for it to return.
func runService(t *testing.T, s *cancellation.Service) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err, "Run returns nil on a graceful stop")
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return after its context ended")
		}
	}
	t.Cleanup(stop)
	return stop
}

// TestEffects_DeferredApprovalReturnsBeforeTheCloser: with EffectsDeferred
// Approve returns as soon as the approval is stored, before the closer
// runs; the runner, woken in-process, closes the account and notifies.
func TestEffects_DeferredApprovalReturnsBeforeTheCloser(t *testing.T) {
	closer := &slowCloser{}
	f := setup(t, deferred, withSlowCloser(closer, 300*time.Millisecond), func(c *cancellation.Config) {
		c.PollInterval = time.Hour // only the in-process wake can explain a prompt close
	})
	a := f.personal("acct-deferred")
	r := f.toReview(a.ID)
	runService(t, f.svc)
	start := time.Now()
	r = f.approve(r)
	require.Less(t, time.Since(start), 200*time.Millisecond, "the caller does not wait for the closer")
	require.Equal(t, cancellation.StateApproved, r.State())
	require.Eventually(t, func() bool { return f.stateOf(r.ID()) == cancellation.StateCancelled }, 5*time.Second, 10*time.Millisecond)
	require.True(t, f.closed(a.ID))
	require.Eventually(t, func() bool { return len(sentTo(f.kit.Notifier)) >= 3 }, 5*time.Second, 10*time.Millisecond,
		"approval, then success by SMS and email")
}

// TestEffects_InlineCallerDeadlineBoundsTheCall: inline effects stop
// holding the caller when its context ends; they go on in the background,
// their outcome recorded, and a graceful stop of Run waits for them.
func TestEffects_InlineCallerDeadlineBoundsTheCall(t *testing.T) {
	closer := &slowCloser{}
	f := setup(t, withSlowCloser(closer, 400*time.Millisecond))
	a := f.personal("acct-inline-deadline")
	r := f.toReview(a.ID)
	stop := runService(t, f.svc)
	ctx, cancel := context.WithTimeout(f.ctx, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	got, err := f.svc.Approve(ctx, staff, r.ID(), "ok")
	require.NoError(t, err, "the approval is stored; only its effects outlive the call")
	require.Less(t, time.Since(start), 300*time.Millisecond, "the caller's deadline bounds the call")
	require.Equal(t, cancellation.StateApproved, got.State())
	stop()
	require.EqualValues(t, 1, closer.finished.Load(), "the graceful stop waited for the closer")
	require.Equal(t, cancellation.StateCancelled, f.stored(r.ID()).State(), "and for its outcome to be recorded")
}

// TestEffects_CallerUsesTheRequestWhileEffectsGoOn: the request returned
// when the caller's context ended is the caller's to read, print and copy
// while its effects go on in the background (under -race, a write to it
// from the background is reported), and it stays as it was stored.
func TestEffects_CallerUsesTheRequestWhileEffectsGoOn(t *testing.T) {
	closer := &slowCloser{}
	f := setup(t, withSlowCloser(closer, 100*time.Millisecond))
	r := f.toReview(f.personal("acct-inline-reads").ID)
	ctx, cancel := context.WithTimeout(f.ctx, 10*time.Millisecond)
	defer cancel()
	got, err := f.svc.Approve(ctx, staff, r.ID(), "ok")
	require.NoError(t, err)
	require.Equal(t, cancellation.StateApproved, got.State())
	want := fmt.Sprintf("%v", got)
	for f.stateOf(r.ID()) != cancellation.StateCancelled {
		require.Equal(t, want, fmt.Sprintf("%v", got))
		_ = got.Clone()
		_ = *got // a copy of the value, as a value receiver makes
		time.Sleep(time.Millisecond)
	}
	require.Equal(t, cancellation.StateApproved, got.State(), "the caller's request is the approval as stored")
}

// TestRun_PollsForWorkTimeBrings: Run finds work no transition woke it
// for (an application past its expiry) on its own, by polling.
func TestRun_PollsForWorkTimeBrings(t *testing.T) {
	f := setup(t, func(c *cancellation.Config) { c.PollInterval = 20 * time.Millisecond })
	a := f.personal("acct-run-expire")
	r := f.start(a.ID)
	runService(t, f.svc)
	f.clock.Advance(8 * 24 * time.Hour)
	require.Eventually(t, func() bool { return f.stateOf(r.ID()) == cancellation.StateExpired }, 5*time.Second, 10*time.Millisecond)
}

// TestRun_GracefulStopFinishesWorkInFlight: ending Run's context while a
// deferred close is running lets it finish and record its outcome before
// Run returns, and starts nothing new.
func TestRun_GracefulStopFinishesWorkInFlight(t *testing.T) {
	closer := &slowCloser{}
	f := setup(t, deferred, withSlowCloser(closer, 300*time.Millisecond), func(c *cancellation.Config) { c.PollInterval = time.Hour })
	a := f.personal("acct-run-stop")
	r := f.toReview(a.ID)
	stop := runService(t, f.svc)
	f.approve(r)
	require.Eventually(t, func() bool { return closer.started.Load() == 1 }, 5*time.Second, 5*time.Millisecond)
	stop()
	require.EqualValues(t, 1, closer.finished.Load())
	s := f.stored(r.ID())
	require.Equal(t, cancellation.StateCancelled, s.State(), "the close's outcome is recorded")
}

// TestEffects_DeferredWithoutRunnerWaitsForMaintenance: a deferred effect
// is stored unclaimed, due at once, so any replica's RunMaintenance
// carries it out.
func TestEffects_DeferredWithoutRunnerWaitsForMaintenance(t *testing.T) {
	f := setup(t, deferred)
	a := f.personal("acct-deferred-maint")
	r := f.approve(f.toReview(a.ID))
	require.Equal(t, cancellation.StateApproved, r.State())
	require.False(t, f.closed(a.ID))
	require.Equal(t, f.clock.Now(), r.NextWake(), "due now")
	f.maintain()
	require.Equal(t, cancellation.StateCancelled, f.stored(r.ID()).State())
	f.maintain() // the success notifications the close added
	require.Len(t, f.kit.Notifier.Sent(), 3)
}

// TestConfig_UnknownEffectModeIsRefused: New names the bad Effects value.
func TestConfig_UnknownEffectModeIsRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cfg := f.cfg
	cfg.Effects = 7
	_, err := cancellation.New(cfg)
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)
	require.ErrorContains(t, err, "Effects")
}

// stateOf reads the request's state from the Store, without its history,
// which a test may do while the runner writes.
func (f *fixture) stateOf(id string) cancellation.State {
	f.t.Helper()
	r, err := f.kit.Store.Get(f.ctx, id)
	require.NoError(f.t, err)
	return r.State()
}

// gateCloser holds every CloseAccount call until released, recording the
// most calls in flight at once.
type gateCloser struct {
	ports.AccountCloser
	release  chan struct{}
	mu       sync.Mutex
	inFlight int
	most     int
}

func (c *gateCloser) CloseAccount(ctx context.Context, id ports.AccountID, key string) error {
	c.mu.Lock()
	c.inFlight++
	c.most = max(c.most, c.inFlight)
	c.mu.Unlock()
	defer func() { c.mu.Lock(); c.inFlight--; c.mu.Unlock() }()
	select {
	case <-c.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return c.AccountCloser.CloseAccount(ctx, id, key)
}

func (c *gateCloser) counts() (inFlight, most int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inFlight, c.most
}

// TestRun_ConcurrencyBoundHoldsForPassAndWakeTogether: Run works on at
// most Config.MaintenanceConcurrency requests at once, counting its pass
// and the work an in-process wake brings together: with a pass holding
// every worker on closings (seed step 6), closings approved meanwhile wait
// for a free worker instead of running beside them.
func TestRun_ConcurrencyBoundHoldsForPassAndWakeTogether(t *testing.T) {
	const workers = 2
	closer := &gateCloser{release: make(chan struct{})}
	f := setup(t, deferred, func(c *cancellation.Config) {
		closer.AccountCloser, c.Closer = c.Closer, closer
		c.MaintenanceConcurrency = workers
		c.PollInterval = time.Hour
	})
	var early, late []*cancellation.Request
	for i := range 2 * workers {
		early = append(early, f.approve(f.toReview(f.personal(ports.AccountID(fmt.Sprintf("acct-bound-pass-%d", i))).ID)))
		late = append(late, f.toReview(f.personal(ports.AccountID(fmt.Sprintf("acct-bound-wake-%d", i))).ID))
	}
	runService(t, f.svc) // its first pass takes the early closings
	require.Eventually(t, func() bool { n, _ := closer.counts(); return n >= workers }, 10*time.Second, 5*time.Millisecond)
	for i, r := range late {
		late[i] = f.approve(r) // each wakes the runner
	}
	require.Never(t, func() bool { _, most := closer.counts(); return most > workers }, 300*time.Millisecond, 5*time.Millisecond,
		"woken work waits for the pass's workers")
	close(closer.release)
	for _, r := range append(early, late...) {
		require.Eventually(t, func() bool { return f.stateOf(r.ID()) == cancellation.StateCancelled }, 10*time.Second, 5*time.Millisecond)
	}
	_, most := closer.counts()
	require.Equal(t, workers, most)
}

package cancellation

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// EffectMode says where the effects of a transition are carried out.
type EffectMode int

const (
	// EffectsInline carries out a transition's effects in the call that
	// made it (the default): when Approve returns, the account is closed
	// and the customer notified, unless a port failed (maintenance then
	// retries) or the caller's context ended first (they go on in the
	// background).
	EffectsInline EffectMode = iota
	// EffectsDeferred stores the transition with its effects and returns:
	// Service.Run carries them out at once on this replica (it is woken
	// in-process), or any replica's Run or RunMaintenance on its next
	// pass. Run a runner (or schedule RunMaintenance) with this mode.
	EffectsDeferred
)

func (m EffectMode) validate() error {
	if m != EffectsInline && m != EffectsDeferred {
		return invalid("config", fmt.Sprintf("Effects is %d: use EffectsInline or EffectsDeferred", int(m)))
	}
	return nil
}

// String returns "inline" or "deferred".
func (m EffectMode) String() string {
	if m == EffectsDeferred {
		return "deferred"
	}
	return "inline"
}

// DefaultPollInterval is how often Service.Run looks for due work unless
// Config.PollInterval says otherwise.
const DefaultPollInterval = 30 * time.Second

// settleWithin carries out the effects r's change claimed, for at most as
// long as the caller's context allows: when it ends first, the effects go
// on in the background (their outcome is recorded, and Run waits for them
// on a graceful stop) and r is returned as stored.
func (s *Service) settleWithin(ctx context.Context, r *Request) *Request {
	if ctx.Done() == nil {
		r, _, _ = s.settle(ctx, r)
		return r
	}
	done := make(chan *Request, 1)
	// The background works on a copy of its own: r may go to the caller
	// while it works, and the caller may read r (or copy it) meanwhile.
	own := r.handOver()
	s.background.Add(1)
	goWork(func() {
		defer s.background.Done()
		settled, _, _ := s.settle(context.WithoutCancel(ctx), own)
		done <- settled
	})
	select {
	case settled := <-done:
		return settled
	case <-ctx.Done():
		return r
	}
}

// waker hands the runner the ids of requests whose effects are due now.
type waker struct {
	mu  sync.Mutex
	ids map[string]bool
	c   chan struct{}
}

func newWaker() *waker { return &waker{ids: map[string]bool{}, c: make(chan struct{}, 1)} }

// maxWoken bounds the ids a waker holds: past it new ids are dropped and
// left to the next poll, so that a runner that is not running costs
// bounded memory.
const maxWoken = 4096

func (w *waker) add(id string) {
	w.mu.Lock()
	if len(w.ids) < maxWoken {
		w.ids[id] = true
	}
	w.mu.Unlock()
	select {
	case w.c <- struct{}{}:
	default:
	}
}

func (w *waker) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.ids))
	for id := range w.ids {
		out = append(out, id)
	}
	clear(w.ids)
	return out
}

// wakeIfDue wakes the runner when r, just stored, has an effect that no
// instance holds and that is due now.
func (s *Service) wakeIfDue(r *Request) {
	now := s.now()
	for _, e := range r.d.Effects {
		if e.open() && e.LeaseOwner == "" && !now.Before(e.dueAt()) {
			s.wake.add(r.ID())
			return
		}
	}
}

// Run carries out due work until ctx ends: the effects of every request
// (notifications, closing accounts, purging documents) and the work time
// brings (expiry, the end of cooling-off and settlement periods, overdue
// reviews, purges), as RunMaintenance does. Run it on every replica:
// effects are claimed through the Store, so replicas share the work.
//
// It makes a RunMaintenance pass at once and then every
// Config.PollInterval, jittered by up to a fifth either way so that
// replicas do not poll in step; a transition stored by this Service that
// records an effect due now wakes it early for that request (with
// EffectsDeferred, that is every such transition). At most
// Config.MaintenanceConcurrency requests are worked on at once, by the
// woken work and a pass together (inline effects that outlived their
// caller are the caller's, not counted): a pass starts its due closings
// before its other work, but may wait for workers that woken work holds.
// Failures are logged, never fatal.
//
// When ctx ends, Run starts nothing new, waits for the work in flight
// (including inline effects that outlived their caller) to finish and
// record its outcome, and returns nil. Hosts that schedule the work
// themselves call RunMaintenance instead.
func (s *Service) Run(ctx context.Context) error {
	logRun := func(rep MaintenanceReport, err error) { s.logRun(ctx, rep, err) }
	// The passes and the woken work share one set of slots.
	slots := s.maintenanceSlots()
	woken := s.maintenancePool(ctx, slots)
	woken.work = context.WithoutCancel(ctx)
	var passes sync.WaitGroup
	passing := false
	passDone := make(chan struct{}, 1)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			passes.Wait()
			woken.wg.Wait()
			logRun(woken.drain())
			s.background.Wait()
			return nil
		case <-timer.C:
			if passing { // the pass before is still running: skip this tick
				timer.Reset(s.pollDelay())
				continue
			}
			passing = true
			passes.Add(1)
			go func() {
				defer passes.Done()
				logRun(s.runMaintenance(ctx, context.WithoutCancel(ctx), slots))
				passDone <- struct{}{}
			}()
		case <-passDone:
			passing = false
			timer.Reset(s.pollDelay())
		case <-s.wake.c:
			var due []*Request
			for _, id := range s.wake.take() {
				r, err := s.store.Get(ctx, id)
				if err != nil {
					if ctx.Err() == nil {
						s.log.WarnContext(ctx, "cancellation: runner could not read a woken request", "request", id, "error", err)
					}
					continue
				}
				due = append(due, r)
			}
			woken.run(due)
			logRun(woken.drain())
		}
	}
}

// pollDelay is the poll interval with up to a fifth of jitter either way.
func (s *Service) pollDelay() time.Duration {
	d := s.cfg.PollInterval
	j := int64(d / 5)
	if j <= 0 {
		return d
	}
	return d - time.Duration(j) + time.Duration(rand.Int64N(2*j+1))
}

// drain returns the work the pool finished so far and forgets it, for a
// pool that lives as long as Run.
func (p *maintenancePool) drain() (MaintenanceReport, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rep, errs := p.rep, p.errs
	p.rep, p.errs = MaintenanceReport{}, nil
	return rep, errors.Join(errs...)
}

// logRun logs the outcome of the runner's work.
func (s *Service) logRun(ctx context.Context, rep MaintenanceReport, err error) {
	if err != nil && !errors.Is(err, context.Canceled) {
		s.log.WarnContext(ctx, "cancellation: runner work failed; it is retried", "error", err)
	}
	if rep.Examined > 0 {
		s.log.DebugContext(ctx, "cancellation: runner work done", "examined", rep.Examined, "effects_done", rep.EffectsDone,
			"effects_failed", rep.EffectsFailed, "closed", rep.Closed, "flagged", rep.Flagged)
	}
}

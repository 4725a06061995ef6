package cancellation

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaintenanceConcurrency is how many requests one RunMaintenance
// call works on at once unless Config.MaintenanceConcurrency says
// otherwise.
const DefaultMaintenanceConcurrency = 8

// maintenancePool does the due work of requests, at most
// Config.MaintenanceConcurrency at once, so that a port hanging on one
// request (each call is bounded by half the effect lease) does not hold up
// the others. RunMaintenance hands it each batch of due requests with run
// and collects the outcome with wait: a batch does not wait for the one
// before it to finish, only for free workers.
type maintenancePool struct {
	s   *Service
	ctx context.Context
	// work is the context of the work started: ctx, or for the runner a
	// context that outlives ctx, so that a graceful stop lets the work in
	// flight finish and record its outcome.
	work  context.Context
	slots chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	rep   MaintenanceReport
	errs  []error
	// stopped is ctx's error once ctx ended before every request started.
	stopped error
}

// maintenancePool returns a pool for ctx whose workers take slots (nil:
// slots of its own, Config.MaintenanceConcurrency of them). Pools that share
// slots work on at most that many requests at once between them.
func (s *Service) maintenancePool(ctx context.Context, slots chan struct{}) *maintenancePool {
	if slots == nil {
		slots = s.maintenanceSlots()
	}
	return &maintenancePool{s: s, ctx: ctx, work: ctx, slots: slots}
}

// maintenanceSlots returns Config.MaintenanceConcurrency free slots.
func (s *Service) maintenanceSlots() chan struct{} {
	n := s.cfg.MaintenanceConcurrency
	if n <= 0 {
		n = DefaultMaintenanceConcurrency
	}
	return make(chan struct{}, n)
}

// run starts the due work of each request in due as workers free up,
// those whose account closing is due first, so that a close is not queued
// behind other requests' notifications. It returns once every request has
// started, or when the context ends.
func (p *maintenancePool) run(due []*Request) {
	order := make([]int, len(due))
	for i := range order {
		order[i] = i
	}
	now := p.s.now()
	slices.SortStableFunc(order, func(a, b int) int {
		return closingRank(due[a], now) - closingRank(due[b], now)
	})
	for _, i := range order {
		select {
		case p.slots <- struct{}{}:
		case <-p.ctx.Done():
		}
		if err := p.ctx.Err(); err != nil {
			p.stopped = err
			return
		}
		p.wg.Add(1)
		go func(r *Request) {
			defer func() { <-p.slots; p.wg.Done() }()
			mine := MaintenanceReport{Examined: 1}
			err := p.maintain(r, &mine)
			p.mu.Lock()
			defer p.mu.Unlock()
			p.rep.add(mine)
			if err != nil {
				p.errs = append(p.errs, fmt.Errorf("request %s: %w", r.ID(), err))
			}
		}(due[i])
	}
}

// maintain does one request's work on a worker, where a panic (of the
// Store, say) would end the process: it becomes the request's error.
func (p *maintenancePool) maintain(r *Request, rep *MaintenanceReport) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("maintenance panicked: %v", v)
		}
	}()
	return p.s.maintain(p.work, r, rep)
}

// wait waits for the work started, adds it to rep and returns the errors
// of the requests that failed (sorted), then ctx's error if ctx ended before every
// request was started.
func (p *maintenancePool) wait(rep *MaintenanceReport) []error {
	p.wg.Wait()
	rep.add(p.rep)
	// Requests finish in any order: sort, so that a pass's error reads the
	// same from run to run.
	slices.SortFunc(p.errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	if p.stopped != nil {
		return append(p.errs, p.stopped)
	}
	return p.errs
}

// closingRank is 0 for a request whose account closing is due (a pending
// close effect, or the end of its scheduled period), 1 for any other.
func closingRank(r *Request, now time.Time) int {
	if r.State() == StateScheduled && !r.closing() && !now.Before(r.closingDueAt()) {
		return 0
	}
	if slices.ContainsFunc(r.d.Effects, func(e Effect) bool { return e.Kind == EffectCloseAccount && e.open() }) {
		return 0
	}
	return 1
}

// add counts o's work in m.
func (m *MaintenanceReport) add(o MaintenanceReport) {
	m.Examined += o.Examined
	m.EffectsDone += o.EffectsDone
	m.EffectsFailed += o.EffectsFailed
	m.Expired += o.Expired
	m.Closed += o.Closed
	m.Rejected += o.Rejected
	m.Overdue += o.Overdue
	m.ClosingDeferred += o.ClosingDeferred
	m.Flagged += o.Flagged
	m.ErasureOverdue += o.ErasureOverdue
}

// executeAll carries out a request's claimed effects and returns their
// outcomes by key. Each call may take half the lease: an effect is started
// only while that much of its claim is left, so that no other replica can
// claim it while it runs; the others are left out of the result and wait
// for maintenance.
//
// The effects run one after another on the caller's goroutine, the
// account's close first, since ports that answer at once cost less so
// than handed to goroutines. When every port they call answers in the
// caller's process (see Service.inProcess) that is all; otherwise those
// not started after spreadAfter
// (about a millisecond, with the timer's resolution) are spread over a
// goroutine each, so that a slow port holds up the others (a close never
// waits for a notification) by about that. Each effect's claim is checked
// as it starts, so one that the effects before it delayed is left out.
// effects point into r, which nothing changes meanwhile; execute copies
// what each port gets.
func (s *Service) executeAll(ctx context.Context, r *Request, effects []*Effect) map[string]error {
	start := make([]*Effect, 0, len(effects))
	for _, e := range effects {
		if s.leaseLeft(e.LeaseUntil) {
			start = append(start, e)
		}
	}
	results := make(map[string]error, len(start))
	if len(start) == 1 { // the common case needs no goroutine
		results[start[0].Key] = s.execute(ctx, r, *start[0])
		return results
	}
	// The account's close first (a request has one).
	if i := slices.IndexFunc(start, func(e *Effect) bool { return e.Kind == EffectCloseAccount }); i > 0 {
		start[0], start[i] = start[i], start[0]
	}
	er := &effectRun{s: s, ctx: ctx, r: r, start: start, results: results}
	if s.inProcess(start) {
		// Nothing to spread: no port here blocks, nor a hook.
		er.run()
		return results
	}
	er.wg.Add(1) // the spreader's own
	spread := time.AfterFunc(spreadAfter, er.spread)
	er.run()
	if spread.Stop() {
		er.wg.Done() // the spreader never ran
	}
	er.wg.Wait()
	return results
}

// inProcess reports whether every port the effects call answers in the
// caller's process (ports.InProcess) and no hook hears of their attempts
// (a hook may block), so that running them one after another on the
// caller holds none up: a notification (with the AccountDirectory when it
// was recorded without its address) and the account's close; other
// effects call ports that may block, and are spread.
func (s *Service) inProcess(effects []*Effect) bool {
	if s.hooks != nil && len(s.hooks.effects) > 0 {
		return false
	}
	for _, e := range effects {
		switch {
		case e.Kind == EffectNotify && inProcess(s.cfg.Notifier) &&
			(e.Notification == nil || e.Notification.To != "" || inProcess(s.cfg.Accounts)):
		case e.Kind == EffectCloseAccount && inProcess(s.cfg.Closer):
		default:
			return false
		}
	}
	return true
}

// effectRun is what executeAll's caller and the goroutines its spread
// starts share: one allocation, not one per variable and closure.
type effectRun struct {
	s       *Service
	ctx     context.Context
	r       *Request
	start   []*Effect
	results map[string]error // under mu
	mu      sync.Mutex
	wg      sync.WaitGroup
	taken   atomic.Int64
}

// run executes the effects not taken yet, one after another; execute
// recovers a port's panic: run does not panic.
func (er *effectRun) run() {
	for {
		i := int(er.taken.Add(1) - 1)
		if i >= len(er.start) {
			return
		}
		if !er.s.leaseLeft(er.start[i].LeaseUntil) {
			continue // the effects before it took that long: left out
		}
		err := er.s.execute(er.ctx, er.r, *er.start[i])
		er.mu.Lock()
		er.results[er.start[i].Key] = err
		er.mu.Unlock()
	}
}

// spread gives every effect not taken yet a goroutine of its own.
func (er *effectRun) spread() {
	defer er.wg.Done()
	for range len(er.start) - min(len(er.start), int(er.taken.Load())) {
		er.wg.Add(1)
		goWork(func() {
			defer er.wg.Done()
			er.run()
		})
	}
}

// leaseLeft reports whether an effect claimed until leaseUntil may start
// now: whether half the lease, the most a port call may take, is left.
func (s *Service) leaseLeft(leaseUntil time.Time) bool {
	return s.now().Add(s.cfg.EffectLease / 2).Before(leaseUntil)
}

package cancellation

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// DefaultMaintenanceConcurrency is how many requests one RunMaintenance
// call works on at once unless Config.MaintenanceConcurrency says
// otherwise.
const DefaultMaintenanceConcurrency = 8

// maintainAll does the due work of each request in due, at most
// Config.MaintenanceConcurrency requests at once, so that a port hanging
// on one request (each call is bounded by half the effect lease) does not
// hold up the others. Requests whose account closing is due start first,
// so that a close is not queued behind other requests' notifications. It
// adds what it did to rep and returns the errors of the requests that
// failed, in due's order, then ctx's error if ctx ended before every
// request was started.
func (s *Service) maintainAll(ctx context.Context, due []*Request, rep *MaintenanceReport) []error {
	n := s.cfg.MaintenanceConcurrency
	if n <= 0 {
		n = DefaultMaintenanceConcurrency
	}
	order := make([]int, len(due))
	for i := range order {
		order[i] = i
	}
	now := s.now()
	slices.SortStableFunc(order, func(a, b int) int {
		return closingRank(due[a], now) - closingRank(due[b], now)
	})
	errs := make([]error, len(due))
	var mu sync.Mutex
	var wg sync.WaitGroup
	slots := make(chan struct{}, n)
	var stopped error
	for _, i := range order {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if stopped = ctx.Err(); stopped != nil {
			break
		}
		wg.Add(1)
		go func(r *Request) {
			defer func() { <-slots; wg.Done() }()
			var mine MaintenanceReport
			mine.Examined = 1
			err := s.maintain(ctx, r, &mine)
			mu.Lock()
			defer mu.Unlock()
			rep.add(mine)
			if err != nil {
				errs[i] = fmt.Errorf("request %s: %w", r.ID(), err)
			}
		}(due[i])
	}
	wg.Wait()
	out := slices.DeleteFunc(errs, func(err error) bool { return err == nil })
	if stopped != nil {
		out = append(out, stopped)
	}
	return out
}

// closingRank is 0 for a request whose account closing is due (a pending
// close effect, or the end of its scheduled period), 1 for any other.
func closingRank(r *Request, now time.Time) int {
	if r.State() == StateScheduled && !r.closing() && !now.Before(r.d.ScheduledFor) {
		return 0
	}
	if slices.ContainsFunc(r.d.Effects, func(e Effect) bool { return e.Kind == EffectCloseAccount && !e.Done() }) {
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
}

// executeAll carries out a request's claimed effects at once, so that a
// close never waits for a notification of its own request, and returns
// their outcomes by key. Each call may take half the lease: an effect is
// started only while that much of its claim is left, so that no other
// replica can claim it while it runs; the others are left out of the
// result and wait for maintenance.
func (s *Service) executeAll(ctx context.Context, r *Request, effects []Effect) map[string]error {
	var start []Effect
	for _, e := range effects {
		if s.now().Add(s.cfg.EffectLease / 2).Before(e.LeaseUntil) {
			start = append(start, e)
		}
	}
	results := make(map[string]error, len(start))
	if len(start) == 1 { // the common case needs no goroutine
		results[start[0].Key] = s.execute(ctx, r, start[0])
		return results
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, e := range start {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.execute(ctx, r, e)
			mu.Lock()
			results[e.Key] = err
			mu.Unlock()
		}()
	}
	wg.Wait()
	return results
}

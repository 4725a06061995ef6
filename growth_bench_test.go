package cancellation_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// BenchmarkTransitionGrowth measures one transition through the Service
// (a consent to a changed voucher: rules evaluated, the request read,
// changed and written back with one new event) on requests whose history
// already holds 10, 100 and 212 events (212 plus the 8 timed transitions
// stays under the customer's cap, cancellation.CustomerHistoryLimit). The
// three sizes take turns within each iteration, so that load on the
// machine weighs on all of them alike; requests are filled with the clock
// stopped and each takes at most perRequest timed transitions. It reports
// the median µs per transition at each size and its ratio to 10 events: a
// transition must cost the same whatever the length of the history.
//
//	go test -run='^$' -bench=TransitionGrowth -benchtime=300x .
func BenchmarkTransitionGrowth(b *testing.B) {
	const perRequest = 8
	sizes := []int{10, 100, 212}
	f := newFixture(b)
	type target struct {
		acct ports.AccountID
		id   string
		used int
	}
	vouchers := 0
	// consent gives the request a consent to a changed voucher; it returns
	// how long the Service call took.
	consent := func(t target) time.Duration {
		vouchers++
		f.platform.DeleteRights(t.acct).AddRight(t.acct, ports.Right{Kind: ports.RightVoucher, Ref: fmt.Sprintf("v-%d", vouchers%2), Description: "Voucher", Value: usd(100)})
		rep, err := f.svc.CheckEligibility(f.ctx, t.acct)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, err := f.svc.Consent(f.ctx, t.acct, t.id, rep.Consents()); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	n := 0
	fresh := func(size int) target {
		n++
		acct := f.personal(ports.AccountID(fmt.Sprintf("acct-growth-%d", n))).ID
		t := target{acct: acct, id: f.confirm(f.start(acct)).ID()}
		for len(f.stored(t.id).History()) < size {
			consent(t)
		}
		return t
	}
	targets := make([]target, len(sizes))
	spent := make([][]time.Duration, len(sizes))
	b.ResetTimer()
	b.StopTimer()
	for range b.N {
		for i, size := range sizes {
			if targets[i].id == "" || targets[i].used == perRequest {
				targets[i] = fresh(size)
			}
			targets[i].used++
			spent[i] = append(spent[i], consent(targets[i]))
		}
	}
	// Medians: a stall of the shared machine lands on one size, not all.
	median := func(ds []time.Duration) time.Duration {
		ds = slices.Clone(ds)
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	for i, size := range sizes {
		m := median(spent[i])
		b.ReportMetric(float64(m.Nanoseconds())/1000, fmt.Sprintf("µs/transition@%d", size))
		if i > 0 {
			b.ReportMetric(float64(m)/float64(median(spent[0])), fmt.Sprintf("x@%d/x@10", size))
		}
	}
}

// BenchmarkMaintenanceBacklog works through a backlog of 100,000 abandoned
// applications, all due at once, in one RunMaintenance pass over the
// memory Store: they are listed in keyset batches (the largest List
// result is reported as max-batch), so memory stays bounded by the batch,
// not by the backlog.
//
//	go test -run='^$' -bench=MaintenanceBacklog -benchtime=1x .
func BenchmarkMaintenanceBacklog(b *testing.B) {
	const backlog = 100_000
	for range b.N {
		b.StopTimer()
		spy := &listSpy{}
		f := newFixture(b, func(c *cancellation.Config) {
			spy.Store = c.Store
			c.Store = spy
		})
		tmpl := f.start(f.personal("acct-backlog-tmpl").ID)
		data, err := tmpl.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		for i := range backlog {
			acct := fmt.Sprintf("acct-bl-%06d", i)
			// Only the top-level id and account change: the newest
			// event, under its keyed hash, stays as it was.
			doc := strings.Replace(strings.Replace(string(data), `"id":"`+tmpl.ID()+`"`, fmt.Sprintf(`"id":"can_bl%06d"`, i), 1),
				`"account":"acct-backlog-tmpl"`, `"account":"`+acct+`"`, 1)
			r := new(cancellation.Request)
			if err := r.UnmarshalBinary([]byte(doc)); err != nil {
				b.Fatal(err)
			}
			if err := f.kit.Store.Create(f.ctx, r); err != nil {
				b.Fatal(err)
			}
			f.personal(ports.AccountID(acct))
		}
		f.clock.Advance(8 * 24 * time.Hour)
		spy.sizes = nil
		b.StartTimer()
		rep, err := f.svc.RunMaintenance(f.ctx)
		b.StopTimer()
		if err != nil || rep.Expired != backlog+1 {
			b.Fatalf("expired %d of %d: %v", rep.Expired, backlog+1, err)
		}
		b.ReportMetric(float64(slices.Max(spy.sizes)), "max-batch")
		b.ReportMetric(float64(len(spy.sizes)), "lists")
		b.ReportMetric(float64(backlog+1)/b.Elapsed().Seconds(), "requests/s")
	}
}

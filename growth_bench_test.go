package cancellation_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

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

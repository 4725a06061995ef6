package cancellation_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

func TestAddMonths_SameDayNextMonthClampedToMonthEnd(t *testing.T) {
	t.Parallel()
	at := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 9, 30, 0, 0, time.UTC) }
	for _, c := range []struct {
		from time.Time
		n    int
		want time.Time
	}{
		{at(2025, time.January, 31), 1, at(2025, time.February, 28)},
		{at(2024, time.January, 31), 1, at(2024, time.February, 29)}, // leap year
		{at(2025, time.January, 30), 1, at(2025, time.February, 28)},
		{at(2025, time.March, 31), 1, at(2025, time.April, 30)},
		{at(2025, time.March, 15), 1, at(2025, time.April, 15)},
		{at(2025, time.December, 31), 1, at(2026, time.January, 31)},
		{at(2025, time.December, 31), 2, at(2026, time.February, 28)},
		{at(2025, time.January, 31), 3, at(2025, time.April, 30)},
	} {
		require.Equal(t, c.want, cancellation.AddMonths(c.from, c.n), "%s + %d months", c.from.Format(time.DateOnly), c.n)
	}
	// Other zones are read in UTC.
	berlin := time.FixedZone("CET", 3600)
	require.Equal(t, time.Date(2025, time.February, 28, 23, 30, 0, 0, time.UTC),
		cancellation.AddMonths(time.Date(2025, time.February, 1, 0, 30, 0, 0, berlin), 1))
}

func TestErasureDeadline_OneMonthFromTheRequestShownToTheCustomer(t *testing.T) {
	f := setup(t)
	f.personal("acct-e1")
	r := f.start("acct-e1")
	require.Equal(t, cancellation.AddMonths(t0, 1), r.ErasureDueAt())
	require.Equal(t, time.Date(2025, time.April, 3, 9, 0, 0, 0, time.UTC), r.ErasureDueAt())
	require.Equal(t, r.ErasureDueAt(), r.View().ErasureDueAt)
	require.False(t, r.ErasureOverdue(r.ErasureDueAt()))
	require.True(t, r.ErasureOverdue(r.ErasureDueAt().Add(time.Second)))
	_, extended := r.ErasureExtension()
	require.False(t, extended)
	require.Nil(t, r.View().ErasureExtension)
}

// senior adds a senior to the kit's staff directory and returns them as a
// Reviewer.
func (f *fixture) senior(id string) cancellation.Reviewer {
	return f.staffMember(id, ports.RoleSenior, "")
}

func TestExtendErasureDeadline_BySeniorWithReason_CustomerToldByNotificationAndView(t *testing.T) {
	f := setup(t)
	f.personal("acct-ext")
	r := f.toReview("acct-ext")
	sen := f.senior("sen-1")
	const reason = "the documents need a second check by the fraud team"

	got, err := f.svc.ExtendErasureDeadline(f.ctx, sen, r.ID(), 2, reason)
	require.NoError(t, err)
	want := cancellation.AddMonths(t0, 3)
	require.Equal(t, want, got.ErasureDueAt())
	x, ok := got.ErasureExtension()
	require.True(t, ok)
	require.Equal(t, cancellation.ErasureExtension{Months: 2, Reason: reason, By: "sen-1", At: t0}, x)
	v := got.View()
	require.Equal(t, want, v.ErasureDueAt)
	require.Equal(t, &cancellation.ErasureExtensionView{Months: 2, Reason: reason, At: t0}, v.ErasureExtension)
	ev := lastOf(t, f.stored(r.ID()), cancellation.EventErasureExtended)
	require.Equal(t, reason, ev.Data["reason"])
	require.Equal(t, cancellation.ActorReviewer, ev.Actor.Kind)
	require.Equal(t, "sen-1", ev.Actor.ID)

	var told *ports.Notification
	for _, n := range f.kit.Notifier.Sent() {
		if n.Template == cancellation.TemplateErasureExtended {
			told = &n
		}
	}
	require.NotNil(t, told, "the customer is not told")
	require.Equal(t, want.Format(time.RFC3339), told.Data[cancellation.DataErasureDueAt])
	require.Equal(t, reason, told.Data[cancellation.DataReason])
	require.Equal(t, r.ID(), told.Data[cancellation.DataRequestID])
}

func TestExtendErasureDeadline_RefusedToReviewersUnknownStaffAndWithoutDirectory(t *testing.T) {
	f := setup(t)
	f.personal("acct-ext-forbid")
	r := f.toReview("acct-ext-forbid")
	f.kit.Staff.Put(ports.StaffMember{ID: "rev-only", Name: "rev", Roles: []ports.Role{ports.RoleReviewer}})
	before := f.storedJSON(r.ID())
	for _, rv := range []cancellation.Reviewer{{ID: "rev-only"}, {ID: "nobody"}} {
		_, err := f.svc.ExtendErasureDeadline(f.ctx, rv, r.ID(), 1, "reason")
		require.ErrorIs(t, err, cancellation.ErrForbidden, rv.ID)
	}
	f.requireUnchanged(r.ID(), before)

	// Without a directory there is no Service at all: Config.Staff is
	// required (TestNew_RequiresAStaffDirectory).
	cfg := f.cfg
	cfg.Staff = nil
	_, err := cancellation.New(cfg)
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)
}

func TestExtendErasureDeadline_BadInputAndLateOrShorterExtensionsChangeNothing(t *testing.T) {
	f := setup(t)
	f.personal("acct-ext-bad")
	r := f.start("acct-ext-bad")
	sen := f.senior("sen-2")
	before := f.storedJSON(r.ID())
	var ve *cancellation.ValidationError
	for _, c := range []struct {
		months int
		reason string
	}{{0, "r"}, {3, "r"}, {-1, "r"}, {1, ""}, {1, " \t\n"}, {1, strings.Repeat("x", 1001)}, {1, "\xff"}} {
		_, err := f.svc.ExtendErasureDeadline(f.ctx, sen, r.ID(), c.months, c.reason)
		require.ErrorAs(t, err, &ve, "months %d reason %q", c.months, c.reason)
	}
	f.requireUnchanged(r.ID(), before)

	_, err := f.svc.ExtendErasureDeadline(f.ctx, sen, r.ID(), 2, "backlog")
	require.NoError(t, err)
	_, err = f.svc.ExtendErasureDeadline(f.ctx, sen, r.ID(), 1, "shorter")
	var te *cancellation.TransitionError
	require.ErrorAs(t, err, &te, "an extension is never shortened")

	// Past the first month no extension may be given (Art. 12(3)).
	f.personal("acct-ext-late")
	late := f.start("acct-ext-late")
	f.clock.Advance(32 * 24 * time.Hour)
	_, err = f.svc.ExtendErasureDeadline(f.ctx, sen, late.ID(), 1, "too late")
	require.ErrorAs(t, err, &te)
	require.Contains(t, err.Error(), "within one month")

	// Nor to a request that has ended.
	f.personal("acct-ext-ended")
	ended, err := f.svc.Withdraw(f.ctx, "acct-ext-ended", f.start("acct-ext-ended").ID())
	require.NoError(t, err)
	_, err = f.svc.ExtendErasureDeadline(f.ctx, sen, ended.ID(), 1, "ended")
	require.ErrorAs(t, err, &te)
}

// erasureHook records the requests reported past their erasure deadline.
type erasureHook struct {
	cancellation.HookDefaults
	mu   sync.Mutex
	seen []cancellation.ErasureOverdueInfo
}

func (h *erasureHook) ErasureOverdue(_ context.Context, e cancellation.ErasureOverdueInfo) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seen = append(h.seen, e)
}

func TestMaintenance_CountsUndecidedRequestsPastTheirErasureDeadlineOnce_HookAndEvent(t *testing.T) {
	hook := &erasureHook{}
	f := setup(t, withMode(cancellation.CoolingOff(40*24*time.Hour)), func(c *cancellation.Config) { c.Hooks = append(c.Hooks, hook) })
	f.personal("acct-late")
	f.personal("acct-done")
	f.personal("acct-decided")
	r := f.toReview("acct-late")
	done := f.toReview("acct-done")
	_, err := f.svc.Withdraw(f.ctx, "acct-done", done.ID())
	require.NoError(t, err)
	// Approved, closing at the end of a cooling-off period past the
	// deadline: decided in time, so not overdue.
	decided, err := f.svc.Approve(f.ctx, staff, f.toReview("acct-decided").ID(), "")
	require.NoError(t, err)
	require.Equal(t, cancellation.StateScheduled, decided.State())
	require.True(t, decided.ScheduledFor().After(decided.ErasureDueAt().Add(time.Hour)))

	f.clock.Set(r.ErasureDueAt())
	require.Zero(t, f.maintain().ErasureOverdue, "due, not past due")
	f.clock.Advance(time.Minute)
	rep := f.maintain()
	require.Equal(t, 1, rep.ErasureOverdue, "the undecided request only")
	require.False(t, f.stored(decided.ID()).ErasureOverdue(f.clock.Now()))
	require.Equal(t, 1, countEvents(f.history(r.ID()), cancellation.EventErasureOverdue))
	require.Len(t, hook.seen, 1)
	require.Equal(t, cancellation.ErasureOverdueInfo{RequestID: r.ID(), State: cancellation.StateInReview, DueAt: r.ErasureDueAt(), At: f.clock.Now().UTC()}, hook.seen[0])

	f.clock.Advance(time.Hour)
	require.Zero(t, f.maintain().ErasureOverdue, "counted once")
	require.Len(t, hook.seen, 1)
	page, err := f.svc.ReviewQueue(f.ctx, staff, cancellation.QueueOptions{})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	require.True(t, page.Items[0].ErasureOverdue)
	require.Equal(t, r.ErasureDueAt(), page.Items[0].ErasureDueAt)
}

func TestReviewQueue_ReviewNeverDueAfterTheErasureDeadline_SoErasureOverdueComeFirst(t *testing.T) {
	f := setup(t, func(c *cancellation.Config) { c.ExpireAfter = 20 * 24 * time.Hour })
	f.personal("acct-slow")
	f.personal("acct-fast")
	// acct-slow starts first and submits 30 days later: three business
	// days from then are past its erasure deadline, which caps the review.
	slow := f.start("acct-slow")
	f.clock.Advance(15 * 24 * time.Hour)
	slow = f.confirm(slow)
	f.clock.Advance(15 * 24 * time.Hour)
	slow = f.submit(f.verifyPhone(slow))
	require.Equal(t, slow.ErasureDueAt(), slow.DueAt(), "the review is due at the erasure deadline")
	require.True(t, slow.DueAt().Before(f.clock.Now().Add(3*24*time.Hour)))

	fast := f.toReview("acct-fast")
	require.True(t, fast.DueAt().Before(fast.ErasureDueAt()))

	f.clock.Set(slow.ErasureDueAt().Add(time.Minute))
	page, err := f.svc.ReviewQueue(f.ctx, staff, cancellation.QueueOptions{Limit: 1})
	require.NoError(t, err)
	require.Equal(t, slow.ID(), page.Items[0].Request.ID())
	require.True(t, page.Items[0].ErasureOverdue)
	require.True(t, page.Items[0].Overdue)
	next, err := f.svc.ReviewQueue(f.ctx, staff, cancellation.QueueOptions{Limit: 1, After: page.Next})
	require.NoError(t, err)
	require.Equal(t, fast.ID(), next.Items[0].Request.ID())
	require.False(t, next.Items[0].ErasureOverdue)
}

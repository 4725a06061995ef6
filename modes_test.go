package cancellation_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
)

func TestModes_ImmediateIsDefault(t *testing.T) {
	f := setup(t)
	require.Equal(t, cancellation.Immediate, cancellation.ClosingMode{})
	require.Equal(t, "immediate", cancellation.Immediate.String())
	a := f.personal("acct-immediate")
	r := f.approve(f.toReview(a.ID))
	require.Equal(t, cancellation.StateCancelled, r.State())
	require.True(t, f.closed(a.ID))
	require.Zero(t, r.ScheduledFor())
	require.NotContains(t, eventTypes(r.History()), cancellation.EventScheduled)
	require.Equal(t, "immediate", lastOf(t, r, cancellation.EventApproved).Data["mode"])
}

func TestModes_CoolingOff(t *testing.T) {
	const period = 72 * time.Hour
	f := setup(t, withMode(cancellation.CoolingOff(period)))
	require.Equal(t, "cooling_off 72h0m0s", cancellation.CoolingOff(period).String())
	require.Equal(t, period, cancellation.CoolingOff(period).Period())
	withdrawn, closing := f.personal("acct-cool-withdraw"), f.personal("acct-cool-close")

	r := f.approve(f.toReview(withdrawn.ID))
	require.Equal(t, cancellation.StateScheduled, r.State())
	require.Equal(t, t0.Add(period), r.ScheduledFor())
	require.False(t, f.closed(withdrawn.ID))
	require.Equal(t, []string{"review_approved/sms/" + withdrawn.RecoveryPhone}, sentTo(f.kit.Notifier))
	require.Equal(t, r.ScheduledFor().Format(time.RFC3339), f.kit.Notifier.Sent()[0].Data["scheduled_for"])
	c := f.approve(f.toReview(closing.ID))

	f.clock.Advance(period - time.Second)
	require.Zero(t, f.maintain().Closed, "nothing closes before the period ends")
	r, err := f.svc.Withdraw(f.ctx, withdrawn.ID, r.ID())
	require.NoError(t, err, "the customer may withdraw during the cooling-off period")
	require.Equal(t, cancellation.StateWithdrawn, r.State())
	require.False(t, f.closed(withdrawn.ID))
	f.start(withdrawn.ID)

	f.clock.Advance(time.Second)
	rep := f.maintain()
	require.Equal(t, 1, rep.Closed)
	c = f.stored(c.ID())
	require.Equal(t, cancellation.StateCancelled, c.State())
	require.True(t, f.closed(closing.ID))
	_, err = f.svc.Withdraw(f.ctx, closing.ID, c.ID())
	requireTransition(t, err, cancellation.StateCancelled, cancellation.StateWithdrawn)
	require.Zero(t, f.maintain().Closed, "closing happens once")
}

func TestModes_Settlement(t *testing.T) {
	const period = 30 * 24 * time.Hour
	f := setup(t, withMode(cancellation.Settlement(period)))
	late, clean := f.personal("acct-settle-late-bill"), f.personal("acct-settle-clean")
	lr := f.approve(f.toReview(late.ID))
	cr := f.approve(f.toReview(clean.ID))
	require.Equal(t, cancellation.StateScheduled, lr.State())

	before := f.storedJSON(lr.ID())
	_, err := f.svc.Withdraw(f.ctx, late.ID, lr.ID())
	requireTransition(t, err, cancellation.StateScheduled, cancellation.StateWithdrawn)
	f.requireUnchanged(lr.ID(), before)

	f.platform.AddObligation(late.ID, ports.Obligation{Kind: ports.ObligationPayment, Ref: "bill-late", Amount: usd(990)})
	f.clock.Advance(period)
	rep := f.maintain()
	require.Equal(t, 1, rep.Closed)
	require.Equal(t, 1, rep.Rejected)

	lr = f.stored(lr.ID())
	require.Equal(t, cancellation.StateRejected, lr.State())
	d, ok := lr.Decision()
	require.True(t, ok)
	require.Equal(t, []cancellation.ReasonCode{cancellation.ReasonNotEligible}, d.Reasons)
	require.Contains(t, d.Note, cancellation.RuleOpenObligations)
	require.False(t, f.closed(late.ID), "the account stays active")
	require.Contains(t, sentTo(f.kit.Notifier), "review_rejected/sms/"+late.RecoveryPhone)

	require.Equal(t, cancellation.StateCancelled, f.stored(cr.ID()).State())
	require.True(t, f.closed(clean.ID))
}

func TestModes_InvalidPeriod(t *testing.T) {
	t.Parallel()
	kit := memory.NewKit(t0)
	for _, m := range []cancellation.ClosingMode{cancellation.CoolingOff(0), cancellation.Settlement(-time.Hour)} {
		cfg := kit.Config()
		cfg.ClosingMode = m
		_, err := cancellation.New(cfg)
		require.ErrorIs(t, err, cancellation.ErrInvalidInput, m.String())
		var ve *cancellation.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, "closing mode", ve.Field)
	}
}

func TestNew_RequiresEveryPort(t *testing.T) {
	t.Parallel()
	_, err := cancellation.New(cancellation.Config{})
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)
	for _, port := range []string{"Store", "Accounts", "Checkers.Orders", "Checkers.Balances", "Checkers.Authorizations",
		"Checkers.SubUsers", "Checkers.APIKeys", "Checkers.Data", "Checkers.Complaints", "Checkers.Matters",
		"OTP", "Notifier", "Documents", "Closer"} {
		require.Contains(t, err.Error(), port+" is required")
	}
}

package cancellation_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/mock/gomock"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
	"github.com/accountkit/cancellation/ports/mocks"
)

func TestEffects_RetriedWithBackoffUntilDoneOnce(t *testing.T) {
	const failures = 4
	f := setup(t, func(c *cancellation.Config) {
		c.Retry = cancellation.RetryPolicy{Base: time.Minute, Max: 3 * time.Minute}
	})
	a := f.personal("acct-effects")
	r := f.toReview(a.ID)
	f.kit.Notifier.FailNext(failures, errors.New("smtp down"))
	f.platform.FailNext(memory.PortAccountCloser, failures, errors.New("iam down"))

	r = f.approve(r)
	require.Equal(t, cancellation.StateApproved, r.State(), "the close failed: not cancelled yet")
	notifyKey, closeKey := r.ID()+"/review_approved/sms", r.ID()+"/close_account"
	require.Equal(t, notifyKey, effect(t, r, notifyKey).Notification.IdempotencyKey)

	var gaps []time.Duration
	for failed := 1; failed <= failures; failed++ {
		cur := f.stored(r.ID())
		n, c := effect(t, cur, notifyKey), effect(t, cur, closeKey)
		require.Equal(t, failed, n.Attempts)
		require.Equal(t, failed, c.Attempts)
		require.Equal(t, "smtp down", n.LastError)
		require.Equal(t, "iam down", c.LastError)
		require.Equal(t, n.NextAttemptAt, c.NextAttemptAt)
		require.Equal(t, n.NextAttemptAt, cur.NextWake())
		gaps = append(gaps, n.NextAttemptAt.Sub(f.clock.Now()))

		f.clock.Set(n.NextAttemptAt.Add(-time.Second))
		rep := f.maintain()
		require.Zero(t, rep.EffectsDone+rep.EffectsFailed, "no retry before the backoff has passed")

		f.clock.Set(n.NextAttemptAt)
		rep = f.maintain()
		if failed < failures {
			require.Equal(t, 2, rep.EffectsFailed)
			require.Zero(t, rep.EffectsDone)
		} else {
			require.Zero(t, rep.EffectsFailed)
			require.Equal(t, 4, rep.EffectsDone, "the notification, the close and the two success notifications")
		}
	}
	require.Equal(t, []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute, 3 * time.Minute}, gaps,
		"backoff doubles up to RetryPolicy.Max")

	r = f.stored(r.ID())
	require.Equal(t, cancellation.StateCancelled, r.State())
	require.Empty(t, r.PendingEffects())
	require.True(t, f.closed(a.ID))
	require.Equal(t, failures+1, f.platform.CloseCalls(closeKey), "every attempt carried the same key")
	require.Equal(t, failures+1, f.kit.Notifier.Count(notifyKey), "every attempt carried the same key")
	require.Equal(t, failures+1+2, f.kit.Notifier.Attempts(), "no attempt carried another key")
	for _, key := range []string{notifyKey, r.ID() + "/cancelled/sms", r.ID() + "/cancelled/email"} {
		require.Equal(t, 1, f.kit.Notifier.Deliveries(key), key)
		require.Equal(t, f.clock.Now(), effect(t, r, key).DoneAt)
	}
	require.Len(t, f.kit.Notifier.Sent(), 3)
	require.Equal(t, 1, countEvents(r.History(), cancellation.EventCancelled))
	require.NoError(t, verifyHistory(r.History()))

	f.clock.Advance(24 * time.Hour)
	require.Zero(t, f.maintain().Examined, "nothing is left to do")
	require.Equal(t, failures+1+2, f.kit.Notifier.Attempts())
}

func TestEffects_LostAnswerRetriedHarmlessly(t *testing.T) {
	closer := mocks.NewMockAccountCloser(mockController(t))
	f := setup(t, func(c *cancellation.Config) { c.Closer = closer })
	a := f.personal("acct-lost-answer")
	r := f.toReview(a.ID)
	key := r.ID() + "/close_account"
	gomock.InOrder(
		// The host closes the account but the answer is lost.
		closer.EXPECT().CloseAccount(gomock.Any(), a.ID, key).
			DoAndReturn(func(ctx context.Context, id ports.AccountID, k string) error {
				require.NoError(t, f.platform.CloseAccount(ctx, id, k))
				return context.DeadlineExceeded
			}),
		closer.EXPECT().CloseAccount(gomock.Any(), a.ID, key).DoAndReturn(f.platform.CloseAccount),
	)
	r = f.approve(r)
	require.Equal(t, cancellation.StateApproved, r.State())
	require.True(t, f.closed(a.ID))

	f.clock.Advance(30 * time.Second) // the default RetryPolicy.Base
	require.Equal(t, 3, f.maintain().EffectsDone, "the close and the two success notifications")
	require.Equal(t, cancellation.StateCancelled, f.stored(r.ID()).State())
	require.Equal(t, 2, f.platform.CloseCalls(key))
}

// closerFunc adapts a function to ports.AccountCloser.
type closerFunc func(ctx context.Context, id ports.AccountID, key string) error

func (f closerFunc) CloseAccount(ctx context.Context, id ports.AccountID, key string) error {
	return f(ctx, id, key)
}

func TestEffects_LeaseExpiryAfterCrash(t *testing.T) {
	f := setup(t)
	entered, release := make(chan string, 1), make(chan struct{})
	cfg := f.cfg
	cfg.Closer = closerFunc(func(_ context.Context, _ ports.AccountID, key string) error {
		entered <- key
		<-release // the replica is gone: it neither closes nor records
		return nil
	})
	dying, err := cancellation.New(cfg)
	require.NoError(t, err)

	a := f.personal("acct-crash")
	r := f.toReview(a.ID)
	done := make(chan error, 1)
	go func() {
		_, err := dying.Approve(context.Background(), staff, r.ID(), "")
		done <- err
	}()
	key := <-entered
	require.Equal(t, r.ID()+"/close_account", key)
	approved := r.ID() + "/review_approved/sms"
	require.Eventually(t, func() bool { return f.kit.Notifier.Count(approved) == 1 }, 10*time.Second, time.Millisecond,
		"the dying replica sends the approval notice while its close hangs")
	require.Equal(t, cancellation.StateApproved, f.stored(r.ID()).State(), "the approval was stored before the effect ran")
	require.Zero(t, f.maintain().Examined, "another replica leaves a leased effect alone")

	f.clock.Advance(time.Minute) // the default EffectLease
	rep := f.maintain()
	require.Equal(t, 4, rep.EffectsDone)
	require.Equal(t, cancellation.StateCancelled, f.stored(r.ID()).State())
	require.True(t, f.closed(a.ID))
	require.Equal(t, 1, f.platform.CloseCalls(key), "the surviving replica closed with the same key")
	require.Equal(t, 2, f.kit.Notifier.Count(approved), "sent by the dying replica, retried by the other")
	require.Equal(t, 1, f.kit.Notifier.Deliveries(approved))

	close(release)
	require.NoError(t, <-done)
	r = f.stored(r.ID())
	require.Equal(t, cancellation.StateCancelled, r.State())
	require.Equal(t, 1, countEvents(r.History(), cancellation.EventCancelled))
	require.Equal(t, 4, countEvents(r.History(), cancellation.EventEffectDone))
}

// waitRule waits d, or until its context ends.
func waitRule(name string, d time.Duration) cancellation.Rule {
	return cancellation.RuleFunc{RuleName: name, Func: func(ctx context.Context, _ ports.Account) (cancellation.Finding, error) {
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-timer.C:
			return cancellation.Finding{Outcome: cancellation.OutcomePass}, nil
		case <-ctx.Done():
			return cancellation.Finding{}, ctx.Err()
		}
	}}
}

func TestEligibility_FailClosed(t *testing.T) {
	t.Parallel()
	acct := ports.Account{ID: "acct-rules", Kind: ports.Personal}
	rule := func(name string, fn func(context.Context, ports.Account) (cancellation.Finding, error)) cancellation.Rule {
		return cancellation.RuleFunc{RuleName: name, Func: fn}
	}
	pass := rule("pass", func(context.Context, ports.Account) (cancellation.Finding, error) {
		return cancellation.Finding{Outcome: cancellation.OutcomePass}, nil
	})

	for _, tc := range []struct {
		name    string
		rs      cancellation.RuleSet
		culprit string
		cause   string
	}{
		{"Error", cancellation.RuleSet{Rules: []cancellation.Rule{pass, rule("billing", func(context.Context, ports.Account) (cancellation.Finding, error) {
			return cancellation.Finding{Outcome: cancellation.OutcomePass}, errors.New("billing unavailable")
		})}}, "billing", "billing unavailable"},
		{"Panic", cancellation.RuleSet{Rules: []cancellation.Rule{pass, rule("buggy", func(context.Context, ports.Account) (cancellation.Finding, error) {
			panic("nil map")
		})}}, "buggy", "panicked"},
		{"TimeoutHonouringContext", cancellation.RuleSet{Timeout: 20 * time.Millisecond,
			Rules: []cancellation.Rule{pass, waitRule("slow", time.Minute)}}, "slow", "did not answer"},
		{"TimeoutIgnoringContext", cancellation.RuleSet{Timeout: 20 * time.Millisecond,
			Rules: []cancellation.Rule{pass, rule("stuck", func(context.Context, ports.Account) (cancellation.Finding, error) {
				time.Sleep(3 * time.Second)
				return cancellation.Finding{Outcome: cancellation.OutcomePass}, nil
			})}}, "stuck", "did not answer"},
		{"UnknownOutcome", cancellation.RuleSet{Rules: []cancellation.Rule{pass, rule("odd", func(context.Context, ports.Account) (cancellation.Finding, error) {
			return cancellation.Finding{Outcome: "maybe"}, nil
		})}}, "odd", "unknown outcome"},
		{"NilRule", cancellation.RuleSet{Rules: []cancellation.Rule{pass, nil}}, "unnamed rule", "nil"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			rep := tc.rs.Evaluate(context.Background(), acct, t0)
			require.Less(t, time.Since(start), 1500*time.Millisecond, "a stuck rule does not hold the report")
			require.Equal(t, cancellation.OutcomeBlocked, rep.Outcome)
			require.Equal(t, []string{tc.culprit}, findingRules(rep.Blocked()))
			fnd, _ := rep.Finding(tc.culprit)
			require.Contains(t, fnd.Error, tc.culprit+": ", "the error names the rule")
			require.Contains(t, fnd.Error, tc.cause)
			p, _ := rep.Finding("pass")
			require.Equal(t, cancellation.OutcomePass, p.Outcome)
		})
	}

	t.Run("NoRules", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, cancellation.OutcomeBlocked, cancellation.RuleSet{}.Evaluate(context.Background(), acct, t0).Outcome)
	})

	t.Run("PortErrorBlocksStart", func(t *testing.T) {
		f := setup(t)
		a := f.personal("acct-port-down")
		f.platform.SetOutage(memory.PortAPIKeyStore, errors.New("iam unavailable"))
		rep, err := f.svc.CheckEligibility(f.ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, []string{cancellation.RuleAPIKeys}, findingRules(rep.Blocked()))
		fnd, _ := rep.Finding(cancellation.RuleAPIKeys)
		require.Equal(t, 5, fnd.Note)
		require.Equal(t, cancellation.FindingCheckerUnavailable, fnd.Code)
		require.Empty(t, fnd.Error, "the raw error stays out of the customer's report")
		fnd, _ = cancellation.RuleSet{Rules: cancellation.DefaultRules(f.cfg.Checkers)}.Evaluate(f.ctx, a, t0).Finding(cancellation.RuleAPIKeys)
		require.Equal(t, "api_keys: iam unavailable", fnd.Error, "the rule set's own report keeps it")
		_, err = f.svc.Start(f.ctx, a.ID)
		require.ErrorIs(t, err, cancellation.ErrUnavailable, "an outage is not a decision")
		require.NotErrorIs(t, err, cancellation.ErrNotEligible)
		require.Zero(t, f.requestCount(a.ID))
		f.platform.SetOutage(memory.PortAPIKeyStore, nil)
		f.start(a.ID)
	})

	t.Run("PortTimeoutBlocks", func(t *testing.T) {
		f := setup(t, func(c *cancellation.Config) { c.RuleTimeout = 30 * time.Millisecond })
		a := f.personal("acct-port-slow")
		r := f.untilVerified(a.ID)
		f.platform.SetLatency(200 * time.Millisecond)
		_, err := f.svc.Submit(f.ctx, a.ID, r.ID())
		require.ErrorIs(t, err, cancellation.ErrUnavailable, "a timeout decides nothing")
		var ue *cancellation.UnavailableError
		require.ErrorAs(t, err, &ue)
		require.Len(t, ue.Report.Blocked(), 9, "every platform rule timed out")
		for _, fnd := range ue.Report.Blocked() {
			require.Equal(t, cancellation.FindingCheckerUnavailable, fnd.Code, fnd.Rule)
			require.Empty(t, fnd.Error, "no raw error reaches the customer")
		}
		require.Equal(t, cancellation.StatePhoneVerified, f.stored(r.ID()).State())
	})

	t.Run("HostRule", func(t *testing.T) {
		domains := rule("domains", func(_ context.Context, a ports.Account) (cancellation.Finding, error) {
			return cancellation.Finding{Outcome: cancellation.OutcomeBlocked, Items: []cancellation.Item{{Kind: "domain", Ref: "example.org"}},
				Remedy: &cancellation.Remedy{Action: "transfer the domain", Where: "Domains"}}, nil
		})
		f := setup(t, func(c *cancellation.Config) { c.ExtraRules = []cancellation.Rule{domains} })
		_, err := f.svc.Start(f.ctx, f.personal("acct-host-rule").ID)
		fnd, ok := requireNotEligible(t, err).Finding("domains")
		require.True(t, ok)
		require.Equal(t, "Domains", fnd.Remedy.Where)
		require.NotEmpty(t, fnd.Fingerprint)
	})

	t.Run("LatencyOfSlowestRule", func(t *testing.T) {
		t.Parallel()
		var rules []cancellation.Rule
		for i := range 10 {
			rules = append(rules, waitRule(string(rune('a'+i)), 200*time.Millisecond))
		}
		start := time.Now()
		rep := cancellation.RuleSet{Rules: rules, Concurrency: 10}.Evaluate(context.Background(), acct, t0)
		require.Equal(t, cancellation.OutcomePass, rep.Outcome)
		require.Less(t, time.Since(start), 1200*time.Millisecond, "ten 200 ms rules run side by side, not in 2 s")
	})
}

// TestMaintenance_ExpiresAbandonedApplications: an application left idle
// before submission for Config.ExpireAfter expires, its documents are
// purged after the retention, and the account may apply again; one in review
// never expires.
func TestMaintenance_ExpiresAbandonedApplications(t *testing.T) {
	const idle = 48 * time.Hour
	f := setup(t, func(c *cancellation.Config) {
		c.ExpireAfter = idle
		c.DocumentPolicy.Retention = 24 * time.Hour
	})
	abandoned := f.account("acct-expire-docs", ports.Personal, true)
	r := f.untilVerified(abandoned.ID)
	_, err := f.upload(r, cancellation.DocumentPassport, colourScan())
	require.NoError(t, err)
	reviewed := f.toReview(f.personal("acct-expire-review").ID)
	require.Equal(t, 1, f.kit.Documents.Len())

	f.clock.Set(f.stored(r.ID()).UpdatedAt().Add(idle - time.Second))
	require.Zero(t, f.maintain().Expired, "not idle long enough")
	require.Equal(t, cancellation.StateDocumentsUploaded, f.stored(r.ID()).State())

	f.clock.Advance(time.Second)
	require.Equal(t, 1, f.maintain().Expired)
	expired := f.stored(r.ID())
	require.Equal(t, cancellation.StateExpired, expired.State())
	require.Equal(t, cancellation.EventExpired, lastOf(t, expired, cancellation.EventExpired).Type)
	require.Equal(t, cancellation.StateInReview, f.stored(reviewed.ID()).State(), "a request in review does not expire")
	require.Equal(t, 1, f.kit.Documents.Len(), "documents are kept for the retention")

	f.clock.Advance(24 * time.Hour)
	f.maintain()
	require.Zero(t, f.kit.Documents.Len(), "documents purged after the retention")
	require.False(t, f.stored(r.ID()).Documents()[0].PurgedAt.IsZero())

	again := f.start(abandoned.ID)
	require.NotEqual(t, r.ID(), again.ID(), "an expired application does not block a new one")
}

// clockedNotifier records the clock's time at each notification.
// TestEffects_StartedOnlyWithHalfTheLeaseLeft: the effects of a change
// run one after another; one that would start when less than half of its
// claim is left (the close before it took the rest) is not started, so
// that it cannot run past its claim, and waits for maintenance. The close
// takes 45 s of the minute's claim on the clock, then lingers a moment in
// real time, so that the notice is checked after the clock moved whether
// it was spread to a worker meanwhile or runs after the close.
func TestEffects_StartedOnlyWithHalfTheLeaseLeft(t *testing.T) {
	var clock *memory.Clock
	f := setup(t, func(c *cancellation.Config) {
		closer := c.Closer
		c.Closer = closerFunc(func(ctx context.Context, id ports.AccountID, key string) error {
			clock.Advance(45 * time.Second) // of the minute's lease
			time.Sleep(20 * time.Millisecond)
			return closer.CloseAccount(ctx, id, key)
		})
	})
	clock = f.clock
	a := f.personal("acct-half-lease")
	r := f.toReview(a.ID)
	f.approve(r)
	require.True(t, f.closed(a.ID))
	approved := r.ID() + "/review_approved/sms"
	require.Zero(t, f.kit.Notifier.Count(approved), "the approval notice started with less than half its lease left")
	f.clock.Advance(time.Minute)
	f.maintain()
	require.Equal(t, 1, f.kit.Notifier.Deliveries(approved), "maintenance sends it")
}

package cancellation_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
)

// rawOutage is a port error full of infrastructure that must never reach a
// customer.
var rawOutage = errors.New("pq: dial tcp 10.0.0.7:5432: connection refused")

const rawMark = "10.0.0.7"

// checkerPorts are the memory platform's eight checker ports.
var checkerPorts = []memory.Port{
	memory.PortOrderChecker, memory.PortBalanceChecker, memory.PortAuthorizationStore, memory.PortSubUserStore,
	memory.PortAPIKeyStore, memory.PortDataInventory, memory.PortComplaintChecker, memory.PortMatterChecker,
}

// requireUnavailable asserts an UnavailableError whose text holds no raw
// port error, and returns it.
func requireUnavailable(t testing.TB, err error) *cancellation.UnavailableError {
	t.Helper()
	require.ErrorIs(t, err, cancellation.ErrUnavailable)
	require.NotErrorIs(t, err, cancellation.ErrNotEligible, "an outage is not a decision")
	var ue *cancellation.UnavailableError
	require.ErrorAs(t, err, &ue)
	require.NotContains(t, err.Error(), rawMark, "the error's text carries no infrastructure")
	require.Positive(t, ue.RetryAfter)
	return ue
}

// TestOutage_EligibilityAtStart: a checker or the account directory down
// when the customer starts returns ErrUnavailable, creates nothing, and
// starting works once they are back.
func TestOutage_EligibilityAtStart(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-out-start")
	f.platform.SetOutage(memory.PortSubUserStore, rawOutage)
	_, err := f.svc.Start(f.ctx, a.ID)
	ue := requireUnavailable(t, err)
	require.Equal(t, []string{cancellation.RuleSubUsers}, ue.Unavailable)
	f.platform.SetOutage(memory.PortSubUserStore, nil)

	f.platform.SetOutage(memory.PortAccountDirectory, rawOutage)
	_, err = f.svc.Start(f.ctx, a.ID)
	requireUnavailable(t, err)
	require.ErrorIs(t, err, rawOutage, "errors.Is still finds the port's error")
	f.platform.SetOutage(memory.PortAccountDirectory, nil)
	require.Zero(t, f.requestCount(a.ID))
	f.start(a.ID)
}

// TestOutage_Submit: a checker down at submission returns ErrUnavailable
// and the request stays where it was; submitting again later works.
func TestOutage_Submit(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-out-submit")
	r := f.untilVerified(a.ID)
	before := f.storedJSON(r.ID())
	f.platform.SetOutage(memory.PortOrderChecker, rawOutage)
	_, err := f.svc.Submit(f.ctx, a.ID, r.ID())
	requireUnavailable(t, err)
	f.requireUnchanged(r.ID(), before)
	f.platform.SetOutage(memory.PortOrderChecker, nil)
	f.submit(r)
}

// TestOutage_Approval: a checker or the account directory down at
// approval returns ErrUnavailable to the reviewer; the request stays in
// review, nothing is notified, and the approval succeeds once the port is
// back.
func TestOutage_Approval(t *testing.T) {
	for _, port := range []memory.Port{memory.PortAPIKeyStore, memory.PortAccountDirectory} {
		t.Run(string(port), func(t *testing.T) {
			f := setup(t)
			a := f.personal(ports.AccountID("acct-out-approve-" + strings.ToLower(string(port))))
			r := f.toReview(a.ID)
			before := f.storedJSON(r.ID())
			sent := len(f.kit.Notifier.Sent())
			f.platform.SetOutage(port, rawOutage)
			got, err := f.svc.Approve(f.ctx, staff, r.ID(), "looks fine")
			require.Nil(t, got)
			requireUnavailable(t, err)
			f.requireUnchanged(r.ID(), before)
			require.Equal(t, cancellation.StateInReview, f.stored(r.ID()).State())
			require.Len(t, f.kit.Notifier.Sent(), sent, "no review_rejected, nothing at all")
			f.platform.SetOutage(port, nil)
			require.Equal(t, cancellation.StateCancelled, f.approve(r).State())
		})
	}
}

// TestOutage_ApprovalWithARealFindingStillRejects: an outage beside a
// finding a checker did report does not hide it: the request is rejected
// on the real finding.
func TestOutage_ApprovalWithARealFindingStillRejects(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-out-real")
	r := f.toReview(a.ID)
	f.platform.SetOutage(memory.PortOrderChecker, rawOutage)
	f.platform.AddAPIKey(a.ID, ports.APIKey{ID: "ak-1", Label: "ci"})
	got, err := f.svc.Approve(f.ctx, staff, r.ID(), "")
	rep := requireNotEligible(t, err)
	require.Equal(t, cancellation.StateRejected, got.State())
	require.ElementsMatch(t, []string{cancellation.RuleAPIKeys, cancellation.RuleOpenObligations}, findingRules(rep.Blocked()))
	d, _ := got.Decision()
	require.Equal(t, []cancellation.ReasonCode{cancellation.ReasonNotEligible}, d.Reasons)
	require.NotContains(t, d.Note, cancellation.RuleOpenObligations, "the note names the decisive rules only")
	// The report on record keeps the raw error for the reviewer; the
	// customer's view of the same request does not.
	fd, _ := f.stored(r.ID()).Eligibility().Finding(cancellation.RuleOpenObligations)
	require.Contains(t, fd.Error, rawMark)
	requireNoRaw(t, f.stored(r.ID()).View())
	requireNoRaw(t, rep)
}

// TestOutage_SettlementEnd: when a checker is down at the end of a
// settlement period, maintenance neither closes nor rejects: it retries
// with backoff (Retry.Base, then doubling), flags the request for a person
// once AttentionAfter has passed, and closes the account when the checker
// is back.
func TestOutage_SettlementEnd(t *testing.T) {
	f := setup(t, withMode(cancellation.Settlement(24*time.Hour)), func(c *cancellation.Config) {
		c.Retry = cancellation.RetryPolicy{Base: time.Minute, Max: time.Hour}
		c.AttentionAfter = 3 * time.Hour
	})
	a := f.personal("acct-out-settle")
	r := f.approve(f.toReview(a.ID))
	require.Equal(t, cancellation.StateScheduled, r.State())
	f.clock.Advance(24 * time.Hour)
	f.platform.SetOutage(memory.PortComplaintChecker, rawOutage)

	rep := f.maintain()
	require.Equal(t, 1, rep.ClosingDeferred)
	require.Zero(t, rep.Rejected+rep.Closed)
	s := f.stored(r.ID())
	require.Equal(t, cancellation.StateScheduled, s.State())
	require.Equal(t, f.clock.Now().Add(time.Minute), s.NextWake(), "first retry after Retry.Base")
	require.Zero(t, f.maintain().Examined, "not due before the backoff")
	f.clock.Advance(time.Minute)
	require.Equal(t, 1, f.maintain().ClosingDeferred)
	require.Equal(t, f.clock.Now().Add(2*time.Minute), f.stored(r.ID()).NextWake(), "the backoff doubles")
	_, flagged := f.stored(r.ID()).NeedsAttention()
	require.False(t, flagged)

	f.clock.Advance(3 * time.Hour)
	rep = f.maintain()
	require.Equal(t, 1, rep.Flagged)
	s = f.stored(r.ID())
	att, flagged := s.NeedsAttention()
	require.True(t, flagged)
	require.Contains(t, att.Reason, "could not be checked")
	require.Equal(t, 1, countEvents(s.History(), cancellation.EventNeedsAttention))
	require.Equal(t, cancellation.StateScheduled, s.State(), "flagged, never rejected")
	require.NotContains(t, sentTo(f.kit.Notifier), "review_rejected/sms/"+a.RecoveryPhone)

	f.platform.SetOutage(memory.PortComplaintChecker, nil)
	f.clock.Advance(time.Hour)
	rep = f.maintain()
	require.Equal(t, 1, rep.Closed)
	require.Equal(t, cancellation.StateCancelled, f.stored(r.ID()).State())
	require.True(t, f.closed(a.ID))
}

// TestOutage_Closing: an AccountCloser that fails leaves the approved
// request closing, never rejected: the close effect is retried with
// backoff, the request is flagged for a person once it has failed for
// AttentionAfter, and the account closes when the closer is back.
func TestOutage_Closing(t *testing.T) {
	f := setup(t, func(c *cancellation.Config) {
		c.Retry = cancellation.RetryPolicy{Base: time.Minute, Max: time.Hour}
		c.AttentionAfter = 2 * time.Hour
	})
	a := f.personal("acct-out-close")
	r := f.toReview(a.ID)
	f.platform.SetOutage(memory.PortAccountCloser, rawOutage)
	r = f.approve(r)
	require.Equal(t, cancellation.StateApproved, r.State())
	e := effect(t, r, r.ID()+"/close_account")
	require.Equal(t, f.clock.Now(), e.FailingSince)
	for range 3 {
		f.clock.Advance(time.Hour)
		f.maintain()
	}
	s := f.stored(r.ID())
	_, flagged := s.NeedsAttention()
	require.True(t, flagged, "failing for 3h > AttentionAfter")
	require.Equal(t, 1, countEvents(s.History(), cancellation.EventNeedsAttention), "flagged once")
	require.Equal(t, cancellation.StateApproved, s.State())

	f.platform.SetOutage(memory.PortAccountCloser, nil)
	f.clock.Advance(time.Hour)
	f.maintain()
	s = f.stored(r.ID())
	require.Equal(t, cancellation.StateCancelled, s.State())
	require.Zero(t, effect(t, s, r.ID()+"/close_account").FailingSince, "the run of failures is over")
}

// TestCustomerViews_FailingPortsCarryNoInfrastructure: with every checker
// failing, each blocked finding a customer sees (CheckEligibility, the
// error of Start and its problem-ready report) has the stable code, a
// summary and a "try again later" remedy, and no raw error text; the
// reviewer's copy of the request keeps the raw error.
func TestCustomerViews_FailingPortsCarryNoInfrastructure(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-views")
	r := f.toReview(a.ID)
	for _, p := range checkerPorts {
		f.platform.SetOutage(p, rawOutage)
	}
	rep, err := f.svc.CheckEligibility(f.ctx, a.ID)
	require.NoError(t, err)
	require.Len(t, rep.Blocked(), 9, "every rule")
	for _, fd := range rep.Blocked() {
		require.Equal(t, cancellation.FindingCheckerUnavailable, fd.Code, fd.Rule)
		require.NotEmpty(t, fd.Summary, fd.Rule)
		require.NotNil(t, fd.Remedy, fd.Rule)
		require.Equal(t, "try again later", fd.Remedy.Action, fd.Rule)
	}
	requireNoRaw(t, rep)

	_, err = f.svc.Approve(f.ctx, staff, r.ID(), "")
	ue := requireUnavailable(t, err)
	require.Len(t, ue.Report.Unavailable(), 9)
	requireNoRaw(t, ue.Report)

	// Confirming during an outage is refused the same way.
	for _, p := range checkerPorts {
		f.platform.SetOutage(p, nil)
	}
	o := f.personal("acct-views-2")
	r2 := f.start(o.ID)
	f.platform.SetOutage(memory.PortDataInventory, rawOutage)
	_, err = f.svc.Confirm(f.ctx, o.ID, r2.ID(), f.fullConfirmation(o.ID))
	requireUnavailable(t, err)
}

// requireNoRaw fails when v's JSON holds the raw outage text.
func requireNoRaw(t testing.TB, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	require.NotContains(t, string(b), rawMark)
}

// TestCustomerViews_EveryBlockedFindingHasARemedy: every default rule that
// blocks on what its checker reports says what to do, as every rule whose
// checker fails does.
func TestCustomerViews_EveryBlockedFindingHasARemedy(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-remedies")
	f.platform.AddObligation(a.ID, ports.Obligation{Kind: ports.ObligationOrder, Ref: "o-1"})
	f.platform.AddSubUser(a.ID, ports.SubUser{Kind: ports.SubUserCollaborator, Ref: "u-1"})
	f.platform.AddAPIKey(a.ID, ports.APIKey{ID: "k-1"})
	f.platform.AddCase(a.ID, ports.Case{Kind: ports.CaseDispute, Ref: "d-1"})
	f.platform.AddCase(a.ID, ports.Case{Kind: ports.CaseComplaint, Ref: "c-1"})
	f.platform.AddMatter(a.ID, ports.Matter{Ref: "m-1", Blocking: true})
	rep, err := f.svc.CheckEligibility(f.ctx, a.ID)
	require.NoError(t, err)
	require.Len(t, rep.Blocked(), 6)
	for _, fd := range rep.Blocked() {
		require.NotNil(t, fd.Remedy, fd.Rule)
		require.NotEmpty(t, fd.Remedy.Action, fd.Rule)
		require.NotEmpty(t, fd.Summary, fd.Rule)
	}
}

// TestCustomerViews_RejectionNoteStaysWithStaff: the reviewer's note is in
// the decision a reviewer reads, never in the customer's notification or
// view; the reason codes are.
func TestCustomerViews_RejectionNoteStaysWithStaff(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-note")
	r := f.toReview(a.ID)
	const note = "SECRET suspected fraud ring 7"
	got, err := f.svc.Reject(f.ctx, staff, r.ID(), []cancellation.ReasonCode{cancellation.ReasonOther, cancellation.ReasonIdentityMismatch}, note)
	require.NoError(t, err)
	d, _ := got.Decision()
	require.Equal(t, note, d.Note)
	sent := f.kit.Notifier.Sent()
	require.NotEmpty(t, sent)
	for _, n := range sent {
		if n.Template != cancellation.TemplateReviewRejected {
			continue
		}
		require.Equal(t, "other,identity_mismatch", n.Data[cancellation.DataReasons])
		require.Equal(t, r.ID(), n.Data[cancellation.DataRequestID])
		for k, v := range n.Data {
			require.NotContains(t, v, "SECRET", k)
		}
	}
	requireNoRawText(t, got.View(), "SECRET")
}

func requireNoRawText(t testing.TB, v any, text string) {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	require.NotContains(t, string(b), text)
}

// TestOutage_SettlementEndWithTheAccountDirectoryDown: when the account
// itself cannot be read at the end of a settlement period, maintenance
// records the deferral with its backoff all the same, and closes once the
// directory is back.
func TestOutage_SettlementEndWithTheAccountDirectoryDown(t *testing.T) {
	f := setup(t, withMode(cancellation.Settlement(24*time.Hour)), func(c *cancellation.Config) {
		c.Retry = cancellation.RetryPolicy{Base: time.Minute, Max: time.Hour}
	})
	a := f.personal("acct-out-settle-dir")
	r := f.approve(f.toReview(a.ID))
	f.clock.Advance(24 * time.Hour)
	f.platform.SetOutage(memory.PortAccountDirectory, rawOutage)
	require.Equal(t, 1, f.maintain().ClosingDeferred)
	require.Equal(t, f.clock.Now().Add(time.Minute), f.stored(r.ID()).NextWake(), "retried after Retry.Base")
	require.Equal(t, cancellation.StateScheduled, f.stored(r.ID()).State())
	f.platform.SetOutage(memory.PortAccountDirectory, nil)
	f.clock.Advance(time.Minute)
	require.Equal(t, 1, f.maintain().Closed)
	require.Equal(t, cancellation.StateCancelled, f.stored(r.ID()).State())
}

// TestOutage_DocumentStoreAtUpload: a DocumentStore that fails on upload
// returns ErrUnavailable, whose text holds no raw error, and the customer
// uploads again later.
func TestOutage_DocumentStoreAtUpload(t *testing.T) {
	f := setup(t)
	a := f.account("acct-out-upload", ports.Personal, true)
	r := f.untilVerified(a.ID)
	f.kit.Documents.FailNext(1, rawOutage)
	_, err := f.upload(r, cancellation.DocumentPassport, colourScan())
	requireUnavailable(t, err)
	require.ErrorIs(t, err, rawOutage)
	f.uploadRequired(r)
	f.submit(r)
}

// downStore fails every call with err while down.
type downStore struct {
	cancellation.Store
	down atomic.Bool
	err  error
}

func (s *downStore) fail() error {
	if s.down.Load() {
		return s.err
	}
	return nil
}

func (s *downStore) Create(ctx context.Context, r *cancellation.Request) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.Store.Create(ctx, r)
}

func (s *downStore) Get(ctx context.Context, id string) (*cancellation.Request, error) {
	if err := s.fail(); err != nil {
		return nil, err
	}
	return s.Store.Get(ctx, id)
}

func (s *downStore) Update(ctx context.Context, r *cancellation.Request) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.Store.Update(ctx, r)
}

func (s *downStore) List(ctx context.Context, q cancellation.Query) ([]*cancellation.Request, error) {
	if err := s.fail(); err != nil {
		return nil, err
	}
	return s.Store.List(ctx, q)
}

// TestOutage_StoreDownIsUnavailable: a Store that fails with an error of
// its own (a database that is down) reaches callers as an UnavailableError
// naming the port "Store", retryable and without the driver's text, while
// the Store's sentinels (ErrNotFound, ErrConflict, ErrCorrupt,
// ErrActiveRequestExists) reach them as they are.
func TestOutage_StoreDownIsUnavailable(t *testing.T) {
	store := &downStore{err: rawOutage}
	f := setup(t, func(c *cancellation.Config) { store.Store = c.Store; c.Store = store })
	a := f.personal("acct-out-store")
	r := f.toReview(a.ID)

	store.down.Store(true)
	_, err := f.svc.Start(f.ctx, f.personal("acct-out-store-2").ID)
	ue := requireUnavailable(t, err)
	require.Equal(t, []string{"Store"}, ue.Unavailable)
	require.ErrorIs(t, err, rawOutage, "errors.Is still finds the Store's own error")
	_, err = f.svc.Get(f.ctx, a.ID, r.ID())
	requireUnavailable(t, err)
	_, err = f.svc.Approve(f.ctx, staff, r.ID(), "ok")
	requireUnavailable(t, err)
	_, err = f.svc.RunMaintenance(f.ctx)
	requireUnavailable(t, err)

	// A deadline the caller set is the caller's, not an outage.
	store.err = context.DeadlineExceeded
	ctx, cancel := context.WithDeadline(f.ctx, time.Now().Add(-time.Second))
	defer cancel()
	_, err = f.svc.Get(ctx, a.ID, r.ID())
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NotErrorIs(t, err, cancellation.ErrUnavailable)

	for _, sentinel := range []error{cancellation.ErrNotFound, cancellation.ErrConflict, cancellation.ErrCorrupt, cancellation.ErrActiveRequestExists} {
		store.err = fmt.Errorf("store says: %w", sentinel)
		_, err = f.svc.Get(f.ctx, a.ID, r.ID())
		require.ErrorIs(t, err, sentinel)
		require.NotErrorIs(t, err, cancellation.ErrUnavailable, "%v is the Store's answer, not an outage", sentinel)
	}

	store.down.Store(false)
	require.Equal(t, cancellation.StateCancelled, f.approve(r).State(), "nothing was decided while the Store was down")
}

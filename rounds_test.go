package cancellation_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
)

// Staff of the back-office tests: two seniors and a reviewer, each with
// their own customer account.
var (
	senior1 = ports.StaffMember{ID: "sen-grace", Name: "Grace", Roles: []ports.Role{ports.RoleSenior}, Account: "staff-grace"}
	senior2 = ports.StaffMember{ID: "sen-linus", Name: "Linus", Roles: []ports.Role{ports.RoleSenior}, Account: "staff-linus"}
	junior  = ports.StaffMember{ID: "rev-ken", Name: "Ken", Roles: []ports.Role{ports.RoleReviewer}, Account: "staff-ken"}
)

// withStaff puts the back-office staff in the kit's directory, staff (the
// decider of most tests) as a senior, who decides without a claim as in
// the other tests; junior is the plain reviewer.
func (f *fixture) withStaff() *fixture {
	f.kit.Staff.Put(ports.StaffMember{ID: staff.ID, Name: "Ada", Roles: []ports.Role{ports.RoleSenior}, Account: staff.Account})
	for _, m := range []ports.StaffMember{senior1, senior2, junior} {
		f.kit.Staff.Put(m)
	}
	return f
}

func as(m ports.StaffMember) cancellation.Reviewer {
	return cancellation.Reviewer{ID: m.ID, Account: m.Account}
}

var askPassport = cancellation.MoreRequest{
	Reasons:   []cancellation.ReturnReason{cancellation.ReturnDocumentUnreadable},
	Documents: []cancellation.DocumentKind{cancellation.DocumentPassport},
	Note:      "glare over the photo page",
}

// askForMore has rv claim the request (a plain reviewer decides only what
// they hold), then ask for more.
func (f *fixture) askForMore(rv cancellation.Reviewer, id string, m cancellation.MoreRequest) (*cancellation.Request, error) {
	f.t.Helper()
	if _, err := f.svc.Claim(f.ctx, rv, id); err != nil {
		return nil, err
	}
	return f.svc.AskForMore(f.ctx, rv, id, m)
}

// returned takes a verified personal account's request to review and has
// the reviewer ask for the passport again.
func (f *fixture) returned(id ports.AccountID) *cancellation.Request {
	f.t.Helper()
	f.account(id, ports.Personal, true)
	r := f.toReview(id)
	r, err := f.askForMore(staff, r.ID(), askPassport)
	require.NoError(f.t, err)
	require.Equal(f.t, cancellation.StateReturned, r.State())
	return r
}

func TestAskForMoreNotifiesReasonCodesAndDocumentsButNeverTheNote(t *testing.T) {
	f := setup(t).withStaff()
	r := f.returned("acct-return-notify")

	var got *ports.Notification
	for _, n := range f.kit.Notifier.Sent() {
		if n.Template == cancellation.TemplateMoreRequested {
			got = &n
		}
	}
	require.NotNil(t, got, "the customer is told what to upload again")
	require.Equal(t, ports.ChannelSMS, got.Channel)
	require.Equal(t, "document_unreadable", got.Data[cancellation.DataReasons])
	require.Equal(t, "passport", got.Data[cancellation.DataDocuments])
	require.Equal(t, "1", got.Data[cancellation.DataRound])
	for k, v := range got.Data {
		require.NotContains(t, v, "glare", "the reviewer's note leaked into %s", k)
	}
	// The customer's view names the reasons and the documents, not the
	// note or the reviewer.
	v := r.View()
	require.NotNil(t, v.Returned)
	require.Equal(t, []cancellation.DocumentKind{cancellation.DocumentPassport}, v.Returned.Pending)
	require.Equal(t, 2, v.Round)
	b, err := r.MarshalJSON()
	require.NoError(t, err)
	require.NotContains(t, string(b), "glare")
	require.NotContains(t, string(b), staff.ID)
}

func TestAskForMoreNeedsAKnownStaffMemberWithReasonsAndDocuments(t *testing.T) {
	f := setup(t).withStaff()
	f.account("acct-return-bad", ports.Personal, true)
	r := f.toReview("acct-return-bad")
	before := f.storedJSON(r.ID())

	_, err := f.svc.AskForMore(f.ctx, cancellation.Reviewer{ID: "nobody-rev"}, r.ID(), askPassport)
	require.ErrorIs(t, err, cancellation.ErrForbidden)
	for name, m := range map[string]cancellation.MoreRequest{
		"no reason":          {Documents: askPassport.Documents},
		"unknown reason":     {Reasons: []cancellation.ReturnReason{"blurry"}, Documents: askPassport.Documents},
		"other without note": {Reasons: []cancellation.ReturnReason{cancellation.ReturnOther}, Documents: askPassport.Documents},
		"no document":        {Reasons: askPassport.Reasons},
		"enterprise kind":    {Reasons: askPassport.Reasons, Documents: []cancellation.DocumentKind{cancellation.DocumentBusinessLicence}},
	} {
		_, err := f.svc.AskForMore(f.ctx, staff, r.ID(), m)
		require.ErrorIs(t, err, cancellation.ErrInvalidInput, name)
	}
	f.requireUnchanged(r.ID(), before)
}

// Bad input is named whatever the request: a request not in review, one
// another reviewer claims, or no request at all answers the field that was
// wrong, not the state or the claim.
func TestAskForMoreNamesBadInputBeforeReadingTheRequest(t *testing.T) {
	f := setup(t).withStaff()
	f.account("acct-return-early", ports.Personal, true)
	started := f.start("acct-return-early")
	f.account("acct-return-claimed", ports.Personal, true)
	claimed := f.toReview("acct-return-claimed")
	_, err := f.svc.Claim(f.ctx, as(junior), claimed.ID())
	require.NoError(t, err)
	for _, id := range []string{started.ID(), claimed.ID(), "can_unknownrequest"} {
		for field, m := range map[string]cancellation.MoreRequest{
			"reasons":      {Documents: askPassport.Documents},
			"note":         {Reasons: []cancellation.ReturnReason{cancellation.ReturnOther}, Documents: askPassport.Documents},
			"documents":    {Reasons: askPassport.Reasons},
			"documents[1]": {Reasons: askPassport.Reasons, Documents: []cancellation.DocumentKind{cancellation.DocumentPassport, cancellation.DocumentPassport}},
		} {
			_, err := f.svc.AskForMore(f.ctx, as(senior1), id, m)
			var ve *cancellation.ValidationError
			require.ErrorAs(t, err, &ve, "%s on %s", field, id)
			require.Equal(t, field, ve.Field, id)
		}
	}
}

func TestReturnedRequestReuploadsOnlyTheAskedKinds(t *testing.T) {
	f := setup(t).withStaff()
	r := f.returned("acct-return-kinds")

	_, err := f.upload(r, cancellation.DocumentDriversLicence, colourScan())
	require.ErrorIs(t, err, cancellation.ErrNotAsked)
	require.Contains(t, err.Error(), "passport")

	// Submitting before the passport was uploaded again is refused.
	_, err = f.svc.Submit(f.ctx, r.Account(), r.ID())
	requireTransition(t, err, cancellation.StateReturned, cancellation.StateInReview)

	_, err = f.upload(r, cancellation.DocumentPassport, colourScan())
	require.NoError(t, err)
	cur, err := f.svc.Get(f.ctx, r.Account(), r.ID())
	require.NoError(t, err)
	require.Equal(t, cancellation.StateReturned, cur.State())
	require.Empty(t, cur.View().Returned.Pending)
}

// TestResubmissionIsDueThreeBusinessDaysFromTheResubmission: returned on
// Monday t0, resubmitted on Thursday: due the next Tuesday (Friday,
// Monday, Tuesday; the weekend does not count), not three business days
// from the first submission.
func TestResubmissionIsDueThreeBusinessDaysFromTheResubmission(t *testing.T) {
	f := setup(t).withStaff()
	r := f.returned("acct-return-due")
	f.clock.Set(t0.Add(3 * 24 * time.Hour)) // Thursday
	_, err := f.upload(r, cancellation.DocumentPassport, colourScan())
	require.NoError(t, err)
	r, err = f.svc.Submit(f.ctx, r.Account(), r.ID())
	require.NoError(t, err)
	require.Equal(t, cancellation.StateInReview, r.State())
	require.Equal(t, time.Date(2025, time.March, 11, 9, 0, 0, 0, time.UTC), r.DueAt())
	require.False(t, r.Overdue(t0.Add(7*24*time.Hour)))

	h := f.history(r.ID())
	require.Equal(t, "1", lastOf(t, f.stored(r.ID()), cancellation.EventReturned).Data[cancellation.DataRound])
	var rounds []string
	for _, e := range h {
		if e.Type == cancellation.EventSubmitted {
			rounds = append(rounds, e.Data[cancellation.DataRound])
		}
	}
	require.Equal(t, []string{"1", "2"}, rounds, "the history shows each round")
}

// TestReturnReleasesTheClaimAndResubmissionIsDueNoLaterThanTheErasureDeadline:
// the reviewer's claim goes with the move out of review (another
// reviewer takes the resubmission), and a resubmission two days before
// the erasure deadline is due at the deadline, not three business days
// later.
func TestReturnReleasesTheClaimAndResubmissionIsDueNoLaterThanTheErasureDeadline(t *testing.T) {
	f := setup(t).withStaff()
	r := f.returned("acct-return-erasure")
	_, held := r.Claim()
	require.False(t, held, "the return released the claim")
	f.clock.Set(r.ErasureDueAt().Add(-48 * time.Hour))
	_, err := f.upload(r, cancellation.DocumentPassport, colourScan())
	require.NoError(t, err)
	r, err = f.svc.Submit(f.ctx, r.Account(), r.ID())
	require.NoError(t, err)
	require.Equal(t, r.ErasureDueAt(), r.DueAt())
	_, err = f.svc.Claim(f.ctx, as(junior), r.ID())
	require.NoError(t, err, "nobody holds the resubmission")
}

func TestRoundsAreBoundedByMaxReturns(t *testing.T) {
	f := setup(t, func(c *cancellation.Config) { c.MaxReturns = 2 }).withStaff()
	r := f.returned("acct-return-bound")
	for round := 2; ; round++ {
		_, err := f.upload(r, cancellation.DocumentPassport, colourScan())
		require.NoError(t, err)
		f.submit(r)
		next, err := f.askForMore(staff, r.ID(), askPassport)
		if round > 2 {
			require.ErrorIs(t, err, cancellation.ErrRoundsExhausted)
			break
		}
		require.NoError(t, err)
		require.Equal(t, round, next.Rounds())
		r = next
	}
	// The reviewer still decides.
	_, err := f.svc.Reject(f.ctx, staff, r.ID(), []cancellation.ReasonCode{cancellation.ReasonDocumentsIllegible}, "")
	require.NoError(t, err)

	_, err = cancellation.New(withMaxReturns(f.cfg, cancellation.MaxReturnsLimit+1))
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)
	_, err = cancellation.New(withMaxReturns(f.cfg, -1))
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)
}

func withMaxReturns(c cancellation.Config, n int) cancellation.Config {
	c.MaxReturns = n
	return c
}

func TestReturnedRequestLeftIdleExpiresAfterExpireAfter(t *testing.T) {
	f := setup(t).withStaff()
	r := f.returned("acct-return-idle")
	f.clock.Set(t0.Add(7*24*time.Hour - time.Minute))
	f.maintain()
	require.Equal(t, cancellation.StateReturned, f.stored(r.ID()).State())
	f.clock.Set(t0.Add(7*24*time.Hour + time.Minute))
	f.maintain()
	require.Equal(t, cancellation.StateExpired, f.stored(r.ID()).State())
}

func TestReturnedRequestMayBeWithdrawnButNotDecided(t *testing.T) {
	f := setup(t).withStaff()
	r := f.returned("acct-return-withdraw")
	_, err := f.svc.Approve(f.ctx, staff, r.ID(), "")
	requireTransition(t, err, cancellation.StateReturned, cancellation.StateApproved)
	r, err = f.svc.Withdraw(f.ctx, r.Account(), r.ID())
	require.NoError(t, err)
	require.Equal(t, cancellation.StateWithdrawn, r.State())
}

func TestAskForMoreOnAnUnverifiedAccountIsRefused(t *testing.T) {
	f := setup(t).withStaff()
	f.personal("acct-return-unverified")
	r := f.toReview("acct-return-unverified")
	_, err := f.askForMore(staff, r.ID(), askPassport)
	require.ErrorIs(t, err, cancellation.ErrDocumentsNotRequired)
}

// evidence uploads one evidence scan by m.
func (f *fixture) evidence(m ports.StaffMember, id string) {
	f.t.Helper()
	_, err := f.svc.AddStaffEvidence(f.ctx, as(m), id, bytes.NewReader(colourScan()))
	require.NoError(f.t, err)
}

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// TestBackOfficeTransitionsArePublishedAsCloudEvents: a return, a
// resubmission and a staff closure are transitions like any other, each a
// CloudEvent whose data is the customer-safe view (no note, no staff id).
func TestBackOfficeTransitionsArePublishedAsCloudEvents(t *testing.T) {
	pub := memory.NewEventPublisher()
	f := setup(t, func(c *cancellation.Config) { c.Events = pub }).withStaff()
	f.returned("acct-events-return")
	f.staffClosure("acct-events-staff")
	var types []string
	for _, e := range pub.Sent() {
		types = append(types, e.Type)
		require.False(t, containsAny(string(e.Data), "glare", "court order", staff.ID, senior1.ID), "%s: %s", e.Type, e.Data)
	}
	require.Contains(t, types, "cancellation.returned")
	require.Contains(t, types, "cancellation.awaiting_approval")
}

// TestMostRoundsStayUnderTheCustomerHistoryLimit: MaxReturnsLimit rounds,
// each a return, an upload and a resubmission (with events published),
// leave the history far below CustomerHistoryLimit, so rounds never make
// the customer's history full.
func TestMostRoundsStayUnderTheCustomerHistoryLimit(t *testing.T) {
	f := setup(t, func(c *cancellation.Config) {
		c.MaxReturns = cancellation.MaxReturnsLimit
		c.Events = memory.NewEventPublisher()
	}).withStaff()
	r := f.returned("acct-return-many")
	for round := 1; ; round++ {
		_, err := f.upload(r, cancellation.DocumentPassport, colourScan())
		require.NoError(t, err)
		r = f.submit(r)
		if round == cancellation.MaxReturnsLimit {
			break
		}
		r, err = f.askForMore(staff, r.ID(), askPassport)
		require.NoError(t, err)
	}
	_, err := f.askForMore(staff, r.ID(), askPassport)
	require.ErrorIs(t, err, cancellation.ErrRoundsExhausted)
	n := f.stored(r.ID()).HistoryLen()
	t.Logf("%d rounds: %d events (customer limit %d)", cancellation.MaxReturnsLimit, n, cancellation.CustomerHistoryLimit)
	require.Less(t, n, cancellation.CustomerHistoryLimit/2)
}

// TestResubmittedReviewIsFlaggedOverdueAgain: a review flagged overdue,
// returned and submitted again, is flagged once more past its new due
// date.
func TestResubmittedReviewIsFlaggedOverdueAgain(t *testing.T) {
	f := setup(t).withStaff()
	f.account("acct-return-overdue", ports.Personal, true)
	r := f.toReview("acct-return-overdue")
	f.clock.Set(r.DueAt().Add(time.Hour))
	f.maintain()
	r, err := f.askForMore(staff, r.ID(), askPassport)
	require.NoError(t, err)
	_, err = f.upload(r, cancellation.DocumentPassport, colourScan())
	require.NoError(t, err)
	r = f.submit(r)
	require.False(t, r.Overdue(f.clock.Now()))
	f.clock.Set(r.DueAt().Add(time.Hour))
	f.maintain()
	require.Equal(t, 2, countEvents(f.history(r.ID()), cancellation.EventReviewOverdue))
}

// TestReturnedRequestTakesNewConsentsBeforeResubmission: a voucher added
// while the request is returned needs the customer's consent, which
// Consent takes in that state, before the resubmission.
func TestReturnedRequestTakesNewConsentsBeforeResubmission(t *testing.T) {
	f := setup(t).withStaff()
	r := f.returned("acct-return-consent")
	_, err := f.upload(r, cancellation.DocumentPassport, colourScan())
	require.NoError(t, err)
	f.platform.AddRight(r.Account(), ports.Right{Kind: ports.RightVoucher, Ref: "v-late", Value: usd(500)})
	_, err = f.svc.Submit(f.ctx, r.Account(), r.ID())
	ce := requireConsentMissing(t, err)
	_, err = f.svc.Consent(f.ctx, r.Account(), r.ID(), append(r.Consents(), ce.Consents()...))
	require.NoError(t, err)
	f.submit(r)
}

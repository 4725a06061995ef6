package cancellation_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

var legalOrder = cancellation.StaffClosureStart{Reason: cancellation.StaffReasonLegalOrder, Note: "court order 2025-17"}

// staffClosure starts a staff closure of a new account by senior1 and adds
// one evidence document.
func (f *fixture) staffClosure(id ports.AccountID) *cancellation.Request {
	f.t.Helper()
	f.account(id, ports.Personal, true)
	r, err := f.svc.StartStaffClosure(f.ctx, as(senior1), id, legalOrder)
	require.NoError(f.t, err)
	require.Equal(f.t, cancellation.StateAwaitingApproval, r.State())
	f.evidence(senior1, r.ID())
	return r
}

func TestStaffClosureApprovedBySecondSeniorClosesAndNotifiesBySMSAndEmail(t *testing.T) {
	f := setup(t).withStaff()
	r := f.staffClosure("acct-staff-close")
	a, err := f.svc.ApproveStaffClosure(f.ctx, as(senior2), r.ID(), cancellation.StaffApproval{Note: "order verified"})
	require.NoError(t, err)
	require.Equal(t, cancellation.StateCancelled, a.State())
	require.True(t, f.closed("acct-staff-close"))
	sent := sentTo(f.kit.Notifier)
	require.Contains(t, sent, "cancelled/sms/"+phoneFor("acct-staff-close"))
	require.Contains(t, sent, "cancelled/email/acct-staff-close@example.com")

	sc, ok := f.stored(r.ID()).StaffClosure()
	require.True(t, ok)
	require.Equal(t, senior1.ID, sc.StartedBy)
	require.Equal(t, senior2.ID, sc.ApprovedBy)
	// The history names the staff; the customer's view does not.
	h := f.history(r.ID())
	require.Equal(t, senior1.ID, h[0].Actor.ID)
	require.Equal(t, cancellation.ActorReviewer, h[0].Actor.Kind)
	require.Equal(t, senior2.ID, lastOf(t, f.stored(r.ID()), cancellation.EventApproved).Actor.ID)
	b, err := a.MarshalJSON()
	require.NoError(t, err)
	require.False(t, containsAny(string(b), senior1.ID, senior2.ID, "court order", string(cancellation.DocumentEvidence)), "%s", b)
	require.Equal(t, "staff", a.View().Origin)
}

func TestStaffClosureFourEyesRefusesApprovalBySamePerson(t *testing.T) {
	f := setup(t).withStaff()
	r := f.staffClosure("acct-staff-foureyes")
	before := f.storedJSON(r.ID())
	_, err := f.svc.ApproveStaffClosure(f.ctx, as(senior1), r.ID(), cancellation.StaffApproval{})
	require.ErrorIs(t, err, cancellation.ErrFourEyes)
	require.ErrorIs(t, err, cancellation.ErrForbidden)
	f.requireUnchanged(r.ID(), before)
	require.False(t, f.closed("acct-staff-foureyes"))
}

func TestStaffClosureNeedsSeniorsAndEvidence(t *testing.T) {
	f := setup(t).withStaff()
	f.account("acct-staff-roles", ports.Personal, true)
	_, err := f.svc.StartStaffClosure(f.ctx, as(junior), "acct-staff-roles", legalOrder)
	require.ErrorIs(t, err, cancellation.ErrForbidden, "a reviewer may not start one")
	_, err = f.svc.StartStaffClosure(f.ctx, as(senior1), "acct-staff-roles", cancellation.StaffClosureStart{Reason: "boredom"})
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)
	_, err = f.svc.StartStaffClosure(f.ctx, as(senior1), senior1.Account, legalOrder)
	require.Error(t, err, "not on their own account")
	require.Zero(t, f.requestCount("acct-staff-roles"))

	r, err := f.svc.StartStaffClosure(f.ctx, as(senior1), "acct-staff-roles", legalOrder)
	require.NoError(t, err)
	_, err = f.svc.ApproveStaffClosure(f.ctx, as(senior2), r.ID(), cancellation.StaffApproval{})
	requireTransition(t, err, cancellation.StateAwaitingApproval, cancellation.StateApproved) // no evidence yet
	_, err = f.svc.AddStaffEvidence(f.ctx, as(junior), r.ID(), bytes.NewReader(colourScan()))
	require.ErrorIs(t, err, cancellation.ErrForbidden)
	f.evidence(senior2, r.ID())
	_, err = f.svc.ApproveStaffClosure(f.ctx, as(junior), r.ID(), cancellation.StaffApproval{})
	require.ErrorIs(t, err, cancellation.ErrForbidden, "a reviewer may not approve one")
	// Each evidence document is readable by seniors, inspected like any
	// document.
	f.evidence(senior1, r.ID())
	for n := range 2 {
		d, body, err := f.svc.ReviewEvidence(f.ctx, as(senior1), r.ID(), n)
		require.NoError(t, err)
		require.Equal(t, colourScan(), body)
		require.Equal(t, cancellation.DocumentEvidence, d.Kind)
		require.NotZero(t, d.Facts.Width)
	}
	// Each view is in the history, once per staff member and document.
	_, _, err = f.svc.ReviewEvidence(f.ctx, as(senior1), r.ID(), 0)
	require.NoError(t, err)
	viewed := 0
	for _, e := range f.stored(r.ID()).History() {
		if e.Type == cancellation.EventDocumentViewed {
			require.Equal(t, senior1.ID, e.Actor.ID)
			viewed++
		}
	}
	require.Equal(t, 2, viewed, "two evidence documents viewed, the first twice")
	_, _, err = f.svc.ReviewEvidence(f.ctx, as(senior1), r.ID(), 2)
	require.ErrorIs(t, err, cancellation.ErrNotFound)
	_, _, err = f.svc.ReviewEvidence(f.ctx, as(senior1), "can_unknownrequest", -1)
	var ve *cancellation.ValidationError
	require.ErrorAs(t, err, &ve, "a negative n is named, whatever the request")
	require.Equal(t, "n", ve.Field)
	_, _, err = f.svc.ReviewEvidence(f.ctx, as(junior), r.ID(), 0)
	require.ErrorIs(t, err, cancellation.ErrForbidden)
}

func TestStaffClosureOverrideNeedsSeniorAndJustificationRecordedInHistory(t *testing.T) {
	f := setup(t).withStaff()
	r := f.staffClosure("acct-staff-override")
	f.platform.AddObligation("acct-staff-override", ports.Obligation{Kind: ports.ObligationPayment, Ref: "bill-1", Amount: usd(990)})
	before := f.storedJSON(r.ID())

	_, err := f.svc.ApproveStaffClosure(f.ctx, as(junior), r.ID(), cancellation.StaffApproval{Justification: "fraud ring"})
	require.ErrorIs(t, err, cancellation.ErrForbidden, "only a senior overrides")
	_, err = f.svc.ApproveStaffClosure(f.ctx, as(senior2), r.ID(), cancellation.StaffApproval{Justification: "  "})
	rep := requireNotEligible(t, err)
	require.Contains(t, findingRules(rep.Findings), cancellation.RuleOpenObligations)
	f.requireUnchanged(r.ID(), before)
	require.False(t, f.closed("acct-staff-override"))

	a, err := f.svc.ApproveStaffClosure(f.ctx, as(senior2), r.ID(), cancellation.StaffApproval{Justification: "court orders closure despite the open bill"})
	require.NoError(t, err)
	require.Equal(t, cancellation.StateCancelled, a.State())
	o := lastOf(t, f.stored(r.ID()), cancellation.EventBlockersOverridden)
	require.Equal(t, senior2.ID, o.Actor.ID)
	require.Equal(t, cancellation.RuleOpenObligations, o.Data["rules"])
	require.Equal(t, "court orders closure despite the open bill", o.Data["justification"])
}

func TestStaffClosureRefusedWhileCustomerRequestActiveAndViceVersa(t *testing.T) {
	f := setup(t).withStaff()
	f.personal("acct-staff-busy")
	f.start("acct-staff-busy")
	_, err := f.svc.StartStaffClosure(f.ctx, as(senior1), "acct-staff-busy", legalOrder)
	require.ErrorIs(t, err, cancellation.ErrActiveRequestExists)
	require.Equal(t, 1, f.requestCount("acct-staff-busy"))

	r := f.staffClosure("acct-staff-first")
	_, err = f.svc.Start(f.ctx, "acct-staff-first")
	require.ErrorIs(t, err, cancellation.ErrActiveRequestExists)
	// The customer cannot withdraw or upload to it.
	_, err = f.svc.Withdraw(f.ctx, "acct-staff-first", r.ID())
	requireTransition(t, err, cancellation.StateAwaitingApproval, cancellation.StateWithdrawn)
	_, err = f.upload(r, cancellation.DocumentEvidence, colourScan())
	require.ErrorIs(t, err, cancellation.ErrWrongDocumentKind)
	// A customer's request is not decided as a staff closure.
	f.personal("acct-staff-own")
	c := f.toReview("acct-staff-own")
	_, err = f.svc.ApproveStaffClosure(f.ctx, as(senior2), c.ID(), cancellation.StaffApproval{})
	requireTransition(t, err, cancellation.StateInReview, cancellation.StateApproved)
}

func TestStaffClosureDeclinedNeedsANoteNotifiesNobodyAndIsHiddenFromTheCustomer(t *testing.T) {
	f := setup(t).withStaff()
	r := f.staffClosure("acct-staff-decline")
	_, err := f.svc.DeclineStaffClosure(f.ctx, as(senior1), r.ID(), "")
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)
	d, err := f.svc.DeclineStaffClosure(f.ctx, as(senior1), r.ID(), "order withdrawn by the court")
	require.NoError(t, err)
	require.Equal(t, cancellation.StateRejected, d.State())
	require.Empty(t, sentTo(f.kit.Notifier), "not even the receipt")
	_, hasReceipt := d.Receipt()
	require.True(t, hasReceipt, "the receipt is kept for the record")
	past, err := f.svc.PastRequests(f.ctx, "acct-staff-decline", cancellation.PastOptions{})
	require.NoError(t, err)
	require.Empty(t, past.Requests, "the customer's past requests do not show it")
	_, err = f.svc.Get(f.ctx, "acct-staff-decline", d.ID())
	require.ErrorIs(t, err, cancellation.ErrNotFound, "nor does reading it by its id")
	_, err = f.svc.Receipt(f.ctx, "acct-staff-decline", d.ID())
	require.ErrorIs(t, err, cancellation.ErrNotFound, "nor downloading its receipt")
	// Nor does a customer's change, which would otherwise answer with the
	// state it refuses from.
	_, err = f.svc.Withdraw(f.ctx, "acct-staff-decline", d.ID())
	require.ErrorIs(t, err, cancellation.ErrNotFound, "withdraw")
	_, err = f.svc.Submit(f.ctx, "acct-staff-decline", d.ID())
	require.ErrorIs(t, err, cancellation.ErrNotFound, "submit")
	_, err = f.svc.SendCode(f.ctx, "acct-staff-decline", d.ID())
	require.ErrorIs(t, err, cancellation.ErrNotFound, "send a code")
	require.False(t, f.closed("acct-staff-decline"))
	_, err = f.svc.Start(f.ctx, "acct-staff-decline")
	require.NoError(t, err, "the account may apply again")
}

func TestStaffClosuresListsThoseAwaitingApproval(t *testing.T) {
	f := setup(t).withStaff()
	r := f.staffClosure("acct-staff-list")
	rs, err := f.svc.StaffClosures(f.ctx, as(senior2), 0)
	require.NoError(t, err)
	require.Len(t, rs, 1)
	require.Equal(t, r.ID(), rs[0].ID())
	_, err = f.svc.StaffClosures(f.ctx, as(junior), 0)
	require.ErrorIs(t, err, cancellation.ErrForbidden)
}

// TestStoredBackOfficeRecordsAreValidated: a stored record that claims a
// staff closure in a customer's state, or a return that is not its latest
// round, is ErrCorrupt.
func TestStoredBackOfficeRecordsAreValidated(t *testing.T) {
	f := setup(t).withStaff()
	edit := func(r *cancellation.Request, field string, v any) error {
		b, err := r.MarshalBinary()
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		m[field] = v
		b, err = json.Marshal(m)
		require.NoError(t, err)
		return new(cancellation.Request).UnmarshalBinary(b)
	}
	f.personal("acct-corrupt-staff")
	c := f.confirm(f.start("acct-corrupt-staff"))
	require.NoError(t, edit(c, "id", c.ID()), "an unedited record reads")
	require.ErrorIs(t, edit(c, "staff_closure", map[string]any{"reason": "fraud", "started_by": "x"}), cancellation.ErrCorrupt)

	r := f.returned("acct-corrupt-return")
	require.NoError(t, edit(r, "rounds", 1))
	require.ErrorIs(t, edit(r, "rounds", 0), cancellation.ErrCorrupt)
	require.ErrorIs(t, edit(r, "rounds", 2), cancellation.ErrCorrupt)
}

// TestErasureExtensionOfAStaffClosureOnlyWhenTheCustomerAsked: extending
// the erasure deadline notifies the customer, so a closure for a legal
// order is refused (nothing sent, nothing changed); one for the owner's
// request received offline is extended and the customer told.
func TestErasureExtensionOfAStaffClosureOnlyWhenTheCustomerAsked(t *testing.T) {
	f := setup(t).withStaff()
	r := f.staffClosure("acct-staff-erasure")
	before := f.storedJSON(r.ID())
	_, err := f.svc.ExtendErasureDeadline(f.ctx, as(senior2), r.ID(), 1, "more time needed")
	require.ErrorIs(t, err, cancellation.ErrInvalidTransition)
	f.requireUnchanged(r.ID(), before)
	require.Empty(t, sentTo(f.kit.Notifier), "the customer is not tipped off")

	f.account("acct-staff-offline", ports.Personal, true)
	o, err := f.svc.StartStaffClosure(f.ctx, as(senior1), "acct-staff-offline",
		cancellation.StaffClosureStart{Reason: cancellation.StaffReasonOwnerRequestOffline, Note: "letter of 2 March"})
	require.NoError(t, err)
	o, err = f.svc.ExtendErasureDeadline(f.ctx, as(senior2), o.ID(), 1, "more time needed")
	require.NoError(t, err)
	_, extended := o.ErasureExtension()
	require.True(t, extended)
	require.NotEmpty(t, sentTo(f.kit.Notifier))
}

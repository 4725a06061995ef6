package cancellation_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// staffMode makes CloseMembers open staff closures.
func staffMode(c *cancellation.Config) { c.MemberClosures = cancellation.MemberStaffClosures }

// orgStaffClosure starts one staff closure for members[0] of a new
// organisation of 20 under MemberStaffClosures.
func orgStaffClosure(t *testing.T) (*fixture, []ports.AccountID, *cancellation.Request) {
	t.Helper()
	f, _, members := orgFixture(t, 20, staffMode)
	f.withStaff()
	out, err := f.svc.CloseMembers(f.ctx, "org-1", "adm", members[:1])
	require.NoError(t, err)
	require.NoError(t, out[0].Err)
	return f, members, out[0].Request
}

func TestCloseMembers_StaffMode_OpensAStaffClosureRecordingTheOrganisationAndAdminAndTellsNobodyYet(t *testing.T) {
	f, members, r := orgStaffClosure(t)
	require.Equal(t, members[0], r.Account())
	require.Equal(t, cancellation.StateAwaitingApproval, r.State())
	require.Equal(t, ports.OrganizationID("org-1"), r.Organization())
	sc, ok := r.StaffClosure()
	require.True(t, ok)
	require.Equal(t, cancellation.StaffReasonOrganizationRequest, sc.Reason)
	require.Equal(t, ports.OrganizationID("org-1"), sc.Organization)
	require.Equal(t, ports.AccountID("adm"), sc.RequestedBy)
	require.Empty(t, sc.StartedBy, "no staff member started it")
	h := f.history(r.ID())
	require.Equal(t, cancellation.Actor{Kind: cancellation.ActorOrganizationAdmin, ID: "adm"}, h[0].Actor)
	require.Empty(t, f.kit.Notifier.Sent(), "the member is told at closing, as in any staff closure")

	// The member's view says staff closes it; not the reason, not the admin.
	require.Equal(t, "staff", r.View().Origin)
	b, err := json.Marshal(r)
	require.NoError(t, err)
	require.False(t, containsAny(string(b), string(cancellation.StaffReasonOrganizationRequest), `"adm"`), "%s", b)
	require.Contains(t, cancellation.StaffReasons, cancellation.StaffReasonOrganizationRequest)
}

func TestCloseMembers_StaffMode_TwoDifferentSeniorsApproveWithoutEvidenceThenTheMemberIsToldBySMSAndEmail(t *testing.T) {
	f, members, r := orgStaffClosure(t)
	first, err := f.svc.ApproveStaffClosure(f.ctx, as(senior1), r.ID(), cancellation.StaffApproval{Note: "admin verified by phone"})
	require.NoError(t, err, "the admin's recorded request is the evidence")
	require.Equal(t, cancellation.StateAwaitingApproval, first.State(), "one senior is not enough")
	sc, _ := first.StaffClosure()
	require.Equal(t, senior1.ID, sc.FirstApprovedBy)
	require.Equal(t, t0, sc.FirstApprovedAt)
	require.Equal(t, senior1.ID, lastOf(t, f.stored(r.ID()), cancellation.EventFirstApproval).Actor.ID)
	require.False(t, f.closed(members[0]))

	before := f.storedJSON(r.ID())
	_, err = f.svc.ApproveStaffClosure(f.ctx, as(senior1), r.ID(), cancellation.StaffApproval{})
	require.ErrorIs(t, err, cancellation.ErrFourEyes)
	require.ErrorIs(t, err, cancellation.ErrForbidden)
	require.Equal(t, before, f.storedJSON(r.ID()), "a refused approval changes nothing")

	done, err := f.svc.ApproveStaffClosure(f.ctx, as(senior2), r.ID(), cancellation.StaffApproval{Note: "agreed"})
	require.NoError(t, err)
	require.Equal(t, cancellation.StateCancelled, done.State())
	require.True(t, f.closed(members[0]))
	sc, _ = done.StaffClosure()
	require.Equal(t, senior2.ID, sc.ApprovedBy)
	approved := lastOf(t, f.stored(r.ID()), cancellation.EventApproved)
	require.Equal(t, senior1.ID, approved.Data["first_approved_by"])
	require.Equal(t, "adm", approved.Data["requested_by"])
	sent := sentTo(f.kit.Notifier)
	require.Contains(t, sent, "cancelled/sms/"+phoneFor(members[0]))
	require.Contains(t, sent, "cancelled/email/"+string(members[0])+"@example.com")
}

func TestCloseMembers_StaffMode_ASeniorWhoIsTheMemberOrTheAdminApprovesNeitherTime(t *testing.T) {
	for _, c := range []struct {
		name    string
		admin   bool // senior1's own account is an admin of the organisation, else the member closed
		refusal error
	}{
		{"member", false, cancellation.ErrSelfReview},
		{"admin", true, cancellation.ErrFourEyes},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, orgs, members := orgFixture(t, 20, staffMode)
			f.withStaff()
			own := ports.AccountID(senior1.Account)
			f.personal(own)
			orgs.Add("org-1", own, c.admin)
			admin, member := ports.AccountID("adm"), own
			if c.admin {
				admin, member = own, members[0]
			}
			out, err := f.svc.CloseMembers(f.ctx, "org-1", admin, []ports.AccountID{member})
			require.NoError(t, err)
			id := out[0].Request.ID()
			_, err = f.svc.ApproveStaffClosure(f.ctx, as(senior1), id, cancellation.StaffApproval{})
			require.ErrorIs(t, err, c.refusal, "first approval")
			_, err = f.svc.ApproveStaffClosure(f.ctx, as(senior2), id, cancellation.StaffApproval{})
			require.NoError(t, err)
			_, err = f.svc.ApproveStaffClosure(f.ctx, as(senior1), id, cancellation.StaffApproval{})
			require.ErrorIs(t, err, c.refusal, "second approval")
			require.Equal(t, cancellation.StateAwaitingApproval, f.stored(id).State())
		})
	}
}

func TestCloseMembers_StaffMode_ABlockedMemberStartsAndOnlyTheSecondApproverOverrides(t *testing.T) {
	f, _, members := orgFixture(t, 20, staffMode)
	f.withStaff()
	f.platform.AddAPIKey(members[0], ports.APIKey{ID: "AKID-1", Label: "ci", CreatedAt: t0})
	out, err := f.svc.CloseMembers(f.ctx, "org-1", "adm", members[:1])
	require.NoError(t, err)
	require.NoError(t, out[0].Err, "a staff closure records the blockers for its approver")
	id := out[0].Request.ID()
	require.Equal(t, cancellation.OutcomeBlocked, out[0].Request.Eligibility().Outcome)

	_, err = f.svc.ApproveStaffClosure(f.ctx, as(senior1), id, cancellation.StaffApproval{Justification: "keys revoked by the org"})
	require.ErrorIs(t, err, cancellation.ErrInvalidInput, "the first approver does not override")
	_, err = f.svc.ApproveStaffClosure(f.ctx, as(senior1), id, cancellation.StaffApproval{})
	require.NoError(t, err)
	_, err = f.svc.ApproveStaffClosure(f.ctx, as(senior2), id, cancellation.StaffApproval{})
	require.ErrorIs(t, err, cancellation.ErrNotEligible)
	done, err := f.svc.ApproveStaffClosure(f.ctx, as(senior2), id, cancellation.StaffApproval{Justification: "keys revoked by the org"})
	require.NoError(t, err)
	require.Equal(t, cancellation.StateCancelled, done.State())
	sc, _ := done.StaffClosure()
	require.Equal(t, senior2.ID, sc.Override.By)
}

func TestCloseMembers_StaffMode_QuotaAndActiveRequestsCountAsForMemberSteps(t *testing.T) {
	f, _, members := orgFixture(t, 20, staffMode) // quota 2
	f.withStaff()
	f.start(members[0])
	out, err := f.svc.CloseMembers(f.ctx, "org-1", "adm", members[:3])
	require.NoError(t, err, "the member with a request of their own is not counted: two fit")
	require.ErrorIs(t, out[0].Err, cancellation.ErrActiveRequestExists)
	require.Equal(t, cancellation.StateAwaitingApproval, out[1].Request.State())
	require.Equal(t, cancellation.StateAwaitingApproval, out[2].Request.State())

	f.clock.Advance(time.Hour)
	_, err = f.svc.CloseMembers(f.ctx, "org-1", "adm", members[3:4])
	var qe *cancellation.QuotaExceededError
	require.ErrorAs(t, err, &qe)
	require.Equal(t, t0.Add(cancellation.DefaultMemberQuotaWindow), qe.FreesAt)
	require.Zero(t, f.requestCount(members[3]), "nothing started")
	// A member whose staff closure is active is reported the same way.
	f.clock.Set(t0.Add(cancellation.DefaultMemberQuotaWindow))
	out, err = f.svc.CloseMembers(f.ctx, "org-1", "adm", members[1:2])
	require.NoError(t, err)
	require.ErrorIs(t, out[0].Err, cancellation.ErrActiveRequestExists)
}

func TestCloseMembers_StaffMode_AnySeniorDeclines(t *testing.T) {
	f, members, r := orgStaffClosure(t)
	d, err := f.svc.DeclineStaffClosure(f.ctx, as(senior1), r.ID(), "the admin withdrew the request by phone")
	require.NoError(t, err)
	require.Equal(t, cancellation.StateRejected, d.State())
	require.False(t, f.closed(members[0]))
	require.Empty(t, f.kit.Notifier.Sent())
}

func TestStartStaffClosure_RefusesTheOrganizationRequestReason(t *testing.T) {
	f := setup(t).withStaff()
	f.personal("acct-org-reason")
	_, err := f.svc.StartStaffClosure(f.ctx, as(senior1), "acct-org-reason", cancellation.StaffClosureStart{Reason: cancellation.StaffReasonOrganizationRequest})
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)
	require.ErrorContains(t, err, "reason")
	require.Zero(t, f.requestCount("acct-org-reason"))
}

func TestNew_RefusesAnUnknownMemberClosureMode(t *testing.T) {
	t.Parallel()
	cfg := newFixture(t).cfg
	cfg.MemberClosures = 7
	_, err := cancellation.New(cfg)
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)
	require.ErrorContains(t, err, "MemberClosures")
	require.Equal(t, "member_steps", cancellation.MemberSteps.String())
	require.Equal(t, "staff_closures", cancellation.MemberStaffClosures.String())
}

func TestStoredStaffClosure_ReasonMustAgreeWithWhoStartedIt(t *testing.T) {
	_, _, r := orgStaffClosure(t)
	edit := func(sc map[string]any) error {
		b, err := r.MarshalBinary()
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		m["staff_closure"] = sc
		b, err = json.Marshal(m)
		require.NoError(t, err)
		return new(cancellation.Request).UnmarshalBinary(b)
	}
	at := t0.Format(time.RFC3339)
	require.NoError(t, edit(map[string]any{"reason": "organization_request", "started_by": "", "started_at": at, "organization": "org-1", "requested_by": "adm"}))
	require.ErrorIs(t, edit(map[string]any{"reason": "organization_request", "started_by": "", "started_at": at}), cancellation.ErrCorrupt)
	require.ErrorIs(t, edit(map[string]any{"reason": "fraud", "started_by": "", "started_at": at}), cancellation.ErrCorrupt)
	require.ErrorIs(t, edit(map[string]any{"reason": "fraud", "started_by": "x", "started_at": at, "organization": "org-1"}), cancellation.ErrCorrupt)
}

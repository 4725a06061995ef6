package portstest

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/internal/docfixtures"
	"github.com/accountkit/cancellation/ports"
)

// backOfficeStaff is a StaffDirectory of two seniors, for the states only
// staff reach.
type backOfficeStaff map[string]ports.StaffMember

func (d backOfficeStaff) StaffMember(_ context.Context, id string) (ports.StaffMember, error) {
	m, ok := d[id]
	if !ok {
		return ports.StaffMember{}, ports.ErrNotFound
	}
	return m, nil
}

// oneOrg is an OrganizationDirectory of one organisation: an admin and a
// member.
type oneOrg struct {
	id            ports.OrganizationID
	admin, member ports.AccountID
}

func (o *oneOrg) Members(_ context.Context, org ports.OrganizationID) ([]ports.AccountID, error) {
	if org != o.id {
		return nil, ports.ErrNotFound
	}
	return []ports.AccountID{o.admin, o.member}, nil
}

func (o *oneOrg) IsAdmin(_ context.Context, org ports.OrganizationID, a ports.AccountID) (bool, error) {
	return org == o.id && a == o.admin, nil
}

// testBackOfficeStates stores requests in the states of the back office,
// returned (asked for more) and awaiting_approval (a staff closure): each
// is the account's active request (ActiveFor finds it, a second Start is
// refused by the Store) and List filters on it.
func testBackOfficeStates(t *testing.T, newStore func(t *testing.T) cancellation.Store) {
	t.Parallel()
	e := newStoreEnv(t, newStore)
	cfg := e.kit.Config()
	cfg.Store = e.store
	cfg.Verification.Key = e.otpKey
	cfg.HistoryKeys = []cancellation.HistoryKey{e.historyKey}
	cfg.Staff = backOfficeStaff{
		"senior-1": {ID: "senior-1", Roles: []ports.Role{ports.RoleSenior}},
		"senior-2": {ID: "senior-2", Roles: []ports.Role{ports.RoleSenior}},
	}
	orgs := &oneOrg{}
	if _, ok := e.store.(cancellation.ClosureQuotaStore); ok {
		cfg.Organizations = orgs
		cfg.MemberClosures = cancellation.MemberStaffClosures
	}
	svc, err := cancellation.New(cfg)
	require.NoError(t, err)
	ctx := t.Context()

	verified := func(a *ports.Account) { a.IdentityVerified = true }
	asked := e.account(t, verified)
	r := e.verified(t, e.confirm(t, e.start(t, asked)))
	_, err = svc.UploadDocument(ctx, asked, r.ID(), cancellation.DocumentPassport, bytes.NewReader(docfixtures.JPEG(docfixtures.ColourIDCard(1200, 800), 90)))
	require.NoError(t, err)
	_, err = svc.Submit(ctx, asked, r.ID())
	require.NoError(t, err)
	r, err = svc.AskForMore(ctx, cancellation.Reviewer{ID: "senior-1"}, r.ID(), cancellation.MoreRequest{
		Reasons: []cancellation.ReturnReason{cancellation.ReturnDocumentExpired}, Documents: []cancellation.DocumentKind{cancellation.DocumentPassport},
	})
	require.NoError(t, err)

	closing := e.account(t)
	c, err := svc.StartStaffClosure(ctx, cancellation.Reviewer{ID: "senior-1"}, closing, cancellation.StaffClosureStart{Reason: cancellation.StaffReasonFraud})
	require.NoError(t, err)

	wants := []*cancellation.Request{r, c}
	if cfg.Organizations != nil {
		// A staff closure an organisation's admin asked for, approved by
		// the first of its two seniors, keeps who asked and who approved.
		admin, member := e.account(t), e.account(t)
		org := ports.OrganizationID("org-" + string(member))
		orgs.id, orgs.admin, orgs.member = org, admin, member
		out, err := svc.CloseMembers(ctx, org, admin, []ports.AccountID{member})
		require.NoError(t, err)
		require.NoError(t, out[0].Err)
		o, err := svc.ApproveStaffClosure(ctx, cancellation.Reviewer{ID: "senior-1"}, out[0].Request.ID(), cancellation.StaffApproval{})
		require.NoError(t, err)
		sc, _ := o.StaffClosure()
		require.Equal(t, admin, sc.RequestedBy)
		require.Equal(t, "senior-1", sc.FirstApprovedBy)
		wants = append(wants, o)
	}
	for _, want := range wants {
		got, err := e.store.Get(ctx, want.ID())
		require.NoError(t, err)
		requireSameRequest(t, want, got)
		active, err := e.store.ActiveFor(ctx, want.Account())
		require.NoError(t, err, want.State())
		require.Equal(t, want.ID(), active.ID())
		_, err = svc.Start(ctx, want.Account())
		require.ErrorIs(t, err, cancellation.ErrActiveRequestExists, "a %s request blocks a new one", want.State())
		rs, err := e.store.List(ctx, cancellation.Query{States: []cancellation.State{want.State()}, Account: want.Account()})
		require.NoError(t, err)
		require.Len(t, rs, 1)
	}
	sc, ok := c.StaffClosure()
	require.True(t, ok)
	require.Equal(t, "senior-1", sc.StartedBy)
}

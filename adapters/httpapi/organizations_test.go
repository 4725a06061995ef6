package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/httpapi"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
)

// orgEnv serves an organisation org-1 of 20 accounts whose admin is
// acct-eligible (tokEligible) and whose members include acct-verified
// (tokVerified) and m-00 ... m-17, as backOfficeEnv (two seniors), with
// identifiers kept under one key; mode is Config.MemberClosures.
func orgEnv(t *testing.T, mode cancellation.MemberClosureMode) (*env, []ports.AccountID) {
	t.Helper()
	orgs := memory.NewOrganizations()
	e := backOfficeEnv(t, func(c *cancellation.Config) {
		c.Organizations, c.MemberClosures = orgs, mode
		c.IdentifierKeys = []cancellation.IdentifierKey{{ID: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")}}
	})
	orgs.Add("org-1", memory.AccountEligible, true)
	orgs.Add("org-1", memory.AccountVerified, false)
	var members []ports.AccountID
	for i := range 18 {
		id := ports.AccountID(fmt.Sprintf("m-%02d", i))
		e.kit.Platform.AddAccount(ports.Account{ID: id, Kind: ports.Personal, RecoveryPhone: fmt.Sprintf("+155502000%02d", i), Email: string(id) + "@example.com"})
		orgs.Add("org-1", id, false)
		members = append(members, id)
	}
	return e, members
}

// closures is the decoded answer of POST /v1/organizations/{org}/closures.
func closures(t *testing.T, r resp) httpapi.MemberClosuresResult {
	t.Helper()
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	var res httpapi.MemberClosuresResult
	r.json(t, &res)
	return res
}

func TestOrganizationClosuresEndpoint_AdminStartsMembersReportsActiveOnesAndAnswers429OverQuota(t *testing.T) {
	t.Parallel()
	e, members := orgEnv(t, cancellation.MemberSteps) // quota: 10% of 20 = 2
	e.start(tokVerified)
	res := closures(t, e.do(http.MethodPost, "/v1/organizations/org-1/closures", tokEligible,
		map[string]any{"members": []ports.AccountID{memory.AccountVerified, members[0], members[1]}}))
	require.Len(t, res.Items, 3)
	require.Equal(t, memory.AccountVerified, res.Items[0].Account)
	require.Nil(t, res.Items[0].Request)
	require.Equal(t, &httpapi.MemberProblem{Code: "active_request_exists", Title: "The account already has a request in progress", Status: http.StatusConflict}, res.Items[0].Problem,
		"reported, not counted: the other two fit the quota of two")
	for i, it := range res.Items[1:] {
		require.Equal(t, members[i], it.Account)
		require.Nil(t, it.Problem)
		require.Equal(t, cancellation.StateStarted, it.Request.State)
		require.Equal(t, "member_steps", it.Request.Kind)
		r, err := e.svc.Get(t.Context(), members[i], it.Request.ID)
		require.NoError(t, err)
		require.Equal(t, ports.OrganizationID("org-1"), r.Organization())
	}

	e.kit.Clock.Advance(time.Hour)
	over := e.do(http.MethodPost, "/v1/organizations/org-1/closures", tokEligible, map[string]any{"members": []ports.AccountID{members[2]}})
	p := over.requireProblem(t, http.StatusTooManyRequests, "quota_exceeded")
	require.NotNil(t, p.RetryAt)
	require.Equal(t, t0.Add(cancellation.DefaultMemberQuotaWindow), *p.RetryAt)
	require.Equal(t, fmt.Sprint(int((cancellation.DefaultMemberQuotaWindow - time.Hour).Seconds())), over.Header.Get("Retry-After"))
	_, err := e.svc.Active(t.Context(), members[2])
	require.ErrorIs(t, err, cancellation.ErrNotFound, "nothing started")
}

func TestOrganizationClosuresEndpoint_RefusesNonAdminsStaffAndBadBatches(t *testing.T) {
	t.Parallel()
	e, members := orgEnv(t, cancellation.MemberSteps)
	path := "/v1/organizations/org-1/closures"
	body := map[string]any{"members": members[:1]}
	e.do(http.MethodPost, path, tokVerified, body).requireProblem(t, http.StatusForbidden, "forbidden")
	e.do(http.MethodPost, path, tokSenior1, body).requireProblem(t, http.StatusForbidden, "forbidden")
	e.do(http.MethodPost, path, "", body).requireProblem(t, http.StatusUnauthorized, "unauthenticated")
	e.do(http.MethodPost, path, tokEligible, map[string]any{"members": []string{"acct-balance"}}).requireProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	e.do(http.MethodPost, path, tokEligible, map[string]any{"members": []ports.AccountID{members[0], members[0]}}).requireProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	e.do(http.MethodPost, path, tokEligible, map[string]any{"members": []string{}}).requireProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	e.do(http.MethodPost, path, tokEligible, map[string]any{"accounts": members[:1]}).requireProblem(t, http.StatusUnprocessableEntity, "malformed_json")
	e.do(http.MethodPost, "/v1/organizations/org-2/closures", tokEligible, body).requireProblem(t, http.StatusForbidden, "forbidden")
	_, err := e.svc.Active(t.Context(), members[0])
	require.ErrorIs(t, err, cancellation.ErrNotFound, "nothing started")
}

func TestOrganizationClosuresEndpoint_StaffModeTwoSeniorsApproveThenTheIdentifierIsRecentlyClosed(t *testing.T) {
	t.Parallel()
	e, members := orgEnv(t, cancellation.MemberStaffClosures)
	res := closures(t, e.do(http.MethodPost, "/v1/organizations/org-1/closures", tokEligible, map[string]any{"members": members[:1]}))
	it := res.Items[0].Request
	require.Equal(t, "staff_closure", it.Kind)
	require.Equal(t, cancellation.StateAwaitingApproval, it.State)

	first := e.do(http.MethodPost, "/v1/staff-closures/"+it.ID+"/approve", tokSenior1, nil)
	require.Equal(t, http.StatusOK, first.Status, "body: %s", first.Body)
	var rv struct {
		State        cancellation.State        `json:"state"`
		StaffClosure cancellation.StaffClosure `json:"staff_closure"`
	}
	first.json(t, &rv)
	require.Equal(t, cancellation.StateAwaitingApproval, rv.State)
	require.Equal(t, cancellation.StaffReasonOrganizationRequest, rv.StaffClosure.Reason)
	require.Equal(t, memory.AccountEligible, rv.StaffClosure.RequestedBy)
	require.Equal(t, "sen-1", rv.StaffClosure.FirstApprovedBy)
	e.do(http.MethodPost, "/v1/staff-closures/"+it.ID+"/approve", tokSenior1, nil).requireProblem(t, http.StatusForbidden, "four_eyes")

	second := e.do(http.MethodPost, "/v1/staff-closures/"+it.ID+"/approve", tokSenior2, nil)
	require.Equal(t, http.StatusOK, second.Status, "body: %s", second.Body)
	second.json(t, &rv)
	require.Equal(t, cancellation.StateCancelled, rv.State)

	ask := func(tok, identifier string) resp {
		return e.do(http.MethodPost, "/v1/identifiers/recently-closed", tok, map[string]string{"identifier": identifier})
	}
	var ans httpapi.RecentlyClosedResult
	r := ask(tokSenior1, string(members[0])+"@example.com")
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	r.json(t, &ans)
	require.True(t, ans.RecentlyClosed)
	r = ask(tokSenior1, "someone-else@example.com")
	r.json(t, &ans)
	require.False(t, ans.RecentlyClosed)
}

func TestRecentlyClosedEndpoint_IsForStaffPrincipalsOnlyAndSays501WithoutKeys(t *testing.T) {
	t.Parallel()
	e, _ := orgEnv(t, cancellation.MemberSteps)
	path := "/v1/identifiers/recently-closed"
	e.do(http.MethodPost, path, tokEligible, map[string]string{"identifier": "a@example.com"}).requireProblem(t, http.StatusForbidden, "forbidden")
	// A staff principal the StaffDirectory does not know is refused too.
	e.do(http.MethodPost, path, tokNobody, map[string]string{"identifier": "a@example.com"}).requireProblem(t, http.StatusForbidden, "forbidden")
	r := e.do(http.MethodPost, path, tokBo, map[string]string{"identifier": "a@example.com"})
	require.Equal(t, http.StatusOK, r.Status, "a reviewer the directory knows: %s", r.Body)
	e.do(http.MethodPost, path, tokSenior1, map[string]string{"identifier": "  "}).requireProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	e.do(http.MethodPost, path, tokSenior1, nil).requireProblem(t, http.StatusUnprocessableEntity, "malformed_json")
	e.do(http.MethodGet, path+"?identifier=a@example.com", tokSenior1, nil).requireProblem(t, http.StatusMethodNotAllowed, "method_not_allowed")

	plain := newEnv(t) // no IdentifierKeys
	plain.do(http.MethodPost, path, tokReviewer, map[string]string{"identifier": "a@example.com"}).requireProblem(t, http.StatusNotImplemented, "identifiers_not_kept")
}

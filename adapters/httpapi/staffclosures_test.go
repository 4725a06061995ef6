package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/httpapi"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
)

const (
	tokSenior1 = "tok-senior-1"
	tokSenior2 = "tok-senior-2"
)

// backOfficeEnv is newEnv with two seniors and the reviewer rev-ada in
// the staff directory, the Config adjusted by mutate.
func backOfficeEnv(t *testing.T, mutate ...func(*cancellation.Config)) *env {
	t.Helper()
	all := httpapi.BearerTokens{
		tokSenior1: httpapi.Staff(cancellation.Reviewer{ID: "sen-1"}),
		tokSenior2: httpapi.Staff(cancellation.Reviewer{ID: "sen-2"}),
	}
	for k, v := range tokens {
		all[k] = v
	}
	e := newEnv(t, func(c *cancellation.Config, o *httpapi.Options) {
		o.Authenticator = all
		for _, m := range mutate {
			m(c)
		}
	})
	e.kit.Staff.Put(ports.StaffMember{ID: "rev-ada", Roles: []ports.Role{ports.RoleReviewer}})
	e.kit.Staff.Put(ports.StaffMember{ID: "sen-1", Roles: []ports.Role{ports.RoleSenior}})
	e.kit.Staff.Put(ports.StaffMember{ID: "sen-2", Roles: []ports.Role{ports.RoleSenior}})
	return e
}

func TestReturnEndpointAsksForMoreAndCustomerResubmits(t *testing.T) {
	t.Parallel()
	e := backOfficeEnv(t)
	id := e.toReview(tokVerified, memory.AccountVerified, "+15550100002", true)
	require.Equal(t, http.StatusOK, e.do(http.MethodPost, "/v1/reviews/"+id+"/claim", tokReviewer, nil).Status) // a reviewer claims first

	r := e.do(http.MethodPost, "/v1/reviews/"+id+"/return", tokReviewer, map[string]any{
		"reasons": []string{"document_expired"}, "documents": []string{"passport"}, "note": "expired in 2019",
	})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	var rv struct {
		State  cancellation.State   `json:"state"`
		Return *cancellation.Return `json:"return"`
	}
	r.json(t, &rv)
	require.Equal(t, cancellation.StateReturned, rv.State)
	require.Equal(t, "expired in 2019", rv.Return.Note, "the reviewer sees the note")

	// The customer sees what to upload, not the note.
	c := e.do(http.MethodGet, "/v1/cancellations/"+id, tokVerified, nil)
	require.Equal(t, http.StatusOK, c.Status)
	require.Contains(t, string(c.Body), `"pending":["passport"]`)
	require.NotContains(t, string(c.Body), "2019")
	require.NotContains(t, string(c.Body), "rev-ada")

	e.upload(tokVerified, id, "drivers_licence", colourScan()).requireProblem(t, http.StatusUnprocessableEntity, "not_asked")
	require.Equal(t, http.StatusCreated, e.upload(tokVerified, id, "passport", colourScan()).Status)
	s := e.do(http.MethodPost, "/v1/cancellations/"+id+"/submit", tokVerified, nil)
	require.Equal(t, http.StatusOK, s.Status, "body: %s", s.Body)
	require.Contains(t, string(s.Body), `"round":2`)

	// Bad input and unknown staff are problems (the claim ended with the
	// return: claim again).
	require.Equal(t, http.StatusOK, e.do(http.MethodPost, "/v1/reviews/"+id+"/claim", tokReviewer, nil).Status)
	e.do(http.MethodPost, "/v1/reviews/"+id+"/return", tokReviewer, map[string]any{"reasons": []string{}, "documents": []string{"passport"}}).
		requireProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	e.do(http.MethodPost, "/v1/reviews/"+id+"/return", tokNobody, map[string]any{"reasons": []string{"name_mismatch"}, "documents": []string{"passport"}}).
		requireProblem(t, http.StatusForbidden, "forbidden")
}

func TestStaffClosureEndpointsNeedFourEyes(t *testing.T) {
	t.Parallel()
	e := backOfficeEnv(t)
	r := e.do(http.MethodPost, "/v1/staff-closures", tokSenior1, map[string]any{"account": memory.AccountEligible, "reason": "deceased_holder", "note": "certificate received"})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	var v view
	r.json(t, &v)
	require.Equal(t, cancellation.StateAwaitingApproval, v.State)
	e.do(http.MethodPost, "/v1/staff-closures", tokReviewer, map[string]any{"account": memory.AccountVerified, "reason": "fraud"}).
		requireProblem(t, http.StatusForbidden, "forbidden")

	list := e.do(http.MethodGet, "/v1/staff-closures", tokSenior2, nil)
	require.Equal(t, http.StatusOK, list.Status, "body: %s", list.Body)
	require.Contains(t, string(list.Body), v.ID)

	body, ct := multipartBody(t, "evidence", colourScan())
	ev := e.do(http.MethodPost, "/v1/staff-closures/"+v.ID+"/evidence", tokSenior1, body, "Content-Type", ct)
	require.Equal(t, http.StatusCreated, ev.Status, "body: %s", ev.Body)
	img := e.do(http.MethodGet, "/v1/staff-closures/"+v.ID+"/evidence/0", tokSenior2, nil)
	require.Equal(t, http.StatusOK, img.Status, "body: %s", img.Body)
	require.Equal(t, colourScan(), img.Body)
	e.do(http.MethodGet, "/v1/staff-closures/"+v.ID+"/evidence/1", tokSenior2, nil).requireProblem(t, http.StatusNotFound, "not_found")
	e.do(http.MethodGet, "/v1/staff-closures/"+v.ID+"/evidence/0", tokReviewer, nil).requireProblem(t, http.StatusForbidden, "forbidden")
	body, ct = multipartBody(t, "passport", colourScan())
	e.do(http.MethodPost, "/v1/staff-closures/"+v.ID+"/evidence", tokSenior1, body, "Content-Type", ct).
		requireProblem(t, http.StatusUnprocessableEntity, "validation_failed")

	e.do(http.MethodPost, "/v1/staff-closures/"+v.ID+"/approve", tokSenior1, nil).requireProblem(t, http.StatusForbidden, "four_eyes")
	a := e.do(http.MethodPost, "/v1/staff-closures/"+v.ID+"/approve", tokSenior2, map[string]string{"note": "certificate checked"})
	require.Equal(t, http.StatusOK, a.Status, "body: %s", a.Body)
	require.Contains(t, string(a.Body), `"approved_by":"sen-2"`)
	require.Contains(t, string(a.Body), `"state":"cancelled"`)

	// The customer's view hides the staff.
	acct, err := e.kit.Platform.Account(t.Context(), memory.AccountEligible)
	require.NoError(t, err)
	require.True(t, acct.Closed)
	got, err := e.svc.Get(t.Context(), memory.AccountEligible, v.ID)
	require.NoError(t, err)
	b, err := got.MarshalJSON()
	require.NoError(t, err)
	require.False(t, strings.Contains(string(b), "sen-1") || strings.Contains(string(b), "certificate"), "%s", b)
}

func TestStaffClosureDeclineEndpointNeedsANote(t *testing.T) {
	t.Parallel()
	e := backOfficeEnv(t)
	r := e.do(http.MethodPost, "/v1/staff-closures", tokSenior1, map[string]any{"account": memory.AccountEligible, "reason": "fraud"})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	var v view
	r.json(t, &v)
	e.do(http.MethodPost, "/v1/staff-closures/"+v.ID+"/decline", tokSenior2, map[string]string{"note": ""}).
		requireProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	d := e.do(http.MethodPost, "/v1/staff-closures/"+v.ID+"/decline", tokSenior2, map[string]string{"note": "not enough evidence"})
	require.Equal(t, http.StatusOK, d.Status, "body: %s", d.Body)
	require.Contains(t, string(d.Body), `"state":"rejected"`)
}

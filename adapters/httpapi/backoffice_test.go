package httpapi_test

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/httpapi"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
)

const tokAdmin = "tok-admin"

// newDeskEnv is newEnv with an admin token, and the reviewer and the
// admin in the staff directory.
func newDeskEnv(t *testing.T) *env {
	t.Helper()
	all := maps.Clone(tokens)
	all[tokAdmin] = httpapi.Staff(cancellation.Reviewer{ID: "adm-1"})
	e := newEnv(t, func(_ *cancellation.Config, o *httpapi.Options) { o.Authenticator = all })
	e.kit.Staff.Put(ports.StaffMember{ID: "rev-ada", Name: "Ada", Roles: []ports.Role{ports.RoleReviewer}})
	e.kit.Staff.Put(ports.StaffMember{ID: "adm-1", Name: "Adam", Roles: []ports.Role{ports.RoleAdmin}})
	return e
}

// TestPastCancellations_CustomerSeesOnlyTheirOwnEndedRequests: GET
// /v1/cancellations/past lists the caller's withdrawn request and never
// another customer's; a reviewer token is refused.
func TestPastCancellations_CustomerSeesOnlyTheirOwnEndedRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mine := e.start(tokEligible).ID
	require.Equal(t, http.StatusOK, e.do(http.MethodPost, "/v1/cancellations/"+mine+"/withdraw", tokEligible, nil).Status)
	theirs := e.start(tokBalance).ID
	require.Equal(t, http.StatusOK, e.do(http.MethodPost, "/v1/cancellations/"+theirs+"/withdraw", tokBalance, nil).Status)

	r := e.do(http.MethodGet, "/v1/cancellations/past", tokEligible, nil)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	var page httpapi.PastPage
	r.json(t, &page)
	require.Len(t, page.Items, 1)
	require.Equal(t, mine, page.Items[0].ID)
	require.Equal(t, cancellation.StateWithdrawn, page.Items[0].State)
	require.NotContains(t, string(r.Body), theirs)

	r = e.do(http.MethodGet, "/v1/cancellations/past", tokBalance, nil)
	r.json(t, &page)
	require.Len(t, page.Items, 1)
	require.Equal(t, theirs, page.Items[0].ID)

	e.do(http.MethodGet, "/v1/cancellations/past?limit=0", tokEligible, nil).requireProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	require.Equal(t, http.StatusForbidden, e.do(http.MethodGet, "/v1/cancellations/past", tokReviewer, nil).Status)
}

// TestStuckEffectsAPI_ReviewerListsAdminGivesUpAndRetries: a reviewer
// lists the stuck close (with its raw error) but may not act on it; an
// admin gives one up and retries another, each answered with the
// reviewer's view.
func TestStuckEffectsAPI_ReviewerListsAdminGivesUpAndRetries(t *testing.T) {
	t.Parallel()
	e := newDeskEnv(t)
	e.kit.Platform.SetOutage(memory.PortAccountCloser, errors.New("closer: 503"))
	var ids []string
	for _, c := range []struct {
		tok   string
		acct  ports.AccountID
		phone string
	}{{tokEligible, memory.AccountEligible, "+15550100001"}, {tokBalance, memory.AccountBalance, "+15550100005"}} {
		id := e.toReview(c.tok, c.acct, c.phone, false)
		require.Equal(t, http.StatusOK, e.do(http.MethodPost, "/v1/reviews/"+id+"/claim", tokReviewer, nil).Status) // a reviewer claims first
		require.Equal(t, http.StatusOK, e.do(http.MethodPost, "/v1/reviews/"+id+"/approve", tokReviewer, map[string]string{}).Status)
		ids = append(ids, id)
	}
	e.kit.Clock.Advance(cancellation.DefaultAttentionAfter)

	r := e.do(http.MethodGet, "/v1/effects/stuck?limit=1", tokReviewer, nil)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	var page httpapi.StuckEffectsPage
	r.json(t, &page)
	require.Len(t, page.Items, 1)
	require.NotEmpty(t, page.NextCursor)
	first := page.Items[0]
	require.Equal(t, cancellation.EffectCloseAccount, first.Kind)
	require.Equal(t, "closer: 503", first.LastError)
	r = e.do(http.MethodGet, "/v1/effects/stuck?limit=1&cursor="+page.NextCursor, tokReviewer, nil)
	r.json(t, &page)
	require.Len(t, page.Items, 1)
	second := page.Items[0]
	require.ElementsMatch(t, ids, []string{first.RequestID, second.RequestID}, "both, failing since the same instant, in id order")

	e.do(http.MethodPost, "/v1/reviews/"+first.RequestID+"/effects/give-up", tokReviewer,
		httpapi.GiveUpEffectBody{Key: first.Key, Reason: "court order"}).requireProblem(t, http.StatusForbidden, "forbidden")
	e.do(http.MethodPost, "/v1/reviews/"+first.RequestID+"/effects/give-up", tokAdmin,
		httpapi.GiveUpEffectBody{Key: first.Key}).requireProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	r = e.do(http.MethodPost, "/v1/reviews/"+first.RequestID+"/effects/give-up", tokAdmin, httpapi.GiveUpEffectBody{Key: first.Key, Reason: "court order"})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	var rv httpapi.ReviewView
	r.json(t, &rv)
	require.Equal(t, cancellation.StateApproved, rv.State)
	given := slices.IndexFunc(rv.History, func(ev cancellation.Event) bool { return ev.Type == cancellation.EventEffectGivenUp })
	require.GreaterOrEqual(t, given, 0)
	require.Equal(t, "court order", rv.History[given].Data["reason"])
	require.Equal(t, "adm-1", rv.History[given].Actor.ID)

	e.kit.Platform.SetOutage(memory.PortAccountCloser, nil)
	r = e.do(http.MethodPost, "/v1/reviews/"+second.RequestID+"/effects/retry", tokAdmin, httpapi.RetryEffectBody{Key: second.Key})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	r.json(t, &rv)
	require.Equal(t, cancellation.StateCancelled, rv.State)
	// Retrying it again says why it is refused, not "changed concurrently".
	p := e.do(http.MethodPost, "/v1/reviews/"+second.RequestID+"/effects/retry", tokAdmin, httpapi.RetryEffectBody{Key: second.Key}).
		requireProblem(t, http.StatusConflict, "effect_refused")
	require.Equal(t, cancellation.EffectIsDone, p.EffectState)
	require.Contains(t, p.Detail, "carried out already")

	r = e.do(http.MethodGet, "/v1/effects/stuck", tokReviewer, nil)
	r.json(t, &page)
	require.Empty(t, page.Items)
	require.Equal(t, http.StatusForbidden, e.do(http.MethodGet, "/v1/effects/stuck", tokEligible, nil).Status)
}

package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/httpapi"
	"github.com/accountkit/cancellation/adapters/memory"
)

// TestHandler_ClaimsOverHTTP: a reviewer claims, the queue shows the claim
// and filters by it, another reviewer is told who holds it (409 claimed),
// a reviewer without the claim is told to claim (403 claim_required), the
// holder renews, releases and decides; an admin reassigns; a staff id the
// directory does not know is forbidden.
func TestHandler_ClaimsOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.toReview(tokEligible, memory.AccountEligible, "+15550100001", false)

	e.do(http.MethodGet, "/v1/reviews", tokNobody, nil).requireProblem(t, http.StatusForbidden, "forbidden")
	e.do(http.MethodPost, "/v1/reviews/"+id+"/approve", tokBo, nil).requireProblem(t, http.StatusForbidden, "claim_required")

	var rv httpapi.ReviewView
	e.do(http.MethodPost, "/v1/reviews/"+id+"/claim", tokBo, nil).json(t, &rv)
	require.NotNil(t, rv.Claim)
	require.Equal(t, "rev-bo", rv.Claim.By)
	require.Equal(t, e.kit.Clock.Now().Add(cancellation.DefaultClaimDuration), rv.Claim.Until)

	var page httpapi.QueuePage
	e.do(http.MethodGet, "/v1/reviews?claims=mine", tokBo, nil).json(t, &page)
	require.Len(t, page.Items, 1)
	require.True(t, page.Items[0].Mine)
	require.Equal(t, "rev-bo", page.Items[0].ClaimedBy)
	e.do(http.MethodGet, "/v1/reviews?claims=unclaimed", tokBo, nil).json(t, &page)
	require.Empty(t, page.Items)
	e.do(http.MethodGet, "/v1/reviews?overdue=true&account_kind=personal", tokReviewer, nil).json(t, &page)
	require.Empty(t, page.Items, "not overdue yet")
	e.do(http.MethodGet, "/v1/reviews?claims=yours", tokBo, nil).requireProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	e.do(http.MethodGet, "/v1/reviews?overdue=maybe", tokBo, nil).requireProblem(t, http.StatusUnprocessableEntity, "validation_failed")

	// Another reviewer: claimed, with who and until when; the admin may
	// reassign; the senior may decide over the claim.
	p := e.do(http.MethodPost, "/v1/reviews/"+id+"/claim", tokKim, nil).requireProblem(t, http.StatusConflict, "claimed")
	require.Equal(t, "rev-bo", p.ClaimedBy)
	require.NotNil(t, p.ClaimedUntil)
	e.do(http.MethodPost, "/v1/reviews/"+id+"/claim/reassign", tokBo, map[string]any{"to": "rev-ada"}).requireProblem(t, http.StatusForbidden, "forbidden")

	renew := e.do(http.MethodPost, "/v1/reviews/"+id+"/claim/renew", tokBo, nil)
	require.Equal(t, http.StatusOK, renew.Status, "%s", renew.Body)
	var released httpapi.ReviewView
	e.do(http.MethodPost, "/v1/reviews/"+id+"/claim/release", tokBo, nil).json(t, &released)
	require.Nil(t, released.Claim)
	e.do(http.MethodPost, "/v1/reviews/"+id+"/claim/reassign", tokKim, map[string]any{"to": "rev-bo"}).json(t, &rv)
	require.Equal(t, "rev-bo", rv.Claim.By)
	last := rv.History[len(rv.History)-1]
	require.Equal(t, cancellation.EventClaimReassigned, last.Type)
	require.Equal(t, "adm-kim", last.Actor.ID)

	var approved httpapi.ReviewView
	e.do(http.MethodPost, "/v1/reviews/"+id+"/approve", tokBo, map[string]any{"note": "ok"}).json(t, &approved)
	require.Equal(t, cancellation.StateCancelled, approved.State)
	require.Nil(t, approved.Claim)

	// The customer's JSON names no staff member.
	r := e.do(http.MethodGet, "/v1/cancellations/"+id, tokEligible, nil)
	require.Equal(t, http.StatusOK, r.Status)
	for _, staff := range []string{"rev-bo", "adm-kim", "rev-ada"} {
		require.False(t, strings.Contains(string(r.Body), staff), "the customer sees %s", staff)
	}
}

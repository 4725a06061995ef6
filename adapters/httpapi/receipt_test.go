package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
)

func TestReceiptEndpoint_CustomerDownloadsTheirOwnSignedReceiptOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.start(tokEligible).ID
	e.do(http.MethodGet, "/v1/cancellations/"+id+"/receipt", tokEligible, nil).requireProblem(t, http.StatusNotFound, "no_receipt")

	w := e.do(http.MethodPost, "/v1/cancellations/"+id+"/withdraw", tokEligible, nil)
	require.Equal(t, http.StatusOK, w.Status, "body: %s", w.Body)
	var v struct {
		HasReceipt   bool      `json:"has_receipt"`
		ErasureDueAt time.Time `json:"erasure_due_at"`
	}
	w.json(t, &v)
	require.True(t, v.HasReceipt)
	require.Equal(t, cancellation.AddMonths(t0, 1), v.ErasureDueAt)

	got := e.do(http.MethodGet, "/v1/cancellations/"+id+"/receipt", tokEligible, nil)
	require.Equal(t, http.StatusOK, got.Status, "body: %s", got.Body)
	require.Equal(t, cancellation.ReceiptMediaType, got.Header.Get("Content-Type"))
	require.Equal(t, `attachment; filename="cancellation-receipt-`+id+`.jws"`, got.Header.Get("Content-Disposition"))
	rc, err := cancellation.VerifyReceipt(string(got.Body), e.kit.ReceiptKey.Public())
	require.NoError(t, err)
	require.Equal(t, id, rc.RequestID)
	require.Equal(t, cancellation.StateWithdrawn, rc.Outcome)

	// Another customer, and staff, get nothing.
	e.do(http.MethodGet, "/v1/cancellations/"+id+"/receipt", tokBlocked, nil).requireProblem(t, http.StatusNotFound, "not_found")
	e.do(http.MethodGet, "/v1/cancellations/"+id+"/receipt", tokReviewer, nil).requireProblem(t, http.StatusForbidden, "forbidden")
}

func TestErasureExtensionEndpoint_SeniorExtendsAndQueueShowsTheDeadline(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.toReview(tokEligible, memory.AccountEligible, "+15550100001", false)

	var page struct {
		Items []struct {
			ID             string    `json:"id"`
			DueAt          time.Time `json:"due_at"`
			ErasureDueAt   time.Time `json:"erasure_due_at"`
			ErasureOverdue bool      `json:"erasure_overdue"`
		} `json:"items"`
	}
	e.do(http.MethodGet, "/v1/reviews", tokReviewer, nil).json(t, &page)
	require.Len(t, page.Items, 1)
	require.Equal(t, cancellation.AddMonths(t0, 1), page.Items[0].ErasureDueAt)
	require.False(t, page.Items[0].ErasureOverdue)

	body := map[string]any{"months": 1, "reason": "a second review is needed"}
	// rev-bo is a plain reviewer: no senior, no extension.
	e.do(http.MethodPost, "/v1/reviews/"+id+"/erasure-extension", tokBo, body).requireProblem(t, http.StatusForbidden, "forbidden")
	e.kit.Staff.Put(ports.StaffMember{ID: "rev-ada", Name: "Ada", Roles: []ports.Role{ports.RoleSenior}})
	e.do(http.MethodPost, "/v1/reviews/"+id+"/erasure-extension", tokReviewer, map[string]any{"months": 3, "reason": "x"}).
		requireProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	r := e.do(http.MethodPost, "/v1/reviews/"+id+"/erasure-extension", tokReviewer, body)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)

	var cv struct {
		ErasureDueAt     time.Time `json:"erasure_due_at"`
		ErasureExtension struct {
			Months int    `json:"months"`
			Reason string `json:"reason"`
		} `json:"erasure_extension"`
	}
	e.do(http.MethodGet, "/v1/cancellations/"+id, tokEligible, nil).json(t, &cv)
	require.Equal(t, cancellation.AddMonths(t0, 2), cv.ErasureDueAt)
	require.Equal(t, 1, cv.ErasureExtension.Months)
	require.Equal(t, "a second review is needed", cv.ErasureExtension.Reason)
}

package webui_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
)

// TestStatusShowsTheErasureDeadlineAndOffersTheSignedReceiptOnceEnded:
// in review the status page shows the date the platform acts by and the
// queue the erasure deadline; once withdrawn the customer downloads the
// signed receipt, and no one else can.
func TestStatusShowsTheErasureDeadlineAndOffersTheSignedReceiptOnceEnded(t *testing.T) {
	c := newConsole(t)
	cust := c.as(customerToken(memory.AccountEligible))
	id := cust.toReview("+15550100001", nil)
	st := cust.get("/requests/" + id)
	require.Contains(t, st.body, "We act on your request by")
	require.NotContains(t, st.body, "/receipt")
	require.Contains(t, c.as(tokReviewer).get("/review/").body, "Erasure due")
	require.Equal(t, http.StatusNotFound, cust.get("/requests/"+id+"/receipt").status)

	p := cust.post("/requests/"+id+"/withdraw", nil)
	require.Contains(t, p.body, `href="/requests/`+id+`/receipt"`)
	got := cust.get("/requests/" + id + "/receipt")
	require.Equal(t, http.StatusOK, got.status)
	require.Equal(t, cancellation.ReceiptMediaType, got.header.Get("Content-Type"))
	rc, err := cancellation.VerifyReceipt(got.body, c.kit.ReceiptKey.Public())
	require.NoError(t, err)
	require.Equal(t, id, rc.RequestID)

	require.Equal(t, http.StatusNotFound, c.as(customerToken(memory.AccountBlocked)).get("/requests/"+id+"/receipt").status)
}

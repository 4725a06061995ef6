package webui_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/adapters/webui"
	"github.com/accountkit/cancellation/doctest"
	"github.com/accountkit/cancellation/ports"
)

// TestStuckEffectsPage_AdminRetriesReviewerIsRefused: the desk's stuck
// effects page lists a close that keeps failing with its raw error; a
// reviewer's retry is refused (admins only), an admin's carries it out
// and the page is empty again.
func TestStuckEffectsPage_AdminRetriesReviewerIsRefused(t *testing.T) {
	t.Parallel()
	c := newConsole(t)
	c.tokens["tok-admin"] = webui.Principal{Reviewer: &cancellation.Reviewer{ID: "admin-1"}}
	c.kit.Staff.Put(ports.StaffMember{ID: "reviewer-1", Name: "Rita", Roles: []ports.Role{ports.RoleReviewer}})
	c.kit.Staff.Put(ports.StaffMember{ID: "admin-1", Name: "Adam", Roles: []ports.Role{ports.RoleAdmin}})
	id := c.as(customerToken(memory.AccountVerified)).toReview("+15550100002", doctest.ColourScan())
	c.kit.Platform.SetOutage(memory.PortAccountCloser, errors.New("closer: 503"))
	rv := c.as(tokReviewer)
	rv.post("/review/requests/"+id+"/claim", nil) // a reviewer claims before deciding
	rv.post("/review/requests/"+id+"/approve", nil)
	c.kit.Clock.Advance(cancellation.DefaultAttentionAfter)

	p := rv.get("/review/effects")
	require.Equal(t, http.StatusOK, p.status)
	require.Contains(t, p.body, id)
	require.Contains(t, p.body, "Close the account")
	require.Contains(t, p.body, "closer: 503")
	form := url.Values{"request": {id}, "key": {id + "/close_account"}}
	require.Equal(t, http.StatusForbidden, rv.post("/review/effects/retry", form).status)

	c.kit.Platform.SetOutage(memory.PortAccountCloser, nil)
	done := c.as("tok-admin").post("/review/effects/retry", form)
	require.Equal(t, http.StatusOK, done.status)
	require.Contains(t, done.body, "No effect is stuck.")
	r, err := c.svc.Review(t.Context(), cancellation.Reviewer{ID: "admin-1"}, id)
	require.NoError(t, err)
	require.Equal(t, cancellation.StateCancelled, r.State())

	// Retrying it again says why it is refused, not an internal error.
	again := c.as("tok-admin").post("/review/effects/retry", form)
	require.Equal(t, http.StatusConflict, again.status)
	require.Contains(t, again.body, "This effect was carried out already.")
}

// TestWizardHomeListsEarlierRequests: the first step lists the
// customer's ended requests with their outcome.
func TestWizardHomeListsEarlierRequests(t *testing.T) {
	t.Parallel()
	c := newConsole(t)
	cust := c.as(customerToken(memory.AccountEligible))
	require.NotContains(t, cust.get("/").body, "Your earlier requests")
	r, err := c.svc.Start(t.Context(), memory.AccountEligible)
	require.NoError(t, err)
	_, err = c.svc.Withdraw(t.Context(), memory.AccountEligible, r.ID())
	require.NoError(t, err)
	home := cust.get("/")
	require.Contains(t, home.body, "Your earlier requests")
	require.Contains(t, home.body, "Withdrawn")
	require.NotContains(t, c.as(customerToken(memory.AccountBalance)).get("/").body, "Your earlier requests", "another customer's are not shown")
}

package webui_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/adapters/webui"
	"github.com/accountkit/cancellation/doctest"
	"github.com/accountkit/cancellation/ports"
)

// TestDeskAsksForMoreAndWizardReuploadsOnlyWhatWasAsked: the reviewer
// returns the request from the desk; the customer's wizard lists the
// reasons and offers only the passport, then submits again.
func TestDeskAsksForMoreAndWizardReuploadsOnlyWhatWasAsked(t *testing.T) {
	c := newConsole(t)
	c.kit.Staff.Put(ports.StaffMember{ID: "reviewer-1", Roles: []ports.Role{ports.RoleReviewer}})
	cust := c.as(customerToken(memory.AccountVerified))
	id := cust.toReview("+15550100002", doctest.ColourScan())

	rv := c.as(tokReviewer)
	require.Contains(t, rv.get("/review/requests/"+id).body, "Return to the customer")
	rv.post("/review/requests/"+id+"/claim", nil) // a reviewer claims before deciding
	p := rv.post("/review/requests/"+id+"/return", url.Values{"reason": {"document_expired"}, "document": {"passport"}, "note": {"expired 2019"}})
	require.Contains(t, p.body, "Round 1 returned by reviewer-1")
	require.Contains(t, p.body, "expired 2019", "the desk shows the note")

	st := cust.get("/requests/" + id)
	require.Contains(t, st.body, "A document has expired")
	require.NotContains(t, st.body, "expired 2019")
	docs := cust.get("/requests/" + id + "/documents")
	require.Contains(t, docs.body, `<option value="passport">`)
	require.NotContains(t, docs.body, `<option value="drivers_licence">`)
	cust.upload("/requests/"+id+"/documents", "passport", doctest.ColourScan())
	done := cust.post("/requests/"+id+"/submit", nil)
	require.Contains(t, done.body, "In review")
}

// TestDeskStaffClosureNeedsASecondSenior: one senior starts a closure
// from the queue page and adds evidence; approving it themselves is
// refused; a second senior approves it.
func TestDeskStaffClosureNeedsASecondSenior(t *testing.T) {
	c := newConsole(t)
	c.kit.Staff.Put(ports.StaffMember{ID: "reviewer-1", Roles: []ports.Role{ports.RoleSenior}})
	c.kit.Staff.Put(ports.StaffMember{ID: "senior-2", Roles: []ports.Role{ports.RoleSenior}})
	c.tokens["tok-senior-2"] = webui.Principal{Reviewer: &cancellation.Reviewer{ID: "senior-2"}}

	s1 := c.as(tokReviewer)
	require.Contains(t, s1.get("/review/").body, "Close an account on the customer")
	p := s1.post("/review/staff-closures", url.Values{"account": {string(memory.AccountEligible)}, "reason": {"legal_order"}, "note": {"order 17"}})
	require.Contains(t, p.body, "Legal order")
	require.Contains(t, p.body, "Started by reviewer-1")
	id := requestID(t, strings.TrimPrefix(p.url, "/review"))
	p = s1.upload("/review/requests/"+id+"/evidence", "evidence", doctest.ColourScan())
	require.Contains(t, p.body, `/review/requests/`+id+`/evidence/0`)
	require.Equal(t, doctest.ColourScan(), []byte(s1.get("/review/requests/"+id+"/evidence/0").body))
	p = s1.post("/review/requests/"+id+"/staff-approve", nil)
	require.Contains(t, p.body, "another senior staff member must approve it")

	require.Contains(t, c.as("tok-senior-2").get("/review/").body, `href="/review/requests/`+id+`"`, "seniors see the closures awaiting approval")
	p = c.as("tok-senior-2").post("/review/requests/"+id+"/staff-approve", url.Values{"note": {"checked"}})
	require.Contains(t, p.body, "Approved by senior-2")
	require.Contains(t, p.body, "Cancelled")
}

// TestMoreRequestedNotificationNamesReasonsAndDocuments renders the
// notification of a return in both languages: the reasons and the kinds
// to upload again, translated.
func TestMoreRequestedNotificationNamesReasonsAndDocuments(t *testing.T) {
	n := ports.Notification{Template: cancellation.TemplateMoreRequested, Locale: "en", Data: map[string]string{
		cancellation.DataRequestID: "can_1", cancellation.DataReasons: "document_expired,name_mismatch",
		cancellation.DataDocuments: "passport", cancellation.DataRound: "1",
	}}
	subject, body, err := webui.Notification(n)
	require.NoError(t, err)
	require.Equal(t, "More is needed for your account cancellation", subject)
	require.Equal(t, "Your application can_1 needs more (A document has expired; The name does not match the account). Upload again: Passport, then submit.", body)
	n.Locale = "zh-CN"
	_, body, err = webui.Notification(n)
	require.NoError(t, err)
	require.Contains(t, body, "护照")
	require.NotContains(t, body, "%!")
}

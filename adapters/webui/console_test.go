package webui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/adapters/webui"
	"github.com/accountkit/cancellation/doctest"
	"github.com/accountkit/cancellation/ports"
)

// TestWizardAndDeskWithoutJavaScript walks the whole flow with plain form
// posts, as a browser without scripts does: every step works.
func TestWizardAndDeskWithoutJavaScript(t *testing.T) {
	c := newConsole(t)
	cust := c.as(customerToken(memory.AccountVerified))
	home := cust.get("/")
	require.Contains(t, home.body, "Start the cancellation")
	require.Contains(t, home.body, `aria-current="step"`)
	id := cust.toReview("+15550100002", doctest.ColourScan())

	st := cust.get("/requests/" + id)
	require.Contains(t, st.body, "In review")
	require.Contains(t, st.body, "Decision due")
	require.Contains(t, st.body, "Withdraw the application")
	require.Contains(t, st.body, "Submitted for review", "the timeline")

	rv := c.as(tokReviewer)
	q := rv.get("/review/")
	require.Contains(t, q.body, id)
	require.Contains(t, q.body, "Personal, identity verified")
	r := rv.get("/review/requests/" + id)
	require.Contains(t, r.body, "The history chain was verified")
	require.Contains(t, r.body, `/review/requests/`+id+`/documents/passport`)
	require.Contains(t, r.body, "1200×800", "the measured facts")
	img := rv.get("/review/requests/" + id + "/documents/passport")
	require.Equal(t, "image/jpeg", img.header.Get("Content-Type"))
	require.Equal(t, doctest.ColourScan(), []byte(img.body))

	done := rv.post("/review/requests/"+id+"/approve", nil)
	require.Contains(t, done.body, "Approved by reviewer-1")
	final := cust.get("/requests/" + id)
	require.Contains(t, final.body, "Account cancelled")
	require.Contains(t, final.body, "cannot be restored")
	require.NotContains(t, final.body, "Withdraw the application")
	require.Contains(t, final.body, "Login disabled, account closed", "the timeline names each effect carried out")
	require.Contains(t, final.body, "Sent by SMS: Your account is cancelled")
	require.NotContains(t, final.body, "Step carried out")
}

// TestGreyscaleScanRefusedWithItsReason: the refusal and the measured
// facts are on the page that answers the upload.
func TestGreyscaleScanRefusedWithItsReason(t *testing.T) {
	c := newConsole(t)
	cust := c.as(customerToken(memory.AccountVerified))
	p := cust.post("/start", nil)
	id := requestID(t, p.url)
	cust.post("/requests/"+id+"/notes", confirmForm(p))
	cust.post("/requests/"+id+"/code/send", nil)
	code, _ := c.kit.OTP.LastCode("+15550100002")
	cust.post("/requests/"+id+"/code", url.Values{"code": {code}})
	p = cust.upload("/requests/"+id+"/documents", "passport", doctest.GreyscaleScan())
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Contains(t, p.body, "The scan is not in colour")
	require.Contains(t, p.body, "colourfulness 0.0")
	cust.lang = "zh-CN"
	p = cust.upload("/requests/"+id+"/documents", "passport", doctest.GreyscaleScan())
	require.Contains(t, p.body, "扫描件不是彩色的")
}

// TestWrongCodeShowsAttemptsLeftAndResendTime: a wrong code says how many
// tries are left; a second request too soon says when to ask again.
func TestWrongCodeShowsAttemptsLeftAndResendTime(t *testing.T) {
	c := newConsole(t)
	cust := c.as(customerToken(memory.AccountEligible))
	p := cust.post("/start", nil)
	id := requestID(t, p.url)
	cust.post("/requests/"+id+"/notes", confirmForm(p))
	p = cust.post("/requests/"+id+"/code/send", nil)
	require.Contains(t, p.body, "A code was sent to")
	require.Contains(t, p.body, "You can ask for another code at")
	p = cust.post("/requests/"+id+"/code", url.Values{"code": {"000000"}})
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Regexp(t, `That code is wrong. Attempts left: \d+.`, p.body)
	p = cust.post("/requests/"+id+"/code/send", nil)
	require.Equal(t, http.StatusTooManyRequests, p.status)
	require.Contains(t, p.body, "A code was sent recently. You can ask again at")
}

// TestBlockedAccountSeesEveryFindingWithItsRemedy, in both languages.
func TestBlockedAccountSeesEveryFindingWithItsRemedy(t *testing.T) {
	c := newConsole(t)
	cust := c.as(customerToken(memory.AccountBlocked))
	p := cust.get("/")
	require.Contains(t, p.body, "2 API keys remain")
	require.Contains(t, p.body, "AKID-demo-1")
	require.Contains(t, p.body, "delete all API keys")
	require.Contains(t, p.body, "go to API Key Management")
	require.NotContains(t, p.body, "Start the cancellation")
	cust.lang = "zh-CN,zh;q=0.9"
	p = cust.get("/")
	require.Contains(t, p.body, "仍有 2 个 API 密钥")
	require.Contains(t, p.body, "前往 API 密钥管理")
	require.Contains(t, p.body, `<html lang="zh-CN">`)
}

// TestConsentAskedPerFindingAndReaskedWhenItemsChange: the balance account
// consents to forfeit its rights; a new voucher after confirmation makes
// Submit ask again, on the notes page, for that finding only.
func TestConsentAskedPerFindingAndReaskedWhenItemsChange(t *testing.T) {
	c := newConsole(t)
	cust := c.as(customerToken(memory.AccountBalance))
	p := cust.post("/start", nil)
	id := requestID(t, p.url)
	require.Contains(t, p.body, `name="consent" value="unused_rights"`)
	require.Contains(t, p.body, "Welcome voucher")
	noConsent := confirmForm(p)
	noConsent.Del("consent")
	bad := cust.post("/requests/"+id+"/notes", noConsent)
	require.Equal(t, http.StatusUnprocessableEntity, bad.status)
	require.Contains(t, bad.body, "Still needed: 2 unused rights will be forfeited")
	p = cust.post("/requests/"+id+"/notes", confirmForm(p))
	require.Equal(t, "/requests/"+id+"/code", p.url)
	cust.post("/requests/"+id+"/code/send", nil)
	code, _ := c.kit.OTP.LastCode("+15550100005")
	cust.post("/requests/"+id+"/code", url.Values{"code": {code}})
	c.kit.Platform.AddRight(memory.AccountBalance, ports.Right{Kind: ports.RightVoucher, Ref: "voucher-new", Description: "New voucher", Value: ports.Money{Amount: 100, Currency: "USD"}})
	p = cust.post("/requests/"+id+"/submit", nil)
	require.Equal(t, http.StatusUnprocessableEntity, p.status)
	require.Contains(t, p.body, "Your findings changed since you confirmed")
	require.Contains(t, p.body, "New voucher")
	require.NotContains(t, p.body, `name="irreversible"`, "only the consents are asked again")
	p = cust.post("/requests/"+id+"/notes", confirmForm(p))
	require.Equal(t, "/requests/"+id+"/submit", p.url, p.body)
	p = cust.post("/requests/"+id+"/submit", nil)
	require.Equal(t, "/requests/"+id, p.url)
}

// TestChineseNotesConfirmedAreNotStale: the zh-CN page shows the nine
// notes in Chinese with their own version, and confirming them works.
func TestChineseNotesConfirmedAreNotStale(t *testing.T) {
	c := newConsole(t)
	cust := c.as(customerToken(memory.AccountEligible))
	cust.lang = "zh-CN"
	p := cust.post("/start", nil)
	zh := c.svc.NotesTranslations()[0]
	require.Contains(t, p.body, zh.Version)
	notes, _, _ := strings.Cut(p.body[strings.Index(p.body, `<ol class="notes">`):], "</ol>")
	require.Equal(t, 9, strings.Count(notes, "<li>"), "the nine notes")
	require.Contains(t, p.body, zh.Items[8].Text)
	id := requestID(t, p.url)
	p = cust.post("/requests/"+id+"/notes", confirmForm(p))
	require.Equal(t, "/requests/"+id+"/code", p.url, p.body)
}

// TestLanguageFromAcceptLanguageAndTheSwitchIsRemembered: Accept-Language
// picks the language; ?lang= switches it and a cookie keeps it.
func TestLanguageFromAcceptLanguageAndTheSwitchIsRemembered(t *testing.T) {
	c := newConsole(t)
	cust := c.as(customerToken(memory.AccountEligible))
	cust.lang = "zh-Hans-CN;q=1, en;q=0.5"
	require.Contains(t, cust.get("/").body, "此账号可以注销吗？")
	cust.lang = "fr-FR"
	p := cust.get("/")
	require.Contains(t, p.body, "Can this account be cancelled?", "English when nothing matches")
	require.Contains(t, p.body, `href="/?lang=zh-CN"`, "the switch")
	p = cust.get("/?lang=zh-CN")
	require.Contains(t, p.body, "此账号可以注销吗？")
	p = cust.get("/")
	require.Contains(t, p.body, "此账号可以注销吗？", "the cookie remembers the choice over Accept-Language")
	for _, path := range []string{"/signin", "/review/"} {
		require.Contains(t, c.as(tokReviewer).get(path).body, `hreflang="zh-CN"`, "a switch on %s", path)
	}
	// The switch keeps the page's other parameters (the queue's filters).
	p = c.as(tokReviewer).get("/review/?claims=unclaimed&overdue=1&lang=en")
	require.Contains(t, p.body, `href="/review/?claims=unclaimed&amp;lang=zh-CN&amp;overdue=1"`, "the switch keeps the filters")
}

// TestFormFromAnotherOriginIsRefused: a cross-site POST is 403 and changes
// nothing; the same form from the console's origin works.
func TestFormFromAnotherOriginIsRefused(t *testing.T) {
	c := newConsole(t)
	cust := c.as(customerToken(memory.AccountEligible))
	req, _ := http.NewRequest(http.MethodPost, c.srv.URL+"/start", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	p := cust.do(req)
	require.Equal(t, http.StatusForbidden, p.status)
	_, err := c.svc.Active(t.Context(), memory.AccountEligible)
	require.ErrorIs(t, err, cancellation.ErrNotFound)
	req, _ = http.NewRequest(http.MethodPost, c.srv.URL+"/start", nil)
	req.Header.Set("Origin", "https://evil.example")
	require.Equal(t, http.StatusForbidden, cust.do(req).status)
	req, _ = http.NewRequest(http.MethodPost, c.srv.URL+"/start", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	require.Equal(t, http.StatusOK, cust.do(req).status)
}

// TestSecurityHeadersAndCookies: a CSP without unsafe-inline on every page;
// cookies HttpOnly and SameSite, Secure outside loopback.
func TestSecurityHeadersAndCookies(t *testing.T) {
	c := newConsole(t)
	p := c.as(customerToken(memory.AccountEligible)).get("/")
	csp := p.header.Get("Content-Security-Policy")
	require.Contains(t, csp, "script-src 'self'")
	require.NotContains(t, csp, "unsafe-inline")
	require.NotContains(t, p.body, "<script>", "no inline script")
	require.NotContains(t, p.body, "style=", "no inline style")

	h := c.srv.Config.Handler
	for _, tc := range []struct {
		host   string
		secure bool
	}{{"127.0.0.1:8080", false}, {"localhost:8080", false}, {"[::1]:80", false}, {"console.example.com", true}} {
		req, _ := http.NewRequest(http.MethodPost, "http://"+tc.host+"/signin", strings.NewReader("token="+customerToken(memory.AccountEligible)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := newRecorder()
		h.ServeHTTP(rec, req)
		ck := rec.Result().Cookies()
		require.Len(t, ck, 1, tc.host)
		require.Equal(t, webui.DevTokenCookie, ck[0].Name)
		require.True(t, ck[0].HttpOnly, tc.host)
		require.Equal(t, http.SameSiteLaxMode, ck[0].SameSite, tc.host)
		require.Equal(t, tc.secure, ck[0].Secure, tc.host)
	}
}

// TestScriptInAnAccountNameAndANoteIsEscaped: an account id and a
// reviewer's note holding markup are shown as text on every page.
func TestScriptInAnAccountNameAndANoteIsEscaped(t *testing.T) {
	c := newConsole(t)
	const evil = `<script>alert("x")</script>`
	acct := ports.AccountID("acct-" + evil)
	c.addAccount(ports.Account{ID: acct, Kind: ports.Personal, RecoveryPhone: "+15550109999", Email: "x@example.com", Locale: "en"})
	cust := c.as(customerToken(acct))
	id := cust.toReview("+15550109999", nil)
	rv := c.as(tokReviewer)
	pages := []page{rv.get("/review/"), rv.get("/review/requests/" + id)}
	p := rv.post("/review/requests/"+id+"/reject", url.Values{"reason": {"other"}, "note": {evil}})
	require.Contains(t, p.body, "Rejected by reviewer-1")
	pages = append(pages, p, cust.get("/requests/"+id), cust.get("/"))
	for _, p := range pages {
		require.NotContains(t, p.body, evil, p.url)
		require.NotContains(t, p.body, "<script>alert", p.url)
	}
	require.Contains(t, pages[0].body, "acct-&lt;script&gt;")
	require.Contains(t, pages[2].body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;")
	require.Contains(t, pages[3].body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", "the customer sees the note, escaped")
}

// TestUploadOverTheBoundIsRefusedOnThePage: the upload is bounded as in
// the API; a larger body is answered 413 with the message, not read whole.
func TestUploadOverTheBoundIsRefusedOnThePage(t *testing.T) {
	c := newConsole(t, func(_ *cancellation.Config, o *webui.Options) { o.MaxUploadBytes = 64 << 10 })
	cust := c.as(customerToken(memory.AccountVerified))
	p := cust.post("/start", nil)
	id := requestID(t, p.url)
	cust.post("/requests/"+id+"/notes", confirmForm(p))
	cust.post("/requests/"+id+"/code/send", nil)
	code, _ := c.kit.OTP.LastCode("+15550100002")
	cust.post("/requests/"+id+"/code", url.Values{"code": {code}})
	p = cust.upload("/requests/"+id+"/documents", "passport", doctest.ColourScan())
	require.Equal(t, http.StatusRequestEntityTooLarge, p.status)
	require.Contains(t, p.body, "The file is too large")
	r, err := c.svc.Get(t.Context(), memory.AccountVerified, id)
	require.NoError(t, err)
	require.Empty(t, r.Documents())
}

// TestSelfReviewIsRefusedWithAMessage: a reviewer whose own account made
// the request sees why it cannot be decided, and nothing changes.
func TestSelfReviewIsRefusedWithAMessage(t *testing.T) {
	c := newConsole(t)
	id := c.as(customerToken(memory.AccountVerified)).toReview("+15550100002", doctest.ColourScan())
	self := c.as(tokSelfReviewer)
	require.NotContains(t, self.get("/review/").body, id, "the queue leaves out the reviewer's own request")
	p := self.post("/review/requests/"+id+"/approve", nil)
	require.Equal(t, http.StatusForbidden, p.status)
	require.Contains(t, p.body, "You cannot decide a request of your own account")
	self.lang = "zh-CN"
	p = self.post("/review/requests/"+id+"/reject", url.Values{"reason": {"other"}, "note": {"n"}})
	require.Contains(t, p.body, "您不能审核自己账号的申请")
	r, err := c.svc.Review(t.Context(), cancellation.Reviewer{ID: "x"}, id)
	require.NoError(t, err)
	require.Equal(t, cancellation.StateInReview, r.State())
}

// TestRejectWithReasonsAndNote; a reject without a reason is refused on
// the page; the customer's status page shows the reason codes, never the
// reviewer's note.
func TestRejectWithReasonsAndNote(t *testing.T) {
	c := newConsole(t)
	id := c.as(customerToken(memory.AccountEligible)).toReview("+15550100001", nil)
	rv := c.as(tokReviewer)
	p := rv.post("/review/requests/"+id+"/reject", url.Values{"note": {"no reason"}})
	require.Equal(t, http.StatusBadRequest, p.status)
	require.Contains(t, p.body, "is not valid")
	p = rv.post("/review/requests/"+id+"/reject", url.Values{"reason": {"identity_mismatch", "other"}, "note": {"photo differs"}})
	require.Contains(t, p.body, "The identity does not match the account")
	require.Contains(t, p.body, "photo differs")
	st := c.as(customerToken(memory.AccountEligible)).get("/requests/" + id)
	require.Contains(t, st.body, "Rejected")
	require.Contains(t, st.body, "The identity does not match the account")
	require.NotContains(t, st.body, "photo differs", "the reviewer's note is for staff")
}

// TestWithdrawWhileAllowed: the customer withdraws from the status page;
// the page then offers no withdrawal.
func TestWithdrawWhileAllowed(t *testing.T) {
	c := newConsole(t)
	cust := c.as(customerToken(memory.AccountEligible))
	id := cust.toReview("+15550100001", nil)
	p := cust.post("/requests/"+id+"/withdraw", nil)
	require.Contains(t, p.body, "You withdrew the application")
	require.NotContains(t, p.body, `action="/requests/`+id+`/withdraw"`)
	p = cust.post("/requests/"+id+"/withdraw", nil)
	require.Equal(t, http.StatusConflict, p.status)
}

// TestOnlyReviewersReachTheDeskAndStrangersAreSentToSignIn.
func TestOnlyReviewersReachTheDeskAndStrangersAreSentToSignIn(t *testing.T) {
	c := newConsole(t)
	require.Equal(t, http.StatusForbidden, c.as(customerToken(memory.AccountEligible)).get("/review/").status)
	p := c.as("nobody").get("/review/")
	require.Equal(t, "/signin", p.url)
	require.Contains(t, p.body, "Sign in as acct-verified")
	other := c.as(customerToken(memory.AccountEligible))
	id := c.as(customerToken(memory.AccountVerified)).toReview("+15550100002", doctest.ColourScan())
	require.Equal(t, http.StatusNotFound, other.get("/requests/"+id).status, "another account's request is not found")
}

// TestNotificationTemplatesInBothLanguages renders each template the
// library sends in the account's language.
func TestNotificationTemplatesInBothLanguages(t *testing.T) {
	for _, tmpl := range []string{"review_approved", "review_rejected", "cancelled", "withdrawn"} {
		n := ports.Notification{Template: tmpl, Locale: "en", Data: map[string]string{"request_id": "can_1", "reasons": "identity_mismatch,other", "note": "see us"}}
		s, b, err := webui.Notification(n)
		require.NoError(t, err)
		require.NotEmpty(t, s)
		require.Contains(t, b, "can_1")
		require.NotContains(t, b, "%!", "every argument used")
		n.Locale = "zh-CN"
		zs, zb, err := webui.Notification(n)
		require.NoError(t, err)
		require.Regexp(t, `\p{Han}`, zs)
		require.Contains(t, zb, "can_1")
		require.NotContains(t, zb, "%!")
	}
	_, b, _ := webui.Notification(ports.Notification{Template: "review_rejected", Locale: "zh", Data: map[string]string{"request_id": "r", "reasons": "identity_mismatch"}})
	require.Contains(t, b, "身份与账号不符")
	_, b, _ = webui.Notification(ports.Notification{Template: "review_approved", Locale: "en", Data: map[string]string{"request_id": "r", "scheduled_for": "2026-03-10T09:00:00Z"}})
	require.Contains(t, b, "closes on 10 Mar 2026 09:00 UTC")
	_, _, err := webui.Notification(ports.Notification{Template: "nope"})
	require.Error(t, err)
}

// TestQueueOverdueFirstWithDueDateAndAccountKind: a request past its due
// date is listed first and marked, with its due date and account kind.
func TestQueueOverdueFirstWithDueDateAndAccountKind(t *testing.T) {
	c := newConsole(t)
	late := c.as(customerToken(memory.AccountEligible)).toReview("+15550100001", nil)
	c.kit.Clock.Advance(72 * time.Hour) // Friday: the first request is due now
	onTime := c.as(customerToken(memory.AccountEnterprise)).toReviewEnterprise()
	c.kit.Clock.Advance(2 * time.Hour)
	q := c.as(tokReviewer).get("/review/")
	require.Less(t, strings.Index(q.body, late), strings.Index(q.body, onTime), "overdue first")
	rows := strings.Split(q.body, "<tr")
	require.Len(t, rows, 4, "a header row and two requests")
	require.Contains(t, rows[2], `class="overdue"`)
	require.Contains(t, rows[2], "Overdue")
	require.Contains(t, rows[2], "6 Mar 2026 09:00 UTC", "the due date")
	require.Contains(t, rows[3], "Enterprise, identity verified")
	require.NotContains(t, rows[3], "Overdue")
}

// TestDeskClaimsAndFilters: a plain reviewer is told to claim before
// deciding, claims, sees the claim on the page and in the queue (filtered
// by mine and unclaimed), another reviewer sees who holds it, and the
// holder releases it and decides.
func TestDeskClaimsAndFilters(t *testing.T) {
	c := newConsole(t)
	id := c.as(customerToken(memory.AccountEligible)).toReview("+15550100001", nil)
	me, other := c.as(tokClaimer), c.as(tokReviewer)
	require.Contains(t, me.get("/review/?claims=unclaimed").body, id)
	require.Contains(t, me.get("/review/").body, "Not claimed")

	p := me.post("/review/requests/"+id+"/approve", nil)
	require.Equal(t, http.StatusForbidden, p.status)
	require.Contains(t, p.body, "Claim the request before you decide it.")

	p = me.post("/review/requests/"+id+"/claim", nil)
	require.Equal(t, http.StatusOK, p.status)
	require.Contains(t, p.body, "Claimed by you until")
	require.Contains(t, p.body, "Release my claim")
	require.Contains(t, me.get("/review/?claims=mine").body, id)
	require.NotContains(t, me.get("/review/?claims=unclaimed").body, id)
	require.NotContains(t, me.get("/review/?kind=enterprise").body, id)
	require.Contains(t, other.get("/review/").body, "Claimed by reviewer-3 until")
	require.Contains(t, other.get("/review/requests/"+id).body, "Claimed by reviewer-3 until")

	p = me.post("/review/requests/"+id+"/release", nil)
	require.Contains(t, p.body, "Not claimed")
	me.post("/review/requests/"+id+"/claim", nil)
	p = me.post("/review/requests/"+id+"/reject", url.Values{"reason": {"identity_mismatch"}})
	require.Equal(t, http.StatusOK, p.status)
	require.Contains(t, p.body, "Rejected by reviewer-3")
	cust := c.as(customerToken(memory.AccountEligible)).get("/requests/" + id)
	require.Equal(t, http.StatusOK, cust.status)
	require.NotContains(t, cust.body, "reviewer-3", "the customer's page names no staff member")
}

package webui_test

import (
	"context"
	"encoding/hex"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
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

// t0 is a Tuesday morning: the review of a request submitted then is due
// three business days later.
var t0 = time.Date(2026, time.March, 3, 9, 0, 0, 0, time.UTC)

// console is the web console over an in-memory platform with the demo
// accounts, served over loopback, with one dev token per principal.
type console struct {
	t      testing.TB
	kit    *memory.Kit
	svc    *cancellation.Service
	srv    *httptest.Server
	tokens map[string]webui.Principal
}

// the demo reviewer's token, and the token of a reviewer whose own
// customer account is acct-verified (self-review).
const (
	tokReviewer     = "tok-reviewer"
	tokSelfReviewer = "tok-self-reviewer"
	// tokClaimer is a plain reviewer, who claims before deciding.
	tokClaimer = "tok-claimer"
)

func customerToken(id ports.AccountID) string { return "tok-" + hex.EncodeToString([]byte(id)) }

type consoleOption func(*cancellation.Config, *webui.Options)

func newConsole(t testing.TB, opts ...consoleOption) *console {
	t.Helper()
	kit := memory.NewKit(t0)
	kit.Platform.SeedDemo()
	// reviewer-1 is a senior, who decides without claiming; reviewer-2 a
	// reviewer whose own customer account is acct-verified; reviewer-3 a
	// plain reviewer, who claims first.
	kit.Staff.Put(ports.StaffMember{ID: "reviewer-1", Name: "One", Roles: []ports.Role{ports.RoleSenior}})
	kit.Staff.Put(ports.StaffMember{ID: "reviewer-2", Name: "Two", Roles: []ports.Role{ports.RoleReviewer}, Account: memory.AccountVerified})
	kit.Staff.Put(ports.StaffMember{ID: "reviewer-3", Name: "Three", Roles: []ports.Role{ports.RoleReviewer}})
	kit.Staff.Put(ports.StaffMember{ID: "x", Name: "X", Roles: []ports.Role{ports.RoleSenior}})
	cfg := kit.Config()
	wopts := webui.Options{Clock: kit.Clock}
	for _, o := range opts {
		o(&cfg, &wopts)
	}
	svc, err := cancellation.New(cfg)
	require.NoError(t, err)
	c := &console{t: t, kit: kit, svc: svc, tokens: map[string]webui.Principal{
		tokReviewer:     {Reviewer: &cancellation.Reviewer{ID: "reviewer-1"}},
		tokSelfReviewer: {Reviewer: &cancellation.Reviewer{ID: "reviewer-2", Account: memory.AccountVerified}},
		tokClaimer:      {Reviewer: &cancellation.Reviewer{ID: "reviewer-3"}},
	}}
	for _, id := range memory.DemoAccounts() {
		c.tokens[customerToken(id)] = webui.Principal{Account: id}
		wopts.DevAccounts = append(wopts.DevAccounts, webui.DevAccount{Label: string(id), Token: customerToken(id)})
	}
	wopts.DevAccounts = append(wopts.DevAccounts, webui.DevAccount{Label: "reviewer-1", Token: tokReviewer})
	wopts.Authenticator = webui.AuthenticatorFunc(func(r *http.Request) (webui.Principal, error) {
		p, ok := c.tokens[webui.DevToken(r)]
		if !ok {
			return webui.Principal{}, webui.ErrUnauthenticated
		}
		return p, nil
	})
	h, err := webui.New(svc, wopts)
	require.NoError(t, err)
	c.srv = httptest.NewServer(h)
	t.Cleanup(c.srv.Close)
	return c
}

// addAccount adds a personal account (a customer token for it too).
func (c *console) addAccount(a ports.Account) {
	c.kit.Platform.AddAccount(a)
	c.tokens[customerToken(a.ID)] = webui.Principal{Account: a.ID}
}

// browser is an HTTP client with a cookie jar, signed in with a token.
type browser struct {
	t    testing.TB
	c    *console
	http *http.Client
	lang string
}

func (c *console) as(token string) *browser {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(c.srv.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: webui.DevTokenCookie, Value: token, Path: "/"}})
	return &browser{t: c.t, c: c, http: &http.Client{Jar: jar}}
}

// page is a response: its status, final URL and body.
type page struct {
	status int
	url    string
	body   string
	header http.Header
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	resp, err := b.http.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return page{status: resp.StatusCode, url: resp.Request.URL.Path, body: string(body), header: resp.Header}
}

func (b *browser) get(path string) page {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, b.c.srv.URL+path, nil)
	require.NoError(b.t, err)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) page {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, b.c.srv.URL+path, strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) upload(path, kind string, file []byte) page {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		_ = mw.WriteField("kind", kind)
		fw, _ := mw.CreateFormFile("file", "scan.jpg")
		_, _ = fw.Write(file)
		pw.CloseWithError(mw.Close())
	}()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, b.c.srv.URL+path, pr)
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// confirmForm is the notes form of a page with every box ticked.
func confirmForm(p page) url.Values {
	f := url.Values{"irreversible": {"on"}, "backup": {"on"}, "not_evading": {"on"}, "other_matters": {"on"}}
	for _, m := range hiddenRE.FindAllStringSubmatch(p.body, -1) {
		f.Set(m[1], m[2])
		if rule, ok := strings.CutPrefix(m[1], "fp."); ok {
			f.Add("consent", rule)
		}
	}
	return f
}

// requestID is the id in a /requests/{id}/... path.
func requestID(t testing.TB, path string) string {
	t.Helper()
	parts := strings.Split(strings.TrimPrefix(path, "/requests/"), "/")
	require.NotEmpty(t, parts[0], "path %s", path)
	return parts[0]
}

// toReview takes the account's request through the wizard into review and
// returns its id.
func (b *browser) toReview(phone string, scan []byte) string {
	b.t.Helper()
	p := b.post("/start", nil)
	require.Equal(b.t, http.StatusOK, p.status, p.body)
	id := requestID(b.t, p.url)
	p = b.post("/requests/"+id+"/notes", confirmForm(p))
	require.Equal(b.t, "/requests/"+id+"/code", p.url, p.body)
	b.post("/requests/"+id+"/code/send", nil)
	code, ok := b.c.kit.OTP.LastCode(phone)
	require.True(b.t, ok)
	p = b.post("/requests/"+id+"/code", url.Values{"code": {code}})
	if scan != nil {
		require.Equal(b.t, "/requests/"+id+"/documents", p.url, p.body)
		p = b.upload("/requests/"+id+"/documents", string(cancellation.DocumentPassport), scan)
		require.Equal(b.t, http.StatusOK, p.status, p.body)
	}
	p = b.post("/requests/"+id+"/submit", nil)
	require.Equal(b.t, "/requests/"+id, p.url, p.body)
	return id
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// toReviewEnterprise takes the enterprise demo account into review with a
// business licence.
func (b *browser) toReviewEnterprise() string {
	b.t.Helper()
	p := b.post("/start", nil)
	id := requestID(b.t, p.url)
	b.post("/requests/"+id+"/notes", confirmForm(p))
	b.post("/requests/"+id+"/code/send", nil)
	code, _ := b.c.kit.OTP.LastCode("+15550100003")
	b.post("/requests/"+id+"/code", url.Values{"code": {code}})
	p = b.upload("/requests/"+id+"/documents", string(cancellation.DocumentBusinessLicence), doctest.ColourScan())
	require.Equal(b.t, http.StatusOK, p.status, p.body)
	p = b.post("/requests/"+id+"/submit", nil)
	require.Equal(b.t, "/requests/"+id, p.url, p.body)
	return id
}

package webui_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/doctest"
)

// Regenerate the README's pictures with:
//
//	go test ./adapters/webui -run TestBrowser -args -screenshots
var screenshots = flag.Bool("screenshots", false, "write a screenshot of each step to docs/screenshots (also WEBUI_SCREENSHOTS=1)")

func wantScreenshots() bool { return *screenshots || os.Getenv("WEBUI_SCREENSHOTS") == "1" }

// needed says what a browser test lacks: it skips outside CI and fails
// under CI=true, where .ci/run installs everything.
func needed(t *testing.T, what, hint string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing under CI=true: %s", what, hint)
	}
	t.Skipf("%s is missing; %s", what, hint)
}

func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	needed(t, "chromium", "install it with `apt-get install -y chromium fonts-wqy-zenhei` (.ci/run does)")
	return ""
}

func axeSource(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join("testdata", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		needed(t, "axe-core", "run `npm ci --prefix adapters/webui/testdata` (.ci/run does)")
	}
	return string(b)
}

// flow is one run of the browser through the wizard and the desk.
type flow struct {
	t    *testing.T
	ctx  context.Context
	c    *console
	lang string
	axe  string
	shot int
}

func (f *flow) do(steps ...chromedp.Action[chromedp.Void]) {
	f.t.Helper()
	require.NoError(f.t, chromedp.Do(f.ctx, steps...))
}

// check runs axe-core on the page and fails on any serious or critical
// violation, and on headings out of order (a moderate one); it also
// writes the page's screenshot when asked.
func (f *flow) check(name string) {
	f.t.Helper()
	bad := f.violations()
	loc, _ := chromedp.Run(f.ctx, chromedp.Location())
	require.Empty(f.t, bad, "axe-core on %s (%s)", name, loc)
	if wantScreenshots() {
		f.shot++
		png, err := chromedp.Run(f.ctx, chromedp.FullScreenshot(100))
		require.NoError(f.t, err)
		dir := filepath.Join("..", "..", "docs", "screenshots")
		require.NoError(f.t, os.MkdirAll(dir, 0o755))
		require.NoError(f.t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%02d-%s.png", f.lang, f.shot, name)), png, 0o644))
	}
}

// violations runs axe-core on the page: its serious and critical
// violations, and headings out of order.
func (f *flow) violations() []string {
	f.t.Helper()
	loaded, err := chromedp.Run(f.ctx, chromedp.Evaluate[bool](`typeof axe !== "undefined"`))
	require.NoError(f.t, err)
	if !loaded {
		_, err := chromedp.Run(f.ctx, chromedp.Evaluate[bool](f.axe+";true"))
		require.NoError(f.t, err)
	}
	bad, err := chromedp.Run(f.ctx, chromedp.Evaluate[[]string](`axe.run(document, {resultTypes: ["violations"]}).then(r =>
		r.violations.filter(v => v.impact === "serious" || v.impact === "critical" || v.id === "heading-order")
			.map(v => v.id + " (" + v.impact + "): " + v.help + " at " + v.nodes.map(n => n.target.join(" ")).join(", ")))`, chromedp.EvalAwaitPromise))
	require.NoError(f.t, err)
	return bad
}

func (f *flow) text(sel string) string {
	f.t.Helper()
	s, err := chromedp.Run(f.ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(f.t, err)
	return s
}

// signIn goes through the dev sign-in page.
func (f *flow) signIn(token, next string) {
	f.do(chromedp.Navigate(f.c.srv.URL+"/signin?next="+next),
		chromedp.WaitVisible(chromedp.CSS(`.accounts`)))
	f.do(chromedp.Click(chromedp.CSS(`input[value="`+token+`"] ~ button`)),
		chromedp.WaitVisible(chromedp.CSS(`.who`)))
}

// TestBrowser drives Chromium through the whole flow of the
// identity-verified person, in English and in zh-CN: eligibility, the
// notes (ticked with the keyboard), the code read from the test OTP
// sender, a greyscale scan refused on screen and a colour scan accepted,
// submission, a reviewer approving in the desk, and the customer's page
// showing the account cancelled. axe-core checks every page.
func TestBrowser(t *testing.T) {
	exe := chromiumPath(t)
	axe := axeSource(t)
	dir := t.TempDir()
	grey, colour := filepath.Join(dir, "grey.jpg"), filepath.Join(dir, "colour.jpg")
	require.NoError(t, os.WriteFile(grey, doctest.GreyscaleScan(), 0o600))
	require.NoError(t, os.WriteFile(colour, doctest.ColourScan(), 0o600))

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.WindowSize(1024, 800),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	defer cancelAlloc()
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	_, err := chromedp.Run(browserCtx, chromedp.Evaluate[bool](`true`)) // start the one browser process
	require.NoError(t, err)

	for _, lang := range []string{"en", "zh-CN"} {
		t.Run(lang, func(t *testing.T) {
			// Each language has its own cookies, in the one browser process.
			ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
			defer cancel()
			ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
			defer cancelT()
			f := &flow{t: t, ctx: ctx, c: newConsole(t), lang: lang, axe: axe}
			zh := lang == "zh-CN"
			say := func(en, cn string) string {
				if zh {
					return cn
				}
				return en
			}
			customer := customerToken(memory.AccountVerified)

			// The check can fail: a page with an unlabelled input and
			// headings out of order has violations.
			f.do(chromedp.Navigate(`data:text/html,<html lang="en"><title>t</title><h1>a</h1><h3>b</h3><input id="x"></html>`))
			require.NotEmpty(t, f.violations(), "axe-core finds what is wrong")

			// The sign-in page, switched to Chinese with the link on it.
			f.do(chromedp.Navigate(f.c.srv.URL+"/signin"), chromedp.WaitVisible(chromedp.CSS(`.accounts`)))
			if zh {
				f.do(chromedp.Click(chromedp.CSS(`a[hreflang="zh-CN"]`)), chromedp.WaitVisible(chromedp.CSS(`html[lang="zh-CN"] .accounts`)))
			}
			f.check("signin")

			// A blocked account sees every finding with its remedy.
			f.do(chromedp.Click(chromedp.CSS(`input[value="`+customerToken(memory.AccountBlocked)+`"] ~ button`)), chromedp.WaitVisible(chromedp.CSS(`.finding.blocked`)))
			require.Contains(t, f.text(".findings"), say("delete all API keys", "删除所有 API 密钥"))
			f.check("eligibility-blocked")
			f.do(chromedp.Click(chromedp.CSS(`.who button`)), chromedp.WaitVisible(chromedp.CSS(`.accounts`)))

			f.do(chromedp.Click(chromedp.CSS(`input[value="`+customer+`"] ~ button`)), chromedp.WaitVisible(chromedp.CSS(`form[action="/start"]`)))
			require.Contains(t, f.text("h1"), say("Can this account be cancelled?", "此账号可以注销吗？"))
			f.check("eligibility")

			// Step 2: the notes, every box ticked with the keyboard.
			f.do(chromedp.Click(chromedp.CSS(`form[action="/start"] button`)), chromedp.WaitVisible(chromedp.CSS(`#irreversible`)))
			require.Contains(t, f.text(".notes"), say("You have no unfinished orders", "账号下没有未完成的订单"))
			f.check("notes")
			for _, box := range []string{"#irreversible", "#backup", "#not_evading", "#other_matters"} {
				f.do(chromedp.Focus(chromedp.CSS(box)), chromedp.KeyEvent(" "))
			}
			f.do(chromedp.Focus(chromedp.CSS(`main form button[type=submit]`)), chromedp.KeyEvent("\r"),
				chromedp.WaitVisible(chromedp.CSS(`form[action$="/code/send"]`)))
			loc, err := chromedp.Run(ctx, chromedp.Location())
			require.NoError(t, err)
			id := requestID(t, strings.TrimPrefix(loc, f.c.srv.URL))
			f.check("code")

			// Step 3: the code, read from the test OTP sender.
			f.do(chromedp.Click(chromedp.CSS(`form[action$="/code/send"] button`)), chromedp.WaitVisible(chromedp.CSS(`#code`)))
			code, ok := f.c.kit.OTP.LastCode("+15550100002")
			require.True(t, ok)
			f.do(chromedp.SendKeys(chromedp.CSS(`#code`), code))
			f.check("code-sent")
			f.do(chromedp.Click(chromedp.CSS(`form[action$="/code"] button`)), chromedp.WaitVisible(chromedp.CSS(`#file`)))
			f.check("documents")

			// Step 4: a greyscale scan refused on screen, then a colour scan.
			f.do(chromedp.SetUploadFiles(chromedp.CSS(`#file`), []string{grey}),
				chromedp.Click(chromedp.CSS(`form[enctype] button`)), chromedp.WaitVisible(chromedp.CSS(`#problem`)))
			require.Contains(t, f.text("#problem"), say("The scan is not in colour", "扫描件不是彩色的"))
			f.check("documents-refused")
			f.do(chromedp.SetUploadFiles(chromedp.CSS(`#file`), []string{colour}),
				chromedp.Click(chromedp.CSS(`form[enctype] button`)), chromedp.WaitVisible(chromedp.CSS(`a.button[href$="/submit"]`)))
			f.check("documents-uploaded")

			// Step 5 and the status page.
			f.do(chromedp.Click(chromedp.CSS(`a.button[href$="/submit"]`)), chromedp.WaitVisible(chromedp.CSS(`form[action$="/submit"]`)))
			f.check("submit")
			f.do(chromedp.Click(chromedp.CSS(`form[action$="/submit"] button`)), chromedp.WaitVisible(chromedp.CSS(`.timeline`)))
			require.Contains(t, f.text(".state"), say("In review", "审核中"))
			f.check("status")

			// The reviewer approves in the desk.
			f.do(chromedp.Click(chromedp.CSS(`.who button`)), chromedp.WaitVisible(chromedp.CSS(`.accounts`)))
			f.do(chromedp.Click(chromedp.CSS(`input[value="`+tokReviewer+`"] ~ button`)), chromedp.WaitVisible(chromedp.CSS(`table.queue`)))
			require.Contains(t, f.text("table.queue"), id)
			f.check("desk-queue")
			f.do(chromedp.Click(chromedp.CSS(`table.queue a[href$="`+id+`"]`)), chromedp.WaitVisible(chromedp.CSS(`form[action$="/approve"]`)))
			ok, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`[...document.querySelectorAll(".docs img")].every(i => i.complete && i.naturalWidth === 1200)`))
			require.NoError(t, err)
			require.True(t, ok, "the scan is shown as an image")
			f.check("desk-request")
			f.do(chromedp.Click(chromedp.CSS(`form[action$="/approve"] button`)), chromedp.WaitVisible(chromedp.CSS(`p.decided`)))
			require.Contains(t, f.text("p.decided"), say("Approved by reviewer-1", "由 reviewer-1 批准"))
			f.check("desk-approved")

			// The customer's page shows the account cancelled.
			f.do(chromedp.Click(chromedp.CSS(`.who button`)), chromedp.WaitVisible(chromedp.CSS(`.accounts`)))
			f.signIn(customer, "/requests/"+id)
			f.do(chromedp.WaitVisible(chromedp.CSS(`.state-cancelled`)))
			require.Contains(t, f.text("h1"), say("Account cancelled", "账号已注销"))
			f.check("cancelled")
		})
	}
}

package webui

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// ErrUnauthenticated is what an Authenticator returns (or wraps) when the
// browser carries no credentials it accepts: the console then sends the
// person to the sign-in page (or answers 401 without one).
var ErrUnauthenticated = errors.New("webui: unauthenticated")

// Principal is who is using the console: a customer account or a
// reviewer. Exactly one of Account and Reviewer is set.
type Principal struct {
	Account  ports.AccountID
	Reviewer *cancellation.Reviewer
}

// Authenticator turns a browser request into its principal. Hosts
// implement it over their own sessions; the example server adapts the
// HTTP API's authenticator to it over the dev token cookie (DevToken).
type Authenticator interface {
	Authenticate(r *http.Request) (Principal, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(r *http.Request) (Principal, error)

// Authenticate calls f(r).
func (f AuthenticatorFunc) Authenticate(r *http.Request) (Principal, error) { return f(r) }

// DevAccount is one entry of the development sign-in page: a label shown
// to the person and the token the cookie will carry.
type DevAccount struct {
	Label string
	Token string
}

// DevTokenCookie is the cookie the dev sign-in page sets; DevToken reads it.
const DevTokenCookie = "webui_dev_token"

// LangCookie remembers the language a person chose with the switch.
const LangCookie = "webui_lang"

// DevToken returns the token the dev sign-in page stored in the browser,
// or "".
func DevToken(r *http.Request) string {
	c, err := r.Cookie(DevTokenCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

// Options configure a Handler.
type Options struct {
	// Authenticator is required.
	Authenticator Authenticator
	// DevAccounts, when set, enables the development sign-in page
	// (/signin) listing them. Never set it in production.
	DevAccounts []DevAccount
	// MaxUploadBytes bounds a document upload as a whole (default 11 MiB,
	// as the HTTP API: the Service's 10 MiB limit and the multipart
	// framing).
	MaxUploadBytes int64
	// Logger receives unexpected errors (default: discard).
	Logger *slog.Logger
	// Clock tells whether a claim still holds on a request's page
	// (default: the system clock); give it the Service's Config.Clock.
	Clock ports.Clock
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// now is the console's time, by Options.Clock.
func (h *Handler) now() time.Time { return h.opts.Clock.Now() }

// Handler serves the console: the customer's wizard under / and the
// reviewer's desk under /review/. It is safe for concurrent use.
type Handler struct {
	svc   *cancellation.Service
	opts  Options
	tmpl  map[string]*template.Template
	cat   *catalogues
	mux   *http.ServeMux
	final http.Handler
}

// New returns the console over svc.
func New(svc *cancellation.Service, opts Options) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("webui: a Service is required")
	}
	if opts.Authenticator == nil {
		return nil, errors.New("webui: Options.Authenticator is required")
	}
	if opts.MaxUploadBytes <= 0 {
		opts.MaxUploadBytes = 11 << 20
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = systemClock{}
	}
	cat, err := loadCatalogues()
	if err != nil {
		return nil, err
	}
	h := &Handler{svc: svc, opts: opts, cat: cat, mux: http.NewServeMux()}
	if h.tmpl, err = parseTemplates(); err != nil {
		return nil, err
	}
	static, _ := fs.Sub(staticFS, "static")
	h.mux.Handle("GET /static/", http.StripPrefix("/static/", cacheFor(http.FileServerFS(static))))
	h.mux.HandleFunc("GET /signin", h.signinPage)
	h.mux.HandleFunc("POST /signin", h.signin)
	h.mux.HandleFunc("POST /signout", h.signout)
	h.customerRoutes()
	h.reviewerRoutes()
	cop := http.NewCrossOriginProtection()
	h.final = cop.Handler(h.mux)
	return h, nil
}

func cacheFor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		next.ServeHTTP(w, r)
	})
}

// csp allows only the console's own scripts, styles and images: no inline
// script or style, no framing, forms posting only to the console.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// ServeHTTP sets the security headers, then serves the page; a form posted
// from another origin is refused (http.CrossOriginProtection).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Frame-Options", "DENY")
	h.final.ServeHTTP(w, r)
}

// secureCookies reports whether cookies must be Secure: always, except for
// plain HTTP on a loopback address (a developer's machine).
func secureCookies(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	host := r.Host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		host = hh
	}
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secureCookies(r),
	})
}

// page is what every template receives.
type page struct {
	L        *localizer
	Title    string
	Path     string // the current path, for the language switch
	Langs    []langLink
	Who      string
	Reviewer bool
	Step     int // 1..6 for the wizard's progress indicator; 0 elsewhere
	Steps    []stepView
	Problem  string
	Status   int
	Data     any
}

type langLink struct {
	Tag, Name, Href string
	Current         bool
}

type stepView struct {
	N                     int
	Name                  string
	Done, Current, Future bool
}

func (h *Handler) newPage(r *http.Request, l *localizer, titleKey string) *page {
	p := &page{L: l, Title: l.T(titleKey), Path: r.URL.Path}
	// A switch keeps the page's other query parameters (the code page's
	// masked phone and resend time, the queue's filters and cursor).
	q := r.URL.Query()
	for i, t := range supported {
		q.Set("lang", t.String())
		p.Langs = append(p.Langs, langLink{Tag: t.String(), Name: langNames[i], Href: r.URL.Path + "?" + q.Encode(), Current: l.tag == t})
	}
	return p
}

func (p *page) withStep(n int) *page {
	p.Step = n
	for i := 1; i <= 6; i++ {
		p.Steps = append(p.Steps, stepView{N: i, Name: p.L.T("step." + string(rune('0'+i))), Done: i < n, Current: i == n, Future: i > n})
	}
	return p
}

// render writes the named template; a template error is logged and
// answered 500 (the template was checked at New, so it is a bug).
func (h *Handler) render(w http.ResponseWriter, status int, name string, p *page) {
	t, ok := h.tmpl[name]
	if !ok {
		h.opts.Logger.Error("webui: no template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		h.opts.Logger.Error("webui: rendering", "template", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

func parseTemplates() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"add":  func(a, b int) int { return a + b },
		"mulf": func(f float64) float64 { return f * 100 },
		"join": func(s []string) string { return strings.Join(s, ", ") },
		// The bounds of free text, as the Service holds them, for the
		// maxlength of the fields that take it.
		"maxNote":         func() int { return cancellation.MaxNoteLength },
		"maxGiveUpReason": func() int { return cancellation.MaxGiveUpReason },
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, err
		}
		out[base] = t
	}
	return out, nil
}

// principal authenticates the request; without credentials it sends the
// browser to the sign-in page (when dev sign-in is on) and returns false.
func (h *Handler) principal(w http.ResponseWriter, r *http.Request, l *localizer) (Principal, bool) {
	p, err := h.opts.Authenticator.Authenticate(r)
	switch {
	case err == nil && (p.Account != "") != (p.Reviewer != nil):
		return p, true
	case err == nil || errors.Is(err, ErrUnauthenticated):
		if len(h.opts.DevAccounts) > 0 {
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.Path), http.StatusSeeOther)
			return Principal{}, false
		}
		h.problemPage(w, r, l, http.StatusUnauthorized, "unauthenticated")
		return Principal{}, false
	default:
		h.opts.Logger.Error("webui: authenticator failed", "error", err)
		h.problemPage(w, r, l, http.StatusServiceUnavailable, "unavailable")
		return Principal{}, false
	}
}

func (h *Handler) problemPage(w http.ResponseWriter, r *http.Request, l *localizer, status int, code string) {
	p := h.newPage(r, l, "error.title")
	p.Problem = l.T("problem." + code)
	h.render(w, status, "error", p)
}

func (h *Handler) signinPage(w http.ResponseWriter, r *http.Request) {
	l := h.localize(w, r)
	if len(h.opts.DevAccounts) == 0 {
		http.NotFound(w, r)
		return
	}
	p := h.newPage(r, l, "signin.title")
	p.Data = struct {
		Accounts []DevAccount
		Next     string
	}{h.opts.DevAccounts, safeNext(r.URL.Query().Get("next"))}
	h.render(w, http.StatusOK, "signin", p)
}

func (h *Handler) signin(w http.ResponseWriter, r *http.Request) {
	if len(h.opts.DevAccounts) == 0 {
		http.NotFound(w, r)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	tok := r.PostFormValue("token")
	known := false
	for _, a := range h.opts.DevAccounts {
		known = known || a.Token == tok
	}
	if !known {
		l := h.localize(w, r)
		h.problemPage(w, r, l, http.StatusBadRequest, "unauthenticated")
		return
	}
	h.setCookie(w, r, DevTokenCookie, tok, 0)
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (h *Handler) signout(w http.ResponseWriter, r *http.Request) {
	h.setCookie(w, r, DevTokenCookie, "", -1)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// safeNext keeps a redirect target on this site: a path, never "//host".
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

// ctx is the request's context, detached from nothing: a helper for
// readability.
func ctx(r *http.Request) context.Context { return r.Context() }

// formText returns a free-text form field as it was typed: a browser
// sends each line break of a textarea as CRLF but counts it as one
// character against maxlength, so a note at the library's bound with line
// breaks would be refused as too long; the line breaks are sent on as LF.
func formText(r *http.Request, name string) string {
	return strings.ReplaceAll(r.PostFormValue(name), "\r\n", "\n")
}

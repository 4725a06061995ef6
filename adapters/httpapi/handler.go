package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// Options configure a Handler. Authenticator is required.
type Options struct {
	// Authenticator turns each request into its principal.
	Authenticator Authenticator
	// Store is the Service's Store. When it implements
	// cancellation.IdempotencyStore, every POST honours Idempotency-Key;
	// otherwise a POST that sends the header is refused (400
	// idempotency_unsupported) rather than run without the guarantee.
	Store cancellation.Store
	// MaxJSONBytes bounds JSON request bodies (default 64 KiB).
	MaxJSONBytes int64
	// MaxUploadBytes bounds a multipart document upload as a whole
	// (default 11 MiB: the Service's 10 MiB document limit, which it
	// enforces on the file itself, and room for the multipart framing).
	MaxUploadBytes int64
	// IdempotencyTTL is how long a completed Idempotency-Key is replayed
	// (default 24 h); maintenance purges it afterwards.
	IdempotencyTTL time.Duration
	// IdempotencyLease is how long a key stays reserved by a request that
	// is still running (default 5 min): a retry meanwhile gets 409, and a
	// reservation left by a crashed process is taken over after it. The
	// reservation is not renewed, so the body of a POST with a key must
	// arrive within half the lease: a slower one answers 408
	// body_too_slow and the key is released.
	IdempotencyLease time.Duration
	// Realm is named in the WWW-Authenticate challenge (default
	// "cancellation").
	Realm string
	// Clock defaults to the system clock.
	Clock ports.Clock
	// Logger receives the errors behind 5xx answers, with their text,
	// which responses never carry (default: discard).
	Logger *slog.Logger
}

// Handler serves the cancellation REST API (see openapi.yaml, served at
// /v1/openapi.yaml) over a Service. Mount it at the root of a server or
// under a prefix with http.StripPrefix: Location headers keep the prefix.
type Handler struct {
	svc  *cancellation.Service
	opts Options
	idem cancellation.IdempotencyStore
	mux  *http.ServeMux
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// New returns the Handler for svc.
func New(svc *cancellation.Service, opts Options) (*Handler, error) {
	switch {
	case svc == nil:
		return nil, errors.New("httpapi: New needs a Service")
	case opts.Authenticator == nil:
		return nil, errors.New("httpapi: Options.Authenticator is required")
	}
	if opts.MaxJSONBytes <= 0 {
		opts.MaxJSONBytes = 64 << 10
	}
	if opts.MaxUploadBytes <= 0 {
		opts.MaxUploadBytes = 11 << 20
	}
	if opts.IdempotencyTTL <= 0 {
		opts.IdempotencyTTL = 24 * time.Hour
	}
	if opts.IdempotencyLease <= 0 {
		opts.IdempotencyLease = 5 * time.Minute
	}
	if opts.Realm == "" {
		opts.Realm = "cancellation"
	}
	if opts.Clock == nil {
		opts.Clock = systemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{svc: svc, opts: opts, mux: http.NewServeMux()}
	h.idem, _ = opts.Store.(cancellation.IdempotencyStore)
	h.routes()
	return h, nil
}

// ServeHTTP serves one request. A panic below it is logged and answered
// 500 without its text.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.opts.Logger.Error("httpapi: panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			writeProblem(w, errInternal)
		}
	}()
	h.mux.ServeHTTP(w, r)
}

// role says who may call an operation.
type role int

const (
	anyone role = iota
	customers
	reviewers
)

// bodyKind says what body an operation reads.
type bodyKind int

const (
	noBody bodyKind = iota
	jsonBody
	multipartBody
)

// op is one endpoint: who may call it, what it reads, whether it honours
// If-Match, and what it does.
type op struct {
	role    role
	body    bodyKind
	ifMatch bool
	fn      func(r *http.Request, p Principal) (reply, error)
}

func (h *Handler) handle(pattern string, o op) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { h.serve(w, r, o) })
}

// routes registers every endpoint; openapi.yaml documents the same list.
func (h *Handler) routes() {
	h.mux.HandleFunc("GET /v1/openapi.yaml", serveSpec)
	h.handle("GET /v1/notes", op{role: customers, fn: h.notes})
	h.handle("GET /v1/eligibility", op{role: customers, fn: h.eligibility})
	h.handle("POST /v1/cancellations", op{role: customers, body: jsonBody, fn: h.start})
	h.handle("GET /v1/cancellations/active", op{role: customers, fn: h.active})
	h.handle("GET /v1/cancellations/past", op{role: customers, fn: h.past})
	h.handle("GET /v1/cancellations/{id}", op{role: customers, fn: h.get})
	h.handle("GET /v1/cancellations/{id}/receipt", op{role: customers, fn: h.receipt})
	h.handle("POST /v1/cancellations/{id}/confirmation", op{role: customers, body: jsonBody, ifMatch: true, fn: h.confirm})
	h.handle("POST /v1/cancellations/{id}/consents", op{role: customers, body: jsonBody, ifMatch: true, fn: h.consent})
	h.handle("POST /v1/cancellations/{id}/code", op{role: customers, body: jsonBody, ifMatch: true, fn: h.sendCode})
	h.handle("POST /v1/cancellations/{id}/code/verify", op{role: customers, body: jsonBody, ifMatch: true, fn: h.verifyCode})
	h.handle("POST /v1/cancellations/{id}/documents", op{role: customers, body: multipartBody, ifMatch: true, fn: h.upload})
	h.handle("POST /v1/cancellations/{id}/submit", op{role: customers, body: jsonBody, ifMatch: true, fn: h.submit})
	h.handle("POST /v1/cancellations/{id}/withdraw", op{role: customers, body: jsonBody, ifMatch: true, fn: h.withdraw})
	h.handle("POST /v1/cancellations/{id}/data-export/waiver", op{role: customers, body: jsonBody, ifMatch: true, fn: h.waiveDataExport})
	h.handle("GET /v1/reviews", op{role: reviewers, fn: h.queue})
	h.handle("GET /v1/reviews/{id}", op{role: reviewers, fn: h.review})
	h.handle("GET /v1/reviews/{id}/documents/{kind}", op{role: reviewers, fn: h.reviewDocument})
	h.handle("POST /v1/reviews/{id}/approve", op{role: reviewers, body: jsonBody, ifMatch: true, fn: h.approve})
	h.handle("POST /v1/reviews/{id}/reject", op{role: reviewers, body: jsonBody, ifMatch: true, fn: h.reject})
	h.handle("POST /v1/reviews/{id}/erasure-extension", op{role: reviewers, body: jsonBody, ifMatch: true, fn: h.extendErasure})
	h.handle("GET /v1/effects/stuck", op{role: reviewers, fn: h.stuckEffects})
	h.handle("POST /v1/reviews/{id}/effects/retry", op{role: reviewers, body: jsonBody, ifMatch: true, fn: h.retryEffect})
	h.handle("POST /v1/reviews/{id}/effects/give-up", op{role: reviewers, body: jsonBody, ifMatch: true, fn: h.giveUpEffect})
	h.handle("POST /v1/reviews/{id}/return", op{role: reviewers, body: jsonBody, ifMatch: true, fn: h.askForMore})
	h.handle("GET /v1/staff-closures", op{role: reviewers, fn: h.staffClosures})
	h.handle("POST /v1/staff-closures", op{role: reviewers, body: jsonBody, fn: h.startStaffClosure})
	h.handle("POST /v1/staff-closures/{id}/evidence", op{role: reviewers, body: multipartBody, ifMatch: true, fn: h.addStaffEvidence})
	h.handle("GET /v1/staff-closures/{id}/evidence/{n}", op{role: reviewers, fn: h.staffEvidence})
	h.handle("POST /v1/staff-closures/{id}/approve", op{role: reviewers, body: jsonBody, ifMatch: true, fn: h.approveStaffClosure})
	h.handle("POST /v1/staff-closures/{id}/decline", op{role: reviewers, body: jsonBody, ifMatch: true, fn: h.declineStaffClosure})
	h.handle("POST /v1/reviews/{id}/claim", op{role: reviewers, body: jsonBody, ifMatch: true, fn: h.claim})
	h.handle("POST /v1/reviews/{id}/claim/renew", op{role: reviewers, body: jsonBody, ifMatch: true, fn: h.renewClaim})
	h.handle("POST /v1/reviews/{id}/claim/release", op{role: reviewers, body: jsonBody, ifMatch: true, fn: h.releaseClaim})
	h.handle("POST /v1/reviews/{id}/claim/reassign", op{role: reviewers, body: jsonBody, ifMatch: true, fn: h.reassign})
	h.handle("POST /v1/organizations/{org}/closures", op{role: customers, body: jsonBody, fn: h.closeMembers})
	h.handle("POST /v1/identifiers/recently-closed", op{role: reviewers, body: jsonBody, fn: h.recentlyClosed})
	// Everything else is a problem document too, not the mux's text/plain
	// 404 or 405.
	h.mux.HandleFunc("/", h.unrouted)
}

// unrouted answers 405 with Allow when the path has endpoints for other
// methods, and 404 otherwise.
func (h *Handler) unrouted(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := h.mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeProblem(w, newProblem(http.StatusMethodNotAllowed, "method_not_allowed", "This endpoint does not take this method", "allowed: "+strings.Join(allow, ", ")))
		return
	}
	writeProblem(w, newProblem(http.StatusNotFound, "no_such_endpoint", "No such endpoint", "see /v1/openapi.yaml"))
}

// serve runs one operation: authentication, role, body bound, If-Match,
// Idempotency-Key, then the operation itself.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, o op) {
	p, err := h.opts.Authenticator.Authenticate(r)
	switch {
	case errors.Is(err, ErrUnauthenticated) || (err == nil && !p.valid()):
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+h.opts.Realm+`"`)
		writeProblem(w, newProblem(http.StatusUnauthorized, "unauthenticated", "Authentication is required", "send valid credentials"))
		return
	case err != nil:
		h.opts.Logger.Error("httpapi: authenticator failed", "error", err)
		writeProblem(w, newProblem(http.StatusServiceUnavailable, "authentication_unavailable", "Authentication is unavailable", "try again later"))
		return
	case o.role == customers && p.Reviewer != nil:
		writeProblem(w, newProblem(http.StatusForbidden, "forbidden", "This endpoint is for customers", ""))
		return
	case o.role == reviewers && p.Reviewer == nil:
		writeProblem(w, newProblem(http.StatusForbidden, "forbidden", "This endpoint is for reviewers", ""))
		return
	}
	limit := h.opts.MaxJSONBytes
	if o.body == multipartBody {
		limit = h.opts.MaxUploadBytes
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if r.Method == http.MethodPost && r.Header.Get("Idempotency-Key") != "" {
		// The body must arrive within half the key's lease (see
		// idempotent); a stalled connection is cut at the same bound.
		// Servers whose writer cannot set it rely on the body's own check.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(h.opts.IdempotencyLease / 2))
		h.idempotent(r, p, o, limit).write(w)
		return
	}
	h.run(r, p, o, limit).write(w)
}

// run runs the operation and turns its error into a problem.
func (h *Handler) run(r *http.Request, p Principal, o op, limit int64) reply {
	if o.ifMatch && r.Header.Get("If-Match") != "" {
		ctx, err := h.ifMatch(r, p)
		if err != nil {
			return h.errorReply(r, err, limit)
		}
		r = r.WithContext(ctx)
	}
	rep, err := o.fn(r, p)
	if err != nil {
		return h.errorReply(r, err, limit)
	}
	return rep
}

// errorReply maps err: a body problem, a domain error through the
// problems table, or internal_error (logged, never shown).
func (h *Handler) errorReply(r *http.Request, err error, limit int64) reply {
	var bp errBodyProblem
	if errors.As(err, &bp) {
		return problemReply(bp.p)
	}
	if tooLarge(err) {
		return problemReply(errTooLarge(limit).(errBodyProblem).p)
	}
	if p, ok := problemFor(err, h.opts.Clock.Now()); ok {
		if p.Status >= 500 {
			args := []any{"method", r.Method, "path", r.URL.Path, "error", err}
			// An UnavailableError's text names the port, not its error:
			// the operator reads that here.
			if ue := (*cancellation.UnavailableError)(nil); errors.As(err, &ue) && ue.Unwrap() != nil {
				args = append(args, "cause", ue.Unwrap())
			}
			h.opts.Logger.Error("httpapi: port failed", args...)
		}
		return problemReply(p)
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client went away; nobody reads this answer.
		return problemReply(newProblem(499, "client_closed_request", "The client closed the request", ""))
	}
	h.opts.Logger.Error("httpapi: request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	return problemReply(errInternal)
}

// ifMatch turns If-Match into the Service's precondition
// (cancellation.IfVersion), which the Service checks in the same
// optimistic-concurrency step as its write: of two requests sending the
// same tag at most one succeeds, the other answers 412 (precondition_failed in the
// problem table). "*" sets no version: any
// current version matches. A tag of another form never matches. Only a
// list of several tags costs a read, to pick the one that can match.
func (h *Handler) ifMatch(r *http.Request, p Principal) (context.Context, error) {
	var versions []int64
	for _, t := range strings.Split(r.Header.Get("If-Match"), ",") {
		t = strings.TrimSpace(t)
		if t == "*" {
			return r.Context(), nil
		}
		if v, ok := parseETag(t); ok {
			versions = append(versions, v)
		}
	}
	switch len(versions) {
	case 0:
		return cancellation.IfVersion(r.Context(), -1), nil // no request is at version -1
	case 1:
		return cancellation.IfVersion(r.Context(), versions[0]), nil
	}
	var cur *cancellation.Request
	var err error
	if p.Reviewer != nil {
		cur, err = h.svc.Review(r.Context(), *p.Reviewer, r.PathValue("id"))
	} else {
		cur, err = h.svc.Get(r.Context(), p.Account, r.PathValue("id"))
	}
	if err != nil {
		return nil, err
	}
	want := versions[0]
	if slices.Contains(versions, cur.Version()) {
		want = cur.Version()
	}
	return cancellation.IfVersion(r.Context(), want), nil
}

// parseETag reads a strong tag of this API ("7").
func parseETag(t string) (int64, bool) {
	if len(t) < 3 || t[0] != '"' || t[len(t)-1] != '"' {
		return 0, false
	}
	v, err := strconv.ParseInt(t[1:len(t)-1], 10, 64)
	return v, err == nil && v >= 0 && etag(v) == t
}

// etag is the entity tag of a request version.
func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/httpapi"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/internal/docfixtures"
	"github.com/accountkit/cancellation/ports"
)

// TestHandler_WholeCancellationOverHTTP walks the identity-verified
// account through the six steps and a reviewer's approval, and reads the
// reviewer's view: facts, history verified, the image with no-store.
func TestHandler_WholeCancellationOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	notes := e.do(http.MethodGet, "/v1/notes", tokVerified, nil)
	require.Equal(t, http.StatusOK, notes.Status)
	var el cancellation.Report
	e.do(http.MethodGet, "/v1/eligibility", tokVerified, nil).json(t, &el)
	require.Equal(t, cancellation.OutcomePass, el.Outcome)

	id := e.toReview(tokVerified, memory.AccountVerified, "+15550100002", true)
	got := e.do(http.MethodGet, "/v1/cancellations/active", tokVerified, nil)
	var v view
	got.json(t, &v)
	require.Equal(t, id, v.ID)
	require.Equal(t, cancellation.StateInReview, v.State)
	require.Equal(t, strconv.Quote(strconv.FormatInt(e.version(id), 10)), got.Header.Get("ETag"))

	var page httpapi.QueuePage
	e.do(http.MethodGet, "/v1/reviews", tokReviewer, nil).json(t, &page)
	require.Len(t, page.Items, 1)
	require.Equal(t, id, page.Items[0].ID)

	var rv httpapi.ReviewView
	review := e.do(http.MethodGet, "/v1/reviews/"+id, tokReviewer, nil)
	review.json(t, &rv)
	require.True(t, rv.HistoryVerified)
	require.Len(t, rv.Documents, 1)
	require.Equal(t, cancellation.FormatJPEG, rv.Documents[0].Facts.Format)
	require.NotEmpty(t, rv.Documents[0].Facts.SHA256)
	require.True(t, rv.Confirmation.Irreversible)

	img := e.do(http.MethodGet, "/v1/reviews/"+id+"/documents/passport", tokReviewer, nil)
	require.Equal(t, http.StatusOK, img.Status)
	require.Equal(t, "image/jpeg", img.Header.Get("Content-Type"))
	require.Equal(t, "no-store", img.Header.Get("Cache-Control"))
	require.Equal(t, colourScan(), img.Body)

	approved := e.do(http.MethodPost, "/v1/reviews/"+id+"/approve", tokReviewer, map[string]string{"note": "documents match"}, "If-Match", review.Header.Get("ETag"))
	require.Equal(t, http.StatusOK, approved.Status, "body: %s", approved.Body)
	e.do(http.MethodGet, "/v1/cancellations/"+id, tokVerified, nil).json(t, &v)
	require.Equal(t, cancellation.StateCancelled, v.State)
}

// TestHandler_AnotherAccountsRequestAnswersLikeAnUnknownOne shows that a
// customer cannot tell another account's request from a missing one, on
// reads and on writes, and that nothing changes.
func TestHandler_AnotherAccountsRequestAnswersLikeAnUnknownOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	theirs := e.start(tokVerified).ID
	for _, path := range []string{"", "/submit", "/withdraw", "/code"} {
		method := http.MethodPost
		if path == "" {
			method = http.MethodGet
		}
		other := e.do(method, "/v1/cancellations/"+theirs+path, tokEligible, nil)
		unknown := e.do(method, "/v1/cancellations/can_000000000000000000000000"+path, tokEligible, nil)
		other.requireProblem(t, http.StatusNotFound, "not_found")
		require.Equal(t, unknown.Status, other.Status, path)
		require.Equal(t, string(unknown.Body), string(other.Body), "%s: the answers must be identical", path)
		require.NotContains(t, string(other.Body), theirs)
	}
	// With If-Match too: the precondition is not evaluated on another's request.
	e.do(http.MethodPost, "/v1/cancellations/"+theirs+"/withdraw", tokEligible, nil, "If-Match", `"1"`).requireProblem(t, http.StatusNotFound, "not_found")
	require.Equal(t, int64(1), e.version(theirs))
}

// TestHandler_WhoIsCalling: no credentials answer 401 with a challenge;
// customers do not reach reviewer endpoints nor reviewers customer ones;
// a reviewer's own account stays self_review.
func TestHandler_WhoIsCalling(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tok := range []string{"", "not-a-token"} {
		r := e.do(http.MethodGet, "/v1/notes", tok, nil)
		r.requireProblem(t, http.StatusUnauthorized, "unauthenticated")
		require.Equal(t, `Bearer realm="cancellation"`, r.Header.Get("WWW-Authenticate"))
	}
	e.do(http.MethodGet, "/v1/reviews", tokVerified, nil).requireProblem(t, http.StatusForbidden, "forbidden")
	e.do(http.MethodPost, "/v1/cancellations", tokReviewer, nil).requireProblem(t, http.StatusForbidden, "forbidden")

	id := e.toReview(tokEligible, memory.AccountEligible, "+15550100001", false)
	e.do(http.MethodPost, "/v1/reviews/"+id+"/approve", tokSelf, nil).requireProblem(t, http.StatusForbidden, "self_review")
	require.Equal(t, http.StatusOK, e.do(http.MethodGet, "/v1/openapi.yaml", "", nil).Status, "the document needs no credentials")
}

// TestHandler_DomainErrorsAreProblems drives each domain refusal over
// HTTP and checks its status, stable code and extension members.
func TestHandler_DomainErrorsAreProblems(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	blocked := e.do(http.MethodPost, "/v1/cancellations", tokBlocked, nil).requireProblem(t, http.StatusUnprocessableEntity, "not_eligible")
	require.NotEmpty(t, blocked.Findings)
	for _, f := range blocked.Findings {
		require.Equal(t, cancellation.OutcomeBlocked, f.Outcome)
		require.NotNil(t, f.Remedy, "finding %s has its remedy", f.Rule)
	}

	bal := e.start(tokBalance).ID
	c := e.confirmation(memory.AccountBalance)
	c.Consents = nil
	consent := e.do(http.MethodPost, "/v1/cancellations/"+bal+"/confirmation", tokBalance, c).requireProblem(t, http.StatusUnprocessableEntity, "consent_required")
	require.NotEmpty(t, consent.Findings, "what to consent to")
	require.NotEmpty(t, consent.Findings[0].Fingerprint)

	id := e.start(tokVerified).ID
	tr := e.do(http.MethodPost, "/v1/cancellations/"+id+"/submit", tokVerified, nil).requireProblem(t, http.StatusConflict, "invalid_transition")
	require.Equal(t, cancellation.StateStarted, tr.Transition.From)
	e.do(http.MethodPost, "/v1/cancellations", tokVerified, nil).requireProblem(t, http.StatusConflict, "active_request_exists")

	val := e.do(http.MethodPost, "/v1/cancellations/"+id+"/code/verify", tokVerified, map[string]string{"code": "12ab"}).requireProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	require.Equal(t, "code", val.Field)

	require.Equal(t, http.StatusOK, e.do(http.MethodPost, "/v1/cancellations/"+id+"/confirmation", tokVerified, e.confirmation(memory.AccountVerified)).Status)
	e.do(http.MethodPost, "/v1/cancellations/"+id+"/code/verify", tokVerified, map[string]string{"code": "123456"}).requireProblem(t, http.StatusUnprocessableEntity, "code_expired")
	require.Equal(t, http.StatusAccepted, e.do(http.MethodPost, "/v1/cancellations/"+id+"/code", tokVerified, nil).Status)
	code, _ := e.kit.OTP.LastCode("+15550100002")
	wrong := fmt.Sprintf("%06d", (mustAtoi(t, code)+1)%1000000)
	mis := e.do(http.MethodPost, "/v1/cancellations/"+id+"/code/verify", tokVerified, map[string]string{"code": wrong}).requireProblem(t, http.StatusUnprocessableEntity, "code_mismatch")
	require.NotNil(t, mis.AttemptsLeft)
	again := e.do(http.MethodPost, "/v1/cancellations/"+id+"/code", tokVerified, nil)
	limited := again.requireProblem(t, http.StatusTooManyRequests, "code_rate_limited")
	require.NotNil(t, limited.RetryAt)
	secs, err := strconv.Atoi(again.Header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After is in seconds")
	require.Positive(t, secs)
	require.Equal(t, http.StatusOK, e.do(http.MethodPost, "/v1/cancellations/"+id+"/code/verify", tokVerified, map[string]string{"code": code}).Status)

	grey := docfixtures.JPEG(docfixtures.Greyscale(docfixtures.ColourIDCard(1200, 800)), 90)
	doc := e.upload(tokVerified, id, "passport", grey).requireProblem(t, http.StatusUnprocessableEntity, "document_rejected")
	require.Equal(t, cancellation.DocumentNotColour, doc.DocumentProblem)
	require.NotEmpty(t, doc.Detail, "the customer is told what to do")
	e.upload(tokVerified, id, "business_licence", colourScan()).requireProblem(t, http.StatusUnprocessableEntity, "wrong_document_kind")
	e.upload(tokEligible, e.start(tokEligible).ID, "passport", colourScan()).requireProblem(t, http.StatusUnprocessableEntity, "documents_not_required")

	e.do(http.MethodGet, "/v1/reviews?limit=0", tokReviewer, nil).requireProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	e.do(http.MethodGet, "/v1/reviews/can_nope", tokReviewer, nil).requireProblem(t, http.StatusNotFound, "not_found")
	e.do(http.MethodGet, "/v1/nowhere", tokVerified, nil).requireProblem(t, http.StatusNotFound, "no_such_endpoint")
	del := e.do(http.MethodDelete, "/v1/cancellations/"+id, tokVerified, nil)
	del.requireProblem(t, http.StatusMethodNotAllowed, "method_not_allowed")
	require.Equal(t, "GET", del.Header.Get("Allow"))
}

func mustAtoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

// TestHandler_OversizedDocumentIs413 shows the upload bound: a file over
// the Service's document limit answers 413 document_too_large, and a body
// over the handler's multipart bound 413 body_too_large, without reading
// it all.
func TestHandler_OversizedDocumentIs413(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *cancellation.Config, o *httpapi.Options) {
		c.DocumentPolicy.Limits.MaxBytes = 64 << 10
		o.MaxUploadBytes = 1 << 20
	})
	id := e.toPhoneVerified(tokVerified, memory.AccountVerified, "+15550100002")
	big := append(append([]byte{}, colourScan()...), make([]byte, 64<<10)...)
	p := e.upload(tokVerified, id, "passport", big).requireProblem(t, http.StatusRequestEntityTooLarge, "document_too_large")
	require.Equal(t, cancellation.DocumentTooLarge, p.DocumentProblem)
	e.upload(tokVerified, id, "passport", make([]byte, 2<<20)).requireProblem(t, http.StatusRequestEntityTooLarge, "document_too_large")
	// The multipart bound holds for the framing too: a 2 MiB preamble.
	body, ct := multipartBody(t, "passport", colourScan())
	huge := append([]byte(strings.Repeat(strings.Repeat("x", 98)+"\r\n", 2<<20/100)), body...)
	e.do(http.MethodPost, "/v1/cancellations/"+id+"/documents", tokVerified, huge, "Content-Type", ct).requireProblem(t, http.StatusRequestEntityTooLarge, "body_too_large")
	require.Equal(t, int64(4), e.version(id), "nothing was stored")
	e.do(http.MethodPost, "/v1/cancellations/"+id+"/confirmation", tokVerified, strings.Repeat(" ", 70<<10)).requireProblem(t, http.StatusRequestEntityTooLarge, "body_too_large")
}

// toPhoneVerified takes an account to phone_verified over HTTP.
func (e *env) toPhoneVerified(token string, acct ports.AccountID, phone string) string {
	e.t.Helper()
	id := e.start(token).ID
	require.Equal(e.t, http.StatusOK, e.do(http.MethodPost, "/v1/cancellations/"+id+"/confirmation", token, e.confirmation(acct)).Status)
	require.Equal(e.t, http.StatusAccepted, e.do(http.MethodPost, "/v1/cancellations/"+id+"/code", token, nil).Status)
	code, _ := e.kit.OTP.LastCode(phone)
	require.Equal(e.t, http.StatusOK, e.do(http.MethodPost, "/v1/cancellations/"+id+"/code/verify", token, map[string]string{"code": code}).Status)
	return id
}

// secret looks like what a port's error must never show a caller.
const secret = "dial tcp 10.1.2.3:5432: password=hunter2 for db_admin"

// failingStore fails every Get with the secret, like a broken database.
type failingStore struct {
	cancellation.Store
	fail bool
}

func (s *failingStore) Get(ctx context.Context, id string) (*cancellation.Request, error) {
	if s.fail {
		return nil, errors.New(secret)
	}
	return s.Store.Get(ctx, id)
}

// TestHandler_PortErrorsNeverReachTheCaller fails the OTP port and the
// Store with a secret-looking message: the answers are generic problems
// (a failing Store is 503 unavailable with Retry-After, never 500),
// the secret goes to the log only, and the reviewer's history view shows
// that delivery failed, not why.
func TestHandler_PortErrorsNeverReachTheCaller(t *testing.T) {
	t.Parallel()
	var logged strings.Builder
	store := &failingStore{}
	e := newEnv(t, func(c *cancellation.Config, o *httpapi.Options) {
		store.Store = c.Store
		c.Store = store
		o.Logger = slogTo(&logged)
	})
	id := e.start(tokVerified).ID
	require.Equal(t, http.StatusOK, e.do(http.MethodPost, "/v1/cancellations/"+id+"/confirmation", tokVerified, e.confirmation(memory.AccountVerified)).Status)
	e.kit.OTP.FailNext(1, errors.New(secret))
	r := e.do(http.MethodPost, "/v1/cancellations/"+id+"/code", tokVerified, nil)
	r.requireProblem(t, http.StatusBadGateway, "delivery_failed")
	require.NotContains(t, string(r.Body), "hunter2")

	rv := e.do(http.MethodGet, "/v1/reviews/"+id, tokReviewer, nil)
	require.Equal(t, http.StatusOK, rv.Status)
	require.NotContains(t, string(rv.Body), "hunter2")
	require.Contains(t, string(rv.Body), "code_failed")

	store.fail = true
	for _, path := range []string{"/v1/cancellations/" + id, "/v1/reviews/" + id} {
		tok := tokVerified
		if strings.HasPrefix(path, "/v1/reviews") {
			tok = tokReviewer
		}
		// A Store that fails so is unavailable, not a bug: 503 with
		// Retry-After, not 500.
		r := e.do(http.MethodGet, path, tok, nil)
		p := r.requireProblem(t, http.StatusServiceUnavailable, "unavailable")
		secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
		require.NoError(t, err, "Retry-After is in seconds")
		require.Positive(t, secs)
		require.NotContains(t, string(r.Body), "hunter2")
		require.NotContains(t, p.Detail, "10.1.2.3")
		require.NotContains(t, string(r.Body), "goroutine", "no stack")
	}
	require.Contains(t, logged.String(), "hunter2", "the operator sees the cause in the log")
	store.fail = false
	e.do(http.MethodGet, "/v1/cancellations/can_unknown", tokVerified, nil).requireProblem(t, http.StatusNotFound, "not_found")
}

// TestHandler_IfMatch: a stale version answers 412 and changes nothing; the
// current one (or *) passes; two reviewers deciding on the same read: the
// second one gets 412, not a silent overwrite.
func TestHandler_IfMatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.start(tokVerified).ID
	stale := `"1"`
	require.Equal(t, http.StatusOK, e.do(http.MethodPost, "/v1/cancellations/"+id+"/confirmation", tokVerified, e.confirmation(memory.AccountVerified), "If-Match", stale).Status)
	e.do(http.MethodPost, "/v1/cancellations/"+id+"/withdraw", tokVerified, nil, "If-Match", stale).requireProblem(t, http.StatusPreconditionFailed, "precondition_failed")
	require.Equal(t, int64(2), e.version(id))
	require.Equal(t, http.StatusOK, e.do(http.MethodPost, "/v1/cancellations/"+id+"/withdraw", tokVerified, nil, "If-Match", "*").Status)

	rid := e.toReview(tokEligible, memory.AccountEligible, "+15550100001", false)
	tag := e.do(http.MethodGet, "/v1/reviews/"+rid, tokReviewer, nil).Header.Get("ETag")
	require.Equal(t, http.StatusOK, e.do(http.MethodPost, "/v1/reviews/"+rid+"/reject", tokReviewer, map[string]any{"reasons": []string{"identity_mismatch"}}, "If-Match", tag).Status)
	before := e.version(rid)
	e.do(http.MethodPost, "/v1/reviews/"+rid+"/approve", tokReviewer, nil, "If-Match", tag).requireProblem(t, http.StatusPreconditionFailed, "precondition_failed")
	require.Equal(t, before, e.version(rid))
}

// TestHandler_IdempotencyKey: a retry with the same key and body replays
// the first response without a second transition or code; another body
// answers 422; a key still in flight 409; keys are per caller.
func TestHandler_IdempotencyKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.do(http.MethodPost, "/v1/cancellations", tokVerified, nil, "Idempotency-Key", "k-start")
	require.Equal(t, http.StatusCreated, first.Status)
	again := e.do(http.MethodPost, "/v1/cancellations", tokVerified, nil, "Idempotency-Key", "k-start")
	require.Equal(t, http.StatusCreated, again.Status, "replayed, not 409 active_request_exists")
	require.Equal(t, string(first.Body), string(again.Body))
	require.Equal(t, first.Header.Get("Location"), again.Header.Get("Location"))
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	var v view
	first.json(t, &v)

	// Another account's identical key is its own.
	other := e.do(http.MethodPost, "/v1/cancellations", tokEligible, nil, "Idempotency-Key", "k-start")
	require.Equal(t, http.StatusCreated, other.Status)
	require.Empty(t, other.Header.Get("Idempotent-Replayed"))

	conf := e.confirmation(memory.AccountVerified)
	path := "/v1/cancellations/" + v.ID + "/confirmation"
	require.Equal(t, http.StatusOK, e.do(http.MethodPost, path, tokVerified, conf, "Idempotency-Key", "k-conf").Status)
	conf.Irreversible = false
	e.do(http.MethodPost, path, tokVerified, conf, "Idempotency-Key", "k-conf").requireProblem(t, http.StatusUnprocessableEntity, "idempotency_key_reused")
	e.do(http.MethodPost, "/v1/cancellations/"+v.ID+"/withdraw", tokVerified, nil, "Idempotency-Key", "k-conf").requireProblem(t, http.StatusUnprocessableEntity, "idempotency_key_reused")

	code := "/v1/cancellations/" + v.ID + "/code"
	sent := e.do(http.MethodPost, code, tokVerified, nil, "Idempotency-Key", `"k-code"`)
	require.Equal(t, http.StatusAccepted, sent.Status)
	require.Equal(t, `"3"`, sent.Header.Get("ETag"), "the version after the code was issued")
	require.Equal(t, http.StatusAccepted, e.do(http.MethodPost, code, tokVerified, nil, "Idempotency-Key", `"k-code"`).Status)
	require.Len(t, e.kit.OTP.Sent(), 1, "one code sent for two tries with one key")
	require.Equal(t, int64(3), e.version(v.ID), "start, confirm, code: no second transition")

	// A request still running holds its key.
	_, ok, err := e.kit.Store.ReserveIdempotency(context.Background(), cancellation.IdempotencyRecord{
		Scope: "account:" + string(memory.AccountVerified), Key: "k-busy", Owner: "elsewhere", ExpiresAt: t0.Add(time.Hour)}, t0)
	require.NoError(t, err)
	require.True(t, ok)
	e.do(http.MethodPost, "/v1/cancellations/"+v.ID+"/withdraw", tokVerified, nil, "Idempotency-Key", "k-busy").requireProblem(t, http.StatusConflict, "idempotency_key_in_use")
	e.do(http.MethodPost, "/v1/cancellations/"+v.ID+"/withdraw", tokVerified, nil, "Idempotency-Key", "bad key").requireProblem(t, http.StatusBadRequest, "idempotency_key_invalid")
	require.Equal(t, int64(3), e.version(v.ID))
}

// TestHandler_IdempotencyKeyNeedsAKeepingStore: a Store that keeps no keys
// refuses the header rather than run a POST twice.
func TestHandler_IdempotencyKeyNeedsAKeepingStore(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(_ *cancellation.Config, o *httpapi.Options) { o.Store = nil })
	e.do(http.MethodPost, "/v1/cancellations", tokVerified, nil, "Idempotency-Key", "k").requireProblem(t, http.StatusBadRequest, "idempotency_unsupported")
	_, err := e.svc.Active(context.Background(), memory.AccountVerified)
	require.ErrorIs(t, err, cancellation.ErrNotFound)
}

// TestHandler_HostileBodiesChangeNothing sends malformed bodies to the
// write endpoints: each answers its problem and the request is unchanged.
func TestHandler_HostileBodiesChangeNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.toPhoneVerified(tokVerified, memory.AccountVerified, "+15550100002")
	base := "/v1/cancellations/" + id
	before := e.version(id)
	cases := []struct {
		name, path, body, ct string
		status               int
		code                 string
	}{
		{"unknown member", "/code/verify", `{"code":"123456","admin":true}`, "application/json", 422, "malformed_json"},
		{"trailing data", "/code/verify", `{"code":"123456"} {"code":"1"}`, "application/json", 422, "malformed_json"},
		{"not JSON", "/consents", `{"consents":`, "application/json", 422, "malformed_json"},
		{"wrong type", "/consents", `{"consents":"all"}`, "application/json", 422, "malformed_json"},
		{"wrong content type", "/code/verify", `code=123456`, "application/x-www-form-urlencoded", 415, "unsupported_media_type"},
		{"body on a bodiless POST", "/withdraw", `{"now":true}`, "application/json", 422, "malformed_json"},
		{"JSON to the upload", "/documents", `{"kind":"passport"}`, "application/json", 415, "unsupported_media_type"},
		{"no boundary", "/documents", "--x\r\n", "multipart/form-data", 400, "malformed_multipart"},
		{"malformed multipart", "/documents", "garbage without parts", "multipart/form-data; boundary=xyz", 400, "malformed_multipart"},
		{"file before kind", "/documents", "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nabc\r\n--b--\r\n", "multipart/form-data; boundary=b", 400, "malformed_multipart"},
		{"kind without file", "/documents", "--b\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\npassport\r\n--b--\r\n", "multipart/form-data; boundary=b", 400, "malformed_multipart"},
		{"file cut short", "/documents", "--b\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\npassport\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\n" + string(colourScan()[:5000]), "multipart/form-data; boundary=b", 400, "malformed_multipart"},
	}
	for _, c := range cases {
		r := e.do(http.MethodPost, base+c.path, tokVerified, c.body, "Content-Type", c.ct)
		require.Equal(t, c.status, r.Status, "%s: %s", c.name, r.Body)
		require.Equal(t, c.code, r.problem(t).Code, c.name)
		require.Equal(t, before, e.version(id), "%s changed the request", c.name)
	}
}

// TestHandler_MountedUnderAPrefix: behind http.StripPrefix the Location of
// a new request keeps the host's prefix.
func TestHandler_MountedUnderAPrefix(t *testing.T) {
	t.Parallel()
	kit := memory.NewKit(t0)
	kit.Platform.SeedDemo()
	svc, err := cancellation.New(kit.Config())
	require.NoError(t, err)
	h, err := httpapi.New(svc, httpapi.Options{Authenticator: tokens, Store: kit.Store})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/api/cancel/", http.StripPrefix("/api/cancel", h))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/api/cancel/v1/cancellations", nil)
	req.Header.Set("Authorization", "Bearer "+tokEligible)
	mux.ServeHTTP(rec, req)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	require.True(t, strings.HasPrefix(rec.Header().Get("Location"), "/api/cancel/v1/cancellations/can_"), rec.Header().Get("Location"))
}

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// TestHandler_AuthenticatorOutageIs503: an Authenticator that fails for
// another reason than ErrUnauthenticated answers 503, its text logged only.
func TestHandler_AuthenticatorOutageIs503(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(_ *cancellation.Config, o *httpapi.Options) {
		o.Authenticator = httpapi.AuthenticatorFunc(func(*http.Request) (httpapi.Principal, error) { return httpapi.Principal{}, errors.New(secret) })
	})
	r := e.do(http.MethodGet, "/v1/notes", tokVerified, nil)
	r.requireProblem(t, http.StatusServiceUnavailable, "authentication_unavailable")
	require.NotContains(t, string(r.Body), "hunter2")
}

// TestHandler_IdempotentUploadIgnoresTheBoundary: a retried upload with a
// new multipart boundary (as curl draws one per run) is the same request
// and is replayed; another file under the same key is refused.
func TestHandler_IdempotentUploadIgnoresTheBoundary(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.toPhoneVerified(tokVerified, memory.AccountVerified, "+15550100002")
	first := e.upload(tokVerified, id, "passport", colourScan(), "Idempotency-Key", "up-1")
	require.Equal(t, http.StatusCreated, first.Status, "body: %s", first.Body)
	version := e.version(id)
	again := e.upload(tokVerified, id, "passport", colourScan(), "Idempotency-Key", "up-1")
	require.Equal(t, http.StatusCreated, again.Status)
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	require.Equal(t, string(first.Body), string(again.Body))
	require.Equal(t, version, e.version(id), "not uploaded twice")
	other := docfixtures.PNG(docfixtures.ColourIDCard(1000, 700))
	e.upload(tokVerified, id, "passport", other, "Idempotency-Key", "up-1").requireProblem(t, http.StatusUnprocessableEntity, "idempotency_key_reused")
}

// TestHandler_ReviewQueuePagesByCursor reads the queue a page at a time by
// next_cursor: every request in review once, in due order, none of the
// reviewer's own account, and no cursor on the last page.
func TestHandler_ReviewQueuePagesByCursor(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	eligible := e.toReview(tokEligible, memory.AccountEligible, "+15550100001", false)
	want := []string{
		eligible,
		e.toReview(tokVerified, memory.AccountVerified, "+15550100002", true),
		e.toReview(tokBalance, memory.AccountBalance, "+15550100005", false),
	}
	read := func(token string) (ids []string, pages int) {
		path := "/v1/reviews?limit=2"
		for {
			var page httpapi.QueuePage
			r := e.do(http.MethodGet, path, token, nil)
			require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
			r.json(t, &page)
			pages++
			for _, it := range page.Items {
				ids = append(ids, it.ID)
			}
			if page.NextCursor == "" {
				return ids, pages
			}
			require.Len(t, page.Items, 2, "a page before the last is full")
			path = "/v1/reviews?limit=2&cursor=" + page.NextCursor
		}
	}
	slices.Sort(want) // due the same day: then by id
	ids, pages := read(tokReviewer)
	require.Equal(t, want, ids)
	require.Equal(t, 2, pages)

	// The reviewer whose own account is acct-eligible never sees it, and
	// its first page is still full.
	ids, _ = read(tokSelf)
	require.Equal(t, slices.DeleteFunc(slices.Clone(want), func(id string) bool { return id == eligible }), ids)

	e.do(http.MethodGet, "/v1/reviews?cursor=not-a-cursor", tokReviewer, nil).requireProblem(t, http.StatusUnprocessableEntity, "validation_failed")
}

// TestHandler_CheckerOutage: a checker down at approval answers 503
// unavailable with Retry-After and the findings' code and remedy, and the
// request stays in review; once a real finding rejects it, the reviewer's
// view holds the raw error of the checker that failed, the customer's
// does not.
func TestHandler_CheckerOutage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.toReview(tokEligible, memory.AccountEligible, "+15550100001", false)
	e.kit.Platform.SetOutage(memory.PortOrderChecker, errors.New("billing db 10.9.8.7 refused"))
	got := e.do(http.MethodPost, "/v1/reviews/"+id+"/approve", tokReviewer, map[string]string{"note": "ok"})
	p := got.requireProblem(t, http.StatusServiceUnavailable, "unavailable")
	require.NotEmpty(t, got.Header.Get("Retry-After"))
	require.Len(t, p.Findings, 1)
	require.Equal(t, cancellation.FindingCheckerUnavailable, p.Findings[0].Code)
	require.NotNil(t, p.Findings[0].Remedy)
	require.NotContains(t, string(got.Body), "10.9.8.7")

	e.kit.Platform.AddAPIKey(memory.AccountEligible, ports.APIKey{ID: "ak-late"})
	e.do(http.MethodPost, "/v1/reviews/"+id+"/approve", tokReviewer, map[string]string{"note": "ok"}).requireProblem(t, http.StatusUnprocessableEntity, "not_eligible")
	review := e.do(http.MethodGet, "/v1/reviews/"+id, tokReviewer, nil)
	require.Equal(t, http.StatusOK, review.Status)
	require.Contains(t, string(review.Body), "10.9.8.7", "the reviewer sees the raw error")
	customer := e.do(http.MethodGet, "/v1/cancellations/"+id, tokEligible, nil)
	require.Equal(t, http.StatusOK, customer.Status)
	require.NotContains(t, string(customer.Body), "10.9.8.7", "the customer does not")
}

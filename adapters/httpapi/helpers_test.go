package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/httpapi"
	"github.com/accountkit/cancellation/adapters/httpapi/apitest"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/internal/docfixtures"
	"github.com/accountkit/cancellation/ports"
)

// t0 is a Monday morning.
var t0 = time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC)

// The bearer tokens of the test server.
const (
	tokVerified   = "tok-verified"
	tokEligible   = "tok-eligible"
	tokBlocked    = "tok-blocked"
	tokBalance    = "tok-balance"
	tokEnterprise = "tok-enterprise"
	tokReviewer   = "tok-reviewer"
	// tokSelf is a reviewer whose own customer account is acct-eligible.
	tokSelf = "tok-self"
	// tokBo is a plain reviewer, who claims before deciding; tokKim an
	// admin; tokNobody a staff token the StaffDirectory does not know.
	tokBo     = "tok-bo"
	tokKim    = "tok-kim"
	tokNobody = "tok-nobody"
)

var tokens = httpapi.BearerTokens{
	tokVerified:   httpapi.Customer(memory.AccountVerified),
	tokEligible:   httpapi.Customer(memory.AccountEligible),
	tokBlocked:    httpapi.Customer(memory.AccountBlocked),
	tokBalance:    httpapi.Customer(memory.AccountBalance),
	tokEnterprise: httpapi.Customer(memory.AccountEnterprise),
	tokReviewer:   httpapi.Staff(cancellation.Reviewer{ID: "rev-ada"}),
	tokSelf:       httpapi.Staff(cancellation.Reviewer{ID: "rev-self", Account: memory.AccountEligible}),
	tokBo:         httpapi.Staff(cancellation.Reviewer{ID: "rev-bo"}),
	tokKim:        httpapi.Staff(cancellation.Reviewer{ID: "adm-kim"}),
	tokNobody:     httpapi.Staff(cancellation.Reviewer{ID: "nobody"}),
}

// putStaff puts the staff of the tokens into kit's directory: rev-ada, a
// senior who decides without claiming; rev-self, a senior whose own
// account is acct-eligible; rev-bo, a reviewer; adm-kim, an admin.
func putStaff(kit *memory.Kit) {
	kit.Staff.Put(ports.StaffMember{ID: "rev-ada", Name: "Ada", Roles: []ports.Role{ports.RoleSenior}})
	kit.Staff.Put(ports.StaffMember{ID: "rev-self", Name: "Self", Roles: []ports.Role{ports.RoleSenior}, Account: memory.AccountEligible})
	kit.Staff.Put(ports.StaffMember{ID: "rev-bo", Name: "Bo", Roles: []ports.Role{ports.RoleReviewer}})
	kit.Staff.Put(ports.StaffMember{ID: "rev-audit", Name: "Audit", Roles: []ports.Role{ports.RoleSenior}})
	kit.Staff.Put(ports.StaffMember{ID: "adm-kim", Name: "Kim", Roles: []ports.Role{ports.RoleAdmin}})
}

var colourScan = sync.OnceValue(func() []byte { return docfixtures.JPEG(docfixtures.ColourIDCard(1200, 800), 90) })

var validator = sync.OnceValues(func() (*apitest.Validator, error) { return apitest.New(context.Background()) })

// env is the handler over the demo platform, served by httptest with
// every response checked against openapi.yaml.
type env struct {
	t      testing.TB
	kit    *memory.Kit
	svc    *cancellation.Service
	srv    *httptest.Server
	client *http.Client
}

func newEnv(t testing.TB, mutate ...func(*cancellation.Config, *httpapi.Options)) *env {
	t.Helper()
	kit := memory.NewKit(t0)
	kit.Platform.SeedDemo()
	putStaff(kit)
	cfg := kit.Config()
	opts := httpapi.Options{Authenticator: tokens, Store: kit.Store, Clock: kit.Clock}
	for _, m := range mutate {
		m(&cfg, &opts)
	}
	svc, err := cancellation.New(cfg)
	require.NoError(t, err)
	h, err := httpapi.New(svc, opts)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	v, err := validator()
	require.NoError(t, err)
	return &env{t: t, kit: kit, svc: svc, srv: srv, client: &http.Client{Transport: &apitest.Transport{Validator: v, Fail: t.Errorf}}}
}

// resp is a whole response.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r resp) json(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "body: %s", r.Body)
}

func (r resp) problem(t testing.TB) httpapi.Problem {
	t.Helper()
	require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"), "body: %s", r.Body)
	var p httpapi.Problem
	r.json(t, &p)
	require.Equal(t, r.Status, p.Status)
	return p
}

// requireProblem checks the status and the problem code.
func (r resp) requireProblem(t testing.TB, status int, code string) httpapi.Problem {
	t.Helper()
	require.Equal(t, status, r.Status, "body: %s", r.Body)
	p := r.problem(t)
	require.Equal(t, code, p.Code)
	require.Equal(t, httpapi.ProblemTypeBase+code, p.Type)
	return p
}

// do sends a request. body is JSON-encoded unless it is a []byte or a
// string (sent as is, application/json unless a Content-Type header is
// given); headers come in name, value pairs.
func (e *env) do(method, path, token string, body any, headers ...string) resp {
	e.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ct = bytes.NewReader(b), "application/json"
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	default:
		data, err := json.Marshal(b)
		require.NoError(e.t, err)
		rd, ct = bytes.NewReader(data), "application/json"
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	require.NoError(e.t, err)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := e.client.Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	return resp{Status: res.StatusCode, Header: res.Header, Body: data}
}

// multipartBody builds an upload body: the kind field, then the file.
func multipartBody(t testing.TB, kind string, file []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	require.NoError(t, mw.WriteField("kind", kind))
	fw, err := mw.CreateFormFile("file", "scan.jpg")
	require.NoError(t, err)
	_, err = fw.Write(file)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	return buf.Bytes(), mw.FormDataContentType()
}

func (e *env) upload(token, id, kind string, file []byte, headers ...string) resp {
	e.t.Helper()
	body, ct := multipartBody(e.t, kind, file)
	return e.do(http.MethodPost, "/v1/cancellations/"+id+"/documents", token, body, append([]string{"Content-Type", ct}, headers...)...)
}

// view is the part of a request view the tests read.
type view struct {
	ID    string             `json:"id"`
	State cancellation.State `json:"state"`
}

// start opens a request for the token's account.
func (e *env) start(token string) view {
	e.t.Helper()
	r := e.do(http.MethodPost, "/v1/cancellations", token, nil)
	require.Equal(e.t, http.StatusCreated, r.Status, "body: %s", r.Body)
	var v view
	r.json(e.t, &v)
	return v
}

// confirmation is a complete confirmation for the account's findings.
func (e *env) confirmation(acct ports.AccountID) cancellation.Confirmation {
	e.t.Helper()
	rep, err := e.svc.CheckEligibility(context.Background(), acct)
	require.NoError(e.t, err)
	return cancellation.Confirmation{
		NotesVersion: e.svc.Notes().Version, Irreversible: true,
		Attestations: cancellation.Attestations{BackupDoneOrWaived: true, NotEvading: true, OtherMattersHandled: true},
		Consents:     rep.Consents(),
	}
}

// toReview takes the token's account to in_review over HTTP.
func (e *env) toReview(token string, acct ports.AccountID, phone string, identityVerified bool) string {
	e.t.Helper()
	id := e.start(token).ID
	require.Equal(e.t, http.StatusOK, e.do(http.MethodPost, "/v1/cancellations/"+id+"/confirmation", token, e.confirmation(acct)).Status)
	require.Equal(e.t, http.StatusAccepted, e.do(http.MethodPost, "/v1/cancellations/"+id+"/code", token, nil).Status)
	code, ok := e.kit.OTP.LastCode(phone)
	require.True(e.t, ok)
	require.Equal(e.t, http.StatusOK, e.do(http.MethodPost, "/v1/cancellations/"+id+"/code/verify", token, map[string]string{"code": code}).Status)
	if identityVerified {
		r := e.upload(token, id, "passport", colourScan())
		require.Equal(e.t, http.StatusCreated, r.Status, "body: %s", r.Body)
	}
	r := e.do(http.MethodPost, "/v1/cancellations/"+id+"/submit", token, nil)
	require.Equal(e.t, http.StatusOK, r.Status, "body: %s", r.Body)
	return id
}

// version reads the stored version of a request.
func (e *env) version(id string) int64 {
	e.t.Helper()
	r, err := e.kit.Store.Get(context.Background(), id)
	require.NoError(e.t, err)
	return r.Version()
}

package httpclient_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/accountkit/cancellation/adapters/httpclient"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/stretchr/testify/require"
)

// contract loads host-openapi.yaml once, checks that it is a valid
// OpenAPI document and returns a router over it.
var contract = sync.OnceValues(func() (routers.Router, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(httpclient.OpenAPI())
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, err
	}
	doc.Servers = nil // match paths only: the fake hosts listen on random ports
	for _, ct := range []string{"image/png", "image/jpeg"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
	}
	return legacy.NewRouter(doc)
})

// filterOptions are the validation options: the bearer token of the
// security scheme is checked by the fake host itself.
var filterOptions = &openapi3filter.Options{
	IncludeResponseStatus: true,
	MultiError:            true,
	AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
		if in.RequestValidationInput.Request.Header.Get("Authorization") == "" {
			return errors.New("no Authorization header")
		}
		return nil
	},
}

// validating checks every request that reaches next, and every response
// next writes, against host-openapi.yaml, and fails t on any mismatch: the
// client's requests and the fake host's answers both keep to the
// contract, so the contract file cannot drift from the code.
func validating(t *testing.T, errorf func(format string, args ...any), next http.Handler) http.Handler {
	router, err := contract()
	require.NoError(t, err, "host-openapi.yaml")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route, params, err := router.FindRoute(r)
		if err != nil {
			errorf("contract: %s %s: no route: %v", r.Method, r.URL.Path, err)
			w.WriteHeader(http.StatusNotFound)
			return
		}
		in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: filterOptions}
		if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
			errorf("contract: request %s %s: %v", r.Method, r.URL.Path, err)
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: rec.Code, Header: rec.Header(), Options: filterOptions,
		}
		out.SetBodyBytes(rec.Body.Bytes())
		if err := openapi3filter.ValidateResponse(r.Context(), out); err != nil {
			errorf("contract: response %d to %s %s: %v", rec.Code, r.Method, r.URL.Path, err)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

// TestContractIsValidOpenAPI shows that host-openapi.yaml loads and
// validates as an OpenAPI 3.0 document, and that OpenAPI returns a copy.
func TestContractIsValidOpenAPI(t *testing.T) {
	t.Parallel()
	_, err := contract()
	require.NoError(t, err)
	spec := httpclient.OpenAPI()
	require.Contains(t, string(spec), "openapi: 3.0.")
	spec[0] = 'X'
	require.Equal(t, byte('o'), httpclient.OpenAPI()[0], "OpenAPI must return a copy")
}

// TestContractValidatorCatchesDrift shows that the validating middleware
// reports a request or an answer against the contract, so that the
// conformance suites, which run through it, would catch a drift.
func TestContractValidatorCatchesDrift(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var reports []string
	errorf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		reports = append(reports, fmt.Sprintf(format, args...))
	}
	reported := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(reports)
	}
	srv := httptest.NewServer(validating(t, errorf, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"things": []int{1}}) // no "items"
	})))
	defer srv.Close()
	c, err := httpclient.New(srv.URL, httpclient.Options{Authorize: httpclient.BearerToken(testToken), Attempts: 1})
	require.NoError(t, err)

	_, err = c.OpenObligations(t.Context(), "acct-1")
	require.ErrorIs(t, err, httpclient.ErrBadResponse)
	require.Len(t, reported(), 1)
	require.Contains(t, reported()[0], "response 200 to GET /accounts/acct-1/obligations")

	// A request against the contract is reported too.
	resp, err := srv.Client().Post(srv.URL+"/notifications", "application/json", strings.NewReader(`{"channel":"fax"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Len(t, reported(), 2)
	require.Contains(t, reported()[1], "request POST /notifications")
}

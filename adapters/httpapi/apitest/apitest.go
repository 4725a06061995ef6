// Package apitest checks HTTP exchanges against the API's OpenAPI
// document (httpapi.OpenAPI) with kin-openapi's openapi3filter, for the
// tests of the handler, of the example server and of hosts that mount it.
package apitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/accountkit/cancellation/adapters/httpapi"
)

// Validator checks responses against the OpenAPI document.
type Validator struct {
	router routers.Router
}

// New loads and validates httpapi.OpenAPI.
func New(ctx context.Context) (*Validator, error) {
	doc, err := openapi3.NewLoader().LoadFromData(httpapi.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("apitest: loading openapi.yaml: %w", err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("apitest: openapi.yaml is invalid: %w", err)
	}
	// The document's server is "/": match paths on any host and port.
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("apitest: %w", err)
	}
	return &Validator{router: router}, nil
}

// Check validates one exchange: req as sent (its path and method; the body
// is not read) and the response's status, header and body. Every status
// the document does not list is an error, and so is a request to a path
// or method it does not document unless the answer is a 404 problem, or a
// 405 problem with an Allow header.
func (v *Validator) Check(ctx context.Context, req *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		mt, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
		switch {
		case mt != "application/problem+json":
		case status == http.StatusNotFound:
			return nil
		case status == http.StatusMethodNotAllowed && header.Get("Allow") != "":
			return nil
		}
		return fmt.Errorf("apitest: %s %s is not in openapi.yaml (%v) and answered %d", req.Method, req.URL.Path, err, status)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	if mt, _, _ := mime.ParseMediaType(header.Get("Content-Type")); !strings.HasSuffix(mt, "json") {
		opts.ExcludeResponseBody = true // images and the YAML document: their types are checked, not their bytes
		if !bytes.Contains(httpapi.OpenAPI, []byte(mt+":")) {
			return fmt.Errorf("apitest: %s %s answered %d with content type %q, which openapi.yaml does not name", req.Method, req.URL.Path, status, mt)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: opts}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return fmt.Errorf("apitest: %s %s answered %d, not as openapi.yaml says: %w", req.Method, req.URL.Path, status, err)
	}
	return nil
}

// Transport is an http.RoundTripper that checks every response with a
// Validator and reports failures to Fail (a testing.T's Errorf, say).
type Transport struct {
	Validator *Validator
	Base      http.RoundTripper // default http.DefaultTransport
	Fail      func(format string, args ...any)
}

// RoundTrip sends req and checks the response; the body is read and
// replaced, so callers read it as usual.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err := t.Validator.Check(req.Context(), req, resp.StatusCode, resp.Header, body); err != nil {
		t.Fail("%v", err)
	}
	return resp, nil
}

package httpapi_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/httpapi"
	"github.com/accountkit/cancellation/adapters/memory"
)

// FuzzHandler sends arbitrary requests (method, path with "{id}" standing
// for a live request, query, headers, body) as each kind of caller: the
// handler never answers 5xx and never panics (a panic would be a 500).
//
//	go test -run='^$' -fuzz=FuzzHandler -fuzztime=60s ./adapters/httpapi
func FuzzHandler(f *testing.F) {
	kit := memory.NewKit(t0)
	kit.Platform.SeedDemo()
	cfg := kit.Config()
	cfg.DocumentPolicy.Limits.MaxBytes = 256 << 10
	svc, err := cancellation.New(cfg)
	require.NoError(f, err)
	h, err := httpapi.New(svc, httpapi.Options{Authenticator: tokens, Store: kit.Store, Clock: kit.Clock, MaxUploadBytes: 512 << 10})
	require.NoError(f, err)
	live, err := svc.Start(f.Context(), memory.AccountVerified)
	require.NoError(f, err)
	body, ct := multipartBody(f, "passport", colourScan()[:4096])

	seeds := []struct {
		method, path, query, ct, idem, ifMatch string
		tok                                    byte
		body                                   []byte
	}{
		{"GET", "/v1/cancellations/{id}", "", "", "", "", 0, nil},
		{"POST", "/v1/cancellations/{id}/confirmation", "", "application/json", "k1", `"1"`, 0, []byte(`{"notes_version":"x","irreversible":true,"attestations":{}}`)},
		{"POST", "/v1/cancellations/{id}/consents", "", "application/json", "", "", 0, []byte(`{"consents":[{"rule":"balances","fingerprint":"f"}]}`)},
		{"POST", "/v1/cancellations/{id}/code/verify", "", "application/json", "k2", "", 0, []byte(`{"code":"123456"}`)},
		{"POST", "/v1/cancellations/{id}/documents", "", ct, "k3", "*", 0, body},
		{"POST", "/v1/cancellations/{id}/documents", "", "multipart/form-data; boundary=", "", "", 0, []byte("--\r\n")},
		{"POST", "/v1/cancellations", "", "application/json", "", "", 2, []byte(`{}`)},
		{"GET", "/v1/reviews", "limit=2&cursor=%ZZ", "", "", "", 5, nil},
		{"POST", "/v1/reviews/{id}/reject", "", "application/json", "\"k\"", "", 5, []byte(`{"reasons":["other"],"note":""}`)},
		{"GET", "/v1/reviews/{id}/documents/passport", "", "", "", "", 5, nil},
		{"DELETE", "/v1/cancellations/{id}", "", "", "", "", 0, nil},
		{"POST", "/v1/../v1/notes", "", "text/plain", "", "", 9, []byte("\x00\xff")},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.query, s.ct, s.idem, s.ifMatch, s.tok, s.body)
	}
	toks := []string{tokVerified, tokEligible, tokBlocked, tokBalance, tokEnterprise, tokReviewer, tokSelf, "", "bogus"}
	f.Fuzz(func(t *testing.T, method, path, query, ct, idem, ifMatch string, tok byte, body []byte) {
		if method == "" || strings.ContainsAny(method, " \t\r\n()<>@,;:\\\"/[]?={}") || !strings.HasPrefix(path, "/") {
			t.Skip() // net/http refuses such requests before any handler
		}
		req := &http.Request{
			Method: method, URL: &url.URL{Path: strings.ReplaceAll(path, "{id}", live.ID()), RawQuery: query},
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{},
			Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Host: "example.com",
		}
		req.RequestURI = req.URL.RequestURI()
		req = req.WithContext(t.Context())
		set := func(k, v string) {
			if v != "" {
				req.Header.Set(k, v)
			}
		}
		set("Content-Type", ct)
		set("Idempotency-Key", idem)
		set("If-Match", ifMatch)
		if tk := toks[int(tok)%len(toks)]; tk != "" {
			req.Header.Set("Authorization", "Bearer "+tk)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s answered %d: %s", method, path, rec.Code, rec.Body.String())
		}
	})
}

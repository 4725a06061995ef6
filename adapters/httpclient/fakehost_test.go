package httpclient_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/accountkit/cancellation/adapters/httpclient"
	"github.com/accountkit/cancellation/ports"
	"github.com/accountkit/cancellation/ports/portstest"
	"github.com/stretchr/testify/require"
)

// testToken is the bearer token the fake host demands.
const testToken = "test-token-s3cr3t"

// fakeHost serves the host contract over in-memory data, as a host's
// services would, and plays the faults of portstest. Every request and
// response it sees is validated against host-openapi.yaml.
type fakeHost struct {
	srv *httptest.Server

	mu         sync.Mutex
	accounts   map[ports.AccountID]ports.Account
	lists      map[string]map[ports.AccountID]any // "/obligations" -> account -> []wire item
	deliveries map[string]int                     // route + " " + Idempotency-Key -> deliveries
	closes     map[string]int                     // Idempotency-Key -> closes carried out
	docs       map[string][]byte
	holidays   httpclient.Holidays
	requests   []*http.Request // clones, bodies drained, for the tests to inspect

	codes     map[string]string // phone -> last code delivered
	templates []string          // channel + " " + template of each notification delivered

	fault      portstest.Fault
	faultCalls int    // < 0: every call
	faultPath  string // if set, only requests to this path suffer the fault
	// override, if set, answers instead of the contract (for the tests of
	// broken hosts).
	override http.HandlerFunc
}

// newFakeHost starts a fake host and stops it when t ends.
func newFakeHost(t *testing.T) *fakeHost {
	t.Helper()
	h := &fakeHost{
		accounts:   map[ports.AccountID]ports.Account{},
		lists:      map[string]map[ports.AccountID]any{},
		deliveries: map[string]int{},
		closes:     map[string]int{},
		docs:       map[string][]byte{},
		codes:      map[string]string{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /accounts/{id}", h.getAccount)
	mux.HandleFunc("GET /accounts/{id}/{list}", h.getList)
	mux.HandleFunc("POST /accounts/{id}/close", h.closeAccount)
	mux.HandleFunc("POST /otp-messages", h.deliver)
	mux.HandleFunc("POST /notifications", h.deliver)
	mux.HandleFunc("PUT /documents", h.putDocument)
	mux.HandleFunc("GET /documents", h.getDocument)
	mux.HandleFunc("DELETE /documents", h.deleteDocument)
	mux.HandleFunc("GET /calendar/holidays", h.getHolidays)
	h.srv = httptest.NewServer(validating(t, t.Errorf, h.faulty(h.authorized(mux))))
	t.Cleanup(h.srv.Close)
	return h
}

// client returns a Client of h with fast retries.
func (h *fakeHost) client(t *testing.T, opts httpclient.Options) *httpclient.Client {
	t.Helper()
	if opts.Authorize == nil {
		opts.Authorize = httpclient.BearerToken(testToken)
	}
	setDefault(&opts.Backoff, time.Millisecond)
	setDefault(&opts.MaxBackoff, 5*time.Millisecond)
	setDefault(&opts.HTTPClient, h.srv.Client())
	c, err := httpclient.New(h.srv.URL+"/", opts)
	require.NoError(t, err)
	return c
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// inject arms fault for the next calls requests (portstest.Faulty.Inject).
func (h *fakeHost) inject(fault portstest.Fault, calls int) bool {
	return h.injectOn("", fault, calls)
}

// injectOn arms fault for the next calls requests to path, or to any path
// when path is "".
func (h *fakeHost) injectOn(path string, fault portstest.Fault, calls int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fault, h.faultCalls, h.faultPath = fault, calls, path
	return true
}

// deliveriesOf counts the deliveries of key on route.
func (h *fakeHost) deliveriesOf(route string) func(key string) int {
	return func(key string) int {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.deliveries[route+" "+key]
	}
}

// seen returns the requests h has received.
func (h *fakeHost) seen() []*http.Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*http.Request(nil), h.requests...)
}

// takeFault returns the fault the request r must suffer, if any.
func (h *fakeHost) takeFault(r *http.Request) portstest.Fault {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.faultCalls == 0 || h.faultPath != "" && r.URL.Path != h.faultPath {
		return ""
	}
	if h.faultCalls > 0 {
		h.faultCalls--
	}
	return h.fault
}

// faulty plays the armed fault: unavailable answers 503 with a body that
// must never reach an error; slow holds the request until the client gives
// up (then drops it, with no effect) or SlowFaultHold passes; dropped
// carries the request out and drops the connection before the answer.
func (h *fakeHost) faulty(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.requests = append(h.requests, r.Clone(r.Context()))
		override := h.override
		h.mu.Unlock()
		if playFault(h.takeFault(r), w, r, next) {
			return
		}
		if override != nil {
			override(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// playFault plays fault on r and reports whether it answered r: unavailable
// answers 503 with a body that must never reach an error; slow holds the
// request until the client gives up (then drops it, with no effect) or
// SlowFaultHold passes, and leaves the answer to the caller; dropped has
// next carry the request out and drops the connection before the answer.
func playFault(fault portstest.Fault, w http.ResponseWriter, r *http.Request, next http.Handler) bool {
	switch fault {
	case portstest.FaultUnavailable:
		w.Header().Set("Retry-After", "0")
		http.Error(w, "upstream db-7 down; token "+testToken, http.StatusServiceUnavailable)
		return true
	case portstest.FaultSlow:
		select {
		case <-r.Context().Done():
			panic(http.ErrAbortHandler)
		case <-time.After(portstest.SlowFaultHold):
		}
	case portstest.FaultDropped:
		next.ServeHTTP(httptest.NewRecorder(), r)
		panic(http.ErrAbortHandler)
	}
	return false
}

// authorized answers 401 to a request without the test token.
func (h *fakeHost) authorized(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			w.Header().Set("WWW-Authenticate", "Bearer")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// seedAccounts stores accounts.
func (h *fakeHost) seedAccounts(accounts []ports.Account) *fakeHost {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range accounts {
		h.accounts[a.ID] = a
	}
	return h
}

// seedList stores the items of one checker endpoint ("/obligations"),
// converted to their wire type by conv.
func seedList[T, W any](h *fakeHost, list string, data map[ports.AccountID][]T, conv func(T) W) *fakeHost {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := map[ports.AccountID]any{}
	for id, items := range data {
		out := make([]W, len(items))
		for i, it := range items {
			out[i] = conv(it)
		}
		m[id] = out
	}
	h.lists[list] = m
	return h
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (h *fakeHost) getAccount(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	a, ok := h.accounts[ports.AccountID(r.PathValue("id"))]
	h.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	writeJSON(w, http.StatusOK, httpclient.Account(a))
}

func (h *fakeHost) getList(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	lists, ok := h.lists["/"+r.PathValue("list")]
	items := lists[ports.AccountID(r.PathValue("id"))]
	h.mu.Unlock()
	if !ok { // a list this host does not serve
		http.NotFound(w, r)
		return
	}
	if items == nil {
		items = []struct{}{} // an unknown account has no items
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (h *fakeHost) closeAccount(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	h.mu.Lock()
	defer h.mu.Unlock()
	id := ports.AccountID(r.PathValue("id"))
	a, ok := h.accounts[id]
	switch {
	case !ok:
		w.WriteHeader(http.StatusNotFound)
		return
	case key == "":
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if !a.Closed {
		h.closes[key]++
	}
	a.Closed = true
	h.accounts[id] = a
	w.WriteHeader(http.StatusNoContent)
}

// deliver accepts an OTP message or a notification once per key.
func (h *fakeHost) deliver(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	var body struct {
		Phone    string `json:"phone"`
		Code     string `json:"code"`
		Channel  string `json:"channel"`
		Template string `json:"template"`
	}
	if key == "" || r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&body) != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	k := r.URL.Path + " " + key
	if h.deliveries[k] == 0 {
		h.deliveries[k] = 1
		if r.URL.Path == "/otp-messages" {
			h.codes[body.Phone] = body.Code
		} else {
			h.templates = append(h.templates, body.Channel+" "+body.Template)
		}
	}
	w.WriteHeader(http.StatusAccepted)
}

func (h *fakeHost) putDocument(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.docs[r.URL.Query().Get("key")] = data
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (h *fakeHost) getDocument(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	data, ok := h.docs[r.URL.Query().Get("key")]
	h.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(data)
}

func (h *fakeHost) deleteDocument(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	delete(h.docs, r.URL.Query().Get("key"))
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (h *fakeHost) getHolidays(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	body := h.holidays
	h.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

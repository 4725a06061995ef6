package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation/adapters/memory"
)

// BenchmarkGetCancellation measures the requests per second of GET
// /v1/cancellations/{id} served over loopback HTTP through the whole
// handler (authenticator, Store read and validation, JSON) beside the
// floor: a bare net/http handler, served the same way, that encodes a
// JSON body of the same size. Clients run in parallel with keep-alive.
// The target is at least half the floor's requests per second.
//
//	go test -run='^$' -bench=GetCancellation -count=5 ./adapters/httpapi
func BenchmarkGetCancellation(b *testing.B) {
	e := newEnv(b)
	r, err := e.svc.Start(b.Context(), memory.AccountVerified)
	require.NoError(b, err)
	path := "/v1/cancellations/" + r.ID()
	h := e.srv.Config.Handler

	serve := func(b *testing.B, h http.Handler, want int) {
		srv := httptest.NewServer(h)
		defer srv.Close()
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		defer client.CloseIdleConnections()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+tokVerified)
			for pb.Next() {
				res, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				n, _ := io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK || int(n) != want {
					b.Errorf("answered %d with %d bytes, want 200 with %d", res.StatusCode, n, want)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	}
	first := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+tokVerified)
	h.ServeHTTP(first, req)
	require.Equal(b, http.StatusOK, first.Code)
	var body any
	require.NoError(b, json.Unmarshal(first.Body.Bytes(), &body))
	size := first.Body.Len()

	b.Run("handler", func(b *testing.B) { serve(b, h, size) })
	b.Run("bare", func(b *testing.B) {
		bare := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			data, err := json.Marshal(body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(data)
		})
		serve(b, bare, size)
	})
}

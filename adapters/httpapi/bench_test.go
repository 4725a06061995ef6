package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation/adapters/memory"
)

// BenchmarkGetCancellation measures the requests per second of GET
// /v1/cancellations/{id} served over loopback HTTP through the whole
// handler (authenticator, Store read and validation, JSON) beside the
// floor: a bare net/http handler, served the same way, that encodes a
// JSON body of the same size. Clients run in parallel with keep-alive.
// The target is at least half the floor's requests per second: compare
// the alternating sub-benchmark's ratio, measured with both servers under
// the same load (handler and bare run one after the other, so a shared
// machine's load swings their figures).
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

	bare := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		data, err := json.Marshal(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(data)
	})
	b.Run("handler", func(b *testing.B) { serve(b, h, size) })
	b.Run("bare", func(b *testing.B) { serve(b, bare, size) })
	// alternating sends one request to each server in turn, so that both
	// see the same load on a shared machine, and reports the ratio of
	// their throughputs (handler/bare).
	b.Run("alternating", func(b *testing.B) {
		servers := []*httptest.Server{httptest.NewServer(h), httptest.NewServer(bare)}
		defer servers[0].Close()
		defer servers[1].Close()
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		defer client.CloseIdleConnections()
		var spent [2]atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			var reqs [2]*http.Request
			for i, srv := range servers {
				reqs[i], _ = http.NewRequest(http.MethodGet, srv.URL+path, nil)
				reqs[i].Header.Set("Authorization", "Bearer "+tokVerified)
			}
			for pb.Next() {
				for i, req := range reqs {
					start := time.Now()
					res, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					n, _ := io.Copy(io.Discard, res.Body)
					res.Body.Close()
					spent[i].Add(int64(time.Since(start)))
					if res.StatusCode != http.StatusOK || int(n) != size {
						b.Errorf("answered %d with %d bytes", res.StatusCode, n)
						return
					}
				}
			}
		})
		// Each client spends handler+bare time per iteration; the share of
		// each in the wall time gives its throughput at this load.
		total := float64(spent[0].Load() + spent[1].Load())
		wall := b.Elapsed().Seconds()
		b.ReportMetric(float64(b.N)/(wall*float64(spent[0].Load())/total), "handler-req/s")
		b.ReportMetric(float64(b.N)/(wall*float64(spent[1].Load())/total), "bare-req/s")
		b.ReportMetric(float64(spent[1].Load())/float64(spent[0].Load()), "ratio")
	})
}

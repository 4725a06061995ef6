package cancellation_test

import (
	"io"
	"testing"

	"github.com/accountkit/cancellation"
)

// BenchmarkReadDocument reads bodies of unknown length (no Len method, as a
// network body) with ReadDocument and, as the baseline, with the
// io.ReadAll(io.LimitReader(r, MaxBytes+1)) that it replaced (issue 7 item
// 10), side by side. B/op is the memory per upload; MiB/op beside the
// 10 MiB limit says the same in MiB.
//
//	go test -run='^$' -bench=BenchmarkReadDocument -benchmem .
func BenchmarkReadDocument(b *testing.B) {
	const limit = 10 << 20
	limits := cancellation.DocumentLimits{MaxBytes: limit}
	readers := []struct {
		name string
		read func(io.Reader) ([]byte, error)
	}{
		{"baseline-ReadAll", func(r io.Reader) ([]byte, error) { return io.ReadAll(io.LimitReader(r, limit+1)) }},
		{"ReadDocument", func(r io.Reader) ([]byte, error) { return cancellation.ReadDocument(r, limits) }},
	}
	for _, size := range []struct {
		name string
		n    int64
	}{{"oversize-10MiB+1", 64 << 20}, {"10MiB", limit}, {"1MiB", 1 << 20}, {"200KiB", 200 << 10}} {
		for _, r := range readers {
			b.Run(size.name+"/"+r.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					_, _ = r.read(sized(size.n))
				}
				b.ReportMetric(float64(b.Elapsed())/float64(b.N)/1e6, "ms/op")
			})
		}
	}
}

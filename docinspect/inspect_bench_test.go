package docinspect

import (
	"bytes"
	"image/jpeg"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/accountkit/cancellation/internal/docfixtures"
)

// BenchmarkInspectDocument measures what the inspection costs over decoding
// alone, on the same bytes: a 3000×2000 colour scan saved as a JPEG of
// quality 90 (6 megapixels, the size of a phone photo of a licence).
// Sub-benchmarks run side by side:
//
//   - decode-only: jpeg.Decode, the floor any inspection pays;
//   - inspect: Inspect, which also hashes, reads the header and
//     analyses the pixels;
//   - paired: decode, inspect and the pixel analysis in each iteration,
//     timed apart, reporting the median over iterations of inspect/decode
//     ("x-decode"), which must stay at most 1.15, and of analysis/decode
//     as a percentage ("%analysis/decode"), the cleanest measure of what
//     the colour analysis adds. Measuring all three in the same iteration
//     keeps the ratios fair when other processes load the machine, which
//     separate runs are not; the order rotates between iterations and a
//     collection runs, untimed, before each operation, so none of them
//     always runs first or pays for another's garbage; its ns/op is the
//     sum of the three;
//   - analysis-only: the pixel analysis of the decoded image alone.
//
// Run it with:
//
//	go test -run='^$' -bench=BenchmarkInspectDocument -count=5 .
func BenchmarkInspectDocument(b *testing.B) {
	data := docfixtures.JPEG(docfixtures.ColourIDCard(3000, 2000), 90)
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decode-only", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("inspect", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := Inspect(data, Limits{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("paired", func(b *testing.B) {
		// The three operations, timed apart in the same iteration. Their
		// order rotates from one iteration to the next, and a collection
		// runs (untimed) before each, so none pays for the garbage another
		// left and none always runs first or last.
		ops := [...]func(){
			func() {
				if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			},
			func() {
				if _, err := Inspect(data, Limits{}); err != nil {
					b.Fatal(err)
				}
			},
			func() {
				var s docSample
				s.sample(img)
				if m := s.measure(0); m.hueVariety < DefaultMinHueVariety {
					b.Fatalf("the card measures H = %.2f", m.hueVariety)
				}
			},
		}
		const decoding, inspecting, analysing = 0, 1, 2
		var xDecode, pctAnalysis []float64 // one of each per iteration
		for i := 0; b.Loop(); i++ {
			var t [len(ops)]time.Duration
			for k := range ops {
				op := (i + k) % len(ops)
				b.StopTimer()
				runtime.GC()
				b.StartTimer()
				start := time.Now()
				ops[op]()
				t[op] = time.Since(start)
			}
			xDecode = append(xDecode, float64(t[inspecting])/float64(t[decoding]))
			pctAnalysis = append(pctAnalysis, 100*float64(t[analysing])/float64(t[decoding]))
		}
		// Medians, not ratios of totals: another process that takes the
		// CPU during one call spoils that iteration's ratios only.
		b.ReportMetric(benchMedian(xDecode), "x-decode")
		b.ReportMetric(benchMedian(pctAnalysis), "%analysis/decode")
	})
	b.Run("analysis-only", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var s docSample
			s.sample(img)
			if m := s.measure(0); m.hueVariety < DefaultMinHueVariety {
				b.Fatalf("the card measures H = %.2f", m.hueVariety)
			}
		}
	})
}

// benchMedian returns the median of xs, which it sorts.
func benchMedian(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

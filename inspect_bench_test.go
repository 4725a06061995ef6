package cancellation

import (
	"bytes"
	"image/jpeg"
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
//   - inspect: InspectDocument, which also hashes, reads the header and
//     analyses the pixels;
//   - paired: both in turn in each iteration, timed apart, reporting the
//     ratio inspect/decode ("x-decode"), which must stay at most 1.15.
//     Alternating makes the ratio fair even when other processes load the
//     machine, which separate runs of the first two are not;
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
			if _, err := InspectDocument(data, DocumentLimits{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("paired", func(b *testing.B) {
		var decoding, inspecting time.Duration
		for b.Loop() {
			start := time.Now()
			if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
			decoded := time.Now()
			if _, err := InspectDocument(data, DocumentLimits{}); err != nil {
				b.Fatal(err)
			}
			decoding += decoded.Sub(start)
			inspecting += time.Since(decoded)
		}
		b.ReportMetric(float64(inspecting)/float64(decoding), "x-decode")
	})
	b.Run("analysis-only", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var s docSample
			s.sample(img)
			if m := s.measure(); m.hueVariety < DefaultMinHueVariety {
				b.Fatalf("the card measures H = %.2f", m.hueVariety)
			}
		}
	})
}

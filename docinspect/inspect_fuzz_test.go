package docinspect_test

import (
	"errors"
	"image"
	"runtime"
	"testing"

	"github.com/accountkit/cancellation/docinspect"
	"github.com/accountkit/cancellation/internal/docfixtures"
)

// docFuzzLimits are small, so that the fuzzer reaches the decoders and the
// pixel analysis with small inputs, and so that a breach of the memory
// bound shows quickly.
var docFuzzLimits = docinspect.Limits{
	MaxBytes:  1 << 20,
	MaxPixels: 1 << 20,
	MinWidth:  16,
	MinHeight: 8,
}

// docFuzzAllocBudget is what one inspection under docFuzzLimits may allocate: 32
// bytes a pixel of MaxPixels (the decoders need up to about 24 in the worst
// case, see Limits), four times the input, and 4 MiB for the
// decoders' tables.
const docFuzzAllocBudget = 32*(1<<20) + 4*(1<<20) + 4<<20

// FuzzInspectDocument feeds Inspect arbitrary bytes. It must never
// panic, must return either facts or a *Error with a known
// problem, and must stay within a memory budget set by the limits: a
// decompression bomb must not allocate the image its header declares.
//
//	go test -run='^$' -fuzz=FuzzInspectDocument -fuzztime=60s .
func FuzzInspectDocument(f *testing.F) {
	card := docfixtures.ColourIDCard(32, 20) // small seeds minimise fast
	jpg, png, tif, webp := docfixtures.JPEG(card, 80), docfixtures.PNG(card), docfixtures.TIFF(card), docfixtures.WebP(card)
	for _, seed := range [][]byte{
		jpg, png, tif, webp,
		docfixtures.PNG(docfixtures.Greyscale(card)),
		docfixtures.JPEG(docfixtures.Greyscale(card), 80),
		docfixtures.PNG(docfixtures.Tinted(card, docfixtures.Sepia)),
		// Issue 7 item 11: copies through a drifting tone, a photograph,
		// and a JPEG saved twice (the hue variety reads its tables).
		docfixtures.JPEG(docfixtures.TonedCopy(card, docfixtures.SepiaTone, 1), 60),
		docfixtures.JPEG(docfixtures.Recompressed(docfixtures.TonedCopy(card, docfixtures.BlueprintTone, 2), 75), 50),
		docfixtures.JPEG(docfixtures.Photo(32, 20, 1), 90),
		docfixtures.PNG(docfixtures.Blank(32, 16)),
		jpg[:len(jpg)/2], png[:len(png)/2], tif[:len(tif)/2], webp[:len(webp)/2],
		docfixtures.BombPNG(50000, 50000),
		docfixtures.BombPNG(1000, 1000), // within the limit, no pixels
		docfixtures.BombJPEG(65000, 64000),
		docfixtures.BombJPEG(1000, 1000),
		docfixtures.BombWebP(16384, 16384),
		docfixtures.BombWebP(1000, 1000),
		docfixtures.BombTIFF(100000, 90000),
		docfixtures.BombTIFF(1000, 1000),
		docfixtures.PDF(),
		{},
		[]byte("GIF89a"),
	} {
		f.Add(seed)
	}
	known := map[docinspect.Problem]bool{
		docinspect.ProblemEmpty: true, docinspect.ProblemTooLarge: true,
		docinspect.ProblemUnsupportedFormat: true, docinspect.ProblemTooManyPixels: true,
		docinspect.ProblemCorrupt: true, docinspect.ProblemTooSmall: true,
		docinspect.ProblemBlank: true, docinspect.ProblemNotColour: true,
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		facts, err := docinspect.Inspect(data, docFuzzLimits)
		runtime.ReadMemStats(&after)

		if allocated := after.TotalAlloc - before.TotalAlloc; allocated > docFuzzAllocBudget {
			t.Fatalf("inspecting %d bytes (%s %dx%d) allocated %d bytes, over the budget of %d",
				len(data), facts.Format, facts.Width, facts.Height, allocated, docFuzzAllocBudget)
		}
		if facts.Bytes != int64(len(data)) {
			t.Fatalf("facts.Bytes = %d for %d bytes", facts.Bytes, len(data))
		}
		if err == nil {
			if facts.Format == "" || facts.SHA256 == "" {
				t.Fatalf("accepted without format or hash: %+v", facts)
			}
			if px := int64(facts.Width) * int64(facts.Height); px > docFuzzLimits.MaxPixels || facts.Width < 8 || facts.Height < 8 {
				t.Fatalf("accepted a %dx%d image", facts.Width, facts.Height)
			}
			return
		}
		var de *docinspect.Error
		if !errors.As(err, &de) || !errors.Is(err, docinspect.ErrRejected) {
			t.Fatalf("error %v (%T) is not a *Error", err, err)
		}
		if !known[de.Problem] || de.Detail == "" {
			t.Fatalf("unknown problem %q or no detail: %v", de.Problem, err)
		}
		if de.Facts != facts {
			t.Fatalf("error facts %+v differ from returned facts %+v", de.Facts, facts)
		}
		if de.Problem == docinspect.ProblemTooManyPixels && image.Rect(0, 0, facts.Width, facts.Height).Empty() {
			t.Fatalf("too many pixels for an empty image: %+v", facts)
		}
	})
}

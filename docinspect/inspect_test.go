package docinspect

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"io"
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"golang.org/x/image/bmp"

	"github.com/accountkit/cancellation/internal/docfixtures"
)

// docTestCard is the colour ID card most tests upload, 800×520 pixels: above
// the default legibility minimum, small enough to keep the tests fast.
var docTestCard = sync.OnceValue(func() image.Image { return docfixtures.ColourIDCard(800, 520) })

// requireDocRefused asserts that err is a *Error for problem want,
// matched by ErrRejected, and returns it.
func requireDocRefused(t *testing.T, err error, want Problem) *Error {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, ErrRejected)
	var de *Error
	require.ErrorAs(t, err, &de)
	require.Equal(t, want, de.Problem, "detail: %s", de.Detail)
	require.NotEmpty(t, de.Detail)
	return de
}

func docSHA256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func TestInspectDocument_AcceptsColourIDCard(t *testing.T) {
	t.Parallel()
	card := docTestCard()
	for _, c := range []struct {
		format Format
		data   []byte
	}{
		{FormatJPEG, docfixtures.JPEG(card, 90)},
		{FormatPNG, docfixtures.PNG(card)},
		{FormatTIFF, docfixtures.TIFF(card)},
		{FormatWebP, docfixtures.WebP(card)},
	} {
		t.Run(string(c.format), func(t *testing.T) {
			t.Parallel()
			facts, err := Inspect(c.data, Limits{})
			require.NoError(t, err)
			require.Equal(t, c.format, facts.Format)
			require.Equal(t, 800, facts.Width)
			require.Equal(t, 520, facts.Height)
			require.Equal(t, int64(len(c.data)), facts.Bytes)
			require.Equal(t, docSHA256Hex(c.data), facts.SHA256)
			require.Greater(t, facts.Colourfulness, DefaultMinColourfulness)
			require.Greater(t, facts.HueVariety, DefaultMinHueVariety)
			require.Greater(t, facts.InkCoverage, 0.1)
		})
	}
}

func TestInspectDocument_AcceptsLowSaturationColour(t *testing.T) {
	t.Parallel()
	faded := docfixtures.LowSaturationColour(800, 520)
	for name, data := range map[string][]byte{
		"JPEG": docfixtures.JPEG(docfixtures.Noisy(faded, 6, 7), 85),
		"PNG":  docfixtures.PNG(faded),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			facts, err := Inspect(data, Limits{})
			require.NoError(t, err)
			require.Less(t, facts.Colourfulness, 30.0, "the fixture should be faded")
		})
	}
}

func TestInspectDocument_AcceptsCardScannedOnWholePage(t *testing.T) {
	t.Parallel()
	// A card 85.6 mm wide on an A4 page (210 mm): 41% of the page width.
	page := docfixtures.OnPage(docfixtures.ColourIDCard(330, 208), 800, 1131)
	facts, err := Inspect(docfixtures.JPEG(page, 85), Limits{})
	require.NoError(t, err)
	require.Less(t, facts.InkCoverage, 0.2, "most of the page is paper")
}

func TestInspectDocument_AcceptsPortraitOrientation(t *testing.T) {
	t.Parallel()
	// 400×600 is the landscape minimum turned: legible either way round.
	facts, err := Inspect(docfixtures.PNG(docfixtures.ColourIDCard(400, 600)), Limits{})
	require.NoError(t, err)
	require.Equal(t, 400, facts.Width)
	require.Equal(t, 600, facts.Height)
}

func TestInspectDocument_RefusesGreyscale(t *testing.T) {
	t.Parallel()
	grey := docfixtures.Greyscale(docTestCard())
	require.IsType(t, &image.Gray{}, grey)
	for name, data := range map[string][]byte{
		"grey PNG":  docfixtures.PNG(grey),      // a one-channel PNG
		"grey JPEG": docfixtures.JPEG(grey, 90), // a one-component JPEG
		"grey TIFF": docfixtures.TIFF(grey),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			facts, err := Inspect(data, Limits{})
			de := requireDocRefused(t, err, ProblemNotColour)
			require.Contains(t, de.Detail, "not in colour")
			require.Contains(t, de.Detail, "scan the original document in colour, not a photocopy")
			require.Zero(t, facts.Colourfulness)
			require.Zero(t, facts.HueVariety)
			require.Equal(t, facts, de.Facts)
		})
	}
}

func TestInspectDocument_RefusesEqualChannels(t *testing.T) {
	t.Parallel()
	equal := docfixtures.EqualChannels(docTestCard())
	for name, data := range map[string][]byte{
		"RGB PNG":  docfixtures.PNG(equal),
		"RGB JPEG": docfixtures.JPEG(equal, 90),
		"RGB WebP": docfixtures.WebP(docfixtures.EqualChannels(docfixtures.ColourIDCard(600, 400))),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			facts, err := Inspect(data, Limits{})
			requireDocRefused(t, err, ProblemNotColour)
			require.Less(t, facts.Colourfulness, 0.5)
		})
	}
}

func TestInspectDocument_RefusesNoisyGreyJPEG(t *testing.T) {
	t.Parallel()
	// A greyscale scan with sensor noise of up to ±10 levels in each
	// channel, saved as a colour JPEG of quality 75.
	noisy := docfixtures.Noisy(docfixtures.Greyscale(docTestCard()), 10, 42)
	facts, err := Inspect(docfixtures.JPEG(noisy, 75), Limits{})
	requireDocRefused(t, err, ProblemNotColour)
	require.Greater(t, facts.Colourfulness, 0.0, "the noise has some colour")
}

func TestInspectDocument_RefusesSepiaTint(t *testing.T) {
	t.Parallel()
	sepia := docfixtures.Tinted(docTestCard(), docfixtures.Sepia)
	facts, err := Inspect(docfixtures.JPEG(sepia, 90), Limits{})
	de := requireDocRefused(t, err, ProblemNotColour)
	require.Contains(t, de.Detail, "single tint")
	require.Contains(t, de.Detail, "scan the original document in colour, not a photocopy")
	require.Greater(t, facts.Colourfulness, DefaultMinColourfulness, "a plain threshold on M would accept sepia")
}

func TestInspectDocument_RefusesBluePhotocopyTint(t *testing.T) {
	t.Parallel()
	blue := docfixtures.Noisy(docfixtures.Tinted(docTestCard(), docfixtures.BluePhotocopy), 6, 3)
	facts, err := Inspect(docfixtures.PNG(blue), Limits{})
	de := requireDocRefused(t, err, ProblemNotColour)
	require.Contains(t, de.Detail, "single tint")
	require.Greater(t, facts.Colourfulness, DefaultMinColourfulness, "a plain threshold on M would accept a blue copy")
}

// TestInspectDocument_ColourCalibration holds the colour thresholds to
// their margin: every refused fixture at most half the threshold (H for all
// of them; M as well for the grey ones), every accepted one at least 1.5
// times both thresholds, at two sizes and four encodings. Run with -v to
// see the scores.
func TestInspectDocument_ColourCalibration(t *testing.T) {
	t.Parallel()
	const refusedMargin, acceptedMargin = 2.0, 1.5
	type fixture struct {
		name string
		make func(card image.Image, w, h int) image.Image // card is ColourIDCard(w, h)
		want Problem                                      // "" for accepted
		grey bool                                         // refused on M as well as H
	}
	sizes := []image.Point{{600, 400}, {640, 480}}
	photos := map[image.Point]image.Image{} // drawn once a size, read only
	for _, size := range sizes {
		photos[size] = docfixtures.Photo(size.X, size.Y, 1)
	}
	photo := func(w, h int) image.Image { return photos[image.Pt(w, h)] }
	fixtures := []fixture{
		{name: "colour card", make: func(card image.Image, _, _ int) image.Image { return card }},
		{name: "faded colour", make: func(_ image.Image, w, h int) image.Image { return docfixtures.LowSaturationColour(w, h) }},
		{name: "faded colour, noise ±6", make: func(_ image.Image, w, h int) image.Image {
			return docfixtures.Noisy(docfixtures.LowSaturationColour(w, h), 6, 2)
		}},
		{name: "card on A4 page", make: func(_ image.Image, w, _ int) image.Image {
			// The card is 85.6 mm wide, 41% of the page.
			return docfixtures.OnPage(docfixtures.ColourIDCard(w*41/100, w*41/100*54/86), w, w*297/210)
		}},
		{name: "colour photograph", make: func(_ image.Image, w, h int) image.Image { return photo(w, h) }},
		{name: "greyscale", make: func(card image.Image, _, _ int) image.Image { return docfixtures.Greyscale(card) }, want: ProblemNotColour, grey: true},
		{name: "equal channels", make: func(card image.Image, _, _ int) image.Image { return docfixtures.EqualChannels(card) }, want: ProblemNotColour, grey: true},
		{name: "grey, noise ±10", make: func(card image.Image, _, _ int) image.Image {
			return docfixtures.Noisy(docfixtures.Greyscale(card), 10, 3)
		}, want: ProblemNotColour, grey: true},
		{name: "sepia", make: func(card image.Image, _, _ int) image.Image { return docfixtures.Tinted(card, docfixtures.Sepia) }, want: ProblemNotColour},
		{name: "sepia, noise ±6", make: func(card image.Image, _, _ int) image.Image {
			return docfixtures.Noisy(docfixtures.Tinted(card, docfixtures.Sepia), 6, 4)
		}, want: ProblemNotColour},
		{name: "blue photocopy", make: func(card image.Image, _, _ int) image.Image {
			return docfixtures.Tinted(card, docfixtures.BluePhotocopy)
		}, want: ProblemNotColour},
		{name: "blue photocopy, noise ±6", make: func(card image.Image, _, _ int) image.Image {
			return docfixtures.Noisy(docfixtures.Tinted(card, docfixtures.BluePhotocopy), 6, 5)
		}, want: ProblemNotColour},
		// Copies through a curved tone, on textured paper, blurred and
		// noisy as a scanner leaves them (issue 7 item 11).
		{name: "sepia toned card", make: func(card image.Image, _, _ int) image.Image {
			return docfixtures.TonedCopy(card, docfixtures.SepiaTone, 1)
		}, want: ProblemNotColour},
		{name: "blue toned card", make: func(card image.Image, _, _ int) image.Image {
			return docfixtures.TonedCopy(card, docfixtures.BlueprintTone, 2)
		}, want: ProblemNotColour},
		{name: "sepia toned photograph", make: func(_ image.Image, w, h int) image.Image {
			return docfixtures.TonedCopy(photo(w, h), docfixtures.SepiaTone, 3)
		}, want: ProblemNotColour},
		{name: "blue toned photograph, saved as JPEG 75 first", make: func(_ image.Image, w, h int) image.Image {
			return docfixtures.Recompressed(docfixtures.TonedCopy(photo(w, h), docfixtures.BlueprintTone, 4), 75)
		}, want: ProblemNotColour},
	}
	encodings := []struct {
		name   string
		encode func(image.Image) []byte
	}{
		{"PNG", docfixtures.PNG}, // lossless: TIFF and WebP give the same pixels
		{"JPEG 95", func(m image.Image) []byte { return docfixtures.JPEG(m, 95) }},
		{"JPEG 75", func(m image.Image) []byte { return docfixtures.JPEG(m, 75) }},
		{"JPEG 50", func(m image.Image) []byte { return docfixtures.JPEG(m, 50) }},
	}
	minM, minH := DefaultMinColourfulness, DefaultMinHueVariety
	for _, size := range sizes {
		card := docfixtures.ColourIDCard(size.X, size.Y) // shared, read only
		for _, f := range fixtures {
			t.Run(fmt.Sprintf("%dx%d %s", size.X, size.Y, f.name), func(t *testing.T) {
				t.Parallel()
				img := f.make(card, size.X, size.Y)
				for _, e := range encodings {
					facts, err := Inspect(e.encode(img), Limits{})
					verdict := "accepted"
					if err != nil {
						verdict = string(requireDocRefused(t, err, f.want).Problem)
					}
					t.Logf("%-8s M=%6.2f H=%6.2f ink=%.2f %s", e.name, facts.Colourfulness, facts.HueVariety, facts.InkCoverage, verdict)
					if f.want == "" {
						require.NoError(t, err, e.name)
						require.GreaterOrEqual(t, facts.Colourfulness, minM*acceptedMargin, e.name)
						require.GreaterOrEqual(t, facts.HueVariety, minH*acceptedMargin, e.name)
						continue
					}
					require.Error(t, err, "%s: want %s", e.name, f.want)
					require.LessOrEqual(t, facts.HueVariety, minH/refusedMargin, e.name)
					if f.grey {
						require.LessOrEqual(t, facts.Colourfulness, minM/refusedMargin, e.name)
					}
				}
			})
		}
	}
	t.Run("sepia filter", func(t *testing.T) {
		t.Parallel()
		// A photo editor's sepia filter clips the highlights, so its hue
		// drifts with brightness; it is refused like the toned copies.
		facts, err := Inspect(docfixtures.JPEG(docfixtures.SepiaFilter(docfixtures.ColourIDCard(600, 400)), 90), Limits{})
		t.Logf("JPEG 90  M=%6.2f H=%6.2f err=%v", facts.Colourfulness, facts.HueVariety, err)
		requireDocRefused(t, err, ProblemNotColour)
	})
}

// TestInspectDocument_ToneCurveCopiesRefusedAtHalfTheThreshold is the
// regression test of issue 7 item 11, at a size the calibration does not
// use: copies through a tone whose hue drifts with brightness, blurred by
// the scanner (the earlier measure accepted the sepia card, at H ≈ 7) and
// saved twice as JPEG, stay at half the hue-variety threshold or
// below, while the colour photograph they were made from stays above 1.5
// times it.
func TestInspectDocument_ToneCurveCopiesRefusedAtHalfTheThreshold(t *testing.T) {
	t.Parallel()
	const w, h = 800, 560
	card, photo := docfixtures.ColourIDCard(w, h), docfixtures.Photo(w, h, 7)
	for name, img := range map[string]image.Image{
		"sepia card":                      docfixtures.TonedCopy(card, docfixtures.SepiaTone, 11),
		"blue card, JPEG 75 first":        docfixtures.Recompressed(docfixtures.TonedCopy(card, docfixtures.BlueprintTone, 12), 75),
		"sepia photograph, JPEG 75 first": docfixtures.Recompressed(docfixtures.TonedCopy(photo, docfixtures.SepiaTone, 13), 75),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			facts, err := Inspect(docfixtures.JPEG(img, 50), Limits{})
			t.Logf("M=%.2f H=%.2f", facts.Colourfulness, facts.HueVariety)
			requireDocRefused(t, err, ProblemNotColour)
			require.LessOrEqual(t, facts.HueVariety, DefaultMinHueVariety/2)
		})
	}
	t.Run("the colour photograph", func(t *testing.T) {
		t.Parallel()
		facts, err := Inspect(docfixtures.JPEG(photo, 50), Limits{})
		t.Logf("M=%.2f H=%.2f", facts.Colourfulness, facts.HueVariety)
		require.NoError(t, err)
		require.GreaterOrEqual(t, facts.HueVariety, 1.5*DefaultMinHueVariety)
	})
}

// TestDocJPEGChromaNoise_ReadsTheQuantizationTables checks the variance
// that the hue variety discounts for a JPEG against the tables that
// image/jpeg writes (chroma DC step 9 at quality 75, 17 at 50, 4:2:0), and
// that a file without readable headers gets none.
func TestDocJPEGChromaNoise_ReadsTheQuantizationTables(t *testing.T) {
	t.Parallel()
	card := docfixtures.ColourIDCard(64, 48)
	perStep := (0.344*0.344 + 1.944*1.944 + 2.116*2.116 + 0.344*0.344) / 12
	require.InDelta(t, perStep*(9.0/8)*(9.0/8), docJPEGChromaNoise(docfixtures.JPEG(card, 75)), 1e-9)
	require.InDelta(t, perStep*(17.0/8)*(17.0/8), docJPEGChromaNoise(docfixtures.JPEG(card, 50)), 1e-9)
	// 16-bit tables, 4:4:4: four chroma blocks under a 16×16 block.
	wide := []byte{0xff, 0xd8, 0xff, 0xdb, 0, 2 + 129}
	wide = append(append(wide, 0x11, 0x01, 0x00), make([]byte, 126)...) // table 1, DC step 256
	wide = append(wide, 0xff, 0xc0, 0, 17, 8, 0, 16, 0, 16, 3, 1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1, 0xff, 0xda)
	require.InDelta(t, perStep*32*32/4, docJPEGChromaNoise(wide), 1e-9)
	grey := docfixtures.JPEG(docfixtures.Greyscale(card), 75)
	jpg := docfixtures.JPEG(card, 75)
	for name, data := range map[string][]byte{
		"greyscale: one component": grey,
		"truncated in the tables":  jpg[:40],
		"empty":                    nil,
		"PNG":                      docfixtures.PNG(card),
	} {
		require.Zero(t, docJPEGChromaNoise(data), name)
	}
}

func TestInspectDocument_RefusesBlankPage(t *testing.T) {
	t.Parallel()
	for name, data := range map[string][]byte{
		"white PNG":       docfixtures.PNG(docfixtures.Blank(800, 520)),
		"white JPEG":      docfixtures.JPEG(docfixtures.Blank(800, 520), 90),
		"near blank PNG":  docfixtures.PNG(docfixtures.NearBlank(800, 520)),
		"near blank JPEG": docfixtures.JPEG(docfixtures.NearBlank(800, 520), 75),
		"black page":      docfixtures.PNG(image.NewGray(image.Rect(0, 0, 800, 520))),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// Blank is checked before colour: a white page is not
			// colourful either, but "blank" is what the customer must hear.
			facts, err := Inspect(data, Limits{})
			de := requireDocRefused(t, err, ProblemBlank)
			require.Contains(t, de.Detail, "blank")
			require.Less(t, facts.InkCoverage, 0.01)
		})
	}
}

func TestInspectDocument_CompositesTransparencyOverWhite(t *testing.T) {
	t.Parallel()
	// Colourful pixels, all fully transparent: what a reviewer sees is a
	// white page.
	hidden := image.NewNRGBA(image.Rect(0, 0, 800, 520))
	draw.Draw(hidden, hidden.Bounds(), docTestCard(), image.Point{}, draw.Src)
	for i := 3; i < len(hidden.Pix); i += 4 {
		hidden.Pix[i] = 0
	}
	_, err := Inspect(docfixtures.PNG(hidden), Limits{})
	requireDocRefused(t, err, ProblemBlank)
}

func TestInspectDocument_RefusesTooSmall(t *testing.T) {
	t.Parallel()
	for _, size := range []image.Point{{300, 200}, {599, 400}, {600, 399}, {400, 599}, {399, 600}} {
		t.Run(fmt.Sprintf("%dx%d", size.X, size.Y), func(t *testing.T) {
			t.Parallel()
			data := docfixtures.PNG(docfixtures.ColourIDCard(size.X, size.Y))
			facts, err := Inspect(data, Limits{})
			de := requireDocRefused(t, err, ProblemTooSmall)
			require.Contains(t, de.Detail, fmt.Sprintf("%d × %d pixels", size.X, size.Y))
			require.Contains(t, de.Detail, "at least 600 × 400 pixels")
			require.Equal(t, size.X, facts.Width)
			require.Equal(t, size.Y, facts.Height)
			require.Zero(t, facts.Colourfulness, "refused from the header, before decoding")
		})
	}
	t.Run("custom minimum", func(t *testing.T) {
		t.Parallel()
		_, err := Inspect(docfixtures.PNG(docTestCard()), Limits{MinWidth: 1000, MinHeight: 700})
		de := requireDocRefused(t, err, ProblemTooSmall)
		require.Contains(t, de.Detail, "at least 1000 × 700 pixels")
	})
	t.Run("tiny WebP", func(t *testing.T) {
		t.Parallel()
		facts, err := Inspect(docfixtures.WebP(docfixtures.ColourIDCard(48, 30)), Limits{})
		requireDocRefused(t, err, ProblemTooSmall)
		require.Equal(t, FormatWebP, facts.Format)
	})
}

func TestInspectDocument_RefusesTooManyPixels(t *testing.T) {
	t.Parallel()
	facts, err := Inspect(docfixtures.JPEG(docTestCard(), 80), Limits{MaxPixels: 400_000})
	de := requireDocRefused(t, err, ProblemTooManyPixels)
	require.Equal(t, "the image is 800 × 520 pixels (0.4 megapixels), over the limit of 0.4 megapixels: scan at a lower resolution", de.Detail)
	require.Equal(t, 800, facts.Width)
	require.Zero(t, facts.Colourfulness, "refused from the header, before decoding")
}

func TestInspectDocument_RefusesLongThinImage(t *testing.T) {
	t.Parallel()
	// 1 × 1,000,000 pixels is within a 1-megapixel limit, but the JPEG
	// decoder would allocate whole 32-pixel-wide blocks: 32 megapixels.
	_, err := Inspect(docfixtures.BombJPEG(1, 60000), Limits{MaxPixels: 100_000, MinWidth: 1, MinHeight: 1})
	de := requireDocRefused(t, err, ProblemTooManyPixels)
	require.Contains(t, de.Detail, "too long and thin")
}

// TestInspectDocument_DecompressionBomb shows that a file declaring an
// enormous image is refused from its header, without allocating it. It
// reads the allocation counters, so it does not run in parallel.
func TestInspectDocument_DecompressionBomb(t *testing.T) {
	for name, data := range map[string][]byte{
		"PNG 50000x50000":   docfixtures.BombPNG(50000, 50000),
		"JPEG 65000x64000":  docfixtures.BombJPEG(65000, 64000),
		"WebP 16384x16384":  docfixtures.BombWebP(16384, 16384),
		"TIFF 100000x90000": docfixtures.BombTIFF(100000, 90000),
	} {
		t.Run(name, func(t *testing.T) {
			_, _ = Inspect(data, Limits{}) // warm up lazy initialisation
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			facts, err := Inspect(data, Limits{})
			runtime.ReadMemStats(&after)
			requireDocRefused(t, err, ProblemTooManyPixels)
			require.Greater(t, int64(facts.Width)*int64(facts.Height), DefaultMaxDocumentPixels)
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d bytes in, %dx%d declared, %d bytes allocated", len(data), facts.Width, facts.Height, allocated)
			require.Less(t, allocated, uint64(1<<20))
		})
	}
	t.Run("lying header within the limit", func(t *testing.T) {
		// Within MaxPixels, the header is believed and the decoder
		// allocates the image; then it finds no pixels.
		_, err := Inspect(docfixtures.BombPNG(1000, 700), Limits{})
		requireDocRefused(t, err, ProblemCorrupt)
	})
}

func TestInspectDocument_RefusesUnsupportedFormats(t *testing.T) {
	t.Parallel()
	small := docfixtures.ColourIDCard(64, 40)
	var gifData, bmpData bytes.Buffer
	require.NoError(t, gif.Encode(&gifData, small, nil))
	require.NoError(t, bmp.Encode(&bmpData, small))
	for _, c := range []struct {
		name string
		data []byte
		says string
	}{
		{"PDF", docfixtures.PDF(), "the file is a PDF document, not an image"},
		{"GIF", gifData.Bytes(), "the file is a GIF image"},
		{"BMP", bmpData.Bytes(), "the file is a BMP image"},
		{"HEIC", append([]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), make([]byte, 64)...), "the file is a HEIC image"},
		{"AVIF", []byte("\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf"), "the file is an AVIF image"},
		{"BigTIFF", []byte("II+\x00\x08\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00"), "the file is a BigTIFF image"},
		{"text", []byte("Dear reviewer, please find my passport attached."), "the file is not an image we can read"},
		{"random", []byte{0x13, 0x37, 0x00, 0xff, 0x42, 0x99, 0x01, 0x02, 0x03}, "the file is not an image we can read"},
		{"one byte", []byte{0xff}, "the file is not an image we can read"},
		{"RIFF that is not WebP", append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), make([]byte, 32)...), "the file is not an image we can read"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			facts, err := Inspect(c.data, Limits{})
			de := requireDocRefused(t, err, ProblemUnsupportedFormat)
			require.Contains(t, de.Detail, c.says)
			require.Contains(t, de.Detail, "upload a JPEG, PNG, WebP or TIFF image")
			require.Empty(t, facts.Format)
			require.Equal(t, docSHA256Hex(c.data), facts.SHA256)
		})
	}
}

func TestInspectDocument_RefusesJPEGWithTooManyScans(t *testing.T) {
	t.Parallel()
	// A progressive JPEG header and n empty scans: each scan would be a
	// pass over every block of an 800×600 image.
	jpegWithScans := func(n int) []byte {
		data := docfixtures.BombJPEG(800, 600)
		data[bytes.Index(data, []byte{0xff, 0xc0})+1] = 0xc2 // SOF2: progressive
		for range n {
			data = append(data, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00)
		}
		return append(data, 0xff, 0xd9)
	}
	require.Equal(t, 101, docJPEGScans(jpegWithScans(101)))
	_, err := Inspect(jpegWithScans(101), Limits{})
	de := requireDocRefused(t, err, ProblemUnsupportedFormat)
	require.Contains(t, de.Detail, "101 progressive scans")
	_, err = Inspect(jpegWithScans(100), Limits{})
	requireDocRefused(t, err, ProblemCorrupt) // read, and found empty

	// A real baseline JPEG, with stuffed 0xff bytes in its entropy-coded
	// data, has one scan.
	require.Equal(t, 1, docJPEGScans(docfixtures.JPEG(docTestCard(), 90)))
}

func TestInspectDocument_DecodesWithSniffedFormatOnly(t *testing.T) {
	t.Parallel()
	// JPEG magic in front of a PNG: image.Decode would still find the PNG
	// decoder by guessing; the inspector trusts the magic and fails.
	png := docfixtures.PNG(docTestCard())
	data := append([]byte{0xff, 0xd8, 0xff}, png...)
	facts, err := Inspect(data, Limits{})
	requireDocRefused(t, err, ProblemCorrupt)
	require.Equal(t, FormatJPEG, facts.Format)
}

func TestInspectDocument_RefusesCorrupt(t *testing.T) {
	t.Parallel()
	card := docTestCard()
	for name, data := range map[string][]byte{
		"JPEG": docfixtures.JPEG(card, 90),
		"PNG":  docfixtures.PNG(card),
		"TIFF": docfixtures.TIFF(card),
		"WebP": docfixtures.WebP(card),
	} {
		t.Run("first half of "+name, func(t *testing.T) {
			t.Parallel()
			_, err := Inspect(data[:len(data)/2], Limits{})
			de := requireDocRefused(t, err, ProblemCorrupt)
			require.Contains(t, de.Detail, "damaged or incomplete")
		})
	}
	t.Run("zero width", func(t *testing.T) {
		t.Parallel()
		_, err := Inspect(docfixtures.BombTIFF(0, 500), Limits{})
		requireDocRefused(t, err, ProblemCorrupt)
	})
}

func TestInspectDocument_RefusesEmpty(t *testing.T) {
	t.Parallel()
	for name, data := range map[string][]byte{"nil": nil, "empty": {}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			facts, err := Inspect(data, Limits{})
			requireDocRefused(t, err, ProblemEmpty)
			require.Equal(t, Facts{}, facts)
		})
	}
}

func TestInspectDocument_RefusesTooLarge(t *testing.T) {
	t.Parallel()
	data := docfixtures.PNG(docTestCard())
	facts, err := Inspect(data, Limits{MaxBytes: int64(len(data) - 1)})
	de := requireDocRefused(t, err, ProblemTooLarge)
	require.Contains(t, de.Detail, "over the limit of")
	require.Equal(t, Facts{Bytes: int64(len(data))}, facts, "nothing is measured of a file too large")

	_, err = Inspect(data, Limits{MaxBytes: int64(len(data))})
	require.NoError(t, err, "exactly MaxBytes is allowed")
}

func TestInspectDocument_SHA256IdentifiesTheBytes(t *testing.T) {
	t.Parallel()
	a := docfixtures.JPEG(docTestCard(), 90)
	b := docfixtures.JPEG(docTestCard(), 89) // the same card, other bytes
	factsA, err := Inspect(a, Limits{})
	require.NoError(t, err)
	factsA2, err := Inspect(bytes.Clone(a), Limits{})
	require.NoError(t, err)
	factsB, err := Inspect(b, Limits{})
	require.NoError(t, err)

	require.Equal(t, factsA, factsA2, "the same bytes give the same facts")
	require.Equal(t, docSHA256Hex(a), factsA.SHA256)
	require.Len(t, factsA.SHA256, 64)
	require.NotEqual(t, factsA.SHA256, factsB.SHA256)

	// A refused document carries its hash too, for the audit trail.
	grey := docfixtures.PNG(docfixtures.Greyscale(docTestCard()))
	_, err = Inspect(grey, Limits{})
	require.Equal(t, docSHA256Hex(grey), requireDocRefused(t, err, ProblemNotColour).Facts.SHA256)
}

func TestInspectDocument_RefusalCarriesFactsMeasuredSoFar(t *testing.T) {
	t.Parallel()
	card := docfixtures.JPEG(docTestCard(), 90)
	small := docfixtures.PNG(docfixtures.ColourIDCard(300, 200))
	grey := docfixtures.PNG(docfixtures.Greyscale(docTestCard()))
	pdf := docfixtures.PDF()
	for _, c := range []struct {
		name   string
		data   []byte
		limits Limits
		want   Facts // Colourfulness, HueVariety and InkCoverage are compared for zero only
	}{
		{"too large", card, Limits{MaxBytes: 100}, Facts{Bytes: int64(len(card))}},
		{"unsupported", pdf, Limits{}, Facts{Bytes: int64(len(pdf)), SHA256: docSHA256Hex(pdf)}},
		{"too small", small, Limits{}, Facts{Format: FormatPNG, Width: 300, Height: 200, Bytes: int64(len(small)), SHA256: docSHA256Hex(small)}},
		{"not colour", grey, Limits{}, Facts{Format: FormatPNG, Width: 800, Height: 520, Bytes: int64(len(grey)), SHA256: docSHA256Hex(grey)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			facts, err := Inspect(c.data, c.limits)
			var de *Error
			require.ErrorAs(t, err, &de)
			require.Equal(t, facts, de.Facts)
			ignoreMeasures := cmp.FilterPath(func(p cmp.Path) bool {
				switch p.Last().String() {
				case ".Colourfulness", ".HueVariety", ".InkCoverage":
					return true
				}
				return false
			}, cmp.Ignore())
			if diff := cmp.Diff(c.want, facts, ignoreMeasures); diff != "" {
				t.Fatalf("facts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDocumentFacts_JSON(t *testing.T) {
	t.Parallel()
	got, err := json.Marshal(Facts{
		Format: FormatJPEG, Width: 800, Height: 520, Bytes: 91234,
		Colourfulness: 79.5, HueVariety: 35.75, InkCoverage: 0.25, SHA256: "ab12",
	})
	require.NoError(t, err)
	require.JSONEq(t, `{"format":"jpeg","width":800,"height":520,"bytes":91234,
		"colourfulness":79.5,"hue_variety":35.75,"ink_coverage":0.25,"sha256":"ab12"}`, string(got))
}

func TestDocumentError_MatchesErrDocumentRejected(t *testing.T) {
	t.Parallel()
	var err error = &Error{Problem: ProblemNotColour, Detail: "the scan is not in colour"}
	require.ErrorIs(t, err, ErrRejected)
	require.ErrorIs(t, fmt.Errorf("upload: %w", err), ErrRejected)
	require.NotErrorIs(t, err, io.EOF)
	require.False(t, errors.Is(errors.New("cancellation: identity document rejected"), ErrRejected))
	require.Equal(t, "cancellation: identity document rejected (not_colour): the scan is not in colour", err.Error())
}

func TestReadDocument(t *testing.T) {
	t.Parallel()
	data := docfixtures.JPEG(docTestCard(), 80)
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		got, err := Read(bytes.NewReader(data), Limits{})
		require.NoError(t, err)
		require.Equal(t, data, got)
	})
	t.Run("exactly MaxBytes", func(t *testing.T) {
		t.Parallel()
		got, err := Read(iotest.OneByteReader(bytes.NewReader(data)), Limits{MaxBytes: int64(len(data))})
		require.NoError(t, err)
		require.Equal(t, data, got)
	})
	t.Run("ErrTooLarge reads no more than MaxBytes+1", func(t *testing.T) {
		t.Parallel()
		r := &docCountingReader{r: bytes.NewReader(data)}
		got, err := Read(r, Limits{MaxBytes: 1000})
		de := requireDocRefused(t, err, ProblemTooLarge)
		require.Nil(t, got)
		require.Equal(t, int64(1001), de.Facts.Bytes)
		require.Equal(t, 1001, r.n)
		require.Contains(t, de.Detail, "over the limit of 1000 bytes")
	})
	t.Run("ErrEmpty", func(t *testing.T) {
		t.Parallel()
		_, err := Read(strings.NewReader(""), Limits{})
		requireDocRefused(t, err, ProblemEmpty)
	})
	t.Run("reader error", func(t *testing.T) {
		t.Parallel()
		broken := errors.New("connection reset")
		_, err := Read(iotest.ErrReader(broken), Limits{})
		require.ErrorIs(t, err, broken)
		require.NotErrorIs(t, err, ErrRejected, "a failed read is not a refused document")
	})
}

// docCountingReader counts the bytes read through it.
type docCountingReader struct {
	r io.Reader
	n int
}

func (c *docCountingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestDefaultDocumentLimits(t *testing.T) {
	t.Parallel()
	want := Limits{
		MaxBytes:         10 << 20,
		MaxPixels:        24_000_000,
		MinWidth:         600,
		MinHeight:        400,
		MinColourfulness: 6,
		MinHueVariety:    4,
	}
	require.Equal(t, want, DefaultLimits())
	require.Equal(t, want, Limits{}.withDefaults(), "zero fields take defaults")
	require.Equal(t, want, Limits{MaxBytes: -1, MinColourfulness: math.NaN()}.withDefaults())
	custom := Limits{MaxBytes: 1, MaxPixels: 2, MinWidth: 3, MinHeight: 4, MinColourfulness: 5, MinHueVariety: 6}
	require.Equal(t, custom, custom.withDefaults())
}

func TestDocGuard_TurnsPanicIntoError(t *testing.T) {
	t.Parallel()
	img, err := docGuard(func() (image.Image, error) {
		var pix []byte
		_ = pix[3] // an index out of range, as a decoder bug would cause
		return nil, nil
	})
	require.Nil(t, img)
	require.ErrorContains(t, err, "decoder panic")

	// And Inspect reports it as a corrupt document.
	_, err = docRefuseDecodeError(Facts{}, docCodecFor(FormatPNG), err)
	requireDocRefused(t, err, ProblemCorrupt)
}

// docOpaqueImage hides the concrete type of an image, so that the sampler
// takes its generic path through At.
type docOpaqueImage struct{ image.Image }

// TestDocSample_TypedPathsAgreeWithGenericPath converts the card to every
// image type a decoder can return and checks that the fast path for each
// measures what the generic path (At) measures.
func TestDocSample_TypedPathsAgreeWithGenericPath(t *testing.T) {
	t.Parallel()
	card := docfixtures.ColourIDCard(320, 208)
	convert := func(dst draw.Image) image.Image {
		draw.Draw(dst, dst.Bounds(), card, image.Point{}, draw.Src)
		return dst
	}
	r := card.Bounds()
	ycbcr := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := color.YCbCrModel.Convert(card.At(x, y)).(color.YCbCr)
			ycbcr.Y[ycbcr.YOffset(x, y)] = c.Y
			ycbcr.Cb[ycbcr.COffset(x, y)], ycbcr.Cr[ycbcr.COffset(x, y)] = c.Cb, c.Cr
		}
	}
	nycbcra := image.NewNYCbCrA(r, image.YCbCrSubsampleRatio420)
	nycbcra.YCbCr = *ycbcr
	for i := range nycbcra.A {
		nycbcra.A[i] = 0xff
	}
	for name, c := range map[string]struct {
		img  image.Image
		grey bool
	}{
		"RGBA":     {convert(image.NewRGBA(r)), false},
		"NRGBA":    {convert(image.NewNRGBA(r)), false},
		"RGBA64":   {convert(image.NewRGBA64(r)), false},
		"NRGBA64":  {convert(image.NewNRGBA64(r)), false},
		"CMYK":     {convert(image.NewCMYK(r)), false},
		"Paletted": {convert(image.NewPaletted(r, palette.WebSafe)), false},
		"YCbCr":    {ycbcr, false},
		"NYCbCrA":  {nycbcra, false},
		"Gray":     {convert(image.NewGray(r)), true},
		"Gray16":   {convert(image.NewGray16(r)), true},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var typed, generic docSample
			typed.sample(c.img)
			generic.sample(docOpaqueImage{c.img})
			mt, mg := typed.measure(0), generic.measure(0)
			require.InDelta(t, mg.inkCoverage, mt.inkCoverage, 0.01)
			if c.grey {
				require.Zero(t, mt.colourfulness)
				require.InDelta(t, 0, mg.colourfulness, 0.01)
				return
			}
			require.InDelta(t, mg.colourfulness, mt.colourfulness, 0.5)
			require.InDelta(t, mg.hueVariety, mt.hueVariety, 0.5)
			require.Greater(t, mt.hueVariety, DefaultMinHueVariety)
		})
	}
}

func TestDocGrid_StaysWithinBoundsAndBudget(t *testing.T) {
	t.Parallel()
	for _, size := range []image.Point{{1, 1}, {1, 1_000_000}, {15, 15}, {16, 16}, {600, 400}, {3000, 2000}, {8000, 5000}, {40_000, 1}} {
		k, stride, nx, ny, offX, offY := docGrid(size.X, size.Y)
		require.LessOrEqual(t, nx*ny, docMaxBlocks, "%v", size)
		require.GreaterOrEqual(t, nx, 1)
		require.GreaterOrEqual(t, ny, 1)
		require.LessOrEqual(t, offX+(nx-1)*stride+k, size.X, "%v", size)
		require.LessOrEqual(t, offY+(ny-1)*stride+k, size.Y, "%v", size)
		require.Zero(t, offX%k)
		require.Zero(t, stride%k)
	}
}

func TestSniffDocument(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		data string
		want Format
	}{
		{"\xff\xd8\xff\xe0", FormatJPEG},
		{"\x89PNG\r\n\x1a\n", FormatPNG},
		{"RIFF\x00\x00\x00\x00WEBPVP8 ", FormatWebP},
		{"II*\x00\x08\x00\x00\x00", FormatTIFF},
		{"MM\x00*\x00\x00\x00\x08", FormatTIFF},
		{"RIFF\x00\x00\x00\x00WEB", ""},
		{"\xff\xd8", ""},
		{"", ""},
	} {
		got, _ := sniffDocument([]byte(c.data))
		require.Equal(t, c.want, got, "%q", c.data)
	}
}

package docfixtures_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"

	"github.com/accountkit/cancellation/internal/docfixtures"
)

// requireSamePixels fails unless got and want have the same bounds and the
// same non-premultiplied colour at every pixel.
func requireSamePixels(t *testing.T, want, got image.Image) {
	t.Helper()
	require.Equal(t, want.Bounds(), got.Bounds())
	b := want.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			w := color.NRGBAModel.Convert(want.At(x, y))
			g := color.NRGBAModel.Convert(got.At(x, y))
			if w != g {
				require.Failf(t, "pixels differ", "at (%d, %d): want %v, got %v", x, y, w, g)
			}
		}
	}
}

func TestWebP_RoundTripsThroughXImageDecoder(t *testing.T) {
	t.Parallel()
	translucent := image.NewNRGBA(image.Rect(0, 0, 5, 3))
	for i := range translucent.Pix {
		translucent.Pix[i] = uint8(i * 37)
	}
	for name, img := range map[string]image.Image{
		"card":        docfixtures.ColourIDCard(61, 37),
		"one pixel":   docfixtures.Blank(1, 1),
		"translucent": translucent,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data := docfixtures.WebP(img)
			require.Equal(t, "RIFF", string(data[:4]))
			require.Equal(t, "WEBPVP8L", string(data[8:16]))
			cfg, err := webp.DecodeConfig(bytes.NewReader(data))
			require.NoError(t, err)
			require.Equal(t, img.Bounds().Dx(), cfg.Width)
			require.Equal(t, img.Bounds().Dy(), cfg.Height)
			got, err := webp.Decode(bytes.NewReader(data))
			require.NoError(t, err)
			requireSamePixels(t, img, got)
		})
	}
}

func TestEncoders_DecodeToTheSameSize(t *testing.T) {
	t.Parallel()
	card := docfixtures.ColourIDCard(40, 24)
	decoders := map[string]struct {
		data   []byte
		decode func([]byte) (image.Image, error)
		magic  string
	}{
		"JPEG": {docfixtures.JPEG(card, 90), func(b []byte) (image.Image, error) { return jpeg.Decode(bytes.NewReader(b)) }, "\xff\xd8\xff"},
		"PNG":  {docfixtures.PNG(card), func(b []byte) (image.Image, error) { return png.Decode(bytes.NewReader(b)) }, "\x89PNG"},
		"TIFF": {docfixtures.TIFF(card), func(b []byte) (image.Image, error) { return tiff.Decode(bytes.NewReader(b)) }, "II*\x00"},
	}
	for name, d := range decoders {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, d.magic, string(d.data[:len(d.magic)]))
			img, err := d.decode(d.data)
			require.NoError(t, err)
			require.Equal(t, card.Bounds(), img.Bounds())
		})
	}
	t.Run("lossless PNG and TIFF", func(t *testing.T) {
		t.Parallel()
		for _, name := range []string{"PNG", "TIFF"} {
			img, err := decoders[name].decode(decoders[name].data)
			require.NoError(t, err, name)
			requireSamePixels(t, card, img)
		}
	})
}

func TestBombPNG_DeclaresHugeImageInFewBytes(t *testing.T) {
	t.Parallel()
	data := docfixtures.BombPNG(50000, 50000)
	require.Less(t, len(data), 100)
	cfg, err := png.DecodeConfig(bytes.NewReader(data)) // checks the IHDR CRC
	require.NoError(t, err)
	require.Equal(t, 50000, cfg.Width)
	require.Equal(t, 50000, cfg.Height)
}

func TestBombs_DeclareHugeImagesInTheirHeaders(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		data         []byte
		decodeConfig func(io.Reader) (image.Config, error)
		w, h         int
	}{
		"JPEG": {docfixtures.BombJPEG(65000, 64000), jpeg.DecodeConfig, 65000, 64000},
		"WebP": {docfixtures.BombWebP(16384, 16000), webp.DecodeConfig, 16384, 16000},
		"TIFF": {docfixtures.BombTIFF(100000, 90000), tiff.DecodeConfig, 100000, 90000},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.Less(t, len(c.data), 1024)
			cfg, err := c.decodeConfig(bytes.NewReader(c.data))
			require.NoError(t, err)
			require.Equal(t, c.w, cfg.Width)
			require.Equal(t, c.h, cfg.Height)
		})
	}
}

func TestGenerators_AreDeterministic(t *testing.T) {
	t.Parallel()
	card := docfixtures.ColourIDCard(64, 40)
	require.Equal(t, docfixtures.PNG(card), docfixtures.PNG(docfixtures.ColourIDCard(64, 40)))
	require.Equal(t, docfixtures.PNG(docfixtures.Noisy(card, 6, 1)), docfixtures.PNG(docfixtures.Noisy(card, 6, 1)))
	require.NotEqual(t, docfixtures.PNG(docfixtures.Noisy(card, 6, 1)), docfixtures.PNG(docfixtures.Noisy(card, 6, 2)))
	require.Equal(t, docfixtures.PNG(docfixtures.NearBlank(64, 40)), docfixtures.PNG(docfixtures.NearBlank(64, 40)))
	require.Equal(t, docfixtures.JPEG(card, 75), docfixtures.JPEG(card, 75))
	require.Equal(t, docfixtures.PNG(docfixtures.Photo(64, 40, 1)), docfixtures.PNG(docfixtures.Photo(64, 40, 1)))
	require.NotEqual(t, docfixtures.PNG(docfixtures.Photo(64, 40, 1)), docfixtures.PNG(docfixtures.Photo(64, 40, 2)))
	toned := func(seed uint64) []byte {
		return docfixtures.PNG(docfixtures.TonedCopy(card, docfixtures.SepiaTone, seed))
	}
	require.Equal(t, toned(1), toned(1))
	require.NotEqual(t, toned(1), toned(2))
	require.Equal(t, docfixtures.PNG(docfixtures.Recompressed(card, 75)), docfixtures.PNG(docfixtures.Recompressed(card, 75)))
}

// TestTonedCopy_FollowsItsTone checks that a toned copy of a flat grey
// patch takes the colour of its tone at that brightness: the paper's for
// white, the shadow's for black, between them for grey, up to the paper
// texture and the sensor noise.
func TestTonedCopy_FollowsItsTone(t *testing.T) {
	t.Parallel()
	patch := func(v uint8) image.Image {
		img := image.NewGray(image.Rect(0, 0, 24, 24))
		for i := range img.Pix {
			img.Pix[i] = v
		}
		return img
	}
	near := func(want color.RGBA, img image.Image) {
		t.Helper()
		c := img.At(12, 12).(color.RGBA)
		for _, d := range [][2]uint8{{want.R, c.R}, {want.G, c.G}, {want.B, c.B}} {
			require.InDelta(t, float64(d[0]), float64(d[1]), 14, "want %v, got %v", want, c)
		}
	}
	for _, tone := range []docfixtures.Tone{docfixtures.SepiaTone, docfixtures.BlueprintTone} {
		near(tone.Paper, docfixtures.TonedCopy(patch(255), tone, 1))
		near(tone.Shadow, docfixtures.TonedCopy(patch(0), tone, 1))
		near(tone.Mid, docfixtures.TonedCopy(patch(128), tone, 1))
	}
}

func TestGreyscaleAndTints_HaveNoOwnColour(t *testing.T) {
	t.Parallel()
	card := docfixtures.ColourIDCard(32, 20)
	require.IsType(t, &image.Gray{}, docfixtures.Greyscale(card))
	eq := docfixtures.EqualChannels(card).(*image.RGBA)
	for i := 0; i < len(eq.Pix); i += 4 {
		require.Equal(t, eq.Pix[i], eq.Pix[i+1])
		require.Equal(t, eq.Pix[i], eq.Pix[i+2])
	}
	// A multiply tint keeps the ratio of the channels: white paper takes
	// exactly the tint.
	white := docfixtures.Tinted(docfixtures.Blank(2, 2), docfixtures.Sepia)
	require.Equal(t, color.RGBAModel.Convert(docfixtures.Sepia), white.At(0, 0))
}

package docfixtures

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"math/rand/v2"
)

// Tints for [Tinted]: the colour that white paper takes in the copy; darker
// tones scale towards black in proportion.
var (
	// Sepia is the brown tint of an old photograph or a toner-saving copy.
	Sepia = color.RGBA{R: 255, G: 228, B: 181, A: 255}
	// BluePhotocopy is the blue tint of a diazo or blue-toner photocopy.
	BluePhotocopy = color.RGBA{R: 168, G: 196, B: 255, A: 255}
)

// rgb is a colour with float channels in [0, 255], used while drawing.
type rgb struct{ r, g, b float64 }

func (c rgb) scale(k float64) rgb { return rgb{c.r * k, c.g * k, c.b * k} }

func mix(a, b rgb, t float64) rgb {
	return rgb{a.r + (b.r-a.r)*t, a.g + (b.g-a.g)*t, a.b + (b.b-a.b)*t}
}

func clamp8(v float64) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}

func (c rgb) rgba() color.RGBA {
	return color.RGBA{R: clamp8(c.r), G: clamp8(c.g), B: clamp8(c.b), A: 255}
}

// Palette of the card. The hues are spread so that several of them share a
// brightness, as on a real licence.
var (
	paperBlue   = rgb{222, 234, 246}
	paperGreen  = rgb{234, 244, 220}
	guillocheC  = rgb{238, 202, 216}
	headerDark  = rgb{140, 28, 44}
	headerLight = rgb{196, 70, 58}
	photoTop    = rgb{186, 204, 228}
	photoBottom = rgb{214, 222, 236}
	skin        = rgb{226, 174, 140}
	hair        = rgb{74, 48, 32}
	jacket      = rgb{38, 52, 96}
	lips        = rgb{184, 84, 86}
	flagBlue    = rgb{0, 85, 164}
	flagWhite   = rgb{250, 250, 250}
	flagRed     = rgb{239, 65, 53}
	labelInk    = rgb{88, 112, 146}
	textInk     = rgb{28, 28, 40}
	redInk      = rgb{176, 30, 42}
	signInk     = rgb{24, 44, 150}
	headerText  = rgb{250, 236, 228}
)

// ColourIDCard draws a w×h colour identity card (landscape if w > h). The
// drawing is resolution independent: every element is placed in fractions
// of the card, so any size from a thumbnail to a 3000×2000 scan shows the
// same card. Sizes below 1×1 are raised to 1×1.
func ColourIDCard(w, h int) image.Image { return colourIDCard(w, h) }

func colourIDCard(w, h int) *image.RGBA {
	w, h = max(w, 1), max(h, 1)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fw, fh := float64(w), float64(h)
	for y := range h {
		v := (float64(y) + 0.5) / fh
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		for x := range w {
			u := (float64(x) + 0.5) / fw
			c := cardPixel(u, v, fw/fh)
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = clamp8(c.r), clamp8(c.g), clamp8(c.b), 0xff
		}
	}
	return img
}

// cardPixel returns the colour at (u, v) in [0,1)², for a card whose width
// is aspect times its height.
func cardPixel(u, v, aspect float64) rgb {
	// Header band with a left-to-right gradient and a title of white blocks.
	if v < 0.15 {
		c := mix(headerDark, headerLight, u)
		if v > 0.05 && v < 0.10 && u > 0.06 && u < 0.62 && textMask(u, 0.011) {
			return headerText
		}
		return c
	}
	// Photo in the left third: background, jacket, face, hair.
	if u > 0.05 && u < 0.33 && v > 0.22 && v < 0.88 {
		return photoPixel((u-0.05)/0.28, (v-0.22)/0.66, 0.28*aspect/0.66)
	}
	// Flag in the upper right: blue, white, red vertical stripes.
	if u > 0.80 && u < 0.94 && v > 0.20 && v < 0.32 {
		switch t := (u - 0.80) / 0.14; {
		case t < 1.0/3:
			return flagBlue
		case t < 2.0/3:
			return flagWhite
		default:
			return flagRed
		}
	}
	// Lines of text: a small label above a larger value, five rows.
	for row := range 5 {
		top := 0.36 + 0.10*float64(row)
		switch {
		case v > top && v < top+0.025 && u > 0.38 && u < 0.55 && textMask(u, 0.006):
			return labelInk
		case v > top+0.035 && v < top+0.075 && u > 0.38 && u < 0.88-0.05*float64(row) && textMask(u, 0.009):
			if row == 2 {
				return redInk // the document number, printed in red
			}
			return textInk
		}
	}
	// A signature in blue ink along the bottom right.
	if u > 0.60 && u < 0.92 {
		sy := 0.92 + 0.03*math.Sin((u-0.60)*40)
		if math.Abs(v-sy) < 0.006 {
			return signInk
		}
	}
	// Background: pale blue to pale green, with a pink guilloche.
	c := mix(paperBlue, paperGreen, u)
	wave := math.Sin(u*aspect*60 + 6*math.Sin(v*18))
	if math.Abs(wave) < 0.08 {
		c = mix(c, guillocheC, 0.8)
	}
	return c
}

// textMask returns true over the "letters" of a line of text: runs of ink
// of slightly varying width separated by gaps.
func textMask(u, pitch float64) bool {
	k := math.Floor(u / pitch)
	frac := u/pitch - k
	// Every seventh glyph is a space.
	if int(k)%7 == 6 {
		return false
	}
	return frac < 0.55+0.25*math.Sin(k*1.7)*0.5
}

// photoPixel draws a passport photo in the unit square, whose width is
// aspect times its height.
func photoPixel(u, v, aspect float64) rgb {
	bg := mix(photoTop, photoBottom, v)
	x := (u - 0.5) * aspect // horizontal distance from the centre, in heights
	// Shoulders and jacket.
	if v > 0.78 && math.Abs(x) < 0.45*(v-0.55) {
		return jacket.scale(0.85 + 0.3*(1-v))
	}
	// Neck.
	if v > 0.62 && v <= 0.80 && math.Abs(x) < 0.09 {
		return skin.scale(0.78)
	}
	// Face: an ellipse shaded from the upper left.
	fx, fy := x/0.2, (v-0.45)/0.25
	if d := fx*fx + fy*fy; d < 1 {
		// Hair covers the top of the head.
		if fy < -0.45+0.15*math.Cos(fx*3) {
			return hair.scale(0.9 + 0.2*(1-d))
		}
		// Eyes and mouth.
		if math.Abs(fy+0.05) < 0.06 && math.Abs(math.Abs(fx)-0.38) < 0.12 {
			return hair.scale(0.6)
		}
		if math.Abs(fy-0.55) < 0.06 && math.Abs(fx) < 0.3 {
			return lips
		}
		shade := 1.02 - 0.25*d - 0.08*(fx+fy)
		return skin.scale(shade)
	}
	// Hair around the top of the head.
	hx, hy := x/0.24, (v-0.38)/0.24
	if hx*hx+hy*hy < 1 && v < 0.42 {
		return hair
	}
	return bg
}

// toRGBA returns a copy of img as an *image.RGBA with the same bounds.
func toRGBA(img image.Image) *image.RGBA {
	out := image.NewRGBA(img.Bounds())
	draw.Draw(out, out.Bounds(), img, out.Bounds().Min, draw.Src)
	return out
}

// mapPixels returns a copy of img, opaque, with each pixel's colour
// replaced by f of its 8-bit channels and its BT.601 luma (the weights the
// JPEG encoder uses).
func mapPixels(img image.Image, f func(r, g, b, luma float64) rgb) *image.RGBA {
	out := toRGBA(img)
	p := out.Pix
	for i := 0; i+3 < len(p); i += 4 {
		r, g, b := float64(p[i]), float64(p[i+1]), float64(p[i+2])
		c := f(r, g, b, 0.299*r+0.587*g+0.114*b)
		p[i], p[i+1], p[i+2], p[i+3] = clamp8(c.r), clamp8(c.g), clamp8(c.b), 0xff
	}
	return out
}

// Greyscale converts img to an 8-bit grey image (*image.Gray) with BT.601
// luma, as a scanner in greyscale mode would.
func Greyscale(img image.Image) image.Image {
	rgba := toRGBA(img)
	out := image.NewGray(rgba.Bounds())
	for i := range out.Pix {
		p := rgba.Pix[4*i : 4*i+3 : 4*i+3]
		out.Pix[i] = clamp8(0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2]))
	}
	return out
}

// EqualChannels returns img as an RGBA image whose three channels all hold
// the luma: a greyscale scan saved in a colour container.
func EqualChannels(img image.Image) image.Image {
	return mapPixels(img, func(_, _, _, l float64) rgb { return rgb{l, l, l} })
}

// Tinted returns a single-tint copy of img: the luma of each pixel times
// tint, as a multiply blend. White becomes the tint, black stays black, and
// every colour in the result has the hue of tint. Use [Sepia] or
// [BluePhotocopy].
func Tinted(img image.Image, tint color.RGBA) image.Image {
	t := rgb{float64(tint.R), float64(tint.G), float64(tint.B)}
	return mapPixels(img, func(_, _, _, l float64) rgb { return t.scale(l / 255) })
}

// SepiaFilter applies the classic sepia matrix of photo editors, with its
// clipping of bright tones, to img. Unlike [Tinted] its tone curve bends:
// highlights turn from brown to pale yellow, and where an edge mixes two
// tones the mix is off the curve. The inspector accepts such an image (a
// documented limit); the fixture records by how much.
func SepiaFilter(img image.Image) image.Image {
	return mapPixels(img, func(r, g, b, _ float64) rgb {
		return rgb{
			0.393*r + 0.769*g + 0.189*b,
			0.349*r + 0.686*g + 0.168*b,
			0.272*r + 0.534*g + 0.131*b,
		}
	})
}

// Noisy returns a copy of img with independent uniform noise in
// [-amount, amount] added to each channel of each pixel, as a scanner's
// sensor adds. The same seed gives the same noise.
func Noisy(img image.Image, amount int, seed uint64) image.Image {
	rng := rand.New(rand.NewPCG(seed, 0x5ca9))
	n := func(v float64) float64 {
		if amount <= 0 {
			return v
		}
		return v + float64(rng.IntN(2*amount+1)-amount)
	}
	return mapPixels(img, func(r, g, b, _ float64) rgb { return rgb{n(r), n(g), n(b)} })
}

// LowSaturationColour draws a faded colour card: the [ColourIDCard] with
// every colour pulled three quarters of the way towards its own grey and
// lightened, as an old or washed-out colour scan looks. Its hues are pale
// but still many.
func LowSaturationColour(w, h int) image.Image {
	card := colourIDCard(w, h)
	p := card.Pix
	for i := 0; i+3 < len(p); i += 4 {
		r, g, b := float64(p[i]), float64(p[i+1]), float64(p[i+2])
		l := 0.299*r + 0.587*g + 0.114*b
		c := mix(rgb{l, l, l}, rgb{r, g, b}, 0.25)
		c = mix(c, rgb{255, 255, 255}, 0.2)
		p[i], p[i+1], p[i+2] = clamp8(c.r), clamp8(c.g), clamp8(c.b)
	}
	return card
}

// Blank returns a w×h page of uniform white paper.
func Blank(w, h int) image.Image { return blank(w, h) }

func blank(w, h int) *image.RGBA {
	w, h = max(w, 1), max(h, 1)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	return img
}

// NearBlank returns a w×h scan of an empty scanner bed: off-white paper
// with sensor noise of ±3 levels, a faint shadow along the left edge, and a
// few specks of dust. Nothing on it is a document.
func NearBlank(w, h int) image.Image {
	w, h = max(w, 1), max(h, 1)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(uint64(w)<<32|uint64(h), 0xb1a4c))
	for y := range h {
		for x := range w {
			base := 246.0
			if e := float64(x) / float64(w); e < 0.02 {
				base -= 14 * (0.02 - e) / 0.02 // shadow of the lid
			}
			n := func() uint8 { return clamp8(base + float64(rng.IntN(7)-3)) }
			img.SetRGBA(x, y, color.RGBA{R: n(), G: n(), B: n(), A: 255})
		}
	}
	// Dust: a handful of dark specks, 2×2 pixels each.
	for range 12 {
		sx, sy := rng.IntN(w), rng.IntN(h)
		for dy := range 2 {
			for dx := range 2 {
				if sx+dx < w && sy+dy < h {
					img.SetRGBA(sx+dx, sy+dy, color.RGBA{R: 60, G: 60, B: 60, A: 255})
				}
			}
		}
	}
	return img
}

// OnPage places img at the top left corner of a white page of w×h pixels,
// with a margin of a twentieth of the page, as when an ID card is scanned
// on a flatbed set to a whole page. Parts of img beyond the page are cut.
func OnPage(img image.Image, w, h int) image.Image {
	page := blank(w, h)
	b := img.Bounds()
	at := image.Pt(w/20, h/20)
	draw.Draw(page, image.Rectangle{Min: at, Max: at.Add(b.Size())}, img, b.Min, draw.Src)
	return page
}

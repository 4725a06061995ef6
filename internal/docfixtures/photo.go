package docfixtures

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
)

// naturalPalette holds the colours of the objects in a [Photo]: sky,
// foliage, skin, earth, brick, fabric and stone, as a camera sees them.
var naturalPalette = []rgb{
	{118, 160, 212}, {168, 196, 228}, {60, 112, 48}, {98, 138, 62}, {150, 170, 80},
	{224, 172, 138}, {196, 140, 106}, {120, 84, 58}, {88, 64, 44}, {178, 62, 48},
	{204, 90, 60}, {58, 70, 120}, {200, 190, 170}, {128, 128, 120}, {236, 206, 96},
	{150, 40, 70}, {40, 40, 44}, {230, 230, 224},
}

// Photo draws a w×h colour photograph, as far as generated pixels can be
// one: a dead-leaves scene (overlapping discs whose sizes follow the power
// law of natural images, so that edges and flat areas appear at every
// scale), each disc in a colour of [naturalPalette] shaded by a light from
// the upper left, under a sky gradient, with fine texture whose amplitude
// halves at each octave (about 1/f, as in real photographs). The same
// seed gives the same pixels.
func Photo(w, h int, seed uint64) image.Image {
	w, h = max(w, 1), max(h, 1)
	rng := rand.New(rand.NewPCG(seed, 0x9407))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	// The sky: a vertical gradient, painted first and covered by the discs.
	top, horizon := rgb{96, 140, 206}, rgb{196, 214, 232}
	fill := make([]rgb, w*h)
	for y := range h {
		c := mix(top, horizon, float64(y)/float64(h))
		for x := range w {
			fill[y*w+x] = c
		}
	}
	// Dead leaves, drawn back to front: radius r with density ∝ 1/r³.
	side := float64(max(w, h))
	rMin, rMax := side/200, side/5
	for range 220 {
		u := rng.Float64()
		r := rMin * rMax / math.Sqrt(rMax*rMax-u*(rMax*rMax-rMin*rMin)) // inverse CDF of 1/r³
		cx, cy := rng.Float64()*float64(w), float64(h)*(0.25+0.75*rng.Float64())
		base := naturalPalette[rng.IntN(len(naturalPalette))]
		x0, x1 := max(0, int(cx-r)), min(w, int(cx+r)+1)
		y0, y1 := max(0, int(cy-r)), min(h, int(cy+r)+1)
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				dx, dy := (float64(x)-cx)/r, (float64(y)-cy)/r
				if d := dx*dx + dy*dy; d < 1 {
					fill[y*w+x] = base.scale(0.8 + 0.25*(-dx-dy)/2 + 0.1*(1-d)) // lit from the upper left
				}
			}
		}
	}
	// Texture: value noise at octaves of 4 to 64 pixels, amplitude halving.
	tex := make([]float64, w*h)
	for octave, amp := 64, 10.0; octave >= 2; octave, amp = octave/2, amp/2 {
		gw, gh := w/octave+2, h/octave+2
		grid := make([]float64, gw*gh)
		for i := range grid {
			grid[i] = (rng.Float64()*2 - 1) * amp
		}
		for y := range h {
			gy := float64(y) / float64(octave)
			iy, fy := int(gy), gy-math.Floor(gy)
			for x := range w {
				gx := float64(x) / float64(octave)
				ix, fx := int(gx), gx-math.Floor(gx)
				a := grid[iy*gw+ix] + (grid[iy*gw+ix+1]-grid[iy*gw+ix])*fx
				b := grid[(iy+1)*gw+ix] + (grid[(iy+1)*gw+ix+1]-grid[(iy+1)*gw+ix])*fx
				tex[y*w+x] += a + (b-a)*fy
			}
		}
	}
	for i, c := range fill {
		k := 1 + tex[i]/128
		p := img.Pix[4*i : 4*i+4 : 4*i+4]
		p[0], p[1], p[2], p[3] = clamp8(c.r*k), clamp8(c.g*k), clamp8(c.b*k), 0xff
	}
	return img
}

// Tone is the colour curve of a single-tint reproduction: the colour of
// the darkest toner or silver, of the middle tones, and of the paper. A
// tone with three different hues drifts in hue from shadow to highlight,
// as a real sepia print or a diazo copy does.
type Tone struct{ Shadow, Mid, Paper color.RGBA }

// Tones of real single-tint reproductions.
var (
	// SepiaTone is a sepia-toned print: dark red-brown shadows, warm
	// brown middle tones, cream paper.
	SepiaTone = Tone{Shadow: color.RGBA{52, 30, 18, 255}, Mid: color.RGBA{150, 104, 64, 255}, Paper: color.RGBA{242, 226, 194, 255}}
	// BlueprintTone is a blue (diazo or blue-toner) photocopy: navy toner
	// on pale blue-grey paper.
	BlueprintTone = Tone{Shadow: color.RGBA{22, 36, 96, 255}, Mid: color.RGBA{92, 116, 170, 255}, Paper: color.RGBA{228, 236, 246, 255}}
)

// at returns the colour of the tone at brightness t in [0, 1]: shadow at
// 0, mid at 0.5, paper at 1, along a smooth (quadratic Bézier) curve.
func (tn Tone) at(t float64) rgb {
	c := func(v color.RGBA) rgb { return rgb{float64(v.R), float64(v.G), float64(v.B)} }
	s, m, p := c(tn.Shadow), c(tn.Mid), c(tn.Paper)
	// The control point that makes the curve pass through m at t = 0.5.
	ctl := rgb{2*m.r - (s.r+p.r)/2, 2*m.g - (s.g+p.g)/2, 2*m.b - (s.b+p.b)/2}
	a, b := mix(s, ctl, t), mix(ctl, p, t)
	return mix(a, b, t)
}

// TonedCopy reproduces img in a single tint, as a photocopier, a toned
// print or a phone scanning app's "document" mode does, and then scans
// it: the luma of img goes through a contrast curve (deeper shadows,
// brighter paper) and the colour curve of tone, on paper with a texture
// (mottle and fibres that darken it by up to about 4%), then through a
// scanner's optics (a 3×3 blur) and sensor (noise of ±4 levels per
// channel). Every colour of the result is a colour of tone, but the
// blur, and later JPEG's chroma subsampling, mix neighbouring tones: the
// colour of a mix lies off a curved tone. The same seed gives the same
// pixels.
func TonedCopy(img image.Image, tone Tone, seed uint64) image.Image {
	rng := rand.New(rand.NewPCG(seed, 0x70ed))
	// Per-pixel randomness from xorshift64, seeded by rng: cheap enough to
	// call for every pixel and channel.
	state := rng.Uint64() | 1
	next := func() uint64 {
		state ^= state << 13
		state ^= state >> 7
		state ^= state << 17
		return state
	}
	src := toRGBA(img)
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	// The tone of each luma, in quarter levels: a contrast curve (an
	// S-curve stretched back to [0, 1]) and then the colour curve.
	const steps = 4 * 255
	var lut [steps + 1]rgb
	for i := range lut {
		l := 1 / (1 + math.Exp(-7*(float64(i)/steps-0.5)))
		l = (l - 0.029) / (0.971 - 0.029)
		lut[i] = tone.at(min(max(l, 0), 1))
	}
	// Paper mottle: value noise at 48 pixels.
	const cell = 48
	gw, gh := w/cell+2, h/cell+2
	mottle := make([]float64, gw*gh)
	for i := range mottle {
		mottle[i] = rng.Float64()
	}
	out := image.NewRGBA(b)
	for y := range h {
		gy := float64(y) / cell
		iy, fy := int(gy), gy-math.Floor(gy)
		for x := range w {
			p := src.Pix[y*src.Stride+4*x:][:3:3]
			l := 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
			c := lut[int(l*steps/255+0.5)]
			gx := float64(x) / cell
			ix, fx := int(gx), gx-math.Floor(gx)
			m0 := mottle[iy*gw+ix] + (mottle[iy*gw+ix+1]-mottle[iy*gw+ix])*fx
			m1 := mottle[(iy+1)*gw+ix] + (mottle[(iy+1)*gw+ix+1]-mottle[(iy+1)*gw+ix])*fx
			fibre := float64(next()>>11) / (1 << 53)
			texture := 1 - 0.025*(m0+(m1-m0)*fy) - 0.015*fibre // mottle and fibres
			o := out.Pix[y*out.Stride+4*x:][:4:4]
			o[0], o[1], o[2], o[3] = clamp8(c.r*texture), clamp8(c.g*texture), clamp8(c.b*texture), 0xff
		}
	}
	out = boxBlur3(out)
	for i := 0; i+3 < len(out.Pix); i += 4 {
		r := next()
		for j := range 3 {
			noise := int((r>>(16*j))&0xffff%9) - 4 // ±4 levels
			out.Pix[i+j] = uint8(min(max(int(out.Pix[i+j])+noise, 0), 255))
		}
	}
	return out
}

// boxBlur3 returns img blurred by a 3×3 box, as a scanner's optics soften
// edges; the border pixels average what lies inside the image. It sums
// rows of three, then columns of three row sums.
func boxBlur3(img *image.RGBA) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	rows := make([]int32, 3*w*h) // the sum of each pixel's row of three
	cnt := make([]int32, w)      // how many pixels each row of three holds
	for x := range w {
		cnt[x] = int32(min(x+1, w-1) - max(x-1, 0) + 1)
	}
	for y := range h {
		line := img.Pix[y*img.Stride : y*img.Stride+4*w]
		for x := range w {
			for c := range 3 {
				var sum int32
				for xx := max(x-1, 0); xx <= min(x+1, w-1); xx++ {
					sum += int32(line[4*xx+c])
				}
				rows[3*(y*w+x)+c] = sum
			}
		}
	}
	out := image.NewRGBA(b)
	for y := range h {
		y0, y1 := max(y-1, 0), min(y+1, h-1)
		for x := range w {
			n := cnt[x] * int32(y1-y0+1)
			o := out.Pix[y*out.Stride+4*x:][:4:4]
			for c := range 3 {
				var sum int32
				for yy := y0; yy <= y1; yy++ {
					sum += rows[3*(yy*w+x)+c]
				}
				o[c] = uint8((sum + n/2) / n)
			}
			o[3] = 0xff
		}
	}
	return out
}

// Recompressed returns img after a round trip through a JPEG of the given
// quality, as an image that was saved, sent and saved again shows: the
// 8×8 blocks and the halved chroma resolution of the first compression
// stay in the pixels that the next one compresses.
func Recompressed(img image.Image, quality int) image.Image {
	out, err := jpeg.Decode(bytes.NewReader(JPEG(img, quality)))
	if err != nil {
		panic("docfixtures: Recompressed: " + err.Error())
	}
	return out
}

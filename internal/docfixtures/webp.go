package docfixtures

import (
	"encoding/binary"
	"image"
	"math/bits"
)

// maxWebPSide is the largest width or height a VP8L image can declare.
const maxWebPSide = 1 << 14

// WebP encodes img as a lossless WebP: a RIFF container holding one VP8L
// chunk. golang.org/x/image/webp only decodes, so this is a deliberately
// small encoder: no transforms, no colour cache and no back references;
// every pixel is written as four literals with fixed 8-bit prefix codes for
// green, red and blue, and a zero-bit code for an opaque alpha. The file is
// therefore about three bytes per pixel, which is fine for fixtures.
//
// WebP pixels are non-premultiplied; img is converted through its colour
// model. WebP panics if img is empty or a side exceeds 16384 pixels, the
// largest size VP8L can declare.
func WebP(img image.Image) []byte {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w < 1 || h < 1 || w > maxWebPSide || h > maxWebPSide {
		panic("docfixtures: WebP: image size out of range")
	}
	opaque := true
	pix := make([][4]uint8, 0, w*h) // R, G, B, A
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := nrgbaAt(img, x, y)
			opaque = opaque && c[3] == 0xff
			pix = append(pix, c)
		}
	}

	var bw bitWriter
	bw.write(0x2f, 8) // VP8L signature
	bw.write(uint32(w-1), 14)
	bw.write(uint32(h-1), 14)
	if opaque {
		bw.write(0, 1) // alpha_is_used hint
	} else {
		bw.write(1, 1)
	}
	bw.write(0, 3) // version
	bw.write(0, 1) // no transform
	bw.write(0, 1) // no colour cache
	bw.write(0, 1) // no meta prefix codes: one group of five codes

	bw.writeFlatCode(280) // green: 256 literals; 24 length codes unused
	bw.writeFlatCode(256) // red
	bw.writeFlatCode(256) // blue
	if opaque {
		bw.writeSingleSymbolCode(0xff) // alpha: always 255, zero bits a pixel
	} else {
		bw.writeFlatCode(256)
	}
	bw.writeSingleSymbolCode(0) // distance: never used

	for _, c := range pix {
		bw.writeSymbol8(c[1]) // green first, then red, blue, alpha
		bw.writeSymbol8(c[0])
		bw.writeSymbol8(c[2])
		if !opaque {
			bw.writeSymbol8(c[3])
		}
	}
	data := bw.bytes()

	chunk := len(data)
	padded := chunk + chunk&1
	out := make([]byte, 0, 20+padded)
	out = append(out, "RIFF"...)
	out = binary.LittleEndian.AppendUint32(out, uint32(4+8+padded))
	out = append(out, "WEBPVP8L"...)
	out = binary.LittleEndian.AppendUint32(out, uint32(chunk))
	out = append(out, data...)
	if chunk&1 == 1 {
		out = append(out, 0) // RIFF chunks are padded to an even length
	}
	return out
}

// nrgbaAt returns the non-premultiplied 8-bit colour of img at (x, y).
func nrgbaAt(img image.Image, x, y int) [4]uint8 {
	r, g, b, a := img.At(x, y).RGBA()
	if a == 0 {
		return [4]uint8{}
	}
	if a != 0xffff {
		r, g, b = r*0xffff/a, g*0xffff/a, b*0xffff/a
	}
	return [4]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
}

// bitWriter packs bits least significant first, as VP8L reads them.
type bitWriter struct {
	buf   []byte
	acc   uint64
	nBits uint
}

func (w *bitWriter) write(v uint32, n uint) {
	w.acc |= uint64(v&(1<<n-1)) << w.nBits
	w.nBits += n
	for w.nBits >= 8 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc >>= 8
		w.nBits -= 8
	}
}

func (w *bitWriter) bytes() []byte {
	if w.nBits > 0 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc, w.nBits = 0, 0
	}
	return w.buf
}

// writeSymbol8 writes symbol s of a flat code, where every symbol has the
// 8-bit canonical code s. Prefix codes are read one bit at a time from the
// most significant bit of the code, hence the reversal.
func (w *bitWriter) writeSymbol8(s uint8) {
	w.write(uint32(bits.Reverse8(s)), 8)
}

// writeSingleSymbolCode writes a "simple" prefix code with one 8-bit
// symbol: decoding it consumes no bits.
func (w *bitWriter) writeSingleSymbolCode(symbol uint8) {
	w.write(1, 1) // simple code
	w.write(0, 1) // one symbol
	w.write(1, 1) // the symbol takes 8 bits
	w.write(uint32(symbol), 8)
}

// writeFlatCode writes a "normal" prefix code over an alphabet of size
// symbols (at least 256) in which symbols 0 to 255 have length 8 and the
// rest length 0: a complete code in which symbol s has the code s.
func (w *bitWriter) writeFlatCode(size int) {
	w.write(0, 1) // normal code
	// The code-length code has two symbols, 0 and 8, each one bit long.
	// Their lengths are sent in the order 17, 18, 0, 1, 2, 3, 4, 5, 16, 6,
	// 7, 8: twelve entries reach symbol 8.
	w.write(12-4, 4)
	for _, sym := range []int{17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8} {
		if sym == 0 || sym == 8 {
			w.write(1, 3)
		} else {
			w.write(0, 3)
		}
	}
	w.write(0, 1) // max_symbol not sent: read every symbol's length
	// Canonical order gives symbol 0 the code 0 and symbol 8 the code 1.
	for i := range size {
		if i < 256 {
			w.write(1, 1)
		} else {
			w.write(0, 1)
		}
	}
}

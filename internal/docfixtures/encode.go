package docfixtures

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/tiff"
)

// The encoders below panic if encoding fails. With the in-memory writer they
// use, that happens only for an image the encoder cannot represent (such as
// one with an empty or enormous rectangle), which is a bug in the test that
// built it.

// JPEG encodes img as a baseline JPEG of the given quality (1 to 100) with
// 4:2:0 chroma subsampling, as the standard library encoder does.
func JPEG(img image.Image, quality int) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		panic("docfixtures: JPEG: " + err.Error())
	}
	return buf.Bytes()
}

// PNG encodes img as a PNG. An *image.Gray stays a one-channel greyscale PNG.
func PNG(img image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic("docfixtures: PNG: " + err.Error())
	}
	return buf.Bytes()
}

// TIFF encodes img as a little-endian ("II*\x00") TIFF with Deflate
// compression and the horizontal predictor.
func TIFF(img image.Image) []byte {
	var buf bytes.Buffer
	if err := tiff.Encode(&buf, img, &tiff.Options{Compression: tiff.Deflate, Predictor: true}); err != nil {
		panic("docfixtures: TIFF: " + err.Error())
	}
	return buf.Bytes()
}

// pngSignature starts every PNG file.
var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// pngChunk appends a PNG chunk of the given type and data, with its CRC.
func pngChunk(dst []byte, typ string, data []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(data)))
	start := len(dst)
	dst = append(dst, typ...)
	dst = append(dst, data...)
	return binary.BigEndian.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:]))
}

// BombPNG returns a PNG of about seventy bytes whose header declares a w×h,
// 8-bit RGB image: 50000×50000 declares 2.5 gigapixels, 7.5 GB of pixels.
// The header and its CRC are valid, so image.DecodeConfig reports w×h; the
// image data is a single empty IDAT chunk, so a decoder that trusted the
// header would allocate the whole image and only then fail.
func BombPNG(w, h int) []byte {
	out := append([]byte(nil), pngSignature...)
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr,
		8, // bit depth
		2, // colour type: truecolour (RGB)
		0, // compression: deflate
		0, // filter method
		0, // interlace: none
	)
	out = pngChunk(out, "IHDR", ihdr)
	// A zlib stream with an empty final stored block: valid, and far too
	// short for the image it claims to hold.
	out = pngChunk(out, "IDAT", []byte{0x78, 0x01, 0x01, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01})
	return pngChunk(out, "IEND", nil)
}

// PDF returns the first bytes of a minimal one-page PDF document, as a
// customer who uploads a scanned PDF sends.
func PDF() []byte {
	return []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" +
		"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n" +
		"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>\nendobj\n" +
		"trailer\n<< /Root 1 0 R >>\n%%EOF\n")
}

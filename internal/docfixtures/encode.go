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

// PNG encodes img as a PNG without compression (stored deflate blocks),
// so that tests stay fast under the race detector: about 3 bytes a pixel
// for an opaque colour image. An *image.Gray stays a one-channel PNG.
func PNG(img image.Image) []byte {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.NoCompression}
	if err := enc.Encode(&buf, img); err != nil {
		panic("docfixtures: PNG: " + err.Error())
	}
	return buf.Bytes()
}

// TIFF encodes img as an uncompressed little-endian ("II*\x00") TIFF.
func TIFF(img image.Image) []byte {
	var buf bytes.Buffer
	if err := tiff.Encode(&buf, img, &tiff.Options{Compression: tiff.Uncompressed}); err != nil {
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

// BombJPEG returns the start of a baseline JFIF whose frame header declares
// a w×h, three-component image (w and h at most 65535), and nothing after
// it: enough for image/jpeg's DecodeConfig, which stops at the frame
// header of a JFIF.
func BombJPEG(w, h int) []byte {
	return []byte{
		0xff, 0xd8, // SOI
		0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, // APP0 JFIF
		0xff, 0xc0, 0x00, 0x11, // SOF0, 17 bytes
		8,                     // precision
		byte(h >> 8), byte(h), // lines
		byte(w >> 8), byte(w), // samples per line
		3, // components: Y with 2×2 sampling, Cb and Cr
		1, 0x22, 0,
		2, 0x11, 1,
		3, 0x11, 1,
	}
}

// BombWebP returns a lossless WebP of 30 bytes whose VP8L header declares a
// w×h image (each side at most 16384), with no pixel data after it.
func BombWebP(w, h int) []byte {
	var bw bitWriter
	bw.write(0x2f, 8)
	bw.write(uint32(w-1), 14)
	bw.write(uint32(h-1), 14)
	bw.write(0, 4) // no alpha, version 0
	data := bw.bytes()
	out := append([]byte("RIFF"), 0, 0, 0, 0)
	out = append(out, "WEBPVP8L"...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(data)))
	out = append(out, data...)
	if len(data)&1 == 1 {
		out = append(out, 0)
	}
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

// BombTIFF returns a TIFF of a few hundred bytes whose directory declares a
// w×h image: a 1×1 TIFF with its width and length tags rewritten, so its
// strips hold one pixel.
func BombTIFF(w, h uint32) []byte {
	data := TIFF(image.NewRGBA(image.Rect(0, 0, 1, 1)))
	le := binary.LittleEndian
	ifd := le.Uint32(data[4:8])
	n := int(le.Uint16(data[ifd:]))
	for i := range n {
		e := data[int(ifd)+2+12*i:]
		switch le.Uint16(e) {
		case 256: // ImageWidth
			setTIFFLong(e, w)
		case 257: // ImageLength
			setTIFFLong(e, h)
		}
	}
	return data
}

// setTIFFLong stores v in the directory entry e as one LONG.
func setTIFFLong(e []byte, v uint32) {
	le := binary.LittleEndian
	le.PutUint16(e[2:], 4) // type LONG
	le.PutUint32(e[4:], 1) // count
	le.PutUint32(e[8:], v)
}

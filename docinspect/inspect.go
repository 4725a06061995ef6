package docinspect

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// ErrRejected is matched (with errors.Is) by every refusal of an
// identity document by [Inspect] or [Read]. The
// *[Error] behind it says why, in a Problem code and in words. Its text,
// and that of every error of this package, begins "cancellation:", as it
// did before the inspector had a package of its own; it is
// cancellation.ErrDocumentRejected.
var ErrRejected = errors.New("cancellation: identity document rejected")

// Format is an image format, sniffed from the first bytes of an
// upload; the file name and the declared content type are never trusted.
type Format string

// The formats [Inspect] accepts.
const (
	// FormatJPEG is JPEG (JFIF or Exif), starting with FF D8 FF.
	FormatJPEG Format = "jpeg"
	// FormatPNG is PNG, starting with 89 "PNG" 0D 0A 1A 0A.
	FormatPNG Format = "png"
	// FormatWebP is WebP, lossy or lossless: "RIFF", a length, "WEBP".
	FormatWebP Format = "webp"
	// FormatTIFF is baseline TIFF, starting with "II*\x00" or "MM\x00*".
	FormatTIFF Format = "tiff"
)

// Defaults of [Limits]; [DefaultLimits] returns them all.
const (
	// DefaultMaxDocumentBytes is 10 MiB, ample for a 600 dpi colour scan
	// of a passport page saved as JPEG.
	DefaultMaxDocumentBytes int64 = 10 << 20
	// DefaultMaxDocumentPixels is 24 megapixels: a passport page or an ID
	// card at 600 dpi (about 6 megapixels), an A4 page at 400 dpi (15.5
	// megapixels) and a 24 megapixel phone photo fit, while one hostile
	// upload stays under about 600 MB of decoding memory (see
	// [Limits]).
	DefaultMaxDocumentPixels int64 = 24_000_000
	// DefaultMinDocumentWidth is the length, in pixels, that the longer
	// side of a scan must reach: 600 pixels across an ID card (85.6 mm)
	// is about 180 dpi, where the smallest print is still legible.
	DefaultMinDocumentWidth = 600
	// DefaultMinDocumentHeight is the length, in pixels, that the shorter
	// side of a scan must reach.
	DefaultMinDocumentHeight = 400
	// DefaultMinColourfulness is the least Hasler–Süsstrunk
	// colourfulness of the printed content a colour scan shows. See
	// [Limits] for the measure and its calibration.
	DefaultMinColourfulness = 6.0
	// DefaultMinHueVariety is the least hue variety (colour that no single
	// tint explains) a colour scan shows. See [Limits].
	DefaultMinHueVariety = 4.0
)

// Limits bounds what [Inspect] and [Read] accept.
// A zero (or negative) field takes its default, so the zero value is the
// same as [DefaultLimits].
//
// # Resources
//
// MaxBytes bounds the upload. MaxPixels bounds width×height, read from the
// image header (DecodeConfig of the sniffed format) before anything is
// decoded, so that a small file declaring an enormous image (a
// decompression bomb) is refused without allocating it. Decoding then
// allocates in proportion to the pixels: 1.5 bytes a pixel for an ordinary
// JPEG (about 36 MB at 24 megapixels), 4 for an 8-bit PNG or lossless WebP,
// and, by our reading of the decoders, up to about 24 for the worst cases
// (a progressive CMYK JPEG keeps every DCT coefficient; an interlaced
// 16-bit PNG holds its passes and the image). So the default 24 megapixels
// allows up to about 600 MB for one hostile upload; lower MaxPixels on small
// servers. The cancellation Service also bounds how many inspections run at once
// (cancellation.DocumentPolicy.MaxConcurrentInspections). Besides, by our reading of golang.org/x/image/vp8l, a crafted
// lossless WebP of a few hundred kilobytes can make it allocate up to
// about 170 MB of prefix-code tables, whatever its size (it caps them at
// 2,600 groups). An image whose area rounded up to whole 32×32 blocks (the
// JPEG decoder allocates whole blocks) exceeds twice MaxPixels is refused
// too; only absurdly thin images meet this rule. Decoding time grows with
// the pixels; a JPEG of more than 100 progressive scans, each a pass over
// the whole image, is refused before decoding.
//
// # Legibility
//
// MinWidth and MinHeight are the smallest legible scan in landscape
// orientation, and the check ignores orientation: the longer side must
// reach the larger of the two and the shorter side the smaller.
//
// # Blank pages
//
// A scan is blank when less than 1% of its sample blocks (below) differ
// from the paper, the most common luma, by more than 32 levels of 255.
//
// # Colour
//
// The inspector averages blocks of 16×16 pixels, at most 1,024 of them
// (262,144 pixels) on an even grid, compositing any transparency over
// white. Averaging removes a scanner's pixel noise while keeping the
// colours of the print; and as the blocks sit on the 16×16 macroblocks of
// a JPEG, each average is the DC term of its DCT blocks, the term JPEG
// quantizes least, so the chroma noise that compression adds to a
// greyscale or tinted copy averages out. The analysis then leaves out the
// paper, the blocks whose BT.601 luma lies within 12 levels of the paper's,
// and works on the rest, the content. For each content block it takes the
// opponent colours rg = R − G and yb = (R + G)/2 − B, in levels of 255.
//
// The colourfulness is the metric of Hasler and Süsstrunk, "Measuring
// colourfulness in natural images" (2003), over the content blocks:
//
//	M = sqrt(σrg² + σyb²) + 0.3·sqrt(μrg² + μyb²)
//
// A greyscale scan measures 0. M alone cannot tell a colour scan from a
// tinted copy: a sepia or blue photocopy has all its chroma in one hue,
// and its mean (μ) term alone scores higher than a faded colour document.
// So the inspector also measures the hue variety, the colour that no
// single tint can explain. A tint applied to a greyscale image gives each
// brightness one colour: the chroma of a tinted copy is a function of its
// luma. The hue variety is the root mean square distance of each content
// block's (rg, yb) from the mean (rg, yb) of the content blocks in the
// same luma band, 32 bands of 8 levels:
//
//	H = sqrt( Σ_bands Σ_blocks in band [(rg − μrg,band)² + (yb − μyb,band)²] / N − σ²q )
//
// It is measured on the flat content blocks, those whose pixels' luma has a
// standard deviation of at most 10 levels, when there are at least 32 of
// them, and on all content blocks otherwise (a small card on a whole page
// scanned at low resolution). Where tones mix, at the edges of text and
// lines and under a scanner's blur, a copy whose tint drifts in hue with
// brightness (a sepia print: red-brown shadows, cream paper; a photocopy's
// navy toner on pale paper) shows mixtures of one brightness and several
// hues; a flat block holds one tone, on the tint's curve. σ²q is what a
// JPEG's quantization adds to a block's chroma, read from the file's own
// quantization tables: the mean of a 16×16 block is the DC term of the
// chroma blocks under it, quantized in steps of Q/8 levels, an error of
// variance (Q/8)²/12 (0 for other formats). H is about 0 for greyscale and
// for a tinted copy, and large when different hues share a brightness, as
// skin, pale blue guilloche and a red seal do on a licence. A scan is in
// colour when M ≥ MinColourfulness and H ≥ MinHueVariety.
//
// The thresholds, 6 and 4, were calibrated by the table test
// TestInspectDocument_ColourCalibration on the synthetic fixtures of
// internal/docfixtures at 600×400 and 640×480 pixels, as PNG and as JPEG
// of quality 50, 75 and 95. The refused fixtures (greyscale; equal
// channels; greyscale with sensor noise of ±10 levels; sepia and blue
// photocopy tints, with and without noise; sepia and blue copies of the
// card and of a photograph through a curved tone, on textured paper,
// blurred and noisy, one of them saved as JPEG 75 before) measure
// H ≤ 1.55, and the grey ones M ≤ 0.91: half the thresholds or less, as
// the test asserts. The accepted ones (a colour ID card; the card faded to
// a quarter of its saturation, with and without noise; the card on a white
// A4 page; a colour photograph) measure M ≥ 14.7 and H ≥ 6.20: 1.5 times
// the thresholds or more, as the test asserts. A photo editor's sepia
// filter, whose hue drifts as it clips the highlights, is refused too.
//
// Known limits: a document printed only in greys and in hues that never
// share a brightness reads as a tint, and so does one whose flat areas are
// all of one hue (its other colours only in fine lines and text); a tinted
// copy too small to hold 32 flat blocks of content is measured on all its
// blocks, where a drifting tint can pass.
type Limits struct {
	// MaxBytes is the largest upload, in bytes. Default 10 MiB.
	MaxBytes int64
	// MaxPixels is the largest width×height. Default 24 megapixels.
	MaxPixels int64
	// MinWidth is the least length of the longer side, in pixels.
	// Default 600.
	MinWidth int
	// MinHeight is the least length of the shorter side, in pixels.
	// Default 400.
	MinHeight int
	// MinColourfulness is the least Hasler–Süsstrunk colourfulness M of
	// the content. Default 6. The colour check cannot be switched off
	// here: a host that accepts greyscale scans can treat
	// ProblemNotColour as a warning, as its facts are complete.
	MinColourfulness float64
	// MinHueVariety is the least hue variety H of the content. Default 4.
	MinHueVariety float64
}

// DefaultLimits returns the limits that a zero Limits
// stands for: 10 MiB, 24 megapixels, at least 600×400 pixels in either
// orientation, colourfulness at least 6 and hue variety at least 4.
func DefaultLimits() Limits {
	return Limits{
		MaxBytes:         DefaultMaxDocumentBytes,
		MaxPixels:        DefaultMaxDocumentPixels,
		MinWidth:         DefaultMinDocumentWidth,
		MinHeight:        DefaultMinDocumentHeight,
		MinColourfulness: DefaultMinColourfulness,
		MinHueVariety:    DefaultMinHueVariety,
	}
}

// withDefaults replaces the zero and negative fields of l by the defaults.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = d.MaxPixels
	}
	if l.MinWidth <= 0 {
		l.MinWidth = d.MinWidth
	}
	if l.MinHeight <= 0 {
		l.MinHeight = d.MinHeight
	}
	if !(l.MinColourfulness > 0) { // also catches NaN
		l.MinColourfulness = d.MinColourfulness
	}
	if !(l.MinHueVariety > 0) {
		l.MinHueVariety = d.MinHueVariety
	}
	return l
}

// Facts is what [Inspect] measured of an upload. Reviewers
// see it beside each document; on a refusal, [Error].Facts holds
// the facts measured before the refusal, and the rest are zero.
type Facts struct {
	// Format is the sniffed format.
	Format Format `json:"format"`
	// Width is the image width in pixels, from its header.
	Width int `json:"width"`
	// Height is the image height in pixels, from its header.
	Height int `json:"height"`
	// Bytes is the size of the upload.
	Bytes int64 `json:"bytes"`
	// Colourfulness is the Hasler–Süsstrunk colourfulness M of the printed
	// content (see [Limits]): 0 for greyscale, about 25 to 30 for
	// a sepia or blue photocopy, about 75 for the synthetic colour card of
	// the tests and 15 for its faded copy.
	Colourfulness float64 `json:"colourfulness"`
	// HueVariety is the colour of the content that no single tint
	// explains (see [Limits]): about 0 to 2 for greyscale and
	// tinted copies, about 28 to 37 for the synthetic colour card and 6 to
	// 8 for its faded copy.
	HueVariety float64 `json:"hue_variety"`
	// InkCoverage is the fraction, 0 to 1, of sample blocks whose luma
	// differs from the paper's by more than 32 levels: 0 for a blank page.
	InkCoverage float64 `json:"ink_coverage"`
	// SHA256 is the hex SHA-256 of the upload: it identifies the document
	// in the audit trail.
	SHA256 string `json:"sha256"`
}

// Problem is a stable reason code for a refused document. Hosts may
// map it to their own messages or translations; the codes never change.
type Problem string

// The reasons for refusing a document, in the order they are checked.
const (
	// ProblemEmpty means the upload has no bytes.
	ProblemEmpty Problem = "empty"
	// ProblemTooLarge means the upload has more than MaxBytes bytes.
	ProblemTooLarge Problem = "too_large"
	// ProblemUnsupportedFormat means the upload is not a JPEG, PNG, WebP
	// or TIFF image (it is, say, a PDF, GIF, BMP or HEIC file), or is a
	// variant of one that the decoders cannot read.
	ProblemUnsupportedFormat Problem = "unsupported_format"
	// ProblemTooManyPixels means the header declares more than
	// MaxPixels pixels.
	ProblemTooManyPixels Problem = "too_many_pixels"
	// ProblemCorrupt means the file is damaged, truncated or
	// inconsistent.
	ProblemCorrupt Problem = "corrupt"
	// ProblemTooSmall means the image has fewer pixels across than
	// MinWidth×MinHeight, either way round.
	ProblemTooSmall Problem = "too_small"
	// ProblemBlank means that less than 1% of the scan differs from the
	// paper.
	ProblemBlank Problem = "blank"
	// ProblemNotColour means the scan is greyscale, or in a single tint
	// such as sepia or a blue photocopy, rather than in colour.
	ProblemNotColour Problem = "not_colour"
)

// Error is the refusal of an identity document. Detail explains it
// in words a customer understands and can act on; Problem is the stable
// code; Facts holds what was measured before the refusal.
// errors.Is(err, [ErrRejected]) is true for every Error.
type Error struct {
	// Problem is the stable reason code.
	Problem Problem
	// Detail is the explanation for the customer, in English, ending
	// with what to do.
	Detail string
	// Facts holds what was measured before the refusal.
	Facts Facts
}

// Error returns the problem code and the detail, for logs.
func (e *Error) Error() string {
	return "cancellation: identity document rejected (" + string(e.Problem) + "): " + e.Detail
}

// Is reports whether target is [ErrRejected].
func (e *Error) Is(target error) bool { return target == ErrRejected }

// docAcceptedFormats is the advice that every refusal for format gives.
const docAcceptedFormats = "upload a JPEG, PNG, WebP or TIFF image"

// Constants of the analysis; Limits documents them.
const (
	docPaperTolerance = 12   // luma levels from the paper that are paper
	docInkDifference  = 32   // luma levels from the paper that are ink
	docMinInkCoverage = 0.01 // fraction of ink below which a scan is blank
	docHueBand        = 8    // luma levels in a band of the hue variety
	docBlockSide      = 16   // side of a sample block: a JPEG macroblock
	docMaxBlocks      = 1 << 10
	docPixelBlock     = 32 // largest JPEG MCU side, for the pixel budget
	docMaxJPEGScans   = 100
	docFlatLuma       = 10 // luma standard deviation, in levels, of a flat block
	docMinFlatBlocks  = 32 // flat content blocks enough to measure the hue variety on
)

// Inspect sniffs, bounds, decodes and measures an uploaded scan of
// an identity document, and refuses it with a *[Error] if it is not
// a legible colour image within limits. The checks run in this order, each
// only after the previous passed, so that the cheap ones guard the
// expensive ones:
//
//  1. size: empty ([ProblemEmpty]), over MaxBytes ([ProblemTooLarge]);
//  2. format, sniffed from the magic number: JPEG, PNG, WebP or TIFF, else
//     [ProblemUnsupportedFormat];
//  3. header, read by the sniffed format's DecodeConfig: unreadable or
//     without a positive size ([ProblemCorrupt]), over MaxPixels
//     ([ProblemTooManyPixels]), under MinWidth×MinHeight in either
//     orientation ([ProblemTooSmall]); and a JPEG of more than 100
//     progressive scans, each a pass over the whole image that costs CPU
//     time ([ProblemUnsupportedFormat]);
//  4. decoding by the sniffed format's decoder, never by guessing
//     ([ProblemCorrupt] if it fails, panics, or disagrees with the header);
//  5. a blank page ([ProblemBlank]), before colour, so that a blank white
//     page is called blank rather than not in colour;
//  6. colour: M < MinColourfulness or H < MinHueVariety
//     ([ProblemNotColour]).
//
// [Limits] documents the limits, the blank-page rule and the colour
// measures M and H. On success the facts are complete and the error is
// nil. On refusal the error is a *Error, never another type, and
// the facts measured before the refusal are returned both directly and in
// the error.
//
// Inspect never panics, whatever the input: a panic inside a
// decoder (image decoders have panicked on hostile input before) is
// recovered and reported as [ProblemCorrupt]. It never decodes an image
// of more than MaxPixels pixels, so its memory is bounded by the limits.
// The analysis reads at most 262,144 pixels, so it adds little to the
// decoding time. Inspect is safe for concurrent use.
func Inspect(data []byte, limits Limits) (Facts, error) {
	limits = limits.withDefaults()
	var facts Facts
	refuse := func(p Problem, format string, args ...any) (Facts, error) {
		return facts, &Error{Problem: p, Detail: fmt.Sprintf(format, args...), Facts: facts}
	}

	// 1. Size.
	facts.Bytes = int64(len(data))
	if len(data) == 0 {
		return refuse(ProblemEmpty, "the file is empty: upload the scan again")
	}
	if facts.Bytes > limits.MaxBytes {
		return refuse(ProblemTooLarge, "the file is %s, over the limit of %s: scan at a lower resolution or save it with more compression",
			docFormatBytes(facts.Bytes), docFormatBytes(limits.MaxBytes))
	}
	sum := sha256.Sum256(data)
	facts.SHA256 = hex.EncodeToString(sum[:])

	// 2. Format.
	format, kind := sniffDocument(data)
	if format == "" {
		return refuse(ProblemUnsupportedFormat, "%s", docUnsupportedDetail(kind))
	}
	facts.Format = format
	c := docCodecFor(format)

	// 3. Header.
	cfg, err := docGuard(func() (image.Config, error) { return c.decodeConfig(bytes.NewReader(data)) })
	if err != nil {
		return docRefuseDecodeError(facts, c, err)
	}
	facts.Width, facts.Height = cfg.Width, cfg.Height
	w, h := int64(cfg.Width), int64(cfg.Height)
	if w <= 0 || h <= 0 {
		return refuse(ProblemCorrupt, "the %s file is damaged (its header gives a size of %d × %d pixels): upload the scan again", c.name, w, h)
	}
	if w > limits.MaxPixels/h { // w×h > MaxPixels, without overflow
		return refuse(ProblemTooManyPixels, "the image is %d × %d pixels (%s), over the limit of %s: scan at a lower resolution",
			w, h, docFormatPixels(w, h), docFormatPixels(limits.MaxPixels, 1))
	}
	needLong := int64(max(limits.MinWidth, limits.MinHeight))
	needShort := int64(min(limits.MinWidth, limits.MinHeight))
	if max(w, h) < needLong || min(w, h) < needShort {
		return refuse(ProblemTooSmall, "the image is %d × %d pixels, too small to read: a legible scan has at least %d × %d pixels (either way round); scan at a higher resolution",
			w, h, needLong, needShort)
	}
	if float64(docRoundUp(w, docPixelBlock))*float64(docRoundUp(h, docPixelBlock)) > 2*float64(limits.MaxPixels) {
		return refuse(ProblemTooManyPixels, "the image is %d × %d pixels, too long and thin to read: scan the document alone", w, h)
	}

	if format == FormatJPEG {
		// Each scan of a progressive JPEG is a pass over every block, so a
		// file of many tiny scans costs hours of CPU. Encoders write at
		// most a dozen or so.
		if n := docJPEGScans(data); n > docMaxJPEGScans {
			return refuse(ProblemUnsupportedFormat, "the JPEG file has %d progressive scans, more than the %d we read: save the scan again with ordinary settings, or %s",
				n, docMaxJPEGScans, docAcceptedFormats)
		}
	}

	// 4. Decoding.
	img, err := docGuard(func() (image.Image, error) { return c.decode(bytes.NewReader(data)) })
	if err != nil {
		return docRefuseDecodeError(facts, c, err)
	}
	if b := img.Bounds(); int64(b.Dx()) != w || int64(b.Dy()) != h {
		return refuse(ProblemCorrupt, "the %s file is damaged (its header and its pixels disagree on the size): upload the scan again", c.name)
	}

	// 5 and 6. Pixels.
	var s docSample
	s.sample(img)
	var noise float64
	if _, ok := img.(*image.YCbCr); ok && format == FormatJPEG {
		noise = docJPEGChromaNoise(data)
	}
	m := s.measure(noise)
	facts.Colourfulness, facts.HueVariety, facts.InkCoverage = m.colourfulness, m.hueVariety, m.inkCoverage
	if m.inkCoverage < docMinInkCoverage {
		return refuse(ProblemBlank, "the scan looks blank: put the document face down on the scanner glass (or fill the photo with it) and scan it again")
	}
	if m.colourfulness < limits.MinColourfulness {
		return refuse(ProblemNotColour, "the scan is not in colour: scan the original document in colour, not a photocopy")
	}
	if m.hueVariety < limits.MinHueVariety {
		return refuse(ProblemNotColour, "the scan is in a single tint, like a sepia or blue photocopy, not in colour: scan the original document in colour, not a photocopy")
	}
	return facts, nil
}

// Read reads an upload from r: at most limits.MaxBytes bytes, plus
// one to tell whether there is more. It returns a *[Error] with
// [ProblemTooLarge] if there is more (its Facts.Bytes is then MaxBytes+1,
// as the rest is not read), with [ProblemEmpty] if there is nothing, and
// the error of r, wrapped, if reading fails. It does not close r.
//
// Reading allocates at most about MaxBytes·(1 + 1/16) bytes in all, for an
// upload of any length: a reader that reports its length with a Len
// method (as *bytes.Reader does) gets one buffer of that length plus one
// byte; any other is read into a buffer that starts at 64 KiB, doubles up
// to a 32nd of MaxBytes, then becomes one buffer of MaxBytes+1 bytes.
func Read(r io.Reader, limits Limits) ([]byte, error) {
	limits = limits.withDefaults()
	n := limits.MaxBytes
	if n < math.MaxInt64 {
		n++
	}
	data, err := docReadAtMost(r, n)
	if err != nil {
		return nil, fmt.Errorf("cancellation: read identity document: %w", err)
	}
	facts := Facts{Bytes: int64(len(data))}
	switch {
	case len(data) == 0:
		return nil, &Error{Problem: ProblemEmpty, Detail: "the file is empty: upload the scan again", Facts: facts}
	case facts.Bytes > limits.MaxBytes:
		return nil, &Error{
			Problem: ProblemTooLarge,
			Detail: fmt.Sprintf("the file is over the limit of %s: scan at a lower resolution or save it with more compression",
				docFormatBytes(limits.MaxBytes)),
			Facts: facts,
		}
	}
	return data, nil
}

// docCodec is one format's header reader and decoder, called explicitly:
// image.Decode, which guesses the format from its registry, is not used.
type docCodec struct {
	name         string // for messages: "JPEG"
	decodeConfig func(io.Reader) (image.Config, error)
	decode       func(io.Reader) (image.Image, error)
}

func docCodecFor(f Format) docCodec {
	switch f {
	case FormatJPEG:
		return docCodec{"JPEG", jpeg.DecodeConfig, jpeg.Decode}
	case FormatPNG:
		return docCodec{"PNG", png.DecodeConfig, png.Decode}
	case FormatWebP:
		return docCodec{"WebP", webp.DecodeConfig, webp.Decode}
	default:
		return docCodec{"TIFF", tiff.DecodeConfig, tiff.Decode}
	}
}

// docGuard calls f and turns a panic into an error.
func docGuard[T any](f func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			var zero T
			v, err = zero, fmt.Errorf("decoder panic: %v", r)
		}
	}()
	return f()
}

// docRefuseDecodeError refuses a file that the decoder of its format could
// not read: unsupported if the decoder says it lacks a feature, else
// corrupt.
func docRefuseDecodeError(facts Facts, c docCodec, err error) (Facts, error) {
	var (
		jpegErr jpeg.UnsupportedError
		pngErr  png.UnsupportedError
		tiffErr tiff.UnsupportedError
	)
	if errors.As(err, &jpegErr) || errors.As(err, &pngErr) || errors.As(err, &tiffErr) {
		return facts, &Error{
			Problem: ProblemUnsupportedFormat,
			Detail:  fmt.Sprintf("the %s file uses a feature we cannot read (%v): save the scan again with ordinary settings, or %s", c.name, err, docAcceptedFormats),
			Facts:   facts,
		}
	}
	return facts, &Error{
		Problem: ProblemCorrupt,
		Detail:  fmt.Sprintf("the %s file is damaged or incomplete and could not be read: upload the scan again", c.name),
		Facts:   facts,
	}
}

// sniffDocument returns the format of data from its magic number. For
// anything else it returns "" and what data seems to be ("a PDF
// document"), or "" and "" if it is nothing known.
func sniffDocument(data []byte) (Format, string) {
	has := func(off int, magic string) bool {
		return len(data) >= off+len(magic) && string(data[off:off+len(magic)]) == magic
	}
	switch {
	case has(0, "\xff\xd8\xff"):
		return FormatJPEG, ""
	case has(0, "\x89PNG\r\n\x1a\n"):
		return FormatPNG, ""
	case has(0, "RIFF") && has(8, "WEBP"):
		return FormatWebP, ""
	case has(0, "II*\x00"), has(0, "MM\x00*"):
		return FormatTIFF, ""
	case has(0, "%PDF-"):
		return "", "a PDF document"
	case has(0, "GIF87a"), has(0, "GIF89a"):
		return "", "a GIF image"
	case has(0, "II+\x00"), has(0, "MM\x00+"):
		return "", "a BigTIFF image"
	case has(0, "\xff\x0a"), has(0, "\x00\x00\x00\x0cJXL \r\n\x87\n"):
		return "", "a JPEG XL image"
	case has(0, "BM") && len(data) >= 18 && docIsBMPHeaderSize(binary.LittleEndian.Uint32(data[14:18])):
		return "", "a BMP image"
	case has(4, "ftyp") && len(data) >= 12:
		switch string(data[8:12]) {
		case "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1":
			return "", "a HEIC image"
		case "avif", "avis":
			return "", "an AVIF image"
		}
	}
	return "", ""
}

// docJPEGScans counts the scans (SOS segments) of a JPEG by walking its
// marker segments, skipping their payloads and the entropy-coded data
// between them. It reads each byte at most once.
func docJPEGScans(data []byte) int {
	scans := 0
	for i := 2; i+4 <= len(data); { // after SOI
		if data[i] != 0xff { // entropy-coded data
			i++
			continue
		}
		switch marker := data[i+1]; {
		case marker == 0xff: // fill byte
			i++
			continue
		case marker == 0x00, marker == 0x01, marker >= 0xd0 && marker <= 0xd7:
			i += 2 // a stuffed 0xff, TEM or RSTn: no length
			continue
		case marker == 0xd9: // EOI
			return scans
		case marker == 0xda: // SOS
			scans++
		}
		i += 2 + (int(data[i+2])<<8 | int(data[i+3]))
	}
	return scans
}

// docIsBMPHeaderSize reports whether n is the size of a BMP info header.
func docIsBMPHeaderSize(n uint32) bool {
	switch n {
	case 12, 40, 52, 56, 64, 108, 124:
		return true
	}
	return false
}

// docUnsupportedDetail explains the refusal of a file of the given kind.
func docUnsupportedDetail(kind string) string {
	switch kind {
	case "":
		return "the file is not an image we can read: " + docAcceptedFormats
	case "a PDF document":
		return "the file is a PDF document, not an image: " + docAcceptedFormats + " of the scan"
	}
	return "the file is " + kind + ", a format we do not accept: " + docAcceptedFormats
}

func docRoundUp(n, to int64) int64 { return (n + to - 1) / to * to }

// docFormatBytes writes n bytes for a customer, in MiB or KiB.
func docFormatBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return docTrimZero(fmt.Sprintf("%.1f", float64(n)/(1<<20))) + " MiB"
	case n >= 1<<10:
		return docTrimZero(fmt.Sprintf("%.1f", float64(n)/(1<<10))) + " KiB"
	}
	return fmt.Sprintf("%d bytes", n)
}

// docFormatPixels writes w×h pixels for a customer, in megapixels.
func docFormatPixels(w, h int64) string {
	return docTrimZero(fmt.Sprintf("%.1f", float64(w)*float64(h)/1e6)) + " megapixels"
}

func docTrimZero(s string) string {
	if len(s) > 2 && s[len(s)-2:] == ".0" {
		return s[:len(s)-2]
	}
	return s
}

// docLevel sums the samples of one luma level: their number, and their
// opponent colours and squares.
type docLevel struct {
	n, rg, yb, rg2, yb2 float64
}

func (a *docLevel) add(b docLevel) {
	a.n += b.n
	a.rg += b.rg
	a.yb += b.yb
	a.rg2 += b.rg2
	a.yb2 += b.yb2
}

// docSample summarises the sample blocks of an image by luma level: enough
// to find the paper, the ink, the colourfulness and the hue variety after
// one pass over the pixels.
type docSample struct {
	levels [256]docLevel // every block
	flat   [256]docLevel // the flat blocks: luma within docFlatLuma
	grey   bool          // a greyscale image type: no chroma to measure
}

// docBlock sums the pixels of one sample block: their count, their 8-bit
// channels, and their luma (docLuma) and its square.
type docBlock struct {
	n, r, g, b int
	l, l2      int64
}

func (k *docBlock) add(r, g, b uint8) {
	l := docLuma(r, g, b)
	k.r, k.g, k.b = k.r+int(r), k.g+int(g), k.b+int(b)
	k.l, k.l2 = k.l+l, k.l2+l*l
}

// docLuma is the BT.601 luma of an 8-bit colour, in whole levels.
func docLuma(r, g, b uint8) int64 {
	return (19595*int64(r) + 38470*int64(g) + 7471*int64(b) + 1<<15) >> 16
}

// addBlock adds one sample: the average of the block's pixels, to the
// levels, and to the flat levels if the standard deviation of the luma of
// its pixels is at most docFlatLuma.
func (s *docSample) addBlock(k docBlock) {
	n := float64(k.n)
	rf, gf, bf := float64(k.r)/n, float64(k.g)/n, float64(k.b)/n
	l := min(max(int(0.299*rf+0.587*gf+0.114*bf+0.5), 0), 255)
	rg, yb := rf-gf, (rf+gf)/2-bf
	sample := docLevel{n: 1, rg: rg, yb: yb, rg2: rg * rg, yb2: yb * yb}
	s.levels[l].add(sample)
	// n·Σl² − (Σl)² is n² times the variance of the luma.
	if cnt := int64(k.n); cnt*k.l2-k.l*k.l <= docFlatLuma*docFlatLuma*cnt*cnt {
		s.flat[l].add(sample)
	}
}

// docGrid places at most docMaxBlocks blocks of side k on an even grid over
// a w×h image: nx blocks across and ny down, stride pixels apart, the first
// at (offX, offY). Offsets and stride are multiples of k, so that blocks
// of 16 pixels sit on JPEG macroblocks.
func docGrid(w, h int) (k, stride, nx, ny, offX, offY int) {
	k = max(1, min(docBlockSide, w, h))
	stride = max(k, int(math.Sqrt(float64(w)*float64(h)/docMaxBlocks)))
	stride = (stride + k - 1) / k * k
	for {
		nx, ny = (w-k)/stride+1, (h-k)/stride+1
		if nx*ny <= docMaxBlocks {
			break
		}
		stride += k
	}
	offX = ((w - k) - (nx-1)*stride) / 2 / k * k
	offY = ((h - k) - (ny-1)*stride) / 2 / k * k
	return k, stride, nx, ny, offX, offY
}

// sampleBlocks adds the blocks of the grid over b to s, reading pixels
// with px.
func (s *docSample) sampleBlocks(b image.Rectangle, px func(x, y int) (r, g, b uint8)) {
	k, stride, nx, ny, offX, offY := docGrid(b.Dx(), b.Dy())
	for j := range ny {
		y0 := b.Min.Y + offY + j*stride
		for i := range nx {
			x0 := b.Min.X + offX + i*stride
			blk := docBlock{n: k * k}
			for y := y0; y < y0+k; y++ {
				for x := x0; x < x0+k; x++ {
					blk.add(px(x, y))
				}
			}
			s.addBlock(blk)
		}
	}
}

// sampleYCbCr is sampleBlocks for a YCbCr image, written out because it is
// the image type of JPEG, the format of most uploads.
func (s *docSample) sampleYCbCr(m *image.YCbCr) {
	b := m.Rect
	k, stride, nx, ny, offX, offY := docGrid(b.Dx(), b.Dy())
	for j := range ny {
		y0 := b.Min.Y + offY + j*stride
		for i := range nx {
			x0 := b.Min.X + offX + i*stride
			blk := docBlock{n: k * k}
			for y := y0; y < y0+k; y++ {
				row := m.Y[m.YOffset(x0, y):][:k]
				for dx, luma := range row {
					ci := m.COffset(x0+dx, y)
					blk.add(color.YCbCrToRGB(luma, m.Cb[ci], m.Cr[ci]))
				}
			}
			s.addBlock(blk)
		}
	}
}

// sample adds the sample blocks of img to s, reading pixels the fast way
// for the image types the decoders return and through RGBA64At or At for
// the others. Transparency is composited over white paper.
func (s *docSample) sample(img image.Image) {
	b := img.Bounds()
	switch m := img.(type) {
	case *image.YCbCr: // JPEG, lossy WebP: the common case, without a closure
		s.sampleYCbCr(m)
	case *image.RGBA: // PNG, TIFF: premultiplied alpha
		s.sampleBlocks(b, func(x, y int) (uint8, uint8, uint8) {
			p := m.Pix[m.PixOffset(x, y):]
			p = p[:4:4]
			white := 0xff - uint16(p[3])
			return uint8(min(uint16(p[0])+white, 0xff)), uint8(min(uint16(p[1])+white, 0xff)), uint8(min(uint16(p[2])+white, 0xff))
		})
	case *image.NRGBA: // PNG, TIFF, lossless WebP
		s.sampleBlocks(b, func(x, y int) (uint8, uint8, uint8) {
			p := m.Pix[m.PixOffset(x, y):]
			p = p[:4:4]
			if a := p[3]; a != 0xff {
				return docOverWhite(p[0], a), docOverWhite(p[1], a), docOverWhite(p[2], a)
			}
			return p[0], p[1], p[2]
		})
	case *image.Gray: // greyscale JPEG, PNG, TIFF: colourfulness 0
		s.grey = true
		s.sampleBlocks(b, func(x, y int) (uint8, uint8, uint8) {
			v := m.Pix[m.PixOffset(x, y)]
			return v, v, v
		})
	case *image.Gray16:
		s.grey = true
		s.sampleBlocks(b, func(x, y int) (uint8, uint8, uint8) {
			v := m.Pix[m.PixOffset(x, y)] // the high byte
			return v, v, v
		})
	case *image.Paletted: // palette PNG and TIFF
		var pal [256][3]uint8
		for i := range pal {
			pal[i] = [3]uint8{0xff, 0xff, 0xff} // beyond the palette: transparent
			if i < len(m.Palette) && m.Palette[i] != nil {
				pal[i] = docRGBA64OverWhite(m.Palette[i].RGBA())
			}
		}
		s.sampleBlocks(b, func(x, y int) (uint8, uint8, uint8) {
			c := pal[m.Pix[m.PixOffset(x, y)]]
			return c[0], c[1], c[2]
		})
	case *image.CMYK: // Adobe CMYK JPEG, CMYK TIFF
		s.sampleBlocks(b, func(x, y int) (uint8, uint8, uint8) {
			p := m.Pix[m.PixOffset(x, y):]
			p = p[:4:4]
			return color.CMYKToRGB(p[0], p[1], p[2], p[3])
		})
	case image.RGBA64Image: // 16-bit PNG and TIFF, NYCbCrA, and the rest
		s.sampleBlocks(b, func(x, y int) (uint8, uint8, uint8) {
			c := m.RGBA64At(x, y)
			rgb := docRGBA64OverWhite(uint32(c.R), uint32(c.G), uint32(c.B), uint32(c.A))
			return rgb[0], rgb[1], rgb[2]
		})
	default:
		s.sampleBlocks(b, func(x, y int) (uint8, uint8, uint8) {
			rgb := docRGBA64OverWhite(img.At(x, y).RGBA())
			return rgb[0], rgb[1], rgb[2]
		})
	}
}

// docRGBA64OverWhite composites a 16-bit premultiplied colour over white
// and returns its 8-bit red, green and blue.
func docRGBA64OverWhite(r, g, b, a uint32) [3]uint8 {
	white := 0xffff - min(a, 0xffff)
	return [3]uint8{uint8(min(r+white, 0xffff) >> 8), uint8(min(g+white, 0xffff) >> 8), uint8(min(b+white, 0xffff) >> 8)}
}

// docOverWhite composites a non-premultiplied channel value c of alpha a
// over white.
func docOverWhite(c, a uint8) uint8 {
	return uint8((uint32(c)*uint32(a) + 0xff*(0xff-uint32(a)) + 0x7f) / 0xff)
}

// docMeasurement is the outcome of the pixel analysis.
type docMeasurement struct {
	colourfulness float64 // M of the content
	hueVariety    float64 // H of the content
	inkCoverage   float64 // fraction of blocks that are ink
}

// measure computes the measurement from the sample; Limits gives
// the formulas. noise is the variance that the file's compression adds to
// the chroma (rg² + yb²) of a block, taken from the hue variety.
func (s *docSample) measure(noise float64) docMeasurement {
	var total float64
	paper := 0
	for l := range s.levels {
		total += s.levels[l].n
		if s.levels[l].n > s.levels[paper].n {
			paper = l
		}
	}
	if total == 0 {
		return docMeasurement{}
	}
	var ink float64
	for l := range s.levels {
		if docAbsDiff(l, paper) > docInkDifference {
			ink += s.levels[l].n
		}
	}
	m := docMeasurement{inkCoverage: ink / total}
	if s.grey {
		return m
	}

	content, within := docContent(&s.levels, paper)
	if content.n == 0 {
		return m
	}
	n := content.n
	meanRG, meanYB := content.rg/n, content.yb/n
	m.colourfulness = math.Sqrt(docSpread(content)/n) + 0.3*math.Sqrt(meanRG*meanRG+meanYB*meanYB)
	// The hue variety of the flat content if there is enough of it: where
	// tones mix (edges, text, a scanner's blur), a tint whose hue drifts
	// with brightness gives mixtures of one brightness and several hues.
	if flat, flatWithin := docContent(&s.flat, paper); flat.n >= docMinFlatBlocks {
		n, within = flat.n, flatWithin
	}
	m.hueVariety = math.Sqrt(max(within/n-noise, 0))
	return m
}

// docContent sums the levels that are not paper, and the spread of their
// chroma within luma bands of docHueBand levels.
func docContent(levels *[256]docLevel, paper int) (content docLevel, within float64) {
	for band := 0; band < len(levels); band += docHueBand {
		var b docLevel
		for l := band; l < band+docHueBand; l++ {
			if docAbsDiff(l, paper) > docPaperTolerance {
				b.add(levels[l])
			}
		}
		if b.n == 0 {
			continue
		}
		within += docSpread(b)
		content.add(b)
	}
	return content, within
}

// docJPEGChromaNoise returns the variance that a JPEG's quantization of
// its chroma adds to rg² + yb² of a sample block, from the quantization
// tables and sampling factors in the file: the mean of a 16×16 block is
// the DC term of the chroma blocks under it, whose error is uniform over
// one quantization step, Q/8 levels. It returns 0 for a file whose
// headers it cannot read, or that is not three-component YCbCr.
func docJPEGChromaNoise(data []byte) float64 {
	var steps [4]float64 // the DC step of each quantization table, in levels
	type component struct{ h, v, table int }
	var comps []component
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xff {
			i++
			continue
		}
		marker := data[i+1]
		switch {
		case marker == 0xff:
			i++
			continue
		case marker == 0x00, marker == 0x01, marker >= 0xd0 && marker <= 0xd7:
			i += 2
			continue
		case marker == 0xd9, marker == 0xda: // EOI, SOS: the headers are over
			i = len(data)
			continue
		}
		end := i + 2 + (int(data[i+2])<<8 | int(data[i+3]))
		seg := data[i+4 : min(end, len(data))]
		switch {
		case marker == 0xdb: // DQT: tables of 64 bytes or 64 16-bit words
			for len(seg) > 0 {
				wide, id := seg[0]>>4 != 0, seg[0]&3
				if wide && len(seg) >= 129 {
					steps[id], seg = float64(int(seg[1])<<8|int(seg[2]))/8, seg[129:]
				} else if !wide && len(seg) >= 65 {
					steps[id], seg = float64(seg[1])/8, seg[65:]
				} else {
					return 0
				}
			}
		case marker == 0xc0, marker == 0xc1, marker == 0xc2: // SOF: components
			if len(seg) < 6 {
				return 0
			}
			for c := 0; c < int(seg[5]) && 6+3*c+2 < len(seg); c++ {
				p := seg[6+3*c:]
				comps = append(comps, component{int(p[1] >> 4), int(p[1] & 15), int(p[2] & 3)})
			}
		}
		i = end
	}
	if len(comps) != 3 {
		return 0
	}
	hMax, vMax := 1, 1
	for _, c := range comps {
		hMax, vMax = max(hMax, c.h), max(vMax, c.v)
	}
	// Variance of Cb and Cr in a block mean, over the chroma blocks under
	// a block: 16×16 pixels hold (16·h/(8·hMax))·(16·v/(8·vMax)) of them.
	chroma := func(c component) float64 {
		blocks := max(1, 2*c.h/hMax) * max(1, 2*c.v/vMax)
		return steps[c.table] * steps[c.table] / 12 / float64(blocks)
	}
	// rg = 0.344·Cb + 2.116·Cr and yb = −1.944·Cb + 0.344·Cr.
	return chroma(comps[1])*(0.344*0.344+1.944*1.944) + chroma(comps[2])*(2.116*2.116+0.344*0.344)
}

// docSpread returns the sum of the squared distances of the (rg, yb) of the
// samples summed in a from their mean: n·(σrg² + σyb²).
func docSpread(a docLevel) float64 {
	rg := a.rg2 - a.rg*a.rg/a.n
	yb := a.yb2 - a.yb*a.yb/a.n
	return max(rg, 0) + max(yb, 0) // rounding can take a zero spread below 0
}

func docAbsDiff(a, b int) int {
	if a < b {
		return b - a
	}
	return a - b
}

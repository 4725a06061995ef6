package cancellation

import (
	"io"

	"github.com/accountkit/cancellation/docinspect"
)

// The document inspector lives in package docinspect, which needs nothing
// of the workflow: hosts may use it on its own (to check a scan before
// they store it, say). The names below keep this package's API as it was;
// each is the docinspect name beside it, so values and errors pass between
// the two unchanged (errors.Is(err, ErrDocumentRejected) and
// errors.Is(err, docinspect.ErrRejected) agree).

// ErrDocumentRejected is matched (with errors.Is) by every refusal of an
// identity document; it is docinspect.ErrRejected. The *DocumentError
// behind it says why, in a Problem code and in words.
var ErrDocumentRejected = docinspect.ErrRejected

// DocumentFormat is docinspect.Format: an image format, sniffed from the
// first bytes of an upload.
type DocumentFormat = docinspect.Format

// The formats InspectDocument accepts (see docinspect.FormatJPEG...).
const (
	FormatJPEG = docinspect.FormatJPEG
	FormatPNG  = docinspect.FormatPNG
	FormatWebP = docinspect.FormatWebP
	FormatTIFF = docinspect.FormatTIFF
)

// Defaults of DocumentLimits (see docinspect.DefaultMaxDocumentBytes...).
const (
	DefaultMaxDocumentBytes  = docinspect.DefaultMaxDocumentBytes
	DefaultMaxDocumentPixels = docinspect.DefaultMaxDocumentPixels
	DefaultMinDocumentWidth  = docinspect.DefaultMinDocumentWidth
	DefaultMinDocumentHeight = docinspect.DefaultMinDocumentHeight
	DefaultMinColourfulness  = docinspect.DefaultMinColourfulness
	DefaultMinHueVariety     = docinspect.DefaultMinHueVariety
)

// DocumentLimits is docinspect.Limits: what an upload may weigh and how
// colourful a scan must be.
type DocumentLimits = docinspect.Limits

// DefaultDocumentLimits returns docinspect.DefaultLimits.
func DefaultDocumentLimits() DocumentLimits { return docinspect.DefaultLimits() }

// DocumentFacts is docinspect.Facts: what InspectDocument measured of an
// upload.
type DocumentFacts = docinspect.Facts

// DocumentProblem is docinspect.Problem: the stable reason code of a
// refused document.
type DocumentProblem = docinspect.Problem

// The reasons for refusing a document (see docinspect.ProblemEmpty...).
const (
	DocumentEmpty             = docinspect.ProblemEmpty
	DocumentTooLarge          = docinspect.ProblemTooLarge
	DocumentUnsupportedFormat = docinspect.ProblemUnsupportedFormat
	DocumentTooManyPixels     = docinspect.ProblemTooManyPixels
	DocumentCorrupt           = docinspect.ProblemCorrupt
	DocumentTooSmall          = docinspect.ProblemTooSmall
	DocumentBlank             = docinspect.ProblemBlank
	DocumentNotColour         = docinspect.ProblemNotColour
)

// DocumentError is docinspect.Error: the refusal of an identity document,
// matched by ErrDocumentRejected.
type DocumentError = docinspect.Error

// InspectDocument is docinspect.Inspect: it sniffs, bounds, decodes and
// measures an upload, and refuses it with a *DocumentError.
func InspectDocument(data []byte, limits DocumentLimits) (DocumentFacts, error) {
	return docinspect.Inspect(data, limits)
}

// ReadDocument is docinspect.Read: it reads an upload of at most
// limits.MaxBytes bytes, refusing a larger one after reading one byte
// more.
func ReadDocument(r io.Reader, limits DocumentLimits) ([]byte, error) {
	return docinspect.Read(r, limits)
}

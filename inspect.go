package cancellation

// TEMPORARY: a minimal inspector with the API of the real one (issue 4),
// replaced when that branch lands.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"io"
)

// DocumentFormat is a sniffed image format.
type DocumentFormat string

// Formats.
const (
	FormatJPEG DocumentFormat = "jpeg"
	FormatPNG  DocumentFormat = "png"
	FormatWebP DocumentFormat = "webp"
	FormatTIFF DocumentFormat = "tiff"
)

// DocumentLimits bounds what InspectDocument accepts.
type DocumentLimits struct {
	MaxBytes            int64
	MaxPixels           int64
	MinWidth, MinHeight int
	MinColourfulness    float64
}

// DefaultDocumentLimits returns the defaults.
func DefaultDocumentLimits() DocumentLimits {
	return DocumentLimits{MaxBytes: 10 << 20, MaxPixels: 40e6, MinWidth: 600, MinHeight: 400}
}

// DocumentFacts is what the inspector measured.
type DocumentFacts struct {
	Format        DocumentFormat `json:"format"`
	Width         int            `json:"width"`
	Height        int            `json:"height"`
	Bytes         int64          `json:"bytes"`
	Colourfulness float64        `json:"colourfulness"`
	SHA256        string         `json:"sha256"`
}

// DocumentProblem is a reason code.
type DocumentProblem string

// Problems.
const (
	DocumentEmpty             DocumentProblem = "empty"
	DocumentTooLarge          DocumentProblem = "too_large"
	DocumentUnsupportedFormat DocumentProblem = "unsupported_format"
	DocumentTooManyPixels     DocumentProblem = "too_many_pixels"
	DocumentCorrupt           DocumentProblem = "corrupt"
	DocumentTooSmall          DocumentProblem = "too_small"
	DocumentBlank             DocumentProblem = "blank"
	DocumentNotColour         DocumentProblem = "not_colour"
)

// ErrDocumentRejected is matched by DocumentError.
var ErrDocumentRejected = errors.New("cancellation: identity document rejected")

// DocumentError explains a refusal.
type DocumentError struct {
	Problem DocumentProblem
	Detail  string
	Facts   DocumentFacts
}

func (e *DocumentError) Error() string {
	return fmt.Sprintf("cancellation: identity document rejected (%s): %s", e.Problem, e.Detail)
}

// Is matches ErrDocumentRejected.
func (e *DocumentError) Is(target error) bool { return target == ErrDocumentRejected }

// InspectDocument sniffs and bounds a scan.
func InspectDocument(data []byte, limits DocumentLimits) (DocumentFacts, error) {
	d := DefaultDocumentLimits()
	if limits.MaxBytes <= 0 {
		limits.MaxBytes = d.MaxBytes
	}
	if limits.MaxPixels <= 0 {
		limits.MaxPixels = d.MaxPixels
	}
	sum := sha256.Sum256(data)
	f := DocumentFacts{Bytes: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
	switch {
	case len(data) == 0:
		return f, &DocumentError{Problem: DocumentEmpty, Detail: "the file is empty", Facts: f}
	case int64(len(data)) > limits.MaxBytes:
		return f, &DocumentError{Problem: DocumentTooLarge, Detail: "too large", Facts: f}
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		f.Format = FormatJPEG
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		f.Format = FormatPNG
	default:
		return f, &DocumentError{Problem: DocumentUnsupportedFormat, Detail: "upload a JPEG, PNG, WebP or TIFF image", Facts: f}
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return f, &DocumentError{Problem: DocumentCorrupt, Detail: err.Error(), Facts: f}
	}
	f.Width, f.Height = cfg.Width, cfg.Height
	if int64(cfg.Width)*int64(cfg.Height) > limits.MaxPixels {
		return f, &DocumentError{Problem: DocumentTooManyPixels, Detail: "too many pixels", Facts: f}
	}
	return f, nil
}

// ReadDocument reads at most limits.MaxBytes.
func ReadDocument(r io.Reader, limits DocumentLimits) ([]byte, error) {
	if limits.MaxBytes <= 0 {
		limits.MaxBytes = DefaultDocumentLimits().MaxBytes
	}
	b, err := io.ReadAll(io.LimitReader(r, limits.MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limits.MaxBytes {
		return nil, &DocumentError{Problem: DocumentTooLarge, Detail: "too large"}
	}
	if len(b) == 0 {
		return nil, &DocumentError{Problem: DocumentEmpty, Detail: "the file is empty"}
	}
	return b, nil
}

// Package doctest provides scans of identity documents for the tests of a
// host of the cancellation workflow, so that its tests of uploads need not
// draw images by hand:
//
//	doc, err := svc.UploadDocument(ctx, account, id, cancellation.DocumentPassport,
//		bytes.NewReader(doctest.ColourScan()))
//
// Each function returns a new copy of the same bytes on every call (the
// caller may change it), and every scan is what
// [github.com/accountkit/cancellation.InspectDocument] says of it with the
// default limits: [ColourScan] is accepted; [GreyscaleScan] and
// [SepiaCopy] are refused as not in colour (problem "not_colour");
// [BlankPage] is refused as blank (problem "blank"). The images are
// generated, deterministically, by the generators the library's own
// calibration uses; nothing is read from files or the network.
package doctest

import (
	"bytes"
	"image"
	"sync"

	"github.com/accountkit/cancellation/internal/docfixtures"
)

// Width and Height are the size, in pixels, of every scan of the package:
// an ID card scanned at about 360 dpi.
const (
	Width  = 1200
	Height = 800
)

var (
	drawn = sync.OnceValue(func() image.Image { return docfixtures.ColourIDCard(Width, Height) })
	card  = sync.OnceValue(func() []byte { return docfixtures.JPEG(drawn(), 90) })
	grey  = sync.OnceValue(func() []byte { return docfixtures.JPEG(docfixtures.Greyscale(drawn()), 90) })
	sepia = sync.OnceValue(func() []byte {
		return docfixtures.JPEG(docfixtures.TonedCopy(drawn(), docfixtures.SepiaTone, 1), 85)
	})
	blank = sync.OnceValue(func() []byte {
		return docfixtures.JPEG(docfixtures.NearBlank(Width, Height), 90)
	})
)

// ColourScan returns a colour scan of an identity card, a JPEG of
// quality 90 (about 200 KB): a driver's licence with a photo, a flag,
// text in several inks and a guilloche background. It is accepted.
func ColourScan() []byte { return bytes.Clone(card()) }

// GreyscaleScan returns the card of [ColourScan] scanned in greyscale, a
// one-channel JPEG of quality 90. It is refused as not in colour.
func GreyscaleScan() []byte { return bytes.Clone(grey()) }

// SepiaCopy returns the card of [ColourScan] as a sepia photocopy: a
// colour JPEG (quality 85) whose colours all come from one tone, with the
// paper texture, blur and noise of a real scan. It is refused as not in
// colour, although its colourfulness alone would pass.
func SepiaCopy() []byte { return bytes.Clone(sepia()) }

// BlankPage returns a scan of an empty scanner bed (off-white paper,
// sensor noise, a few specks of dust), a JPEG of quality 90. It is
// refused as blank.
func BlankPage() []byte { return bytes.Clone(blank()) }

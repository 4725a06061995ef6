// Package docfixtures generates synthetic identity-document scans for tests,
// benchmarks and runnable examples of the document inspector.
//
// Every generator is deterministic: the same arguments always give the same
// pixels and the same encoded bytes, so that fuzz seeds, calibration tables
// and golden SHA-256 values stay stable. Nothing here reads files or the
// network.
//
// # Images
//
// [ColourIDCard] draws a card in the style of a driver's licence: a pale
// guilloche background, a coloured header band, a passport photo with skin
// tones, a small flag, and lines of "text" in several inks. The other image
// generators derive the cases the inspector must refuse or accept from it:
// [Greyscale], [EqualChannels], [Tinted] (sepia, [BluePhotocopy]),
// [SepiaFilter], [Noisy], [LowSaturationColour], [Blank] and [NearBlank].
//
// [Photo] draws a colour photograph with the statistics of natural images
// (objects at every scale, shading, fine texture). [TonedCopy] reproduces
// any image as a real single-tint copy does: through a contrast curve and
// a tone whose hue drifts from shadow to paper ([SepiaTone],
// [BlueprintTone]), on textured paper, then blurred and noisy as a scanner
// leaves it; [Recompressed] makes a copy that was saved as JPEG before.
//
// # Encodings
//
// [JPEG], [PNG], [TIFF] and [WebP] encode an image; [WebP] is a small
// lossless (VP8L) encoder written for this package, because
// golang.org/x/image/webp can only decode. [BombPNG], [BombJPEG],
// [BombWebP] and [BombTIFF] build files of a few bytes whose headers
// declare enormous images (decompression bombs), and [PDF] a minimal PDF,
// for the refusal paths.
package docfixtures

// Package docinspect judges an uploaded identity document before it is
// stored: it sniffs the format from the bytes (JPEG, PNG, WebP, TIFF; the
// file name and content type are never trusted), bounds the size and the
// declared pixels before decoding, decodes under those bounds, and
// measures whether the scan is a legible colour scan rather than a
// greyscale or single-tint copy or a blank page (seed step 4).
//
// It needs nothing of the cancellation workflow and imports only the
// standard library and golang.org/x/image, so hosts may use it on its own:
//
//	data, err := docinspect.Read(body, docinspect.Limits{}) // zero fields take the defaults
//	if err != nil { ... }
//	facts, err := docinspect.Inspect(data, docinspect.Limits{})
//	var de *docinspect.Error
//	if errors.As(err, &de) { // errors.Is(err, docinspect.ErrRejected)
//		fmt.Println(de.Problem, de.Detail)
//	}
//
// The cancellation package calls it for every upload and keeps its former
// names as aliases (cancellation.InspectDocument, DocumentLimits,
// DocumentError, ...). Package doctest has test images for hosts.
package docinspect

package doctest_test

import (
	"errors"
	"fmt"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/doctest"
)

// A host's test checks how its upload handler answers an accepted scan and
// a refused one, without drawing images.
func Example() {
	for _, scan := range []struct {
		name string
		data []byte
	}{
		{"colour scan", doctest.ColourScan()},
		{"greyscale scan", doctest.GreyscaleScan()},
		{"sepia copy", doctest.SepiaCopy()},
		{"blank page", doctest.BlankPage()},
	} {
		facts, err := cancellation.InspectDocument(scan.data, cancellation.DocumentLimits{})
		var refused *cancellation.DocumentError
		switch {
		case errors.As(err, &refused):
			fmt.Printf("%s: refused (%s)\n", scan.name, refused.Problem)
		case err != nil:
			fmt.Printf("%s: %v\n", scan.name, err)
		default:
			fmt.Printf("%s: accepted, %s %dx%d\n", scan.name, facts.Format, facts.Width, facts.Height)
		}
	}
	// Output:
	// colour scan: accepted, jpeg 1200x800
	// greyscale scan: refused (not_colour)
	// sepia copy: refused (not_colour)
	// blank page: refused (blank)
}

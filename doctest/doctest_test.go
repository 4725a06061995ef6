package doctest_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/doctest"
)

// TestScans_InspectAsDocumented holds each scan to what the package
// documents: the verdict of InspectDocument with the default limits, the
// format and the size.
func TestScans_InspectAsDocumented(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		scan func() []byte
		want cancellation.DocumentProblem // "" for accepted
	}{
		"ColourScan":    {doctest.ColourScan, ""},
		"GreyscaleScan": {doctest.GreyscaleScan, cancellation.DocumentNotColour},
		"SepiaCopy":     {doctest.SepiaCopy, cancellation.DocumentNotColour},
		"BlankPage":     {doctest.BlankPage, cancellation.DocumentBlank},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			facts, err := cancellation.InspectDocument(c.scan(), cancellation.DocumentLimits{})
			var de *cancellation.DocumentError
			if errors.As(err, &de) {
				facts = de.Facts
			}
			require.Equal(t, cancellation.FormatJPEG, facts.Format)
			require.Equal(t, doctest.Width, facts.Width)
			require.Equal(t, doctest.Height, facts.Height)
			if c.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorAs(t, err, &de)
			require.Equal(t, c.want, de.Problem)
		})
	}
	t.Run("sepia copy passes on colourfulness alone", func(t *testing.T) {
		t.Parallel()
		facts, _ := cancellation.InspectDocument(doctest.SepiaCopy(), cancellation.DocumentLimits{})
		require.Greater(t, facts.Colourfulness, cancellation.DefaultMinColourfulness)
		require.Less(t, facts.HueVariety, cancellation.DefaultMinHueVariety)
	})
}

// TestScans_ReturnFreshCopies checks that a caller may change the bytes it
// got without changing what the next caller gets.
func TestScans_ReturnFreshCopies(t *testing.T) {
	t.Parallel()
	a := doctest.ColourScan()
	want := doctest.ColourScan()
	clear(a)
	require.Equal(t, want, doctest.ColourScan())
	require.Greater(t, len(want), 50_000)
}

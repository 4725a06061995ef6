package otel_test

import (
	"bytes"
	"io"

	"github.com/accountkit/cancellation/doctest"
)

func colour() io.Reader    { return bytes.NewReader(doctest.ColourScan()) }
func greyscale() io.Reader { return bytes.NewReader(doctest.GreyscaleScan()) }

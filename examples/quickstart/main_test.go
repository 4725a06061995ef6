package main

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/quickstart.golden")

// TestQuickstart holds the example's output, what a person would see, to
// the golden file.
func TestQuickstart(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out))
	const golden = "testdata/quickstart.golden"
	if *update {
		require.NoError(t, os.WriteFile(golden, out.Bytes(), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test ./examples/quickstart -update to create it")
	if d := cmp.Diff(string(want), out.String()); d != "" {
		t.Fatalf("quickstart output changed (-want +got):\n%s", d)
	}
}

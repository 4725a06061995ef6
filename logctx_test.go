package cancellation_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLogCallsTakeTheContext holds the root package to logging with the
// caller's context (InfoContext, WarnContext, ...), so that a host's
// handler can add its trace and request ids: no call of slog's
// Debug, Info, Warn or Error without it.
func TestLogCallsTakeTheContext(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	var calls int
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			recv, ok := sel.X.(*ast.SelectorExpr)
			if !ok || recv.Sel.Name != "log" {
				return true
			}
			calls++
			switch sel.Sel.Name {
			case "Debug", "Info", "Warn", "Error":
				t.Errorf("%s: %s without the context: use %sContext", fset.Position(call.Pos()), sel.Sel.Name, sel.Sel.Name)
			}
			return true
		})
	}
	require.Positive(t, calls, "the check found the package's log calls")
}

package httpapi

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEveryRouteIsInThePackageDocAndTheREADME: each endpoint the handler
// registers is listed in the package documentation (its full path) and in
// the README's endpoint table (its full path, or ".../" and its last
// segments beside the row's first path), so neither table promises less
// than the API serves.
func TestEveryRouteIsInThePackageDocAndTheREADME(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("handler.go")
	require.NoError(t, err)
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	routes := regexp.MustCompile(`h\.handle\("(GET|POST) (/v1/[^"]+)"`).FindAllStringSubmatch(string(src), -1)
	require.GreaterOrEqual(t, len(routes), 30, "the handler's routes were found")
	for _, m := range routes {
		method, path := m[1], m[2]
		require.Regexp(t, `(?m)^//\s+`+method+`\s+`+regexp.QuoteMeta(path)+`(\s|\?|$)`, string(doc), "doc.go lists %s %s", method, path)
		segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
		found := strings.Contains(string(readme), "`"+path+"`") || strings.Contains(string(readme), "`"+path+"?")
		for k := 1; k < len(segs) && !found; k++ {
			found = strings.Contains(string(readme), "`.../"+strings.Join(segs[k:], "/")+"`")
		}
		require.True(t, found, "README's endpoint table lists %s %s", method, path)
	}
}

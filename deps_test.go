package cancellation_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDependencyRule holds the rule of DESIGN.md: package ports imports only
// the standard library; docinspect the standard library and golang.org/x
// modules; the root package those, ports and docinspect; none reaches an
// adapter.
func TestDependencyRule(t *testing.T) {
	t.Parallel()
	requireDeps(t, module+"/ports", func(string) bool { return false })
	requireDeps(t, module+"/docinspect", func(dep string) bool { return strings.HasPrefix(dep, "golang.org/x/") })
	requireDeps(t, module, func(dep string) bool {
		return dep == module+"/ports" || dep == module+"/docinspect" || strings.HasPrefix(dep, "golang.org/x/")
	})
}

// TestKitImportsNoAdapter holds the conformance kit to driving a Service
// with fakes of its own: a host's conformance run pulls in no sample
// adapter.
func TestKitImportsNoAdapter(t *testing.T) {
	t.Parallel()
	requireDeps(t, module+"/ports/portstest", func(dep string) bool {
		return !strings.HasPrefix(dep, module+"/adapters/")
	})
}

// TestOpenTelemetryOnlyInItsAdapter holds the OpenTelemetry dependency to
// adapters/otel: no other package of the module imports it.
func TestOpenTelemetryOnlyInItsAdapter(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(goTool(), "list", "-f", `{{.ImportPath}} {{join .Imports " "}} {{join .TestImports " "}} {{join .XTestImports " "}}`, module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "go list: %s", stderr.String())
	var pkgs int
	for sc := bufio.NewScanner(bytes.NewReader(out)); sc.Scan(); {
		fields := strings.Fields(sc.Text())
		pkgs++
		if fields[0] == module+"/adapters/otel" {
			continue
		}
		for _, imp := range fields[1:] {
			require.False(t, strings.HasPrefix(imp, "go.opentelemetry.io/"), "%s imports %s", fields[0], imp)
		}
	}
	require.Greater(t, pkgs, 5, "go list listed the module's packages")
}

const module = "github.com/accountkit/cancellation"

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// requireDeps fails unless every non-standard dependency of pkg, as go list
// -deps lists them, is allowed.
func requireDeps(t *testing.T, pkg string, allowed func(string) bool) {
	t.Helper()
	cmd := exec.Command(goTool(), "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", pkg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "go list: %s", stderr.String())
	var deps int
	for sc := bufio.NewScanner(bytes.NewReader(out)); sc.Scan(); {
		dep, std, _ := strings.Cut(sc.Text(), " ")
		deps++
		if std == "true" || dep == pkg {
			continue
		}
		require.True(t, allowed(dep), "%s depends on %s", pkg, dep)
	}
	require.Greater(t, deps, 5, "go list listed the dependencies of %s", pkg)
}

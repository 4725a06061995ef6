package httpclient

import (
	_ "embed"
	"slices"
)

//go:embed host-openapi.yaml
var hostOpenAPI []byte

// OpenAPI returns the host REST contract, host-openapi.yaml (OpenAPI
// 3.0.3): what a host's services must serve for a Client. The tests of
// this package validate every request the Client sends and every response
// of their fake host against it. The result is a copy.
func OpenAPI() []byte { return slices.Clone(hostOpenAPI) }

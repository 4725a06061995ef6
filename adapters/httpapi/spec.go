package httpapi

//go:generate go tool oapi-codegen -config client/config.yaml openapi.yaml

import (
	_ "embed"
	"net/http"
)

// OpenAPI is the API's OpenAPI 3.0 document, served at /v1/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte

func serveSpec(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(OpenAPI)
}

// Package client is a Go client of the cancellation REST API, generated
// from ../openapi.yaml by oapi-codegen (go generate ./adapters/httpapi).
// Do not edit client.gen.go: change the OpenAPI document and regenerate.
package client

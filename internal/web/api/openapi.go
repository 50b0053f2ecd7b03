package api

import (
	"bytes"
	_ "embed"
	"net/http"
)

// openAPIDocument describes every /api/v1 route; a test in package web checks it
// against the route table.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument returns the API's OpenAPI 3 document as JSON.
func OpenAPIDocument() []byte { return bytes.Clone(openAPIDocument) }

// OpenAPI serves the API's OpenAPI 3 document. It needs no token, so that tools can
// read it before they have one.
func (h *Handler) OpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(openAPIDocument)
}

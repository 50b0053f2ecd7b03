package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"winnow/internal/web/api"
)

// TestOpenAPIMatchesRoutes checks the OpenAPI document against the route table: every
// /api/v1 route is documented with its method and every documented operation is
// routed, token-guarded unless the document says it needs no security.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPIDocument(), &doc); err != nil {
		t.Fatalf("the OpenAPI document is not JSON: %v", err)
	}
	documented := map[string]bool{} // "METHOD /path" → needs a token
	for path, item := range doc.Paths {
		for method, raw := range item {
			if !slices.Contains([]string{"get", "put", "post", "delete", "patch"}, method) {
				continue
			}
			var op struct {
				Security *[]any `json:"security"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			documented[strings.ToUpper(method)+" "+path] = op.Security == nil || len(*op.Security) > 0
		}
	}
	routed := map[string]bool{}
	for _, rt := range newTestServer(t, nil).table() {
		method, path, ok := strings.Cut(rt.pattern, " ")
		if !ok || !strings.HasPrefix(path, "/api/v1/") {
			continue
		}
		routed[method+" "+path] = rt.access == apiToken
	}
	if len(routed) < 10 {
		t.Fatalf("only %d API routes found: %v", len(routed), routed)
	}
	for op, token := range routed {
		doc, ok := documented[op]
		switch {
		case !ok:
			t.Errorf("route %s is not in the OpenAPI document", op)
		case doc != token:
			t.Errorf("route %s: token needed %v, document says %v", op, token, doc)
		}
	}
	for op := range documented {
		if _, ok := routed[op]; !ok {
			t.Errorf("the OpenAPI document describes %s, which is not routed", op)
		}
	}
}

// TestOpenAPIReferences checks that every $ref of the document names a schema it has.
func TestOpenAPIReferences(t *testing.T) {
	t.Parallel()
	var doc map[string]any
	if err := json.Unmarshal(api.OpenAPIDocument(), &doc); err != nil {
		t.Fatal(err)
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	var walk func(v any)
	refs := 0
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				refs++
				name, found := strings.CutPrefix(ref, "#/components/schemas/")
				if _, ok := schemas[name]; !found || !ok {
					t.Errorf("dangling reference %s", ref)
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	if refs == 0 || doc["openapi"] != "3.0.3" {
		t.Fatalf("refs %d, version %v", refs, doc["openapi"])
	}
}

// TestAPIOutsideSession serves the document without a token and answers unknown API
// paths and token-less calls in JSON, never with the HTML sign-in redirect.
func TestAPIOutsideSession(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newTestServer(t, func(context.Context) error { return nil }).Handler())
	defer srv.Close()
	cases := []struct {
		name   string
		path   string
		status int
		want   string
	}{
		{"document", "/api/v1/openapi.json", 200, `"openapi": "3.0.3"`},
		{"unknown path", "/api/v1/nothing-here", 404, `"code":"not_found"`},
		{"no token", "/api/v1/jobs", 401, `"code":"unauthorized"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := http.Get(srv.URL + c.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status || !strings.Contains(string(body), c.want) ||
				!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("got %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
		})
	}
}

// TestOpenAPICamelCase checks that every property the document names is camelCase, as
// the API's own keys are: a snake_case key (a status name used as a key) would be the
// one odd field a client has to special-case.
func TestOpenAPICamelCase(t *testing.T) {
	t.Parallel()
	var doc map[string]any
	if err := json.Unmarshal(api.OpenAPIDocument(), &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(path string, v any)
	seen := 0
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if props, ok := v["properties"].(map[string]any); ok {
				for name := range props {
					seen++
					if strings.ContainsAny(name, "_-") || strings.ToLower(name[:1]) != name[:1] {
						t.Errorf("%s: property %q is not camelCase", path, name)
					}
				}
			}
			for k, x := range v {
				walk(path+"/"+k, x)
			}
		case []any:
			for _, x := range v {
				walk(path, x)
			}
		}
	}
	walk("", doc)
	if seen < 50 {
		t.Fatalf("only %d properties found: the walk missed the schemas", seen)
	}
}

package api

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// openAPIPathsOf maps an echo route to the document's path(s).
func openAPIPathsOf(route string) []string {
	switch route {
	case "/ogc/":
		return []string{"/ogc"}
	case "/tiles/:layer/:z/:x/:y":
		return []string{"/tiles/{layer}/{z}/{x}/{y}.mvt"}
	case "/tiles/:layer":
		return []string{"/tiles/{layer}.json"}
	case "/ogc/collections/:id":
		return []string{"/ogc/collections/{collectionId}"}
	case "/ogc/collections/:id/items":
		return []string{"/ogc/collections/parts/items", "/ogc/collections/grids/items",
			"/ogc/collections/sensors/items", "/ogc/collections/alarms/items", "/ogc/collections/incidents/items"}
	case "/ogc/collections/:id/items/:code":
		return []string{"/ogc/collections/parts/items/{featureId}", "/ogc/collections/grids/items/{featureId}",
			"/ogc/collections/sensors/items/{featureId}", "/ogc/collections/alarms/items/{featureId}", "/ogc/collections/incidents/items/{featureId}"}
	}
	return []string{regexp.MustCompile(`:(\w+)`).ReplaceAllString(route, "{$1}")}
}

func openAPIDocOf(t *testing.T, c *city, path string) map[string]any {
	t.Helper()
	rec := c.do(t, req{path: path})
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != mediaOpenAPI {
		t.Fatalf("GET %s: %d %q", path, rec.Code, rec.Header().Get("Content-Type"))
	}
	return doc(t, rec)
}

// TestOpenAPICoversEveryRoute checks that the document describes every
// route the server answers, with every method, and that /ogc/api serves
// the same document.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	c := newCity(t)
	d := openAPIDocOf(t, c, "/openapi.json")
	if d["openapi"] != "3.0.3" {
		t.Fatalf("openapi = %v", d["openapi"])
	}
	if ogc := openAPIDocOf(t, c, "/ogc/api"); mustJSON(ogc["paths"]) != mustJSON(d["paths"]) {
		t.Error("/ogc/api and /openapi.json differ")
	}
	paths := d["paths"].(map[string]any)
	n := 0
	for _, r := range c.srv.echo.Routes() {
		if strings.HasPrefix(r.Method, "echo_route") || strings.HasSuffix(r.Path, "/*") {
			continue // echo's own not-found routes of groups
		}
		for _, p := range openAPIPathsOf(r.Path) {
			item, ok := paths[p].(map[string]any)
			if !ok {
				t.Errorf("route %s %s: no path %s in the document", r.Method, r.Path, p)
				continue
			}
			if _, ok := item[strings.ToLower(r.Method)]; !ok {
				t.Errorf("route %s %s: path %s has no %s operation", r.Method, r.Path, p, strings.ToLower(r.Method))
			}
			n++
		}
	}
	if n < 30 {
		t.Errorf("only %d routes checked; the server has more", n)
	}
	// And every documented path is served (no stale entries).
	served := map[string]bool{}
	for _, r := range c.srv.echo.Routes() {
		if strings.HasPrefix(r.Method, "echo_route") {
			continue
		}
		for _, p := range openAPIPathsOf(r.Path) {
			served[p] = true
		}
	}
	for p := range paths {
		if !served[p] {
			t.Errorf("the document describes %s, which no route serves", p)
		}
	}
}

// TestOpenAPIWellFormed checks what generic tools rely on: every $ref
// resolves, operation ids are unique, every {param} of a path is declared
// as a path parameter, every operation has responses.
func TestOpenAPIWellFormed(t *testing.T) {
	c := newCity(t)
	d := openAPIDocOf(t, c, "/openapi.json")
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if r, ok := v["$ref"].(string); ok {
				refs = append(refs, r)
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
	walk(d)
	resolve := func(r string) (map[string]any, bool) {
		var cur any = d
		for _, part := range strings.Split(strings.TrimPrefix(r, "#/"), "/") {
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			cur = m[part]
		}
		m, ok := cur.(map[string]any)
		return m, ok
	}
	for _, r := range refs {
		if _, ok := resolve(r); !strings.HasPrefix(r, "#/components/") || !ok {
			t.Errorf("$ref %s does not resolve", r)
		}
	}
	ids := map[string]string{}
	for p, item := range d["paths"].(map[string]any) {
		im := item.(map[string]any)
		for method, o := range im {
			if method == "parameters" {
				continue
			}
			om := o.(map[string]any)
			id, _ := om["operationId"].(string)
			if prev, dup := ids[id]; id == "" || dup {
				t.Errorf("%s %s: operationId %q empty or also used by %s", method, p, id, prev)
			}
			ids[id] = method + " " + p
			if rs, _ := om["responses"].(map[string]any); len(rs) == 0 {
				t.Errorf("%s %s has no responses", method, p)
			}
			var declared []string
			for _, list := range []any{im["parameters"], om["parameters"]} {
				ps, _ := list.([]any)
				for _, pv := range ps {
					pm := pv.(map[string]any)
					if r, ok := pm["$ref"].(string); ok {
						pm, _ = resolve(r)
					}
					if pm["in"] == "path" {
						declared = append(declared, pm["name"].(string))
					}
				}
			}
			for _, m := range regexp.MustCompile(`\{(\w+)\}`).FindAllStringSubmatch(p, -1) {
				if !slices.Contains(declared, m[1]) {
					t.Errorf("%s %s: path parameter %s is not declared", method, p, m[1])
				}
			}
		}
	}
	// The OGC items limit advertises the cap; the REST one the 400 limit.
	lim := d["components"].(map[string]any)["parameters"].(map[string]any)["limit"].(map[string]any)["schema"].(map[string]any)
	if lim["maximum"].(float64) != 10000 || lim["default"].(float64) != 100 {
		t.Errorf("limit schema %v, want maximum 10000 default 100", lim)
	}
}

// TestOpenAPIValidator runs openapi-spec-validator (Python) on the
// document when it is installed; CI installs it.
func TestOpenAPIValidator(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err == nil {
		err = exec.Command(py, "-c", "import openapi_spec_validator").Run()
	}
	if err != nil {
		t.Skip("python3 with openapi-spec-validator is not installed")
	}
	c := newCity(t)
	rec := c.do(t, req{path: "/openapi.json"})
	var pretty map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &pretty); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "openapi.json")
	if err := os.WriteFile(path, rec.Body.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", `import json, sys
from openapi_spec_validator import validate
validate(json.load(open(sys.argv[1])))
print("valid")`, path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "valid") {
		t.Fatalf("openapi-spec-validator: %v\n%s", err, out)
	}
}

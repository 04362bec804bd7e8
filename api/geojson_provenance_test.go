package api

import (
	"net/http"
	"testing"
)

// TestProvenanceProperties: source_name and source_id are read by the
// roles that see private fields (on /parts and OGC items), set by admins
// and departments, and refused to inspectors.
func TestProvenanceProperties(t *testing.T) {
	c := newCity(t)
	src := `{"properties":{"source_name":"cambridge_INFRA_StreetLights","source_id":"PL-17"}}`
	if rec := c.do(t, req{method: "PATCH", path: "/parts/" + codeLamp, token: "admin", body: src}); rec.Code != http.StatusOK {
		t.Fatalf("admin PATCH: %d %s", rec.Code, rec.Body.String())
	}
	m := problem(t, c.do(t, req{method: "PATCH", path: "/parts/" + codeCover, token: "insp",
		body: `{"properties":{"source_id":"X"}}`}), http.StatusForbidden)
	if !containsField(problemFields(m), "source_id") {
		t.Errorf("inspector's 403 does not name source_id: %v", m)
	}
	if rec := c.do(t, req{method: "PATCH", path: "/parts/" + codeCover, token: "water",
		body: `{"properties":{"source_name":"hydrants.csv","source_id":"H1"}}`}); rec.Code != http.StatusOK {
		t.Fatalf("department PATCH: %d %s", rec.Code, rec.Body.String())
	}
	m = problem(t, c.do(t, req{method: "PATCH", path: "/parts/" + codeCover, token: "admin",
		body: `{"properties":{"source_id":17}}`}), http.StatusBadRequest)
	if !containsField(problemFields(m), "source_id") {
		t.Errorf("a number for source_id: %v", m)
	}
	add := pointFeature(newCover, 120.6021, 31.3011, map[string]any{"source_name": "new.geojson", "source_id": "n-1"})
	if rec := c.do(t, req{method: "POST", path: "/parts", token: "water", body: add}); rec.Code != http.StatusCreated {
		t.Fatalf("department POST: %d %s", rec.Code, rec.Body.String())
	}

	want := map[string][2]string{codeLamp: {"cambridge_INFRA_StreetLights", "PL-17"}, codeCover: {"hydrants.csv", "H1"}, newCover: {"new.geojson", "n-1"}}
	for code, w := range want {
		for token, sees := range map[string]bool{"": false, "pub": false, "insp": true, "water": true, "admin": true} {
			for _, path := range []string{"/parts/" + code, "/parts?codes=" + code, "/ogc/collections/parts/items/" + code} {
				m := doc(t, c.do(t, req{path: path, token: token}))
				if f, ok := m["features"].([]any); ok {
					m = f[0].(map[string]any)
				}
				p := props(t, m)
				name, hasName := p["source_name"]
				id, hasID := p["source_id"]
				if hasName != sees || hasID != sees || sees && (name != w[0] || id != w[1]) {
					t.Errorf("token %q %s: source_name %v (%v) source_id %v (%v), want %v %q", token, path, name, hasName, id, hasID, sees, w)
				}
			}
		}
	}
}

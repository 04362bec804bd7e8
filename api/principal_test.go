package api

import (
	"fmt"
	"net/http"
	"testing"
)

// TestRights holds each role to its rights.
func TestRights(t *testing.T) {
	state := `{"properties":{"state":"破损"}}`
	notePhoto := `{"properties":{"note":"seen","photo":"x.jpg"}}`
	rename := `{"properties":{"name":"new name","state":"破损"}}`
	move := `{"geometry":{"type":"Point","coordinates":[120.6001,31.3001]}}`
	handAway := `{"properties":{"dept_owner":"lighting"}}`
	cover := pointFeature(newCover, 120.6021, 31.3011, nil)
	lamp := pointFeature("3205080118000500", 120.6021, 31.3011, nil)
	stateOnly := func(code string, i int) string {
		// a full modify record that changes only the state
		pt := pointAt(i)
		return mustJSON(map[string]any{"changes": []any{map[string]any{"op": "modify", "feature": jsonValue(pointFeature(code, pt[0], pt[1],
			map[string]any{"name": fmt.Sprintf("上水井盖 %d", i+1), "dept_supervisor": "citymgmt", "dept_owner": "water", "state": "占用",
				"surveyed": "2020-01-01", "photo": fmt.Sprintf("photos/%d.jpg", i+1), "note": "note", "material": "铸铁"}))}}})
	}
	addRecord := mustJSON(map[string]any{"changes": []any{map[string]any{"op": "add", "feature": jsonValue(cover)}}})
	tests := map[string]struct {
		token, method, path, body string
		status                    int
		field                     string // a field the 403 names
	}{
		"anonymous reads":             {token: "", method: "GET", path: "/parts/" + codeCover, status: 200},
		"anonymous patch":             {token: "", method: "PATCH", path: "/parts/" + codeCover, body: state, status: 401},
		"anonymous add":               {token: "", method: "POST", path: "/parts", body: cover, status: 401},
		"anonymous retire":            {token: "", method: "DELETE", path: "/parts/" + codeCover, status: 401},
		"anonymous changes":           {token: "", method: "POST", path: "/parts/changes", body: addRecord, status: 401},
		"unknown token":               {token: "nope", method: "GET", path: "/parts/" + codeCover, status: 401},
		"public token patch":          {token: "pub", method: "PATCH", path: "/parts/" + codeCover, body: state, status: 403},
		"inspector state":             {token: "insp", method: "PATCH", path: "/parts/" + codeCover, body: state, status: 200},
		"inspector note and photo":    {token: "insp", method: "PATCH", path: "/parts/" + codeLamp, body: notePhoto, status: 200},
		"inspector rename":            {token: "insp", method: "PATCH", path: "/parts/" + codeCover, body: rename, status: 403, field: "name"},
		"inspector move":              {token: "insp", method: "PATCH", path: "/parts/" + codeCover, body: move, status: 403, field: "geometry"},
		"inspector add":               {token: "insp", method: "POST", path: "/parts", body: cover, status: 403},
		"inspector retire":            {token: "insp", method: "DELETE", path: "/parts/" + codeCover, status: 403},
		"inspector state record":      {token: "insp", method: "POST", path: "/parts/changes", body: stateOnly(codeCover, 0), status: 200},
		"inspector add record":        {token: "insp", method: "POST", path: "/parts/changes", body: addRecord, status: 403},
		"inspector grid":              {token: "insp", method: "PATCH", path: "/grids/" + gridRow0Col0, body: `{"properties":{"name":"x"}}`, status: 403},
		"department own part":         {token: "water", method: "PATCH", path: "/parts/" + codeCover, body: rename, status: 200},
		"department move own part":    {token: "water", method: "PATCH", path: "/parts/" + codeCover, body: move, status: 200},
		"department other part":       {token: "water", method: "PATCH", path: "/parts/" + codeLamp, body: state, status: 403},
		"department hands away":       {token: "water", method: "PATCH", path: "/parts/" + codeCover, body: handAway, status: 403, field: "dept_owner"},
		"department adds own class":   {token: "water", method: "POST", path: "/parts", body: cover, status: 201},
		"department adds other class": {token: "water", method: "POST", path: "/parts", body: lamp, status: 403},
		"department retires own":      {token: "water", method: "DELETE", path: "/parts/" + codeCover, status: 200},
		"department retires other":    {token: "water", method: "DELETE", path: "/parts/" + codeLamp, status: 403},
		"department own record":       {token: "water", method: "POST", path: "/parts/changes", body: addRecord, status: 200},
		"department grid":             {token: "water", method: "DELETE", path: "/grids/" + gridRow0Col0, status: 403},
		"maintainer writes":           {token: "maint", method: "PATCH", path: "/parts/" + codeLamp, body: state, status: 200},
		"maintainer not of this":      {token: "maint", method: "PATCH", path: "/parts/" + codeCover, body: state, status: 403},
		"lighting retires lamp":       {token: "lighting", method: "DELETE", path: "/parts/" + codeLamp, status: 200},
		"admin everything":            {token: "admin", method: "PATCH", path: "/parts/" + codeLamp, body: rename, status: 200},
		"admin grids":                 {token: "admin", method: "PATCH", path: "/grids/" + gridRow0Col0, body: `{"properties":{"name":"x"}}`, status: 200},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := newCity(t)
			rec := c.do(t, req{method: tc.method, path: tc.path, token: tc.token, body: tc.body})
			if tc.status >= 400 {
				m := problem(t, rec, tc.status)
				if tc.status == 401 && rec.Header().Get("WWW-Authenticate") == "" {
					t.Fatal("401 without a WWW-Authenticate challenge")
				}
				if tc.field != "" && !containsField(problemFields(m), tc.field) {
					t.Fatalf("403 does not name %q: %v", tc.field, m)
				}
				return
			}
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body.String())
			}
		})
	}
}

// TestPrivateFields: photo and note reach every role but the public.
func TestPrivateFields(t *testing.T) {
	c := newCity(t)
	for token, sees := range map[string]bool{"": false, "pub": false, "insp": true, "water": true, "admin": true} {
		for _, path := range []string{"/parts/" + codeCover, "/parts?codes=" + codeCover, fmt.Sprintf("/parts/nearest?lon=%v&lat=%v&k=1", pointAt(0)[0], pointAt(0)[1])} {
			m := doc(t, c.do(t, req{path: path, token: token}))
			if f, ok := m["features"].([]any); ok {
				m = f[0].(map[string]any)
			}
			_, hasPhoto := props(t, m)["photo"]
			_, hasNote := props(t, m)["note"]
			if hasPhoto != sees || hasNote != sees {
				t.Fatalf("token %q %s: photo %v note %v, want %v", token, path, hasPhoto, hasNote, sees)
			}
		}
	}
}

// TestNoAnonymous: with AllowAnonymous off, data needs a token but the ops
// endpoints do not.
func TestNoAnonymous(t *testing.T) {
	c := newCityWith(t, func(cfg *Config) { cfg.AllowAnonymous = false })
	problem(t, c.do(t, req{path: "/parts/" + codeCover}), http.StatusUnauthorized)
	expect(t, c.do(t, req{path: "/parts/" + codeCover, token: "insp"}), http.StatusOK, mediaGeoJSON)
	expect(t, c.do(t, req{path: "/healthz"}), http.StatusOK, mediaJSON)
	expect(t, c.do(t, req{path: "/readyz"}), http.StatusOK, mediaJSON)
}

func TestParsePrincipal(t *testing.T) {
	tests := map[string]struct {
		in   string
		want Principal
		ok   bool
	}{
		"public":     {"public", Principal{Role: RolePublic}, true},
		"admin":      {"admin", Principal{Role: RoleAdmin}, true},
		"department": {"department:water", Principal{Role: RoleDepartment, Dept: "water"}, true},
		"no dept":    {"department:", Principal{}, false},
		"unknown":    {"root", Principal{}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParsePrincipal(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("ParsePrincipal(%q) = %v, %v", tc.in, got, err)
			}
			if tc.ok && got.String() != tc.in {
				t.Fatalf("String() = %q, want %q", got.String(), tc.in)
			}
		})
	}
}

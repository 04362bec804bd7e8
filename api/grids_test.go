package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestGridReads checks every read route of /grids and its error cases.
func TestGridReads(t *testing.T) {
	c := newCity(t)
	tests := map[string]struct {
		path   string
		status int
		ctype  string
		check  func(t *testing.T, m map[string]any)
		field  string
	}{
		"locate": {path: fmt.Sprintf("/grids/locate?lon=%v&lat=%v", lon0+0.0035, lat0+0.0015), status: 200, ctype: mediaGeoJSON, check: func(t *testing.T, m map[string]any) {
			p := props(t, m)
			if m["id"] != gridRow1Col3 || p["code"] != gridRow1Col3 || p["district"] != "320508" || p["street"] != "320508001" ||
				p["community"] != "320508001002" || p["name"] != "网格2-4" || p["dept"] != "street-pj" || p["version"] != 1.0 {
				t.Fatalf("grid %v", m)
			}
			if m["geometry"].(map[string]any)["type"] != "Polygon" {
				t.Fatalf("geometry %v", m["geometry"])
			}
		}},
		"locate outside": {path: "/grids/locate?lon=100&lat=30", status: 404},
		"locate no lon":  {path: "/grids/locate?lat=30", status: 400, field: "lon"},
		"locate bad lat": {path: "/grids/locate?lon=120&lat=x", status: 400, field: "lat"},
		"get": {path: "/grids/" + gridRow0Col0, status: 200, ctype: mediaGeoJSON, check: func(t *testing.T, m map[string]any) {
			if m["id"] != gridRow0Col0 {
				t.Fatalf("id %v", m["id"])
			}
		}},
		"get unknown":   {path: "/grids/32050800100199", status: 404},
		"get malformed": {path: "/grids/3205", status: 400, field: "code"},
		"list all": {path: "/grids", status: 200, ctype: mediaGeoJSON, check: func(t *testing.T, m map[string]any) {
			if m["numberMatched"] != 8.0 || len(features(t, m)) != 8 || codesOf(t, m)[0] != gridRow0Col0 {
				t.Fatalf("grids %v %v", m["numberMatched"], codesOf(t, m))
			}
		}},
		"list bbox": {path: fmt.Sprintf("/grids?bbox=%v,%v,%v,%v", lon0+0.0001, lat0+0.0001, lon0+0.0002, lat0+0.0002), status: 200, ctype: mediaGeoJSON, check: func(t *testing.T, m map[string]any) {
			if got := codesOf(t, m); len(got) != 1 || got[0] != gridRow0Col0 {
				t.Fatalf("grids in bbox %v", got)
			}
		}},
		"list bad bbox":   {path: "/grids?bbox=a,b,c,d", status: 400, field: "bbox"},
		"list huge limit": {path: "/grids?limit=20000", status: 400, field: "limit"},
		"districts": {path: "/grids/hierarchy", status: 200, ctype: mediaJSON, check: func(t *testing.T, m map[string]any) {
			kids := m["children"].([]any)
			if len(kids) != 1 || kids[0].(map[string]any)["code"] != "320508" || kids[0].(map[string]any)["name"] != "姑苏区" {
				t.Fatalf("districts %v", m)
			}
		}},
		"streets of a district": {path: "/grids/hierarchy/320508", status: 200, ctype: mediaJSON, check: func(t *testing.T, m map[string]any) {
			kids := m["children"].([]any)
			if m["name"] != "姑苏区" || m["level"] != "district" || len(kids) != 1 || kids[0].(map[string]any)["name"] != "平江街道" {
				t.Fatalf("district %v", m)
			}
		}},
		"communities of a street": {path: "/grids/hierarchy/320508001", status: 200, ctype: mediaJSON, check: func(t *testing.T, m map[string]any) {
			kids := m["children"].([]any)
			if len(kids) != 2 || kids[1].(map[string]any)["name"] != "拙政社区" || kids[1].(map[string]any)["level"] != "community" {
				t.Fatalf("street %v", m)
			}
		}},
		"grids of a community": {path: "/grids/hierarchy/" + communityRow0, status: 200, ctype: mediaJSON, check: func(t *testing.T, m map[string]any) {
			kids := m["children"].([]any)
			if len(kids) != 4 || kids[0].(map[string]any)["code"] != gridRow0Col0 || kids[0].(map[string]any)["name"] != "网格1-1" {
				t.Fatalf("community %v", m)
			}
		}},
		"unknown district":   {path: "/grids/hierarchy/110101", status: 404},
		"malformed prefix":   {path: "/grids/hierarchy/3205", status: 400, field: "prefix"},
		"a grid is no level": {path: "/grids/hierarchy/" + gridRow0Col0, status: 400, field: "prefix"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rec := c.do(t, req{path: tc.path})
			if tc.status >= 400 {
				m := problem(t, rec, tc.status)
				if tc.field != "" && m["field"] != tc.field && !containsField(problemFields(m), tc.field) {
					t.Fatalf("problem does not blame %q: %v", tc.field, m)
				}
				return
			}
			m := expect(t, rec, tc.status, tc.ctype)
			if tc.check != nil {
				tc.check(t, m)
			}
		})
	}
}

// TestGridPaging pages the grids in code order.
func TestGridPaging(t *testing.T) {
	c := newCity(t)
	var got []string
	path := "/grids?limit=3"
	for path != "" {
		m := expect(t, c.do(t, req{path: path}), http.StatusOK, mediaGeoJSON)
		got = append(got, codesOf(t, m)...)
		next, ok := linkHref(m, "next")
		path = strings.TrimPrefix(next, "http://example.com")
		if !ok {
			path = ""
		}
	}
	if len(got) != 8 || got[0] != gridRow0Col0 || got[7] != gridRow1Col3 {
		t.Fatalf("paged grids %v", got)
	}
}

func gridBody(code string, x0, y0, d float64, props map[string]any) string {
	if props == nil {
		props = map[string]any{}
	}
	if code != "" {
		props["code"] = code
	}
	return mustJSON(map[string]any{"type": "Feature", "geometry": map[string]any{"type": "Polygon", "coordinates": square(x0, y0, d)}, "properties": props})
}

// TestGridEdits adds, modifies and removes grids, and checks the errors.
func TestGridEdits(t *testing.T) {
	newGrid := "32050800100205"
	x0, y0 := lon0+0.004, lat0+0.001
	t.Run("add modify remove", func(t *testing.T) {
		c := newCity(t)
		rec := c.do(t, req{method: "POST", path: "/grids", token: "admin", body: gridBody(newGrid, x0, y0, testCell, map[string]any{"name": "新网格", "dept": "street-pj"})})
		m := expect(t, rec, http.StatusCreated, mediaGeoJSON)
		if rec.Header().Get("Location") != "/grids/"+newGrid || rec.Header().Get("ETag") != `"1"` || props(t, m)["name"] != "新网格" {
			t.Fatalf("created %v, headers %v", m, rec.Header())
		}
		located := doc(t, c.do(t, req{path: fmt.Sprintf("/grids/locate?lon=%v&lat=%v", x0+0.0005, y0+0.0005)}))
		if located["id"] != newGrid {
			t.Fatalf("the new grid is not located: %v", located["id"])
		}
		rec = c.do(t, req{method: "PATCH", path: "/grids/" + newGrid, token: "admin", body: `{"properties":{"name":"改名"}}`, header: map[string]string{"If-Match": `"1"`}})
		m = expect(t, rec, http.StatusOK, mediaGeoJSON)
		if props(t, m)["name"] != "改名" || rec.Header().Get("ETag") != `"2"` {
			t.Fatalf("patched %v", m)
		}
		problem(t, c.do(t, req{method: "PATCH", path: "/grids/" + newGrid, token: "admin", body: `{"properties":{"name":"x"}}`, header: map[string]string{"If-Match": `"1"`}}), http.StatusPreconditionFailed)
		expect(t, c.do(t, req{method: "DELETE", path: "/grids/" + newGrid, token: "admin", header: map[string]string{"If-Match": `"2"`}}), http.StatusOK, mediaGeoJSON)
		problem(t, c.do(t, req{path: "/grids/" + newGrid}), http.StatusNotFound)
	})
	t.Run("add with the code in the path", func(t *testing.T) {
		c := newCity(t)
		rec := c.do(t, req{method: "POST", path: "/grids/" + newGrid, token: "admin", body: gridBody("", x0, y0, testCell, nil)})
		expect(t, rec, http.StatusCreated, mediaGeoJSON)
	})
	errCases := map[string]struct {
		r      req
		status int
		field  string
	}{
		"exists":                 {r: req{method: "POST", path: "/grids", token: "admin", body: gridBody(gridRow0Col0, x0, y0, testCell, nil)}, status: 409},
		"not admin":              {r: req{method: "POST", path: "/grids", token: "water", body: gridBody(newGrid, x0, y0, testCell, nil)}, status: 403},
		"anonymous":              {r: req{method: "POST", path: "/grids", body: gridBody(newGrid, x0, y0, testCell, nil)}, status: 401},
		"path and body disagree": {r: req{method: "POST", path: "/grids/" + newGrid, token: "admin", body: gridBody(gridRow0Col0, x0, y0, testCell, nil)}, status: 400, field: "properties.code"},
		"not a polygon": {r: req{method: "POST", path: "/grids", token: "admin",
			body: `{"type":"Feature","geometry":{"type":"Point","coordinates":[120.6,31.3]},"properties":{"code":"` + newGrid + `"}}`}, status: 400, field: "geometry"},
		"self-intersecting": {r: req{method: "POST", path: "/grids", token: "admin",
			body: `{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[120.604,31.301],[120.605,31.302],[120.605,31.301],[120.604,31.302],[120.604,31.301]]]},"properties":{"code":"` + newGrid + `"}}`}, status: 400, field: "geometry"},
		"unknown property":    {r: req{method: "POST", path: "/grids", token: "admin", body: gridBody(newGrid, x0, y0, testCell, map[string]any{"colour": "red"})}, status: 400, field: "properties.colour"},
		"wrong district":      {r: req{method: "POST", path: "/grids", token: "admin", body: gridBody(newGrid, x0, y0, testCell, map[string]any{"district": "110101"})}, status: 400, field: "properties.district"},
		"patch unknown grid":  {r: req{method: "PATCH", path: "/grids/32050800100299", token: "admin", body: `{"properties":{"name":"x"}}`}, status: 404},
		"patch empty":         {r: req{method: "PATCH", path: "/grids/" + gridRow0Col0, token: "admin", body: `{}`}, status: 400, field: "body"},
		"delete stale":        {r: req{method: "DELETE", path: "/grids/" + gridRow0Col0, token: "admin", header: map[string]string{"If-Match": `"7"`}}, status: 412},
		"delete as inspector": {r: req{method: "DELETE", path: "/grids/" + gridRow0Col0, token: "insp"}, status: 403},
	}
	c := newCity(t)
	for name, tc := range errCases {
		t.Run(name, func(t *testing.T) {
			m := problem(t, c.do(t, tc.r), tc.status)
			if tc.field != "" && m["field"] != tc.field && !containsField(problemFields(m), tc.field) {
				t.Fatalf("problem does not blame %q: %v", tc.field, m)
			}
		})
	}
}

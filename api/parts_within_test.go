package api

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

func polygonJSON(p orb.Polygon) string {
	return mustJSON(map[string]any{"type": "Polygon", "coordinates": p})
}

// TestPartsWithin checks POST /parts/within against a brute-force count.
func TestPartsWithin(t *testing.T) {
	c := newCity(t)
	cell := square(lon0, lat0, testCell) // grid row 0, column 0: 40 points and the rail
	right := square(lon0+3*testCell, lat0+testCell, testCell)
	tests := map[string]struct {
		path, body string
		status     int
		want       int    // numberMatched
		field      string // for problems
	}{
		"polygon":                  {path: "/parts/within", body: polygonJSON(cell), status: 200, want: 41},
		"feature":                  {path: "/parts/within", body: mustJSON(map[string]any{"type": "Feature", "geometry": jsonValue(polygonJSON(cell)), "properties": map[string]any{}}), status: 200, want: 41},
		"multipolygon":             {path: "/parts/within", body: mustJSON(map[string]any{"type": "MultiPolygon", "coordinates": []orb.Polygon{cell, right}}), status: 200, want: 41 + bruteWithin(right)},
		"filtered":                 {path: "/parts/within?class=0118", body: polygonJSON(cell), status: 200, want: bruteWithinClass(cell, 118)},
		"with a hole":              {path: "/parts/within", body: polygonJSON(orb.Polygon{cell[0], orb.Ring{{lon0 + 0.0001, lat0 + 0.0001}, {lon0 + 0.0001, lat0 + 0.0009}, {lon0 + 0.0009, lat0 + 0.0009}, {lon0 + 0.0009, lat0 + 0.0001}, {lon0 + 0.0001, lat0 + 0.0001}}}), status: 200, want: bruteWithinHole()},
		"self-intersecting":        {path: "/parts/within", body: `{"type":"Polygon","coordinates":[[[120.6,31.3],[120.601,31.301],[120.601,31.3],[120.6,31.301],[120.6,31.3]]]}`, status: 400, field: "geometry"},
		"spike":                    {path: "/parts/within", body: `{"type":"Polygon","coordinates":[[[120.6,31.3],[120.602,31.3],[120.601,31.3],[120.601,31.301],[120.6,31.3]]]}`, status: 400, field: "geometry"},
		"a point":                  {path: "/parts/within", body: `{"type":"Point","coordinates":[120.6,31.3]}`, status: 400, field: "geometry"},
		"open ring":                {path: "/parts/within", body: `{"type":"Polygon","coordinates":[[[120.6,31.3],[120.601,31.3],[120.601,31.301],[120.6,31.301]]]}`, status: 400},
		"not json":                 {path: "/parts/within", body: `POLYGON((1 2, 3 4))`, status: 400, field: "body"},
		"bad filter":               {path: "/parts/within?major=x", body: polygonJSON(cell), status: 400, field: "major"},
		"huge limit":               {path: "/parts/within?limit=99999", body: polygonJSON(cell), status: 400, field: "limit"},
		"feature without geometry": {path: "/parts/within", body: `{"type":"Feature","geometry":null,"properties":{}}`, status: 400, field: "geometry"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rec := c.do(t, req{method: "POST", path: tc.path, body: tc.body})
			if tc.status >= 400 {
				m := problem(t, rec, tc.status)
				if tc.field != "" && m["field"] != tc.field && !containsField(problemFields(m), tc.field) {
					t.Fatalf("problem does not blame %q: %v", tc.field, m)
				}
				return
			}
			m := expect(t, rec, tc.status, mediaGeoJSON)
			if m["numberMatched"] != float64(tc.want) {
				t.Fatalf("numberMatched %v, want %d", m["numberMatched"], tc.want)
			}
		})
	}

	t.Run("too many vertices", func(t *testing.T) {
		c := newCityWith(t, func(cfg *Config) { cfg.MaxVertices = 10 })
		ring := orb.Ring{}
		for i := 0; i < 12; i++ {
			ring = append(ring, orb.Point{lon0 + float64(i)*0.0001, lat0 + float64(i%2)*0.0001 + float64(i)*0.00001})
		}
		ring = append(ring, orb.Point{lon0, lat0 + 0.002}, ring[0])
		m := problem(t, c.do(t, req{method: "POST", path: "/parts/within", body: polygonJSON(orb.Polygon{ring})}), 400)
		if m["field"] != "geometry" || !strings.Contains(m["reason"].(string), "vertices") {
			t.Fatalf("problem %v", m)
		}
	})

	t.Run("paging is bound to the area", func(t *testing.T) {
		body := polygonJSON(cell)
		var got []string
		path := "/parts/within?limit=15"
		for path != "" {
			m := expect(t, c.do(t, req{method: "POST", path: path, body: body}), http.StatusOK, mediaGeoJSON)
			got = append(got, codesOf(t, m)...)
			next, ok := linkHref(m, "next")
			path = strings.TrimPrefix(next, "http://example.com")
			if !ok {
				path = ""
			}
		}
		if len(got) != 41 || !slices.IsSorted(got) {
			t.Fatalf("paged %d codes", len(got))
		}
		m := doc(t, c.do(t, req{method: "POST", path: "/parts/within?limit=15", body: body}))
		next, _ := linkHref(m, "next")
		other := polygonJSON(right)
		p := problem(t, c.do(t, req{method: "POST", path: strings.TrimPrefix(next, "http://example.com"), body: other}), 400)
		if p["field"] != "cursor" {
			t.Fatalf("a cursor of another area: %v", p)
		}
	})
}

// bruteWithin counts the test city's live points inside a polygon
// (boundaries included), plus the line and polygon parts by hand.
func bruteWithin(p orb.Polygon) int { return bruteWithinClass(p, 0) }

func bruteWithinClass(p orb.Polygon, class int) int {
	n := 0
	b := p.Bound()
	for i := 0; i < nPoints; i++ {
		if class != 0 && int(pointClasses[i%3]) != class {
			continue
		}
		if b.Contains(pointAt(i)) {
			n++
		}
	}
	if class == 0 && b.Contains(orb.Point{lon0 + 0.0032, lat0 + 0.0012}) { // the green space's corner
		n++
	}
	if class == 0 && b.Contains(orb.Point{lon0 + 0.0001, lat0 + 0.0002}) { // the rail's end
		n++
	}
	return n
}

// bruteWithinHole counts points of cell 0 outside the hole (0.0001..0.0009).
func bruteWithinHole() int {
	n := 0
	for i := 0; i < nPoints; i++ {
		pt := pointAt(i)
		if pt[0] > lon0+testCell || pt[1] > lat0+testCell {
			continue
		}
		dx, dy := pt[0]-lon0, pt[1]-lat0
		if dx > 0.0001 && dx < 0.0009 && dy > 0.0001 && dy < 0.0009 {
			continue
		}
		n++
	}
	return n + 1 // the rail crosses the ring's band
}

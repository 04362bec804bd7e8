package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

func tilePath(layer string, t maptile.Tile, query string) string {
	p := fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", layer, t.Z, t.X, t.Y)
	if query != "" {
		p += "?" + query
	}
	return p
}

// decodeTile decodes an MVT answer (gzipped or not) to WGS84 layers.
func decodeTile(t testing.TB, body []byte, gz bool, tile maptile.Tile) mvt.Layers {
	t.Helper()
	var ls mvt.Layers
	var err error
	if gz {
		ls, err = mvt.UnmarshalGzipped(body)
	} else {
		ls, err = mvt.Unmarshal(body)
	}
	if err != nil {
		t.Fatalf("tile does not decode: %v", err)
	}
	ls.ProjectToWGS84(tile)
	return ls
}

// findCode returns the geometry of the feature with the code in a layer.
func findCode(ls mvt.Layers, layer, code string) (orb.Geometry, bool) {
	for _, l := range ls {
		if l.Name != layer {
			continue
		}
		for _, f := range l.Features {
			if f.Properties["code"] == code {
				return f.Geometry, true
			}
		}
	}
	return nil, false
}

// TestTiles checks the tile routes: encodings, ETags, filters and errors.
func TestTiles(t *testing.T) {
	c := newCity(t)
	cover := pointAt(0)
	z18 := maptile.At(cover, 18)

	rec := c.do(t, req{path: tilePath("parts", z18, ""), header: map[string]string{"Accept-Encoding": "gzip"}})
	expect(t, rec, http.StatusOK, mediaMVT)
	if rec.Header().Get("Content-Encoding") != "gzip" || !strings.Contains(rec.Header().Get("Cache-Control"), "max-age=1") ||
		!strings.Contains(rec.Header().Get("Cache-Control"), "must-revalidate") {
		t.Fatalf("headers %v", rec.Header())
	}
	ls := decodeTile(t, rec.Body.Bytes(), true, z18)
	if _, ok := findCode(ls, "parts", codeCover); !ok {
		t.Fatal("the cover is not in its z18 tile")
	}
	if v := rec.Header().Values("Vary"); strings.Count(strings.Join(v, ","), "Accept-Encoding") != 1 {
		t.Fatalf("Vary %q: Accept-Encoding not said exactly once", v)
	}
	tag := rec.Header().Get("ETag")
	if tag == "" || tag[0] != '"' {
		t.Fatalf("ETag %q", tag)
	}
	rec = c.do(t, req{path: tilePath("parts", z18, ""), header: map[string]string{"Accept-Encoding": "gzip", "If-None-Match": tag}})
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Fatalf("If-None-Match: status %d", rec.Code)
	}

	// Without gzip the same tile arrives plain, under another ETag.
	rec = c.do(t, req{path: tilePath("parts", z18, ""), header: map[string]string{"Accept-Encoding": ""}})
	expect(t, rec, http.StatusOK, mediaMVT)
	if rec.Header().Get("Content-Encoding") != "" || rec.Header().Get("ETag") == tag {
		t.Fatalf("identity headers %v", rec.Header())
	}
	if _, ok := findCode(decodeTile(t, rec.Body.Bytes(), false, z18), "parts", codeCover); !ok {
		t.Fatal("the cover is not in the plain tile")
	}
	rec = c.do(t, req{path: tilePath("parts", z18, ""), header: map[string]string{"Accept-Encoding": "gzip;q=0"}})
	if rec.Header().Get("Content-Encoding") != "" {
		t.Fatal("gzip;q=0 still got gzip")
	}

	// A class filter drops the cover.
	rec = c.do(t, req{path: tilePath("parts", z18, "class=0118"), header: map[string]string{"Accept-Encoding": "gzip"}})
	expect(t, rec, http.StatusOK, mediaMVT)
	if _, ok := findCode(decodeTile(t, rec.Body.Bytes(), true, z18), "parts", codeCover); ok {
		t.Fatal("class=0118 kept a 0101 cover")
	}
	// grids and city layers.
	for _, layer := range []string{"grids", "city"} {
		expect(t, c.do(t, req{path: tilePath(layer, maptile.At(cover, 14), "")}), http.StatusOK, mediaMVT)
	}

	errs := map[string]struct {
		path   string
		status int
		field  string
	}{
		"unknown layer":  {path: "/tiles/roads/18/1/1.mvt", status: 404},
		"no .mvt":        {path: "/tiles/parts/18/1/1.png", status: 404},
		"x out of range": {path: "/tiles/parts/2/4/0.mvt", status: 400},
		"zoom too deep":  {path: "/tiles/parts/40/0/0.mvt", status: 400},
		"x not a number": {path: "/tiles/parts/2/a/0.mvt", status: 400, field: "x"},
		"bad filter":     {path: "/tiles/parts/2/0/0.mvt?state=broken", status: 400, field: "state"},
		"unknown param":  {path: "/tiles/parts/2/0/0.mvt?colour=red", status: 400, field: "colour"},
		"tilejson typo":  {path: "/tiles/parts.jsn", status: 404},
		"tilejson layer": {path: "/tiles/roads.json", status: 404},
	}
	for name, tc := range errs {
		t.Run(name, func(t *testing.T) {
			m := problem(t, c.do(t, req{path: tc.path}), tc.status)
			if tc.field != "" && m["field"] != tc.field && !containsField(problemFields(m), tc.field) {
				t.Fatalf("problem does not blame %q: %v", tc.field, m)
			}
		})
	}

	t.Run("tilejson", func(t *testing.T) {
		rec := c.do(t, req{path: "/tiles/parts.json?class=0101", header: map[string]string{"Host": "maps.example.org"}})
		m := expect(t, rec, http.StatusOK, mediaJSON)
		urls, _ := m["tiles"].([]any)
		if len(urls) != 1 || urls[0] != "http://maps.example.org/tiles/parts/{z}/{x}/{y}.mvt?class=0101" {
			t.Fatalf("tiles %v", m["tiles"])
		}
		if m["tilejson"] != "3.0.0" {
			t.Fatalf("tilejson %v", m)
		}
	})
}

// TestTileFreshness: after a PATCH moves a part, the very next tile request
// shows it in its new place, at z18 and at z12.
func TestTileFreshness(t *testing.T) {
	c := newCity(t)
	from := pointAt(0)
	to := orb.Point{lon0 + 0.0035, lat0 + 0.0016} // another grid, another z18 tile
	for _, z := range []maptile.Zoom{18, 12} {
		// Warm the caches of both tiles.
		for _, p := range []orb.Point{from, to} {
			c.do(t, req{path: tilePath("parts", maptile.At(p, z), ""), header: map[string]string{"Accept-Encoding": "gzip"}})
		}
	}
	rec := c.do(t, req{method: "PATCH", path: "/parts/" + codeCover, token: "admin",
		body: mustJSON(map[string]any{"geometry": map[string]any{"type": "Point", "coordinates": to}})})
	expect(t, rec, http.StatusOK, mediaGeoJSON)

	for _, z := range []maptile.Zoom{18, 12} {
		newTile := maptile.At(to, z)
		rec := c.do(t, req{path: tilePath("parts", newTile, ""), header: map[string]string{"Accept-Encoding": "gzip"}})
		expect(t, rec, http.StatusOK, mediaMVT)
		g, ok := findCode(decodeTile(t, rec.Body.Bytes(), true, newTile), "parts", codeCover)
		if !ok {
			t.Fatalf("z%d: the moved cover is not in its new tile", z)
		}
		tol := 360 / float64(uint64(1)<<z) / 4096 * 2 // two tile units
		if p, isPt := g.(orb.Point); !isPt || abs(p[0]-to[0]) > tol || abs(p[1]-to[1]) > tol {
			t.Fatalf("z%d: cover at %v, want %v", z, g, to)
		}
		if z == 18 {
			oldTile := maptile.At(from, z)
			rec := c.do(t, req{path: tilePath("parts", oldTile, ""), header: map[string]string{"Accept-Encoding": "gzip"}})
			if _, ok := findCode(decodeTile(t, rec.Body.Bytes(), true, oldTile), "parts", codeCover); ok {
				t.Fatal("z18: the moved cover is still in its old tile")
			}
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

package api

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"testing"

	"github.com/paulmach/orb"

	"citytwin/parts"
)

func FuzzDecodeFeature(f *testing.F) {
	for _, s := range []string{
		pointFeature(codeCover, 120.6, 31.3, map[string]any{"state": "破损", "version": 3, "surveyed": "2020-01-01"}),
		`{"type":"Feature","id":3205080101000001,"geometry":{"type":"LineString","coordinates":[[120,31],[121,32,5]]},"properties":{"class":101}}`,
		`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]},"properties":null}`,
		`{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]}}`,
		`{"geometry":{"type":"GeometryCollection","geometries":[]}}`,
		`{"properties":{"retired":false,"changed":"x","grid_code":"32050800100101","note":null}}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[1e400,0]}}`,
		`[]`, `null`, `{`, ``,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	cat := parts.DefaultCatalogue()
	f.Fuzz(func(t *testing.T, body []byte, partial bool) {
		rf, err := decodeFeature(body, partial)
		if err != nil {
			if problemOf(err).Status != 400 {
				t.Fatalf("decode error %v maps to %d", err, problemOf(err).Status)
			}
			return
		}
		if rf.Geometry != nil {
			checkCoordinates(t, rf.Geometry)
			_ = checkSimple(rf.Geometry, 200)
		}
		var p parts.Part
		if _, err := applyPartProps(&p, rf.Properties); err != nil {
			if problemOf(err).Status != 400 {
				t.Fatalf("property error %v maps to %d", err, problemOf(err).Status)
			}
			return
		}
		p.Geometry = rf.Geometry
		_ = p.Validate(cat)
		if _, err := json.Marshal(featureOfPart(&p, Principal{Role: RoleAdmin})); err != nil {
			t.Fatalf("a decoded part does not encode: %v", err)
		}
	})
}

func checkCoordinates(t *testing.T, g orb.Geometry) {
	var pts []orb.Point
	switch g := g.(type) {
	case orb.Point:
		pts = []orb.Point{g}
	case orb.MultiPoint:
		pts = g
	case orb.LineString:
		pts = g
	case orb.MultiLineString:
		for _, l := range g {
			pts = append(pts, l...)
		}
	case orb.Polygon:
		for _, r := range g {
			if len(r) < 4 || r[0] != r[len(r)-1] {
				t.Fatalf("ring %v accepted", r)
			}
			pts = append(pts, r...)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				pts = append(pts, r...)
			}
		}
	default:
		t.Fatalf("unexpected geometry %T", g)
	}
	for _, p := range pts {
		if math.IsNaN(p[0]) || math.IsNaN(p[1]) || p[0] < -180 || p[0] > 180 || p[1] < -90 || p[1] > 90 {
			t.Fatalf("coordinate %v accepted", p)
		}
	}
}

func FuzzParseBBox(f *testing.F) {
	for _, s := range []string{"120.6,31.3,120.7,31.4", "-180,-90,180,90", "1,2,3", "1,2,3,4,5", "a,b,c,d", "NaN,0,1,1", "1e309,0,1,1", " 1 , 2 , 3 , 4 ", "3,2,1,4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := parseBBox(s)
		if err != nil {
			if problemOf(err).Status != 400 || problemOf(err).Field != "bbox" {
				t.Fatalf("error %v is not a 400 on bbox", err)
			}
			return
		}
		if b.Min[0] > b.Max[0] || b.Min[1] > b.Max[1] || b.Min[0] < -180 || b.Max[0] > 180 || b.Min[1] < -90 || b.Max[1] > 90 {
			t.Fatalf("bbox %q accepted as %v", s, b)
		}
		again, err := parseBBox(fmt.Sprintf("%v,%v,%v,%v", b.Min[0], b.Min[1], b.Max[0], b.Max[1]))
		if err != nil || again != b {
			t.Fatalf("bbox %v does not round-trip: %v %v", b, again, err)
		}
	})
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"class=0101,0118&major=1&owner=water&dept=x&state=破损&grid=320508&changed_since=2025-01-01",
		"class=0100", "major=0", "state=9", "grid=abc", "changed_since=2025-01-01T00:00:00Z", "owner=a&owner=b",
		"class=,,,", "%zz", "state=damaged,intact&class=0405",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		_ = checkParams(q, filterParams)
		flt, err := parseFilter(q, parts.DefaultCatalogue())
		if err != nil {
			if problemOf(err).Status != 400 {
				t.Fatalf("error %v maps to %d", err, problemOf(err).Status)
			}
			return
		}
		for _, c := range flt.Classes {
			if c%100 == 0 || c > 9999 {
				t.Fatalf("class %v accepted", c)
			}
		}
		for _, m := range flt.Majors {
			if m < 1 || m > 99 {
				t.Fatalf("major %d accepted", m)
			}
		}
		for _, s := range flt.States {
			if s > parts.Occupied {
				t.Fatalf("state %d accepted", s)
			}
		}
		if flt.GridPrefix != "" && !isGridPrefix(flt.GridPrefix) {
			t.Fatalf("grid prefix %q accepted", flt.GridPrefix)
		}
	})
}

// TestPolygonIntersection checks the simplicity test on named shapes.
func TestPolygonIntersection(t *testing.T) {
	sq := square(0, 0, 1)
	tests := map[string]struct {
		p      orb.Polygon
		simple bool
	}{
		"square":          {sq, true},
		"triangle":        {orb.Polygon{{{0, 0}, {1, 0}, {0, 1}, {0, 0}}}, true},
		"bow tie":         {orb.Polygon{{{0, 0}, {1, 1}, {1, 0}, {0, 1}, {0, 0}}}, false},
		"spike":           {orb.Polygon{{{0, 0}, {2, 0}, {1, 0}, {1, 1}, {0, 0}}}, false},
		"self-touch":      {orb.Polygon{{{0, 0}, {2, 0}, {1, 1}, {2, 2}, {0, 2}, {1, 1}, {0, 0}}}, false},
		"hole inside":     {orb.Polygon{sq[0], {{0.2, 0.2}, {0.2, 0.8}, {0.8, 0.8}, {0.8, 0.2}, {0.2, 0.2}}}, true},
		"hole crossing":   {orb.Polygon{sq[0], {{0.5, 0.5}, {0.5, 1.5}, {0.8, 1.5}, {0.8, 0.5}, {0.5, 0.5}}}, false},
		"repeated vertex": {orb.Polygon{{{0, 0}, {1, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}}, true},
		"concave":         {orb.Polygon{{{0, 0}, {2, 0}, {2, 2}, {1, 1}, {0, 2}, {0, 0}}}, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			why := polygonIntersection(tc.p)
			if (why == "") != tc.simple {
				t.Fatalf("polygonIntersection = %q, want simple %v", why, tc.simple)
			}
		})
	}
}

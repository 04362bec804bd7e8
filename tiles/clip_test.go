package tiles

import (
	"testing"

	"citytwin/parts"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// TestClipping places geometries at known tile coordinates of a z18 tile
// and checks what is left of them in the tile.
func TestClipping(t *testing.T) {
	tl := maptile.At(fixCenter, 18)
	pr := newProjection(tl, 64, 0)
	at := func(x, y float64) orb.Point { return orb.Point{pr.lon(x + 0.5), pr.lat(y + 0.5)} }
	code := func(cl parts.Class, serial uint32) parts.Code {
		c, err := parts.NewCode(510104, cl, serial)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	type want struct {
		kept  bool
		check func(t *testing.T, g orb.Geometry)
	}
	inBuffered := func(t *testing.T, g orb.Geometry) {
		b := g.Bound()
		if b.Min[0] < -64 || b.Min[1] < -64 || b.Max[0] > 4160 || b.Max[1] > 4160 {
			t.Errorf("geometry %v leaves the buffered tile", b)
		}
	}
	cases := map[string]struct {
		g    orb.Geometry
		cl   parts.Class
		want want
	}{
		"point inside": {g: at(100, 100), cl: 101, want: want{true, func(t *testing.T, g orb.Geometry) {
			if g != (orb.Point{100, 100}) {
				t.Errorf("point at %v, want [100 100]", g)
			}
		}}},
		"point in the buffer":         {g: at(-30, 2000), cl: 101, want: want{kept: true}},
		"point outside the buffer":    {g: at(-100, 2000), cl: 101, want: want{kept: false}},
		"point far outside":           {g: at(9000, 9000), cl: 101, want: want{kept: false}},
		"line across the tile":        {g: orb.LineString{at(-1000, 1000), at(5000, 1000)}, cl: 211, want: want{true, inBuffered}},
		"line past a corner, outside": {g: orb.LineString{at(-500, 300), at(300, -500)}, cl: 211, want: want{kept: false}},
		"polygon over the whole tile": {g: orb.Polygon{{at(-2000, -2000), at(6000, -2000), at(6000, 6000), at(-2000, 6000), at(-2000, -2000)}}, cl: 405,
			want: want{true, func(t *testing.T, g orb.Geometry) {
				inBuffered(t, g)
				pg := g.(orb.Polygon)
				if b := pg.Bound(); b != (orb.Bound{Min: orb.Point{-64, -64}, Max: orb.Point{4160, 4160}}) {
					t.Errorf("clipped box %v, want the buffered tile", b)
				}
			}}},
		"polygon half out": {g: orb.Polygon{{at(2000, 2000), at(8000, 2000), at(8000, 3000), at(2000, 3000), at(2000, 2000)}}, cl: 405,
			want: want{true, func(t *testing.T, g orb.Geometry) {
				inBuffered(t, g)
				if b := g.Bound(); b.Min[0] != 2000 || b.Max[0] != 4160 {
					t.Errorf("clipped box %v, want x 2000..4160", b)
				}
			}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			src := &sliceSource{entries: []parts.Entry{{Code: code(tc.cl, 1), Class: tc.cl, Geometry: tc.g}}}
			m := New(src, nil, Options{})
			tile := mustEncode(t, m, LayerParts, tl, parts.Filter{})
			l := layerNamed(decode(t, tile), LayerParts)
			if !tc.want.kept {
				if l != nil && len(l.Features) > 0 {
					t.Fatalf("kept %v, want it dropped", l.Features[0].Geometry)
				}
				return
			}
			if l == nil || len(l.Features) != 1 {
				t.Fatalf("feature dropped, want it kept")
			}
			if tc.want.check != nil {
				tc.want.check(t, l.Features[0].Geometry)
			}
		})
	}
}

// TestProjectionPolynomial compares the polynomial latitude projection with
// the exact formula over the buffered tile and beyond.
func TestProjectionPolynomial(t *testing.T) {
	for _, lat := range []float64{-60, -33.9, 0, 30.66, 51.5, 70, 84} {
		for z := maptile.Zoom(polyZoom); z <= 24; z += 2 {
			tl := maptile.At(orb.Point{104.06, lat}, z)
			pr := newProjection(tl, 64, 0)
			if pr.dmax == 0 {
				t.Fatalf("z%d: no polynomial", z)
			}
			for i := -40; i <= 140; i++ {
				y := float64(i) * Extent / 100
				l := pr.lat(y)
				got := pr.xy(orb.Point{104.06, l})[1]
				want := worldY(l)*pr.scale - pr.oy
				if d := got - want; d > 1e-3 || d < -1e-3 {
					t.Fatalf("lat %v z%d y %v: polynomial %v, exact %v", lat, z, y, got, want)
				}
			}
		}
	}
}

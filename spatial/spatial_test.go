package spatial

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paulmach/orb"
)

var square = orb.Polygon{{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}}
var withHole = orb.Polygon{
	{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}},
	{{4, 4}, {6, 4}, {6, 6}, {4, 6}, {4, 4}},
}

func TestIntersects(t *testing.T) {
	box := orb.Bound{Min: orb.Point{1, 1}, Max: orb.Point{2, 2}}
	tests := []struct {
		name string
		g    orb.Geometry
		b    orb.Bound
		want bool
	}{
		{"point inside", orb.Point{1.5, 1.5}, box, true},
		{"point on min edge", orb.Point{1, 1.5}, box, true},
		{"point on max corner", orb.Point{2, 2}, box, true},
		{"point outside", orb.Point{2.0000001, 1.5}, box, false},
		{"point in zero-area box", orb.Point{3, 3}, orb.Bound{Min: orb.Point{3, 3}, Max: orb.Point{3, 3}}, true},
		{"line crossing without vertex inside", orb.LineString{{0, 1.5}, {3, 1.5}}, box, true},
		{"diagonal line crossing", orb.LineString{{0, 0}, {3, 3}}, box, true},
		{"line passing by the corner", orb.LineString{{0, 4.1}, {4.1, 0}}, box, false},
		{"line touching a corner", orb.LineString{{0, 4}, {4, 0}}, box, true},
		{"line outside", orb.LineString{{3, 3}, {4, 4}}, box, false},
		{"vertical line through", orb.LineString{{1.5, -5}, {1.5, 5}}, box, true},
		{"polygon containing the box", square, box, true},
		{"box in the hole", withHole, orb.Bound{Min: orb.Point{4.5, 4.5}, Max: orb.Point{5.5, 5.5}}, false},
		{"box over the hole edge", withHole, orb.Bound{Min: orb.Point{3.5, 4.5}, Max: orb.Point{4.5, 5.5}}, true},
		{"polygon inside box", orb.Polygon{{{1.2, 1.2}, {1.8, 1.2}, {1.8, 1.8}, {1.2, 1.2}}}, box, true},
		{"polygon outside", orb.Polygon{{{5, 5}, {6, 5}, {6, 6}, {5, 5}}}, box, false},
		{"line across zero-area box", orb.LineString{{0, 0}, {2, 2}}, orb.Bound{Min: orb.Point{1, 1}, Max: orb.Point{1, 1}}, true},
		{"multipolygon", orb.MultiPolygon{{{{5, 5}, {6, 5}, {6, 6}, {5, 5}}}, square}, box, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Intersects(tt.g, tt.b); got != tt.want {
				t.Errorf("Intersects = %v, want %v", got, tt.want)
			}
			// A box is a polygon: IntersectsArea must agree.
			if got := IntersectsArea(tt.g, tt.b.ToPolygon()); got != tt.want {
				t.Errorf("IntersectsArea(box polygon) = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestContains(t *testing.T) {
	tests := []struct {
		name string
		area orb.Geometry
		p    orb.Point
		want bool
	}{
		{"inside", square, orb.Point{1, 1}, true},
		{"on edge", square, orb.Point{10, 5}, true},
		{"on vertex", square, orb.Point{0, 0}, true},
		{"outside", square, orb.Point{11, 5}, false},
		{"in hole", withHole, orb.Point{5, 5}, false},
		{"on hole edge", withHole, orb.Point{4, 5}, true},
		{"between hole and shell", withHole, orb.Point{2, 5}, true},
		{"multipolygon second", orb.MultiPolygon{{{{20, 20}, {21, 20}, {21, 21}, {20, 20}}}, square}, orb.Point{1, 1}, true},
		{"bound", orb.Bound{Max: orb.Point{1, 1}}, orb.Point{1, 1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Contains(tt.area, tt.p); got != tt.want {
				t.Errorf("Contains = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestIntersectsArea(t *testing.T) {
	tests := []struct {
		name string
		g    orb.Geometry
		want bool
	}{
		{"line crossing the shell", orb.LineString{{-1, 5}, {1, 5}}, true},
		{"line inside the hole", orb.LineString{{4.5, 5}, {5.5, 5}}, false},
		{"line crossing the hole", orb.LineString{{3, 5}, {7, 5}}, true},
		{"line outside", orb.LineString{{11, 0}, {12, 12}}, false},
		{"polygon holding the area", orb.Polygon{{{-1, -1}, {11, -1}, {11, 11}, {-1, 11}, {-1, -1}}}, true},
		{"polygon in the hole", orb.Polygon{{{4.5, 4.5}, {5.5, 4.5}, {5.5, 5.5}, {4.5, 4.5}}}, false},
		{"polygon overlapping", orb.Polygon{{{9, 9}, {12, 9}, {12, 12}, {9, 9}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IntersectsArea(tt.g, withHole); got != tt.want {
				t.Errorf("IntersectsArea = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDistance(t *testing.T) {
	o := orb.Point{104.06, 30.66}
	east := orb.Point{104.07, 30.66}
	tests := []struct {
		name string
		g    orb.Geometry
		want float64
		tol  float64
	}{
		{"same point", o, 0, 1e-9},
		{"point 1 km", east, Haversine(o, east), 0.01},
		{"point far away", orb.Point{116.4, 39.9}, Haversine(o, orb.Point{116.4, 39.9}), 1e-6},
		{"line through", orb.LineString{{104.05, 30.66}, {104.07, 30.66}}, 0, 1e-6},
		{"line north", orb.LineString{{104.05, 30.67}, {104.07, 30.67}}, Haversine(o, orb.Point{104.06, 30.67}), 0.05},
		{"line endpoint nearest", orb.LineString{{104.07, 30.66}, {104.08, 30.66}}, Haversine(o, east), 0.05},
		{"inside polygon", orb.Polygon{{{104, 30}, {105, 30}, {105, 31}, {104, 31}, {104, 30}}}, 0, 0},
		{"polygon to the east", orb.Polygon{{{104.07, 30.65}, {104.08, 30.65}, {104.08, 30.67}, {104.07, 30.67}, {104.07, 30.65}}}, Haversine(o, east), 0.05},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Distance(o, tt.g)
			if math.Abs(got-tt.want) > tt.tol {
				t.Errorf("Distance = %v, want %v ± %v", got, tt.want, tt.tol)
			}
		})
	}
	// Known: one degree of latitude is about 111.19 km on the mean sphere.
	if d := Haversine(orb.Point{0, 0}, orb.Point{0, 1}); math.Abs(d-111195) > 1 {
		t.Errorf("Haversine 1 degree = %v", d)
	}
}

func TestMetricAgreesWithHaversine(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for range 2000 {
		o := orb.Point{rng.Float64()*360 - 180, rng.Float64()*160 - 80}
		p := orb.Point{o[0] + (rng.Float64()-0.5)*0.8, o[1] + (rng.Float64()-0.5)*0.8}
		m := NewMetric(o)
		h := Haversine(o, p)
		if got := m.PointDistance(p); math.Abs(got-h) > 1e-4*h+1e-6 {
			t.Fatalf("PointDistance(%v -> %v) = %v, haversine %v", o, p, got, h)
		}
		min, max := PointBox32(p)
		if bd := m.BoxDistance(min, max); bd > h {
			t.Fatalf("BoxDistance %v > distance %v", bd, h)
		}
	}
}

func TestBox32RoundsOutward(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for range 10000 {
		b := orb.Bound{Min: orb.Point{rng.Float64()*360 - 180, rng.Float64()*180 - 90}}
		b.Max = orb.Point{b.Min[0] + rng.Float64()*1e-6, b.Min[1] + rng.Float64()*1e-6}
		min, max := Box32(b)
		if float64(min[0]) > b.Min[0] || float64(min[1]) > b.Min[1] || float64(max[0]) < b.Max[0] || float64(max[1]) < b.Max[1] {
			t.Fatalf("Box32(%v) = %v %v does not contain it", b, min, max)
		}
	}
}

func TestValidateBound(t *testing.T) {
	tests := []struct {
		name string
		b    orb.Bound
		ok   bool
	}{
		{"zero area", orb.Bound{Min: orb.Point{1, 1}, Max: orb.Point{1, 1}}, true},
		{"world", orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}, true},
		{"min over max", orb.Bound{Min: orb.Point{2, 1}, Max: orb.Point{1, 1}}, false},
		{"lat over 90", orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{1, 91}}, false},
		{"lon under -180", orb.Bound{Min: orb.Point{-181, 0}, Max: orb.Point{1, 1}}, false},
		{"NaN", orb.Bound{Min: orb.Point{math.NaN(), 0}, Max: orb.Point{1, 1}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateBound(tt.b)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok %v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidBound) {
				t.Errorf("err %v does not wrap ErrInvalidBound", err)
			}
		})
	}
}

func TestMercator(t *testing.T) {
	for _, p := range []orb.Point{{0, 0}, {104.06, 30.66}, {-179.9, -80}, {180, 85}} {
		q := FromMercator(ToMercator(p))
		if math.Abs(q[0]-p[0]) > 1e-9 || math.Abs(q[1]-p[1]) > 1e-9 {
			t.Errorf("round trip %v -> %v", p, q)
		}
	}
	if m := ToMercator(orb.Point{180, 0}); math.Abs(m[0]-20037508.342789244) > 1e-6 {
		t.Errorf("ToMercator(180,0) = %v", m)
	}
	b, err := TileBound(0, 0, 0)
	if err != nil || math.Abs(b.Max[1]-MaxMercatorLat) > 1e-9 || b.Min[0] != -180 {
		t.Errorf("TileBound(0/0/0) = %v, %v", b, err)
	}
	if _, err := TileBound(1, 2, 0); !errors.Is(err, ErrInvalidTile) {
		t.Errorf("TileBound(1/2/0) err = %v", err)
	}
	p := orb.Point{104.06, 30.66}
	for z := uint32(0); z <= 20; z++ {
		x, y := TileAt(p, z)
		b, err := TileBound(z, x, y)
		if err != nil || !b.Contains(p) {
			t.Errorf("z%d: tile %d/%d bound %v does not hold %v (%v)", z, x, y, b, p, err)
		}
	}
}

func TestHilbertIsAPermutation(t *testing.T) {
	b := orb.Bound{Max: orb.Point{1 << HilbertOrder, 1 << HilbertOrder}}
	seen := map[uint64]bool{}
	// Sample a 64x64 block of cells: all distinct.
	for x := range 64 {
		for y := range 64 {
			d := Hilbert(orb.Point{float64(x) + 0.5, float64(y) + 0.5}, b)
			if seen[d] {
				t.Fatalf("duplicate Hilbert value %d at %d,%d", d, x, y)
			}
			seen[d] = true
		}
	}
	// Neighbouring positions along the curve are neighbouring cells: the
	// first 4096 values fill the 64x64 corner.
	for d := range uint64(4096) {
		if !seen[d] {
			t.Fatalf("value %d missing from the 64x64 corner", d)
		}
	}
}

// TestIndexAgainstBruteForce checks Search, SearchContext and Nearby.
func TestIndexAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	var ix Index[int]
	pts := make([]orb.Point, 3000)
	for i := range pts {
		pts[i] = orb.Point{104 + rng.Float64()*0.1, 30.6 + rng.Float64()*0.1}
		ix.Insert(orb.Bound{Min: pts[i], Max: pts[i]}, i)
	}
	// Delete every tenth.
	for i := 0; i < len(pts); i += 10 {
		ix.Delete(orb.Bound{Min: pts[i], Max: pts[i]}, i)
	}
	live := func(i int) bool { return i%10 != 0 }
	if want := len(pts) - len(pts)/10; ix.Len() != want {
		t.Fatalf("Len = %d, want %d", ix.Len(), want)
	}
	for range 50 {
		c := orb.Point{104 + rng.Float64()*0.1, 30.6 + rng.Float64()*0.1}
		b := orb.Bound{Min: c, Max: orb.Point{c[0] + rng.Float64()*0.02, c[1] + rng.Float64()*0.02}}
		var got, want []int
		ix.Search(b, func(v int) bool {
			if Intersects(pts[v], b) {
				got = append(got, v)
			}
			return true
		})
		for i, p := range pts {
			if live(i) && b.Contains(p) {
				want = append(want, i)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("Search(%v): %d results, want %d", b, len(got), len(want))
		}
		// Nearby: 5 nearest.
		var near []int
		var dists []float64
		ix.Nearby(c, func(v int) float64 { return Distance(c, pts[v]) }, func(v int, d float64) bool {
			near = append(near, v)
			dists = append(dists, d)
			return len(near) < 5
		})
		all := []int{}
		for i := range pts {
			if live(i) {
				all = append(all, i)
			}
		}
		slices.SortFunc(all, func(a, b int) int { return cmpFloat(Distance(c, pts[a]), Distance(c, pts[b])) })
		if !slices.Equal(near, all[:5]) {
			t.Fatalf("Nearby(%v) = %v, want %v", c, near, all[:5])
		}
		if !slices.IsSorted(dists) {
			t.Fatalf("Nearby distances not ascending: %v", dists)
		}
	}
	// SearchContext stops on a cancelled context.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n := 0
	err := ix.SearchContext(ctx, orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}, func(int) bool { n++; return true })
	if !errors.Is(err, context.Canceled) || n >= ix.Len() {
		t.Errorf("SearchContext on cancelled ctx: err %v after %d items", err, n)
	}
	// Early stop.
	n = 0
	ix.Scan(func(int) bool { n++; return n < 7 })
	if n != 7 {
		t.Errorf("Scan did not stop: %d", n)
	}
	// Copy is a snapshot.
	cp := ix.Copy()
	ix.Insert(orb.Bound{}, -1)
	if cp.Len() != ix.Len()-1 {
		t.Errorf("Copy saw a later insert: %d vs %d", cp.Len(), ix.Len())
	}
	var zero Index[int]
	zero.Search(orb.Bound{Max: orb.Point{1, 1}}, func(int) bool { t.Error("zero index returned an item"); return true })
	zero.Nearby(orb.Point{}, func(int) float64 { return 0 }, func(int, float64) bool { t.Error("zero index returned an item"); return true })
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestIntersecting(t *testing.T) {
	var ix Index[int]
	geoms := []orb.Geometry{
		orb.Point{5, 5},                 // in the hole
		orb.Point{1, 1},                 // inside
		orb.LineString{{-1, 2}, {1, 2}}, // crosses the shell
		orb.Polygon{{{20, 20}, {21, 20}, {21, 21}, {20, 20}}}, // outside
		orb.Point{9.5, 9.5}, // inside, box overlaps
	}
	for i, g := range geoms {
		ix.Insert(Bound(g), i)
	}
	var got []int
	err := ix.Intersecting(context.Background(), withHole, func(i int) orb.Geometry { return geoms[i] }, func(i int) bool {
		got = append(got, i)
		return true
	})
	slices.Sort(got)
	if err != nil || !slices.Equal(got, []int{1, 2, 4}) {
		t.Fatalf("Intersecting = %v, %v", got, err)
	}
}

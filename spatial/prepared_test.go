package spatial

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

// ringPolygon is a thin ring with a hole: an outer and an inner circle of
// n vertices each around c, radii r and 0.98 r.
func ringPolygon(c orb.Point, r float64, n int) orb.Polygon {
	circle := func(rad float64, ccw bool) orb.Ring {
		ring := make(orb.Ring, 0, n+1)
		for i := 0; i < n; i++ {
			a := 2 * math.Pi * float64(i) / float64(n)
			if !ccw {
				a = -a
			}
			ring = append(ring, orb.Point{c[0] + rad*math.Cos(a), c[1] + rad*math.Sin(a)})
		}
		return append(ring, ring[0])
	}
	return orb.Polygon{circle(r, true), circle(0.98*r, false)}
}

// TestPreparedAgrees checks Prepared against the plain tests on named
// areas and on random points, lines and polygons.
func TestPreparedAgrees(t *testing.T) {
	areas := map[string]orb.Geometry{
		"square":       square,
		"with a hole":  withHole,
		"ring":         ringPolygon(orb.Point{5, 5}, 5, 500),
		"multipolygon": orb.MultiPolygon{square, ringPolygon(orb.Point{20, 5}, 4, 64)},
		"bound":        orb.Bound{Min: orb.Point{1, 1}, Max: orb.Point{3, 8}},
		"comb": orb.Polygon{{{0, 0}, {10, 0}, {10, 10}, {9, 10}, {9, 1}, {8, 1}, {8, 10}, {7, 10}, {7, 1}, {6, 1},
			{6, 10}, {5, 10}, {5, 1}, {4, 1}, {4, 10}, {0, 10}, {0, 0}}},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	at := func() orb.Point { return orb.Point{rng.Float64()*30 - 3, rng.Float64()*14 - 2} }
	for name, area := range areas {
		t.Run(name, func(t *testing.T) {
			pa := Prepare(area)
			// Vertices and edge midpoints are on the boundary.
			var probes []orb.Point
			var polys []orb.Polygon
			switch a := area.(type) {
			case orb.Polygon:
				polys = []orb.Polygon{a}
			case orb.MultiPolygon:
				polys = a
			case orb.Bound:
				polys = []orb.Polygon{a.ToPolygon()}
			}
			for _, p := range polys {
				for _, r := range p {
					for i := 0; i+1 < len(r); i++ {
						probes = append(probes, r[i], orb.Point{(r[i][0] + r[i+1][0]) / 2, (r[i][1] + r[i+1][1]) / 2})
					}
				}
			}
			for i := 0; i < 4000; i++ {
				probes = append(probes, at())
			}
			for _, p := range probes {
				if got, want := pa.Contains(p), Contains(area, p); got != want {
					t.Fatalf("Contains(%v) = %v, want %v", p, got, want)
				}
			}
			for i := 0; i < 2000; i++ {
				a := at()
				var g orb.Geometry
				switch i % 3 {
				case 0:
					g = orb.LineString{a, {a[0] + rng.Float64() - 0.5, a[1] + rng.Float64() - 0.5}, {a[0] + rng.Float64()*4 - 2, a[1]}}
				case 1:
					d := rng.Float64() * 3
					g = orb.Polygon{{a, {a[0] + d, a[1]}, {a[0] + d, a[1] + d}, {a[0], a[1] + d}, a}}
				default:
					g = orb.Bound{Min: a, Max: orb.Point{a[0] + rng.Float64()*20, a[1] + rng.Float64()*12}}
				}
				if got, want := pa.Intersects(g), IntersectsArea(g, area); got != want {
					t.Fatalf("Intersects(%v) = %v, want %v", g, got, want)
				}
			}
		})
	}
}

// TestPlaceSharedEdge checks that a point near an edge two polygons share
// lands in exactly one of them, or on the boundary of both.
func TestPlaceSharedEdge(t *testing.T) {
	a := orb.Polygon{{{0, 0}, {0.3, 0.1}, {0.1, 1}, {0, 0}}}
	b := orb.Polygon{{{0.3, 0.1}, {1, 1}, {0.1, 1}, {0.3, 0.1}}}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 10000; i++ {
		s := rng.Float64()
		p := orb.Point{0.3 + s*(0.1-0.3) + (rng.Float64()-0.5)*1e-15, 0.1 + s*0.9}
		pa, pb := Place(a, p), Place(b, p)
		if (pa == Boundary) != (pb == Boundary) || (pa != Boundary && (pa == Interior) == (pb == Interior)) {
			t.Fatalf("%v: %v in a, %v in b", p, pa, pb)
		}
	}
}

// TestSearchStripe checks that the stripes of a box visit each item once.
func TestSearchStripe(t *testing.T) {
	var ix Index[int]
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 5000; i++ {
		p := orb.Point{rng.Float64(), rng.Float64()}
		if i%4 == 0 {
			ix.Insert(orb.Bound{Min: p, Max: orb.Point{p[0] + 0.1, p[1] + 0.05}}, i)
		} else {
			ix.Insert(orb.Bound{Min: p, Max: p}, i)
		}
	}
	// Items exactly on stripe edges too.
	for i := 0; i <= 10; i++ {
		p := orb.Point{0.2 + 0.6*float64(i)/10, 0.5}
		ix.Insert(orb.Bound{Min: p, Max: p}, 10000+i)
	}
	b := orb.Bound{Min: orb.Point{0.2, 0.1}, Max: orb.Point{0.8, 0.9}}
	want := map[int]bool{}
	ix.Search(b, func(v int) bool { want[v] = true; return true })
	for _, n := range []int{1, 2, 7, 10, 64} {
		seen := map[int]int{}
		for _, s := range Stripes(b, n) {
			if err := ix.SearchStripe(context.Background(), s, func(v int) bool { seen[v]++; return true }); err != nil {
				t.Fatal(err)
			}
		}
		for v := range want {
			if seen[v] != 1 {
				t.Fatalf("%d stripes: item %d seen %d times", n, v, seen[v])
			}
		}
		if len(seen) != len(want) {
			t.Fatalf("%d stripes: %d items, want %d", n, len(seen), len(want))
		}
	}
	if n := len(ix.StripesFor(b, 100, 1000)); n < 5 {
		t.Fatalf("StripesFor gave %d stripes for ~1800 items at 100 a stripe", n)
	}
}

func BenchmarkPreparedRing(b *testing.B) {
	ring := ringPolygon(orb.Point{104.06, 30.66}, 0.2, 2498)
	pa := Prepare(ring)
	rng := rand.New(rand.NewPCG(1, 2))
	pts := make([]orb.Point, 4096)
	for i := range pts {
		pts[i] = orb.Point{104.06 + (rng.Float64()-0.5)*0.3, 30.66 + (rng.Float64()-0.5)*0.3}
	}
	b.Run("prepare", func(b *testing.B) {
		for b.Loop() {
			Prepare(ring)
		}
	})
	b.Run("contains", func(b *testing.B) {
		i := 0
		for b.Loop() {
			pa.Contains(pts[i&4095])
			i++
		}
	})
	b.Run("contains/unprepared", func(b *testing.B) {
		i := 0
		for b.Loop() {
			Contains(ring, pts[i&4095])
			i++
		}
	})
}

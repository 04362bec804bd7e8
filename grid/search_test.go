package grid

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// bruteIntersects is an independent polygon-box test: a vertex of the
// polygon in the box, a corner of the box in the polygon, or two crossing
// edges.
func bruteIntersects(p orb.Polygon, b orb.Bound) bool {
	corners := []orb.Point{b.Min, {b.Max[0], b.Min[1]}, b.Max, {b.Min[0], b.Max[1]}}
	for _, r := range p {
		for _, pt := range r {
			if b.Contains(pt) {
				return true
			}
		}
	}
	for _, c := range corners {
		if planar.PolygonContains(p, c) {
			return true
		}
	}
	for _, r := range p {
		for i := 0; i+1 < len(r); i++ {
			for k := range corners {
				if segmentsCross(r[i], r[i+1], corners[k], corners[(k+1)%4]) {
					return true
				}
			}
		}
	}
	return false
}

func segmentsCross(a, b, c, d orb.Point) bool {
	orient := func(p, q, r orb.Point) float64 { return (q[0]-p[0])*(r[1]-p[1]) - (q[1]-p[1])*(r[0]-p[0]) }
	d1, d2 := orient(c, d, a), orient(c, d, b)
	d3, d4 := orient(a, b, c), orient(a, b, d)
	return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))
}

func searchCodes(t *testing.T, ix *Index, b orb.Bound) []Code {
	t.Helper()
	var got []Code
	if err := ix.Search(context.Background(), b, func(g Grid) bool { got = append(got, g.Code); return true }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	return got
}

func TestSearchAgainstBruteForce(t *testing.T) {
	l := newLattice(t, 30, 20, 5, 4, 10)
	// A grid with a hole, away from the lattice, to search inside its hole.
	holed := Grid{Code: "51019900100101", Geometry: orb.Polygon{square(105, 31, 105.01, 31.01), square(105.002, 31.002, 105.008, 31.008)}}
	grids := append(slices.Clone(l.grids), holed)
	ix := l.index(t)
	if _, _, err := ix.Put(holed); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	var boxes []orb.Bound
	for n := 0; n < 1500; n++ {
		p := l.randomPoint(rng, 3)
		w, h := rng.Float64()*4*step, rng.Float64()*4*step
		switch n % 5 {
		case 0:
			w, h = 0, 0 // a point
		case 1:
			h = 0 // a horizontal line
		case 2:
			w, h = w/20, h/20 // smaller than a cell
		}
		boxes = append(boxes, orb.Bound{Min: p, Max: orb.Point{p[0] + w, p[1] + h}})
	}
	boxes = append(boxes,
		ix.Bounds(),
		orb.Bound{Min: orb.Point{105.003, 31.003}, Max: orb.Point{105.007, 31.007}}, // inside the hole
		orb.Bound{Min: orb.Point{105.001, 31.001}, Max: orb.Point{105.009, 31.009}}, // around the hole
		orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{1, 1}},                       // far away
	)
	hits := 0
	for _, b := range boxes {
		var want []Code
		for _, g := range grids {
			if bruteIntersects(g.Geometry, b) {
				want = append(want, g.Code)
			}
		}
		slices.Sort(want)
		got := searchCodes(t, ix, b)
		if !slices.Equal(got, want) {
			t.Fatalf("Search(%v):\n got %v\nwant %v", b, got, want)
		}
		hits += len(got)
	}
	if hits < 1000 {
		t.Errorf("only %d hits over all boxes: the test boxes miss the grids", hits)
	}
	if got := searchCodes(t, ix, boxes[len(boxes)-3]); len(got) != 0 {
		t.Errorf("a box inside a hole found %v", got)
	}
}

func TestSearchTouching(t *testing.T) {
	ix := NewIndex()
	a := Grid{Code: "51010400100101", Geometry: orb.Polygon{{{104, 30}, {104.01, 30}, {104, 30.01}, {104, 30}}}} // a triangle
	if _, _, err := ix.Put(a); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		b    orb.Bound
		want int
	}{
		"touches the corner":          {orb.Bound{Min: orb.Point{104.01, 30}, Max: orb.Point{104.02, 30.01}}, 1},
		"touches the hypotenuse":      {orb.Bound{Min: orb.Point{104.005, 30.005}, Max: orb.Point{104.02, 30.02}}, 1},
		"in the box, off the polygon": {orb.Bound{Min: orb.Point{104.006, 30.006}, Max: orb.Point{104.02, 30.02}}, 0},
		"inside":                      {orb.Bound{Min: orb.Point{104.001, 30.001}, Max: orb.Point{104.002, 30.002}}, 1},
		"covers all":                  {orb.Bound{Min: orb.Point{103, 29}, Max: orb.Point{105, 31}}, 1},
		"crosses, no vertex inside":   {orb.Bound{Min: orb.Point{103.9, 30.002}, Max: orb.Point{104.1, 30.003}}, 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := len(searchCodes(t, ix, tc.b)); got != tc.want {
				t.Errorf("Search(%v) found %d grids; want %d", tc.b, got, tc.want)
			}
		})
	}
}

func TestSearchStops(t *testing.T) {
	l := newLattice(t, 20, 20, 5, 5, 13)
	ix := l.index(t)
	n := 0
	err := ix.Search(context.Background(), ix.Bounds(), func(Grid) bool { n++; return n < 3 })
	if err != nil || n != 3 {
		t.Errorf("Search went on after false: %d calls, %v", n, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n = 0
	err = ix.Search(ctx, ix.Bounds(), func(Grid) bool { n++; return true })
	if !errors.Is(err, context.Canceled) || n != 0 {
		t.Errorf("Search with a cancelled context = %v after %d calls; want context.Canceled", err, n)
	}
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	n = 0
	err = ix.Search(ctx, ix.Bounds(), func(Grid) bool {
		if n++; n == 10 {
			cancel()
		}
		return true
	})
	if !errors.Is(err, context.Canceled) || n >= 400 {
		t.Errorf("Search cancelled midway = %v after %d of 400 calls; want context.Canceled", err, n)
	}
}

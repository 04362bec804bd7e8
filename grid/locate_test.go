package grid

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"citytwin/spatial"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// bruteLocate returns the codes of the grids whose polygon holds pt, by
// orb's own point-in-polygon test.
func bruteLocate(grids []Grid, pt orb.Point) []Code {
	var in []Code
	for _, g := range grids {
		if planar.PolygonContains(g.Geometry, pt) {
			in = append(in, g.Code)
		}
	}
	return in
}

func TestLocateRandomPoints(t *testing.T) {
	l := newLattice(t, 30, 20, 5, 4, 3)
	ix := l.index(t)
	rng := rand.New(rand.NewPCG(4, 5))
	inside, outside := 0, 0
	for n := 0; n < 5000; n++ {
		pt := l.randomPoint(rng, 2)
		want := bruteLocate(l.grids, pt)
		g, err := ix.Locate(pt)
		switch len(want) {
		case 0:
			outside++
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("Locate(%v) = %s, %v; brute force finds no grid", pt, g.Code, err)
			}
		case 1:
			inside++
			if err != nil || g.Code != want[0] {
				t.Fatalf("Locate(%v) = %s, %v; brute force finds %s", pt, g.Code, err, want[0])
			}
		default:
			t.Fatalf("random point %v on a boundary of %v: pick another seed", pt, want)
		}
	}
	if inside < 3000 || outside < 300 {
		t.Errorf("test points badly spread: %d inside, %d outside", inside, outside)
	}
}

func TestLocateSharedVerticesAndEdges(t *testing.T) {
	l := newLattice(t, 12, 10, 3, 3, 6)
	ix := l.index(t)
	check := func(what string, pt orb.Point, want Code) {
		t.Helper()
		g, err := ix.Locate(pt)
		if err != nil || g.Code != want {
			t.Fatalf("%s %v: Locate = %s, %v; want %s", what, pt, g.Code, err, want)
		}
		// Exactly one grid answers, and it is the smallest of those that
		// hold the point.
		var holders []Code
		for _, g := range l.grids {
			if spatial.Place(g.Geometry, pt) != spatial.Outside {
				holders = append(holders, g.Code)
			}
		}
		if len(holders) == 0 || minOf(holders) != want {
			t.Fatalf("%s %v: grids holding it %v; want the smallest to be %s", what, pt, holders, want)
		}
	}
	for i := 0; i <= l.nx; i++ {
		for j := 0; j <= l.ny; j++ {
			// The vertex: up to four cells share it.
			check("vertex", l.v[i][j], l.minCode([2]int{i - 1, j - 1}, [2]int{i, j - 1}, [2]int{i - 1, j}, [2]int{i, j}))
			if j < l.ny { // the edge up from the vertex, between cells (i-1, j) and (i, j)
				a, b := l.v[i][j], l.v[i][j+1]
				for _, f := range []float64{0.5, 0.25, 0.75} {
					pt := orb.Point{a[0] + f*(b[0]-a[0]), a[1] + f*(b[1]-a[1])}
					check("vertical edge", pt, l.minCode([2]int{i - 1, j}, [2]int{i, j}))
				}
			}
			if i < l.nx { // the edge right of the vertex, between cells (i, j-1) and (i, j)
				a, b := l.v[i][j], l.v[i+1][j]
				pt := orb.Point{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2}
				check("horizontal edge", pt, l.minCode([2]int{i, j - 1}, [2]int{i, j}))
			}
		}
	}
}

func minOf(cs []Code) Code {
	m := cs[0]
	for _, c := range cs[1:] {
		m = min(m, c)
	}
	return m
}

// TestLocateNearSharedEdges checks that points a rounding error away from a
// shared edge, not representable on it, fall in exactly one grid.
func TestLocateNearSharedEdges(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	l := newLattice(t, 8, 8, 4, 4, 7)
	l.roughen(rng)
	ix := l.index(t)
	for n := 0; n < 3000; n++ {
		i, j := 1+rng.IntN(l.nx-1), rng.IntN(l.ny)
		a, b := l.v[i][j], l.v[i][j+1]
		f := rng.Float64()
		pt := orb.Point{a[0] + f*(b[0]-a[0]), a[1] + f*(b[1]-a[1])}
		// Nudge by a few ulps, either way.
		for k := rng.IntN(4); k > 0; k-- {
			pt[0] = math.Nextafter(pt[0], float64(rng.IntN(2)*1000))
		}
		var holders []Code
		for _, c := range []Code{l.codes[i-1][j], l.codes[i][j]} {
			g, _ := ix.Get(c)
			if spatial.Place(g.Geometry, pt) != spatial.Outside {
				holders = append(holders, c)
			}
		}
		if len(holders) == 0 {
			t.Fatalf("point %v by the edge of %s and %s is in neither", pt, l.codes[i-1][j], l.codes[i][j])
		}
		g, err := ix.Locate(pt)
		if err != nil || g.Code != minOf(holders) {
			t.Fatalf("Locate(%v) = %s, %v; holders %v", pt, g.Code, err, holders)
		}
	}
}

func TestLocateHoles(t *testing.T) {
	// a has two holes; b fills the first, the second is empty.
	hole1 := square(104.002, 30.002, 104.004, 30.004)
	hole2 := square(104.006, 30.006, 104.008, 30.008)
	a := Grid{Code: "51010400100102", Geometry: orb.Polygon{square(104, 30, 104.01, 30.01), hole1.Clone(), hole2}}
	b := Grid{Code: "51010400100101", Geometry: orb.Polygon{hole1}}
	c := Grid{Code: "51010400100103", Geometry: orb.Polygon{square(104.01, 30, 104.02, 30.01)}}
	ix := NewIndex()
	for _, g := range []Grid{a, b, c} {
		if _, _, err := ix.Put(g); err != nil {
			t.Fatal(err)
		}
	}
	tests := map[string]struct {
		pt   orb.Point
		want Code // "" for not found
	}{
		"interior of a":           {orb.Point{104.001, 30.001}, a.Code},
		"in the filled hole":      {orb.Point{104.003, 30.003}, b.Code},
		"in the empty hole":       {orb.Point{104.007, 30.007}, ""},
		"edge of the filled hole": {orb.Point{104.003, 30.002}, b.Code},
		"corner of filled hole":   {orb.Point{104.004, 30.004}, b.Code},
		"edge of the empty hole":  {orb.Point{104.007, 30.008}, a.Code},
		"corner of empty hole":    {orb.Point{104.006, 30.006}, a.Code},
		"edge shared by a and c":  {orb.Point{104.01, 30.005}, a.Code},
		"corner shared by a, c":   {orb.Point{104.01, 30.01}, a.Code},
		"outer edge of c":         {orb.Point{104.02, 30.005}, c.Code},
		"interior of c":           {orb.Point{104.015, 30.005}, c.Code},
		"left of everything":      {orb.Point{103.999, 30.005}, ""},
		"right of everything":     {orb.Point{104.03, 30.005}, ""},
		"above, in the box of a":  {orb.Point{104.005, 30.0100001}, ""},
		"NaN":                     {orb.Point{math.NaN(), 30.005}, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g, err := ix.Locate(tc.pt)
			if tc.want == "" {
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("Locate(%v) = %s, %v; want ErrNotFound", tc.pt, g.Code, err)
				}
				return
			}
			if err != nil || g.Code != tc.want {
				t.Fatalf("Locate(%v) = %s, %v; want %s", tc.pt, g.Code, err, tc.want)
			}
		})
	}
}

// TestLocateInteriorWins: where grids overlap (bad data), a point in the
// interior of one grid and on the edge of a smaller-coded one belongs to
// the first.
func TestLocateInteriorWins(t *testing.T) {
	ix := NewIndex()
	small := Grid{Code: "51010400100101", Geometry: orb.Polygon{square(104, 30, 104.01, 30.01)}}
	big := Grid{Code: "51010400100102", Geometry: orb.Polygon{square(103.99, 29.99, 104.02, 30.02)}}
	for _, g := range []Grid{small, big} {
		if _, _, err := ix.Put(g); err != nil {
			t.Fatal(err)
		}
	}
	if g, err := ix.Locate(orb.Point{104.01, 30.005}); err != nil || g.Code != big.Code {
		t.Errorf("Locate on the edge of %s inside %s = %s, %v", small.Code, big.Code, g.Code, err)
	}
	if g, err := ix.Locate(orb.Point{104.005, 30.005}); err != nil || g.Code != small.Code {
		t.Errorf("Locate inside both = %s, %v; want the smaller code", g.Code, err)
	}
}

package grid

import (
	"errors"
	"slices"
	"testing"

	"github.com/paulmach/orb"
)

// sameRing reports whether the closed lines a and b are the same ring,
// whatever the start point and direction.
func sameRing(a, b orb.LineString) bool {
	if len(a) != len(b) || len(a) < 2 || a[0] != a[len(a)-1] || b[0] != b[len(b)-1] {
		return false
	}
	n := len(a) - 1
	for _, rev := range []bool{false, true} {
		bb := slices.Clone(b[:n])
		if rev {
			slices.Reverse(bb)
		}
		for s := 0; s < n; s++ {
			ok := true
			for i := 0; i < n && ok; i++ {
				ok = a[i] == bb[(s+i)%n]
			}
			if ok {
				return true
			}
		}
	}
	return false
}

func TestOutline(t *testing.T) {
	// A 2x2 community of squares, and a neighbour community that shares
	// its east edge: edges cancel only inside a community. Coordinates are
	// dyadic so that neighbours share exact vertices.
	const d = 1.0 / 256
	at := func(x, y float64) orb.Point { return orb.Point{104 + x*d, 30 + y*d} }
	box := func(x0, y0, x1, y1 float64) orb.Ring { return square(104+x0*d, 30+y0*d, 104+x1*d, 30+y1*d) }
	sq := func(x, y float64) orb.Polygon { return orb.Polygon{box(x, y, x+1, y+1)} }
	ix := NewIndex()
	for _, g := range []Grid{
		{Code: "51010400100101", Geometry: sq(0, 0)},
		{Code: "51010400100102", Geometry: sq(1, 0)},
		{Code: "51010400100103", Geometry: sq(0, 1)},
		{Code: "51010400100104", Geometry: sq(1, 1)},
		{Code: "51010400100201", Geometry: sq(2, 0)},
		// A community with a hole that one of its grids fills, and one it
		// does not.
		{Code: "51010400100301", Geometry: orb.Polygon{box(10, 0, 16, 6), box(11, 1, 12, 2), box(13, 3, 14, 4)}},
		{Code: "51010400100302", Geometry: orb.Polygon{box(11, 1, 12, 2)}},
	} {
		if _, _, err := ix.Put(g); err != nil {
			t.Fatal(err)
		}
	}
	tests := map[string]struct {
		prefix string
		want   orb.MultiLineString // rings, in any order, start and direction
	}{
		"2x2 community": {"510104001001", orb.MultiLineString{orb.LineString(box(0, 0, 2, 2))}},
		"one grid":      {"510104001002", orb.MultiLineString{orb.LineString(box(2, 0, 3, 1))}},
		"holed community": {"510104001003", orb.MultiLineString{
			orb.LineString(box(10, 0, 16, 6)),
			orb.LineString(box(13, 3, 14, 4)),
		}},
		"street": {"510104001", orb.MultiLineString{
			{at(0, 0), at(3, 0), at(3, 1), at(2, 1), at(2, 2), at(0, 2), at(0, 0)},
			orb.LineString(box(10, 0, 16, 6)),
			orb.LineString(box(13, 3, 14, 4)),
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ix.Outline(tc.prefix)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("Outline(%s) = %v; want %v", tc.prefix, got, tc.want)
			}
			for _, w := range tc.want {
				if !slices.ContainsFunc(got, func(g orb.LineString) bool { return sameRing(g, w) }) {
					t.Fatalf("Outline(%s) = %v; lacks ring %v", tc.prefix, got, w)
				}
			}
		})
	}

	// The result is the caller's copy.
	o1, _ := ix.Outline("510104001001")
	o1[0][0] = orb.Point{0, 0}
	if o2, _ := ix.Outline("510104001001"); o2[0][0] == (orb.Point{0, 0}) {
		t.Error("changing a returned outline changed the cache")
	}

	// Removing a corner grid turns the square into an L of 6 corners.
	if _, err := ix.Remove("51010400100104"); err != nil {
		t.Fatal(err)
	}
	got, err := ix.Outline("510104001001")
	wantL := orb.LineString{at(0, 0), at(2, 0), at(2, 1), at(1, 1), at(1, 2), at(0, 2), at(0, 0)}
	if err != nil || len(got) != 1 || !sameRing(got[0], wantL) {
		t.Errorf("Outline after Remove = %v, %v; want %v", got, err, wantL)
	}
	// Putting it back restores the square.
	if _, _, err := ix.Put(Grid{Code: "51010400100104", Geometry: sq(1, 1)}); err != nil {
		t.Fatal(err)
	}
	if got, err := ix.Outline("510104001001"); err != nil || len(got) != 1 || len(got[0]) != 5 {
		t.Errorf("Outline after Put = %v, %v; want the square again", got, err)
	}

	for _, p := range []string{"510104002", "510104001009"} {
		if _, err := ix.Outline(p); !errors.Is(err, ErrNotFound) {
			t.Errorf("Outline(%s) = %v; want ErrNotFound", p, err)
		}
	}
	if _, err := ix.Outline("51010400100101"); !errors.Is(err, ErrInvalidCode) {
		t.Errorf("Outline(grid code) = %v; want ErrInvalidCode", err)
	}
}

// TestOutlineJittered: on a jittered lattice, each 2x2 community is one
// closed ring of its 8 outer edges, whose points are all lattice vertices
// on the community's rim.
func TestOutlineJittered(t *testing.T) {
	l := newLattice(t, 6, 4, 2, 2, 14)
	ix := l.index(t)
	for bx := 0; bx < 3; bx++ {
		for by := 0; by < 2; by++ {
			c := l.codes[2*bx][2*by].Community()
			got, err := ix.Outline(c)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || len(got[0]) != 9 || got[0][0] != got[0][8] {
				t.Fatalf("Outline(%s) = %v; want one closed ring of 9 points", c, got)
			}
			var rim []orb.Point
			for i := 2 * bx; i <= 2*bx+2; i++ {
				for j := 2 * by; j <= 2*by+2; j++ {
					if i != 2*bx+1 || j != 2*by+1 {
						rim = append(rim, l.v[i][j])
					}
				}
			}
			for _, p := range got[0] {
				if !slices.Contains(rim, p) {
					t.Fatalf("Outline(%s) has point %v that is not on the rim", c, p)
				}
			}
		}
	}
}

package tiles

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"citytwin/parts"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// TestCodeValue checks that codeValue writes the bytes of uniqueValue of
// the code's digits.
func TestCodeValue(t *testing.T) {
	a, b := newLayerEncoder(), newLayerEncoder()
	a.reset(LayerParts)
	b.reset(LayerParts)
	for _, s := range []string{"3205080101000001", "8299999999999999", "0000000000000000"} {
		c, err := parts.ParseCode(s)
		if err != nil {
			c = 0
		}
		var d [16]byte
		c.Digits(&d)
		if i, j := a.codeValue(c), b.uniqueValue(d[:]); i != j {
			t.Fatalf("codeValue index %d, uniqueValue %d", i, j)
		}
	}
	if !bytes.Equal(a.values, b.values) {
		t.Fatalf("codeValue wrote % x, uniqueValue % x", a.values, b.values)
	}
}

// TestTilePointMatchesPoint checks that the packed point of the index
// (tilePoint, written at the end) gives the bytes gw.point writes.
func TestTilePointMatchesPoint(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, z := range []maptile.Zoom{12, 14, 18, 22} {
		tl := maptile.At(fixCenter, z)
		pr := newProjection(tl, 64, 0)
		var gw geomWriter
		a, b := newLayerEncoder(), newLayerEncoder()
		for range 2000 {
			pt := orb.Point{
				pr.lonlat.Min[0] + (r.Float64()*1.2-0.1)*(pr.lonlat.Max[0]-pr.lonlat.Min[0]),
				pr.lonlat.Min[1] + (r.Float64()*1.2-0.1)*(pr.lonlat.Max[1]-pr.lonlat.Min[1]),
			}
			okA := gw.point(a, &pr, pt)
			x, y, okB := pr.tilePoint(pt)
			if okA != okB {
				t.Fatalf("z%d %v: point %v, tilePoint %v", z, pt, okA, okB)
			}
			if okB {
				b.point(x, y)
			}
			if !bytes.Equal(a.geom, b.geom) {
				t.Fatalf("z%d %v: point wrote % x, tilePoint % x", z, pt, a.geom, b.geom)
			}
			a.discard()
			b.discard()
		}
	}
}

// TestRunEnd checks the end of a class run in a bucket, from its start,
// from inside it and from past it.
func TestRunEnd(t *testing.T) {
	var list []pointRec
	for _, run := range []struct {
		cl parts.Class
		n  int
	}{{101, 3}, {118, 20}, {405, 1}, {9999, 9}} {
		for i := range run.n {
			c, err := parts.NewCode(510105, run.cl, uint32(i+1))
			if err != nil {
				t.Fatal(err)
			}
			list = append(list, newPointRec(c, orb.Point{}, 0, 0))
		}
	}
	for i := range list {
		cl := list[i].code.Class()
		want := i
		for want < len(list) && list[want].code.Class() == cl {
			want++
		}
		if got := runEnd(list, i, cl); got != want {
			t.Errorf("runEnd(%d, class %d) = %d, want %d", i, cl, got, want)
		}
		if i > 0 {
			if prev := list[i-1].code.Class(); prev != cl {
				if got := runEnd(list, i, prev); got != i {
					t.Errorf("runEnd(%d, class %d) past its run = %d, want %d", i, prev, got, i)
				}
			}
		}
	}
}

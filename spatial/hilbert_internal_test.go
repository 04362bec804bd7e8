package spatial

import (
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

// hilbertRef is the textbook form of Hilbert (with branches), the
// reference for the branch-free one.
func hilbertRef(p orb.Point, b orb.Bound) uint64 {
	const n = 1 << HilbertOrder
	cell := func(v, lo, hi float64) uint32 {
		if hi <= lo {
			return 0
		}
		f := (v - lo) / (hi - lo) * n
		switch {
		case !(f >= 0):
			return 0
		case f >= n-1:
			return n - 1
		}
		return uint32(f)
	}
	x := cell(p[0], b.Min[0], b.Max[0])
	y := cell(p[1], b.Min[1], b.Max[1])
	var d uint64
	for s := uint32(n / 2); s > 0; s /= 2 {
		var rx, ry uint32
		if x&s > 0 {
			rx = 1
		}
		if y&s > 0 {
			ry = 1
		}
		d += uint64(s) * uint64(s) * uint64((3*rx)^ry)
		if ry == 0 {
			if rx == 1 {
				x = n - 1 - x
				y = n - 1 - y
			}
			x, y = y, x
		}
	}
	return d
}

// TestHilbertMatchesReference checks Hilbert against the textbook form on
// random points, the corners and points outside the box.
func TestHilbertMatchesReference(t *testing.T) {
	b := orb.Bound{Min: orb.Point{103.9, 30.5}, Max: orb.Point{104.2, 30.8}}
	rng := rand.New(rand.NewPCG(1, 1))
	pts := []orb.Point{b.Min, b.Max, {b.Min[0], b.Max[1]}, {b.Max[0], b.Min[1]}, {0, 0}, {200, 100}}
	for range 200000 {
		pts = append(pts, orb.Point{103.8 + rng.Float64()*0.5, 30.4 + rng.Float64()*0.5})
	}
	for _, p := range pts {
		if got, want := Hilbert(p, b), hilbertRef(p, b); got != want {
			t.Fatalf("Hilbert(%v) = %d, want %d", p, got, want)
		}
	}
	if got, want := Hilbert(orb.Point{1, 1}, orb.Bound{}), hilbertRef(orb.Point{1, 1}, orb.Bound{}); got != want {
		t.Fatalf("empty box: %d, want %d", got, want)
	}
}

func BenchmarkHilbert(b *testing.B) {
	bd := orb.Bound{Min: orb.Point{103.9, 30.5}, Max: orb.Point{104.2, 30.8}}
	rng := rand.New(rand.NewPCG(1, 1))
	pts := make([]orb.Point, 4096)
	for i := range pts {
		pts[i] = orb.Point{103.9 + rng.Float64()*0.3, 30.5 + rng.Float64()*0.3}
	}
	for _, f := range []struct {
		name string
		fn   func(orb.Point, orb.Bound) uint64
	}{{"branch-free", Hilbert}, {"reference", hilbertRef}} {
		b.Run(f.name, func(b *testing.B) {
			var s uint64
			for i := 0; b.Loop(); i++ {
				s += f.fn(pts[i%len(pts)], bd)
			}
			_ = s
		})
	}
}

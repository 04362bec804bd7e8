package spatial

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

// TestSearchStripeBoxes checks that SearchStripeBoxes visits what
// SearchStripe visits, each item once over the stripes, with its box as
// stored (Box32 of the box it was inserted with), and that it stops when
// fn returns false or the context is done.
func TestSearchStripeBoxes(t *testing.T) {
	var ix Index[int]
	rng := rand.New(rand.NewPCG(7, 8))
	boxes := map[int]orb.Bound{}
	for i := range 5000 {
		p := orb.Point{rng.Float64(), rng.Float64()}
		bd := orb.Bound{Min: p, Max: p}
		if i%4 == 0 {
			bd.Max = orb.Point{p[0] + 0.1*rng.Float64(), p[1] + 0.05*rng.Float64()}
		}
		ix.Insert(bd, i)
		boxes[i] = bd
	}
	b := orb.Bound{Min: orb.Point{0.2, 0.1}, Max: orb.Point{0.8, 0.9}}
	for _, n := range []int{1, 3, 10} {
		want := map[int]int{}
		got := map[int]int{}
		for _, s := range Stripes(b, n) {
			if err := ix.SearchStripe(context.Background(), s, func(v int) bool { want[v]++; return true }); err != nil {
				t.Fatal(err)
			}
			if err := ix.SearchStripeBoxes(context.Background(), s, func(lo, hi [2]float32, v int) bool {
				got[v]++
				if wlo, whi := Box32(boxes[v]); lo != wlo || hi != whi {
					t.Fatalf("item %d: box %v-%v, want %v-%v", v, lo, hi, wlo, whi)
				}
				return true
			}); err != nil {
				t.Fatal(err)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%d stripes: %d items, SearchStripe %d", n, len(got), len(want))
		}
		for v, k := range got {
			if k != 1 || want[v] != 1 {
				t.Fatalf("%d stripes: item %d seen %d times, by SearchStripe %d", n, v, k, want[v])
			}
		}
	}
	s := Stripes(b, 1)[0]
	calls := 0
	if err := ix.SearchStripeBoxes(context.Background(), s, func(_, _ [2]float32, _ int) bool { calls++; return calls < 3 }); err != nil || calls != 3 {
		t.Fatalf("stopped after %d calls (%v), want 3", calls, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls = 0
	if err := ix.SearchStripeBoxes(ctx, s, func(_, _ [2]float32, _ int) bool { calls++; return true }); err != context.Canceled || calls >= CheckEvery {
		t.Fatalf("cancelled: %d calls, err %v", calls, err)
	}
}

// TestInner32 checks that a point whose stored box lies within Inner32 of
// a box lies in the box, and that Inner32 is as large as it can be: the
// next float32 outward is outside the box.
func TestInner32(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for range 100000 {
		c := orb.Point{-180 + 360*rng.Float64(), -90 + 180*rng.Float64()}
		w := math.Ldexp(rng.Float64(), -rng.IntN(30))
		b := orb.Bound{Min: c, Max: orb.Point{c[0] + w, c[1] + w*rng.Float64()}}
		lo, hi := Inner32(b)
		for k := range 2 {
			if float64(lo[k]) < b.Min[k] || float64(hi[k]) > b.Max[k] {
				t.Fatalf("Inner32(%v) = %v-%v: outside", b, lo, hi)
			}
			if float64(math.Nextafter32(lo[k], float32(math.Inf(-1)))) >= b.Min[k] ||
				float64(math.Nextafter32(hi[k], float32(math.Inf(1)))) <= b.Max[k] {
				t.Fatalf("Inner32(%v) = %v-%v: not the largest", b, lo, hi)
			}
		}
		p := orb.Point{b.Min[0] + (b.Max[0]-b.Min[0])*rng.Float64()*1.2 - 0.1*w, b.Min[1] + (b.Max[1]-b.Min[1])*rng.Float64()*1.2}
		plo, phi := PointBox32(p)
		if plo[0] >= lo[0] && plo[1] >= lo[1] && phi[0] <= hi[0] && phi[1] <= hi[1] && !b.Contains(p) {
			t.Fatalf("point %v with box %v-%v within Inner32(%v) = %v-%v, but not in the box", p, plo, phi, b, lo, hi)
		}
	}
}

package spatial

import (
	"context"

	"github.com/paulmach/orb"
)

// Stripe is one of the vertical slices of a search box that Stripes cuts,
// so that a long search can be run slice by slice, each under a short
// lock: Index.SearchStripe visits every item of the box in exactly one
// stripe.
type Stripe struct {
	Box         orb.Bound // the slice of the search box
	first, last bool
	west, east  float32 // owned: west <= the item's west edge < east
}

// Stripes cuts b into n vertical slices of equal width (at least one).
func Stripes(b orb.Bound, n int) []Stripe {
	n = max(1, n)
	out := make([]Stripe, n)
	w := (b.Max[0] - b.Min[0]) / float64(n)
	for i := range out {
		lo, hi := b.Min[0]+float64(i)*w, b.Min[0]+float64(i+1)*w
		if i == n-1 {
			hi = b.Max[0]
		}
		out[i] = Stripe{
			Box:   orb.Bound{Min: orb.Point{lo, b.Min[1]}, Max: orb.Point{hi, b.Max[1]}},
			first: i == 0,
			last:  i == n-1,
		}
		// The float32 west edge of a stripe is the east edge of the one
		// before: neighbours agree on who owns an item on their border.
		lo32, _ := Box32(out[i].Box)
		out[i].west = lo32[0]
		if i > 0 {
			out[i-1].east = lo32[0]
		}
	}
	return out
}

// StripesFor cuts b into about one stripe per perStripe items of the
// index, estimated from the share of the index's box that b covers
// (items evenly spread), and at most maxStripes.
func (ix *Index[T]) StripesFor(b orb.Bound, perStripe, maxStripes int) []Stripe {
	n := 1
	if ib := ix.Bound(); ix.Len() > perStripe && ib.Intersects(b) {
		share := 1.0
		if w, h := ib.Max[0]-ib.Min[0], ib.Max[1]-ib.Min[1]; w > 0 && h > 0 {
			x := min(b.Max[0], ib.Max[0]) - max(b.Min[0], ib.Min[0])
			y := min(b.Max[1], ib.Max[1]) - max(b.Min[1], ib.Min[1])
			share = min(1, max(x, 0)*max(y, 0)/(w*h))
		}
		n = int(float64(ix.Len())*share)/max(1, perStripe) + 1
	}
	return Stripes(b, min(n, max(1, maxStripes)))
}

// SearchStripe is SearchContext over the stripe's box, keeping only the
// items that the stripe owns: those whose box starts (its west edge, as
// stored) in the stripe, or before it for the first stripe. Over all the
// stripes of a box every item whose box intersects the box is visited
// once.
func (ix *Index[T]) SearchStripe(ctx context.Context, s Stripe, fn func(v T) bool) error {
	return ix.SearchStripeBoxes(ctx, s, func(_, _ [2]float32, v T) bool { return fn(v) })
}

// SearchStripeBoxes is SearchStripe passing each item's box as stored
// (float32, rounded outward: Box32) along with its value, so that a caller
// can tell the items whose box lies inside its own (see Inner32) from those
// that need an exact test.
func (ix *Index[T]) SearchStripeBoxes(ctx context.Context, s Stripe, fn func(min, max [2]float32, v T) bool) error {
	var err error
	n := 0
	min, max := Box32(s.Box)
	ix.tr.Search(min, max, func(bmin, bmax [2]float32, v T) bool {
		n++
		if n%CheckEvery == 0 {
			if err = ctx.Err(); err != nil {
				return false
			}
		}
		if (!s.first && bmin[0] < s.west) || (!s.last && bmin[0] >= s.east) {
			return true
		}
		return fn(bmin, bmax, v)
	})
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// Inner32 converts a box to float32 corners rounded inward: a stored box
// (Box32 of a geometry's bound) whose corners lie within them, edges
// included, is the box of a geometry whose bound lies within b. When b is
// thinner than a float32 step, min may exceed max: then no box lies within.
func Inner32(b orb.Bound) (min, max [2]float32) {
	return [2]float32{up32(b.Min[0]), up32(b.Min[1])}, [2]float32{down32(b.Max[0]), down32(b.Max[1])}
}

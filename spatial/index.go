package spatial

import (
	"context"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// CheckEvery is how many items an iteration visits between two checks of
// its context.
const CheckEvery = 256

// Index is an R-tree of values of type T keyed by their bounding boxes,
// stored as float32 rounded outward. The zero value is an empty index ready
// to use. The box test is conservative: callers run the exact geometry test
// (Intersects, IntersectsPolygon) on what Search returns.
//
// An Index is safe for concurrent readers; a writer needs exclusive access.
type Index[T comparable] struct {
	tr rtree.RTreeGN[float32, T]
}

// Len returns the number of items.
func (ix *Index[T]) Len() int { return ix.tr.Len() }

// Insert adds v with the box b.
func (ix *Index[T]) Insert(b orb.Bound, v T) {
	min, max := Box32(b)
	ix.tr.Insert(min, max, v)
}

// Delete removes v inserted with the box b (the same box it was inserted
// with). It reports nothing if v is not there.
func (ix *Index[T]) Delete(b orb.Bound, v T) {
	min, max := Box32(b)
	ix.tr.Delete(min, max, v)
}

// Bound returns the box that holds every item (float32 precision).
func (ix *Index[T]) Bound() orb.Bound {
	if ix.tr.Len() == 0 {
		return orb.Bound{}
	}
	min, max := ix.tr.Bounds()
	return orb.Bound{Min: orb.Point{float64(min[0]), float64(min[1])}, Max: orb.Point{float64(max[0]), float64(max[1])}}
}

// Search calls fn for every item whose box intersects b (edges included),
// until fn returns false.
func (ix *Index[T]) Search(b orb.Bound, fn func(v T) bool) {
	min, max := Box32(b)
	ix.tr.Search(min, max, func(_, _ [2]float32, v T) bool { return fn(v) })
}

// SearchContext is Search that checks ctx every CheckEvery items and
// returns ctx.Err() when it is done.
func (ix *Index[T]) SearchContext(ctx context.Context, b orb.Bound, fn func(v T) bool) error {
	var err error
	n := 0
	min, max := Box32(b)
	ix.tr.Search(min, max, func(_, _ [2]float32, v T) bool {
		n++
		if n%CheckEvery == 0 {
			if err = ctx.Err(); err != nil {
				return false
			}
		}
		return fn(v)
	})
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// Scan calls fn for every item in tree order until fn returns false.
func (ix *Index[T]) Scan(fn func(v T) bool) {
	ix.tr.Scan(func(_, _ [2]float32, v T) bool { return fn(v) })
}

// Copy returns a copy-on-write snapshot: later writes to either index do not
// show in the other. It is O(1).
func (ix *Index[T]) Copy() *Index[T] {
	return &Index[T]{tr: *ix.tr.Copy()}
}

// Nearby visits items in ascending order of distance in metres from pt.
// dist returns the exact distance of an item (+Inf to skip it); boxes are
// ranked by BoxDistance, a lower bound of the distance to anything inside
// them. fn receives the items in ascending order of dist until it returns
// false or the items are exhausted. Skipped items (+Inf) are not visited.
func (ix *Index[T]) Nearby(pt orb.Point, dist func(v T) float64, fn func(v T, d float64) bool) {
	m := NewMetric(pt)
	ix.tr.Nearby(func(min, max [2]float32, v T, item bool) float64 {
		if item {
			return dist(v)
		}
		return m.BoxDistance(min, max)
	}, func(_, _ [2]float32, v T, d float64) bool {
		if d > maxFinite {
			return false
		}
		return fn(v, d)
	})
}

// Intersecting calls fn for every item whose geometry (given by geom)
// really intersects the area: the box search first, then the exact test
// against the Prepared area. It checks ctx every CheckEvery items, stops
// when fn returns false, and returns ctx.Err().
func (ix *Index[T]) Intersecting(ctx context.Context, area orb.Geometry, geom func(v T) orb.Geometry, fn func(v T) bool) error {
	pa := Prepare(area)
	return ix.SearchContext(ctx, area.Bound(), func(v T) bool {
		if !pa.Intersects(geom(v)) {
			return true
		}
		return fn(v)
	})
}

package grid

import (
	"context"

	"github.com/paulmach/orb"
)

// Search calls fn for every grid whose polygon really meets the box b
// (closed sets: touching counts; a box wholly inside a hole does not),
// in no particular order, until fn returns false. It returns ctx.Err() if
// ctx ends before the search does, else nil. The candidates are taken
// under a short read lock; fn runs without it.
func (ix *Index) Search(ctx context.Context, b orb.Bound, fn func(g Grid) bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var cand []*entry
	ix.mu.RLock()
	ix.tree.Search(b.Min, b.Max, func(_, _ [2]float64, e *entry) bool {
		cand = append(cand, e)
		return true
	})
	ix.mu.RUnlock()
	for i, e := range cand {
		if i%256 == 255 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if intersects(e.grid.Geometry, e.bound, b) && !fn(e.grid) {
			return nil
		}
	}
	return nil
}

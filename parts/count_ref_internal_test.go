package parts

import (
	"context"

	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// CountClassesRef is CountClasses as it was before r.cls, the box
// shortcut and the tally's bitmap: every part loads its record and, for a point, its point. The
// tests compare the two, and BenchmarkCount500m times both.
func (r *Registry) CountClassesRef(ctx context.Context, b orb.Bound, f Filter) ([]ClassCount, error) {
	stripes := r.stripes(b)
	r.mu.RLock()
	m := r.compile(f)
	r.mu.RUnlock()
	if m.none {
		return []ClassCount{}, ctx.Err()
	}
	t := new(classTally) // (the tally is not what changed)
	var shapes []classShape
	for _, s := range stripes {
		shapes = shapes[:0]
		r.mu.RLock()
		err := r.tree.SearchStripe(ctx, s, func(idx uint32) bool {
			rec := &r.recs[idx]
			if !m.all && !m.match(r, rec) {
				return true
			}
			if rec.flags&flagShape != 0 {
				shapes = append(shapes, classShape{rec.class(), r.shapes[rec.geo]})
			} else if b.Contains(r.pts[rec.geo]) {
				t.add(rec.class())
			}
			return true
		})
		r.mu.RUnlock()
		if err != nil {
			return nil, err
		}
		for i := range shapes {
			if spatial.Intersects(shapes[i].g, b) {
				t.add(shapes[i].class)
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return t.sorted(), nil
}

package parts

import (
	"context"

	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// Entry is the light view of a part that tiles need. Geometry is an
// orb.Point, orb.LineString or orb.Polygon shared with the registry:
// read-only.
type Entry struct {
	Code     Code
	Class    Class
	State    State
	Owner    string
	Geometry orb.Geometry
}

// Scan calls fn for every live part that passes the filter and whose
// geometry really intersects b, in tree order (not code order), until fn
// returns false. It holds the read lock for the whole walk: fn must be quick
// and must not write to the registry. It allocates nothing per part: the
// geometries are shared with the registry. It returns the context's error if ctx is
// done (checked every spatial.CheckEvery parts), else nil.
func (r *Registry) Scan(ctx context.Context, b orb.Bound, f Filter, fn func(e Entry) bool) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	m := r.compile(f)
	shapeIn := func(g orb.Geometry) bool { return spatial.Intersects(g, b) }
	return r.tree.SearchContext(ctx, b, func(idx uint32) bool {
		rec := &r.recs[idx]
		if !m.match(r, rec) || !r.exact(rec, b.Contains, shapeIn) {
			return true
		}
		return fn(Entry{
			Code:     Code(rec.code),
			Class:    Class(rec.class()),
			State:    State(rec.state),
			Owner:    r.strs.get(rec.owner),
			Geometry: r.geometry(rec),
		})
	})
}

// CountByClass counts the live parts per class that pass the filter and
// really intersect b. It searches stripe by stripe with the exact tests
// outside the lock (see stripeSize), so a count over the whole city does
// not hold writers back.
func (r *Registry) CountByClass(ctx context.Context, b orb.Bound, f Filter) (map[Class]int, error) {
	var counts [10000]int32
	err := r.eachMatch(ctx, b, f, inBox(b), func(c *candidate) {
		counts[c.code/1e6%1e4]++
	})
	if err != nil {
		return nil, err
	}
	out := make(map[Class]int)
	for c, n := range counts {
		if n > 0 {
			out[Class(c)] = int(n)
		}
	}
	return out, nil
}

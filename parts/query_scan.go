package parts

import (
	"context"
	"slices"

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
// really intersect b. It searches stripe by stripe (see stripeSize), so a
// count over the whole city does not hold writers back.
func (r *Registry) CountByClass(ctx context.Context, b orb.Bound, f Filter) (map[Class]int, error) {
	cs, err := r.CountClasses(ctx, b, f)
	if err != nil {
		return nil, err
	}
	out := make(map[Class]int, len(cs))
	for _, c := range cs {
		out[c.Class] = c.Count
	}
	return out, nil
}

// ClassCount is the number of parts of one class.
type ClassCount struct {
	Class Class
	Count int
}

// CountClasses counts as CountByClass does, in a slice ordered by class
// (classes with no part left out): no map to build or sort. It walks the
// tree stripe by stripe, each under a short read lock, counting the points
// as it goes (their exact test is a box test) and copying only the lines
// and polygons, whose exact tests run after the lock is released.
func (r *Registry) CountClasses(ctx context.Context, b orb.Bound, f Filter) ([]ClassCount, error) {
	stripes := r.stripes(b)
	r.mu.RLock()
	m := r.compile(f)
	r.mu.RUnlock()
	if m.none {
		return []ClassCount{}, ctx.Err()
	}
	t := new(classTally)
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
			if i%spatial.CheckEvery == spatial.CheckEvery-1 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
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

// classShape is a line or polygon of a count, tested outside the lock.
type classShape struct {
	class uint16
	g     orb.Geometry
}

// classTally counts parts by class (0-9999) in a small open-addressing
// table: a count sees tens of classes, not the 10,000 a dense array
// would clear and scan. Past tallySpill classes the rest go to a map.
type classTally struct {
	keys  [tallySlots]uint16 // class+1; 0 is a free slot
	n     [tallySlots]int32
	used  int
	spill map[uint16]int
}

const (
	tallySlots = 256
	tallySpill = 192
)

func (t *classTally) add(c uint16) {
	h := (uint32(c) * 0x9E3779B1) >> 24 // 8 bits: tallySlots
	for {
		switch t.keys[h] {
		case c + 1:
			t.n[h]++
			return
		case 0:
			if t.used >= tallySpill {
				if t.spill == nil {
					t.spill = make(map[uint16]int)
				}
				t.spill[c]++
				return
			}
			t.keys[h], t.n[h] = c+1, 1
			t.used++
			return
		}
		h = (h + 1) % tallySlots
	}
}

// sorted returns the counts by ascending class.
func (t *classTally) sorted() []ClassCount {
	out := make([]ClassCount, 0, t.used+len(t.spill))
	for i, k := range t.keys {
		if k != 0 {
			out = append(out, ClassCount{Class(k - 1), int(t.n[i])})
		}
	}
	for c, n := range t.spill {
		out = append(out, ClassCount{Class(c), n})
	}
	slices.SortFunc(out, func(a, b ClassCount) int { return int(a.Class) - int(b.Class) })
	return out
}

package parts

import (
	"context"
	"math/bits"

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
//
// Without a filter it reads no record for most parts: their class comes
// from r.cls, and their exact test is settled by their stored R-tree box
// alone (sureIn). Only the few parts on the edge of b that it cannot
// settle load their record and geometry.
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
	// edge is the exact test of a part that the box test did not settle.
	edge := func(idx uint32) {
		rec := &r.recs[idx]
		if !m.all && !m.match(r, rec) {
			return
		}
		if rec.flags&flagShape != 0 {
			shapes = append(shapes, classShape{rec.class(), r.shapes[rec.geo]})
		} else if b.Contains(r.pts[rec.geo]) {
			t.add(rec.class())
		}
	}
	var visit func(lo, hi [2]float32, idx uint32) bool
	if m.all {
		in0, in1 := spatial.Inner32(b)
		visit = func(lo, hi [2]float32, idx uint32) bool {
			if c := r.cls[idx]; c&clsInner != 0 && sureIn(lo, hi, in0, in1) {
				t.add(c & clsClass)
			} else {
				edge(idx)
			}
			return true
		}
	} else {
		visit = func(_, _ [2]float32, idx uint32) bool {
			edge(idx)
			return true
		}
	}
	for _, s := range stripes {
		shapes = shapes[:0]
		r.mu.RLock()
		err := r.tree.SearchStripeBoxes(ctx, s, visit)
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

// sureIn reports whether a geometry that is connected and reaches its bound
// (clsInner: a point, a line, a polygon's outer ring), stored in the R-tree
// with the box lo-hi (Box32 of its bound), surely intersects the box b
// whose inward-rounded corners (spatial.Inner32) are in0-in1. It does when
// its bound lies within b on one axis and overlaps b on the other: then the
// geometry runs from one side of its bound to the other inside b's band of
// that axis, so it crosses b (spatial.Intersects agrees: a vertex is in b,
// or a segment runs across it within the band, which Liang-Barsky's
// monotone roundings do not miss). On the other axis, lo < in1 means the
// bound's true minimum, below the float32 after lo, is under b's maximum,
// and hi > in0 the same for the maximum. false means "test exactly".
func sureIn(lo, hi, in0, in1 [2]float32) bool {
	xIn := lo[0] >= in0[0] && hi[0] <= in1[0]
	yIn := lo[1] >= in0[1] && hi[1] <= in1[1]
	return xIn && (yIn || lo[1] < in1[1] && hi[1] > in0[1]) ||
		yIn && lo[0] < in1[0] && hi[0] > in0[0]
}

// classShape is a line or polygon of a count, tested outside the lock.
type classShape struct {
	class uint16
	g     orb.Geometry
}

// classTally counts parts by class (0-9999) in a small open-addressing
// table: a count sees tens of classes, not the 10,000 a dense array
// would clear and scan. Past tallySpill classes the rest go to a map. A
// bitmap of the classes seen gives them in order without a sort.
type classTally struct {
	keys  [tallySlots]uint16 // class+1; 0 is a free slot
	n     [tallySlots]int32
	used  int
	spill map[uint16]int
	seen  [(10000 + 63) / 64]uint64
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
			t.seen[c/64] |= 1 << (c % 64)
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

// count returns the count of class c.
func (t *classTally) count(c uint16) int {
	h := (uint32(c) * 0x9E3779B1) >> 24
	for {
		switch t.keys[h] {
		case c + 1:
			return int(t.n[h])
		case 0:
			return t.spill[c]
		}
		h = (h + 1) % tallySlots
	}
}

// sorted returns the counts by ascending class.
func (t *classTally) sorted() []ClassCount {
	out := make([]ClassCount, 0, t.used+len(t.spill))
	for i, w := range t.seen {
		for w != 0 {
			c := uint16(i*64 + bits.TrailingZeros64(w))
			w &= w - 1
			out = append(out, ClassCount{Class(c), t.count(c)})
		}
	}
	return out
}

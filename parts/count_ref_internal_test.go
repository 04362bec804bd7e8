package parts

import (
	"context"
	"slices"

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
	t := new(refTally)
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

// refTally is classTally as it was: the same table, without the bitmap,
// sorted by a sort.
type refTally struct {
	keys  [tallySlots]uint16 // class+1; 0 is a free slot
	n     [tallySlots]int32
	used  int
	spill map[uint16]int
}

func (t *refTally) add(c uint16) {
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
func (t *refTally) sorted() []ClassCount {
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

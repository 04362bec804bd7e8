package parts

import (
	"context"

	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// Striped searches: a search over a big box does not hold the registry's
// read lock for its whole walk, so writers (and the readers queued behind
// them) never wait for it for more than a fraction of a millisecond. The
// box is cut into vertical stripes (spatial.Stripes) of about stripeSize
// candidates; under a short read lock per stripe the candidates that pass
// the filter are copied, and their exact geometry tests run after the lock
// is released. A write that lands during a search may therefore show in
// some stripes and not in others, as with Each.
const (
	stripeSize = 8192
	maxStripes = 4096
)

// candidate is a part copied under the read lock for an exact test
// outside it: its point, or its line or polygon (shared, read-only).
type candidate struct {
	code uint64
	idx  uint32
	ord  uint32
	pt   orb.Point
	g    orb.Geometry // nil for a point
}

// inFunc is an exact test: the point pt when g is nil, else the line or
// polygon g.
type inFunc func(pt orb.Point, g orb.Geometry) bool

// inBox is the exact test of a box search: edges count.
func inBox(b orb.Bound) inFunc {
	return func(pt orb.Point, g orb.Geometry) bool {
		if g == nil {
			return b.Contains(pt)
		}
		return spatial.Intersects(g, b)
	}
}

// stripes cuts b into the stripes of a search.
func (r *Registry) stripes(b orb.Bound) []spatial.Stripe {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.tree.StripesFor(b, stripeSize, maxStripes)
}

// collect copies, under one read lock, the candidates of the stripe that
// pass m into buf.
func (r *Registry) collect(ctx context.Context, s spatial.Stripe, m *matcher, buf []candidate) ([]candidate, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	err := r.tree.SearchStripe(ctx, s, func(idx uint32) bool {
		rec := &r.recs[idx]
		if !m.all && !m.match(r, rec) {
			return true
		}
		c := candidate{code: rec.code, idx: idx, ord: rec.ord}
		if rec.flags&flagShape != 0 {
			c.g = r.shapes[rec.geo]
		} else {
			c.pt = r.pts[rec.geo]
		}
		buf = append(buf, c)
		return true
	})
	return buf, err
}

// eachMatch calls fn for every live part in b that passes f and the exact
// test in, stripe by stripe (see stripeSize): in and fn run outside the
// lock. It checks ctx every spatial.CheckEvery candidates.
func (r *Registry) eachMatch(ctx context.Context, b orb.Bound, f Filter, in inFunc, fn func(c *candidate)) error {
	stripes := r.stripes(b)
	r.mu.RLock()
	m := r.compile(f)
	r.mu.RUnlock()
	if m.none {
		return ctx.Err()
	}
	var buf []candidate
	for _, s := range stripes {
		var err error
		buf, err = r.collect(ctx, s, m, buf[:0])
		if err != nil {
			return err
		}
		for i := range buf {
			if i%spatial.CheckEvery == spatial.CheckEvery-1 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if c := &buf[i]; in(c.pt, c.g) {
				fn(c)
			}
		}
	}
	return ctx.Err()
}

// page runs a striped search with the exact test in and builds one page:
// only the 2*limit+1024 smallest codes past the cursor are kept at any
// time. The parts of the page are read under one last short lock, and one
// that a write changed meanwhile is tested again (and left out if it no
// longer passes).
func (r *Registry) page(ctx context.Context, b orb.Bound, f Filter, limit int, cur cursor, sum uint64, in inFunc) (Page, error) {
	after := uint64(cur.after)
	keep := 2*limit + 1024 // hits kept before trimming to limit+1
	hits := make([]hit, 0, min(keep, max(1024, limit+limit/2)))
	var tmp []hit
	matched, rest := 0, 0
	// Once trimmed, hits above the (limit+1)-th smallest code cannot make
	// the page: bound skips them.
	bound := uint64(1<<64 - 1)
	ranked := true // every hit has an ord: sort by ord
	err := r.eachMatch(ctx, b, f, in, func(c *candidate) {
		matched++
		if c.code <= after {
			return
		}
		rest++
		if c.code > bound {
			return
		}
		hits = append(hits, hit{c.code, c.idx, c.ord})
		ranked = ranked && c.ord != 0
		if len(hits) >= keep {
			tmp = sortPage(hits, tmp, ranked)
			hits = hits[:limit+1]
			bound = hits[limit].code
		}
	})
	if err != nil {
		return Page{}, err
	}
	sortPage(hits, tmp, ranked)
	if len(hits) > limit {
		hits = hits[:limit]
	}
	pg := Page{NumberMatched: matched, Parts: make([]Part, 0, len(hits))}
	r.mu.RLock()
	m := r.compile(f)
	for _, h := range hits {
		rec := &r.recs[h.idx]
		if rec.flags&(flagRetired|flagNoGeom) != 0 || !m.match(r, rec) {
			continue // retired or changed since it was tested
		}
		if rec.flags&flagShape != 0 {
			if !in(orb.Point{}, r.shapes[rec.geo]) {
				continue
			}
		} else if !in(r.pts[rec.geo], nil) {
			continue
		}
		pg.Parts = append(pg.Parts, Part{})
		r.fill(&pg.Parts[len(pg.Parts)-1], h.idx)
	}
	r.mu.RUnlock()
	if rest > limit {
		pg.Next = encodeCursor(cursor{after: Code(hits[len(hits)-1].code), hash: sum})
	}
	return pg, nil
}

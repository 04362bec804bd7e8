package parts

import (
	"context"
	"unsafe"

	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// Striped searches: a search over a big box does not hold the registry's
// read lock for its whole walk, so writers (and the readers queued behind
// them) never wait for it for more than a fraction of a millisecond. The
// box is cut into vertical stripes (spatial.Stripes) of about stripeSize
// candidates, each walked under a short read lock. The exact geometry
// tests that are cheap and bounded (a box search's tests of points and of
// small lines and polygons, see exactTest) run during the walk; the
// others run on copies of the candidates after the lock is released. A
// write that lands during a search may therefore show in some stripes and
// not in others, as with Each; a search of one stripe with every test run
// during the walk is seen whole (see viewPage).
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

// exactTest is the exact geometry test of a search. A box search sets box
// and inline: its tests (a point in a box, a small line or polygon against
// a box) are cheap enough to run under the read lock during the walk,
// which saves copying the candidates out of the registry and testing them
// again at the end.
type exactTest struct {
	in     inFunc
	box    orb.Bound
	inline bool
}

// boxTest is the exact test of a box search.
func boxTest(b orb.Bound) exactTest { return exactTest{in: inBox(b), box: b, inline: true} }

// areaTest is the exact test of a search within a prepared area.
func areaTest(pa *spatial.Prepared) exactTest {
	return exactTest{in: func(pt orb.Point, g orb.Geometry) bool {
		if g == nil {
			return pa.Contains(pt)
		}
		return pa.Intersects(g)
	}}
}

// Limits of the exact tests that a walk runs under the read lock: a line
// or polygon of more than inlineVertices vertices, and any once a stripe
// has tested inlineBudget vertices, is copied out and tested after the
// lock is released, so that a stripe holds the lock about as long as its
// tree walk whatever the shapes.
const (
	inlineVertices = 64
	inlineBudget   = 1 << 15
)

// shapeInBox runs the exact test of a box search on a line or polygon of
// n <= inlineVertices vertices; for a bigger one, or another geometry, it
// returns n > inlineVertices and no answer. A first vertex in the box
// settles most candidates without the full test.
func shapeInBox(g orb.Geometry, b orb.Bound) (in bool, n int) {
	switch s := g.(type) {
	case orb.LineString:
		n = len(s)
		if n > inlineVertices {
			return false, n
		}
		if n > 0 && b.Contains(s[0]) {
			return true, n
		}
	case orb.Polygon:
		for _, rg := range s {
			n += len(rg)
		}
		if n > inlineVertices {
			return false, n
		}
		if n > 0 && len(s[0]) > 0 && b.Contains(s[0][0]) {
			return true, n
		}
	default:
		return false, inlineVertices + 1
	}
	return spatial.Intersects(g, b), n
}

// pageHits gathers the hits of a page while a search runs: it counts the
// matches and keeps only the 2*limit+1024 smallest codes past the cursor
// at any time. Its first pageBuf hits live in the struct itself, so that a
// search of a page of up to 1,000 parts, whose pageHits is a local
// variable, does not allocate them.
type pageHits struct {
	after uint64 // the cursor's code
	// Once trimmed, hits above the (limit+1)-th smallest code cannot make
	// the page: bound skips them.
	bound   uint64
	limit   int
	keep    int   // hits kept before trimming to limit+1
	matched int   // matches over all pages
	rest    int   // matches past the cursor
	n       int   // hits in buf, while more is nil
	more    []hit // all the hits once buf is full
	tmp     []hit
	buf     [pageBuf]hit
}

// pageBuf is the number of hits a search holds before it allocates.
const pageBuf = 1536

// freshSort is the most hits that viewPage sorts under the read lock of a
// search of one stripe (a few microseconds); more are sorted after the
// lock is released, and the page tested again under another.
const freshSort = 2 << packBits

// init prepares p for a page of limit parts past the code after.
func (p *pageHits) init(limit int, after uint64) {
	p.after = after
	p.bound = 1<<64 - 1
	p.limit = limit
	p.keep = 2*limit + 1024
}

// hits returns the hits kept.
func (p *pageHits) hits() []hit {
	if p.more != nil {
		return p.more
	}
	return p.buf[:p.n]
}

// add records a match.
func (p *pageHits) add(code uint64, idx, ord uint32) {
	if !p.push(code, idx, ord) {
		p.addMore(code, idx, ord)
	}
}

// push is the common case of add, small enough to be inlined in a walk:
// it counts the match and stores a hit past the cursor and within the
// bound while buf has room. It returns false, having done nothing, in any
// other case, left to addMore.
func (p *pageHits) push(code uint64, idx, ord uint32) bool {
	// after < code <= bound, in one comparison (bound > after).
	if n := uint(p.n); code-p.after-1 < p.bound-p.after && n < uint(len(p.buf)) {
		p.matched++
		p.rest++
		p.buf[n] = hit{code, idx, ord}
		p.n++
		return true
	}
	return false
}

// addMore is the rest of add: a hit before the cursor or past the bound,
// or one that does not fit buf. Once buf is full every hit goes to more,
// and n stays len(buf).
func (p *pageHits) addMore(code uint64, idx, ord uint32) {
	p.matched++
	if code <= p.after {
		return
	}
	p.rest++
	if code > p.bound {
		return
	}
	if p.more == nil {
		p.more = make([]hit, len(p.buf), 2*len(p.buf))
		copy(p.more, p.buf[:])
	}
	p.more = append(p.more, hit{code, idx, ord})
	if len(p.more) >= p.keep {
		p.tmp = sortPage(p.more, p.tmp, true)
		p.more = p.more[:p.limit+1]
		p.bound = p.more[p.limit].code
	}
}

// finish puts the page's hits in code order and returns the page's hits
// and, unless it is nil, their order: hits[order[0]], hits[order[1]]...
// (in scratch when it is long enough, see rankOrder). When order is nil
// hits are sorted themselves.
func (p *pageHits) finish(scratch []uint32) (hits []hit, order []uint32) {
	hits = p.hits()
	if order, ok := rankOrder(hits, scratch); ok {
		return hits, order[:min(len(order), p.limit)]
	}
	p.tmp = sortHits(hits, p.tmp)
	return hits[:min(len(hits), p.limit)], nil
}

// walk visits the candidates of one stripe under the read lock: those that
// pass m and an exact test run there go to ph, the others that pass m are
// appended to out, for a test after the lock is released.
func (r *Registry) walk(ctx context.Context, s spatial.Stripe, m *matcher, ex *exactTest, ph *pageHits, out []candidate) ([]candidate, error) {
	budget := 0
	if ex.inline {
		budget = inlineBudget
	}
	box := ex.box
	err := r.tree.SearchStripe(ctx, s, func(idx uint32) bool {
		rec := &r.recs[idx]
		if !m.all && !m.match(r, rec) {
			return true
		}
		if rec.flags&flagShape == 0 {
			pt := r.pts[rec.geo]
			if !ex.inline {
				out = append(out, candidate{code: rec.code, idx: idx, ord: rec.ord, pt: pt})
			} else if box.Contains(pt) && !ph.push(rec.code, idx, rec.ord) {
				ph.addMore(rec.code, idx, rec.ord)
			}
			return true
		}
		g := r.shapes[rec.geo]
		if budget > 0 {
			if in, n := shapeInBox(g, box); n <= inlineVertices {
				budget -= n
				if in && !ph.push(rec.code, idx, rec.ord) {
					ph.addMore(rec.code, idx, rec.ord)
				}
				return true
			}
		}
		out = append(out, candidate{code: rec.code, idx: idx, ord: rec.ord, g: g})
		return true
	})
	return out, err
}

// testOutside runs the exact test on candidates copied out of the
// registry, outside its lock, and adds those that pass to ph. It checks
// ctx every spatial.CheckEvery candidates.
func testOutside(ctx context.Context, cs []candidate, in inFunc, ph *pageHits) error {
	for i := range cs {
		if i%spatial.CheckEvery == spatial.CheckEvery-1 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if c := &cs[i]; in(c.pt, c.g) {
			ph.add(c.code, c.idx, c.ord)
		}
	}
	return nil
}

// viewPage runs a search with the exact test ex and appends the views of
// its page to dst. It also returns the compiled filter.
//
// A search of one stripe whose exact tests all ran during the walk keeps
// its read lock from the walk to the views: they are consistent with the
// tests. Otherwise (more stripes, or tests outside the lock) the parts of
// the page are read under one last short lock, and one that a write
// changed meanwhile is tested again (and left out if it no longer passes).
func (r *Registry) viewPage(ctx context.Context, b orb.Bound, f Filter, limit int, cur cursor, sum uint64, ex exactTest, dst []View) (ViewPage, *matcher, error) {
	pg := ViewPage{Views: dst}
	var ph pageHits
	var keys [4 << packBits]uint32 // scratch of rankOrder for up to 2,048 hits
	ph.init(limit, uint64(cur.after))
	r.mu.RLock()
	stripes := r.tree.StripesFor(b, stripeSize, maxStripes)
	m := r.compile(f)
	if m.none {
		r.mu.RUnlock()
		return pg, m, ctx.Err()
	}
	var out []candidate
	fresh := len(stripes) == 1 // every hit was tested under the lock held
	for i, s := range stripes {
		if i > 0 {
			r.mu.RLock()
		}
		var err error
		out, err = r.walk(ctx, s, m, &ex, &ph, out[:0])
		if err == nil && fresh && len(out) == 0 {
			break // keep the lock for the views
		}
		r.mu.RUnlock()
		fresh = false
		if err == nil {
			err = testOutside(ctx, out, ex.in, &ph)
		}
		if err != nil {
			return pg, m, err
		}
	}
	if fresh && len(ph.hits()) > freshSort {
		// Sort a big page outside the lock, and test it again after.
		r.mu.RUnlock()
		fresh = false
	}
	hits, order := ph.finish(keys[:])
	pg.NumberMatched = ph.matched
	n := len(hits)
	if order != nil {
		n = len(order)
	}
	pg.Views = reserve(pg.Views, n)
	if !fresh {
		r.mu.RLock()
	}
	// The views are written in place, field by field: a third of the cost
	// of appending whole View values built from r.geometry.
	vs := pg.Views[len(pg.Views) : len(pg.Views)+n]
	k := 0
	recs, pts, shapes := r.recs, r.pts, r.shapes
	for i := range n {
		h := &hits[i]
		if order != nil {
			h = &hits[order[i]]
		}
		rec := &recs[h.idx]
		if !fresh && !r.passes(rec, m, ex.in) {
			continue // retired or changed since it was tested
		}
		v := &vs[k]
		k++
		v.reg, v.code, v.idx, v.version, v.state = r, rec.code, h.idx, rec.version, rec.state
		if rec.flags&flagShape != 0 {
			e := (*eface)(unsafe.Pointer(&shapes[rec.geo]))
			v.gtyp, v.gdata = e.typ, e.data
		} else {
			v.gtyp, v.gdata = pointType, unsafe.Pointer(&pts[rec.geo])
		}
	}
	pg.Views = pg.Views[:len(pg.Views)+k]
	r.mu.RUnlock()
	if ph.rest > limit {
		last := n - 1
		if order != nil {
			last = int(order[last])
		}
		pg.Next = encodeCursor(cursor{after: Code(hits[last].code), hash: sum})
	}
	return pg, m, nil
}

// passes reports whether a record is live and passes m and in (under the
// read lock).
func (r *Registry) passes(rec *record, m *matcher, in inFunc) bool {
	if rec.flags&(flagRetired|flagNoGeom) != 0 || !m.match(r, rec) {
		return false
	}
	if rec.flags&flagShape != 0 {
		return in(orb.Point{}, r.shapes[rec.geo])
	}
	return in(r.pts[rec.geo], nil)
}

// page runs a search as viewPage and returns its page of full parts (see
// partsOf).
func (r *Registry) page(ctx context.Context, b orb.Bound, f Filter, limit int, cur cursor, sum uint64, ex exactTest) (Page, error) {
	vp, m, err := r.viewPage(ctx, b, f, limit, cur, sum, ex, nil)
	if err != nil {
		return Page{}, err
	}
	return Page{NumberMatched: vp.NumberMatched, Next: vp.Next, Parts: r.partsOf(vp.Views, m, ex)}, nil
}

// partsOf returns the full parts of the views of a page, read under one
// read lock: a part that a write changed since its view was taken is
// tested again against m and ex (its geometry only if it is another one),
// and left out if it no longer passes.
func (r *Registry) partsOf(vs []View, m *matcher, ex exactTest) []Part {
	ps := make([]Part, 0, len(vs))
	r.mu.RLock()
	defer r.mu.RUnlock()
	for i := range vs {
		v := &vs[i]
		rec := &r.recs[v.idx]
		if rec.flags&(flagRetired|flagNoGeom) != 0 || !m.match(r, rec) {
			continue
		}
		if g := r.geometry(rec); !v.sameGeometry(g) {
			if p, ok := g.(orb.Point); ok {
				if !ex.in(p, nil) {
					continue
				}
			} else if !ex.in(orb.Point{}, g) {
				continue
			}
		}
		ps = append(ps, Part{})
		r.fill(&ps[len(ps)-1], v.idx)
	}
	return ps
}

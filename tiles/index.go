package tiles

import (
	"context"
	"slices"
	"sync"

	"citytwin/parts"
	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// index buckets every component by the tile of zoom level that holds it,
// for the tiles of zooms ThinZoom to DetailZoom-1: such a tile reads its
// few buckets instead of scanning the component source, and a thinned one
// reads of each class only the prefix of its run that thinning keeps,
// where the source would visit every component of the tile. Points are
// kept as compact records with their exact coordinates; lines and polygons
// keep the source's geometry and sit in every bucket their box meets (or
// in big when that is more than maxShapeBuckets). Build fills it and
// PartChanged keeps it up to date, like the count pyramid.
type index struct {
	mu       sync.RWMutex
	built    bool
	building bool
	pending  [][2]*parts.Part // changes that landed during Build's scan
	level    uint32
	pts      map[uint64][]pointRec
	shapes   map[uint64][]*shapeRec
	big      []*shapeRec
	owners   []string
	ownerID  map[string]uint32
	nPts     int
	nShapes  int
}

// pointRec is a point component of the index (32 bytes). A bucket's
// points are sorted by class, then by code hash: thinning keeps of a class
// the codes whose hash is below a power of two, a prefix of its run.
type pointRec struct {
	code  parts.Code
	pt    orb.Point
	owner uint32 // index in owners
	state parts.State
	class parts.Class // code.Class(), kept in the padding: runs are found on it
}

// newPointRec returns the record of a point component.
func newPointRec(code parts.Code, pt orb.Point, owner uint32, state parts.State) pointRec {
	return pointRec{code: code, pt: pt, owner: owner, state: state, class: code.Class()}
}

// shapeRec is a line or polygon component of the index.
type shapeRec struct {
	code   parts.Code
	geom   orb.Geometry
	owner  uint32
	state  parts.State
	x0, y0 uint32    // its first bucket
	bound  orb.Bound // its box
	// simple marks a line or polygon whose first vertex starts an edge
	// inside any box that holds its whole box (a box within the query box
	// means the shape intersects it).
	simple bool
}

// intersects tells, like spatial.Intersects, whether the shape really
// intersects b, trying its box first.
func (s *shapeRec) intersects(b orb.Bound) bool {
	if !s.bound.Intersects(b) {
		return false
	}
	if s.simple && b.Contains(s.bound.Min) && b.Contains(s.bound.Max) {
		return true
	}
	return spatial.Intersects(s.geom, b)
}

// simpleShape tells whether spatial.Intersects(g, b) is true for every box
// b that holds g's box: a line with a vertex, a polygon with an outer ring
// with a vertex (its first edge starts in b).
func simpleShape(g orb.Geometry) bool {
	switch g := g.(type) {
	case orb.LineString:
		return len(g) > 0
	case orb.Polygon:
		return len(g) > 0 && len(g[0]) > 0
	}
	return false
}

// maxShapeBuckets bounds the buckets a shape is put in; a larger shape
// goes to the big list that every query reads.
const maxShapeBuckets = 64

func newIndex(level uint32) *index {
	return &index{level: level}
}

// bucket returns the bucket of a point at the index level (monotone in
// lon and in -lat, so a box's buckets lie between those of its corners).
func (ix *index) bucket(pt orb.Point) (x, y uint32) {
	return cellAt(worldX(pt[0]), worldY(pt[1]), ix.level)
}

// span returns the bucket range of a box.
func (ix *index) span(b orb.Bound) (x0, y0, x1, y1 uint32) {
	x0, y0 = ix.bucket(orb.Point{b.Min[0], b.Max[1]})
	x1, y1 = ix.bucket(orb.Point{b.Max[0], b.Min[1]})
	return x0, y0, x1, y1
}

func (ix *index) owner(s string) uint32 {
	if id, ok := ix.ownerID[s]; ok {
		return id
	}
	if ix.ownerID == nil {
		ix.ownerID = make(map[string]uint32)
	}
	id := uint32(len(ix.owners))
	ix.owners = append(ix.owners, s)
	ix.ownerID[s] = id
	return id
}

// indexBuilder collects the index of a full scan with exactly sized
// buckets.
type indexBuilder struct {
	ix        *index
	pts       []pointRec
	keys      []uint64
	lastOwner string
	lastID    uint32
	hasOwner  bool
}

// addPoint adds a point component to the bucket k.
func (b *indexBuilder) addPoint(code parts.Code, owner string, state parts.State, pt orb.Point, k uint64) {
	if !b.hasOwner || owner != b.lastOwner {
		// (neighbours in the scan often share their owner)
		b.lastOwner, b.lastID, b.hasOwner = owner, b.ix.owner(owner), true
	}
	b.pts = append(b.pts, newPointRec(code, pt, b.lastID, state))
	b.keys = append(b.keys, k)
}

// finish sorts the points into buckets cut from one array.
func (b *indexBuilder) finish() {
	ix := b.ix
	counts := make(map[uint64]int)
	for _, k := range b.keys {
		counts[k]++
	}
	all := make([]pointRec, len(b.pts))
	off := make(map[uint64]int, len(counts))
	n := 0
	for k, c := range counts {
		off[k] = n
		n += c
	}
	for i, k := range b.keys {
		all[off[k]] = b.pts[i]
		off[k]++
	}
	b.pts, b.keys = nil, nil
	ix.pts = make(map[uint64][]pointRec, len(counts))
	var sorter thinSorter
	for k, end := range off {
		c := counts[k]
		list := all[end-c : end : end]
		sorter.sort(list)
		ix.pts[k] = list
	}
	ix.nPts += len(all)
}

// thinSorter sorts buckets in cmpThin order by sorting integer keys: the
// class, the top 32 bits of the code hash and the position in the bucket,
// then the ties of class and top hash bits by cmpThin. It keeps its
// buffers from one bucket to the next.
type thinSorter struct {
	keys []uint64
	tmp  []pointRec
}

const thinPosBits = 18

func (s *thinSorter) sort(list []pointRec) {
	if len(list) < 2 {
		return
	}
	if len(list) > 1<<thinPosBits {
		slices.SortFunc(list, func(a, b pointRec) int { return cmpThin(a.code, b.code) })
		return
	}
	keys := s.keys[:0]
	for i := range list {
		c := list[i].code
		keys = append(keys, uint64(c.Class())<<50|hashCode(c)>>32<<thinPosBits|uint64(i))
	}
	slices.Sort(keys)
	tmp := append(s.tmp[:0], list...)
	for i, k := range keys {
		list[i] = tmp[k&(1<<thinPosBits-1)]
	}
	// equal class and top hash bits (rare): order them by the whole hash
	for i := 1; i < len(keys); i++ {
		if keys[i]>>thinPosBits == keys[i-1]>>thinPosBits {
			j := i - 1
			for j > 0 && keys[j-1]>>thinPosBits == keys[i]>>thinPosBits {
				j--
			}
			e := i + 1
			for e < len(keys) && keys[e]>>thinPosBits == keys[i]>>thinPosBits {
				e++
			}
			slices.SortFunc(list[j:e], func(a, b pointRec) int { return cmpThin(a.code, b.code) })
			i = e - 1
		}
	}
	s.keys, s.tmp = keys, tmp
}

// cmpThin orders codes by class, then by hash.
func cmpThin(a, b parts.Code) int {
	if ca, cb := a.Class(), b.Class(); ca != cb {
		return int(ca) - int(cb)
	}
	ha, hb := hashCode(a), hashCode(b)
	switch {
	case ha < hb:
		return -1
	case ha > hb:
		return 1
	}
	return 0
}

// findPoint returns the position of a code in a sorted bucket, or -1.
func findPoint(list []pointRec, code parts.Code) int {
	i, _ := slices.BinarySearchFunc(list, code, func(r pointRec, c parts.Code) int { return cmpThin(r.code, c) })
	for ; i < len(list) && cmpThin(list[i].code, code) == 0; i++ {
		if list[i].code == code {
			return i
		}
	}
	return -1
}

func (ix *index) reset() {
	ix.pts = make(map[uint64][]pointRec)
	ix.shapes = make(map[uint64][]*shapeRec)
	ix.big = nil
	ix.nPts, ix.nShapes = 0, 0
}

func (ix *index) addShape(code parts.Code, owner string, state parts.State, g orb.Geometry) {
	b := g.Bound()
	x0, y0, x1, y1 := ix.span(b)
	s := &shapeRec{code: code, geom: g, owner: ix.owner(owner), state: state, x0: x0, y0: y0, bound: b, simple: simpleShape(g)}
	ix.nShapes++
	if uint64(x1-x0+1)*uint64(y1-y0+1) > maxShapeBuckets {
		ix.big = append(ix.big, s)
		return
	}
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			k := cellKey(x, y)
			ix.shapes[k] = append(ix.shapes[k], s)
		}
	}
}

// remove takes a component out of the index, found by code in the
// buckets of its geometry; a component not there is ignored.
func (ix *index) remove(code parts.Code, g orb.Geometry) {
	if pt, ok := g.(orb.Point); ok {
		k := cellKey(ix.bucket(pt))
		list := ix.pts[k]
		if i := findPoint(list, code); i >= 0 {
			list = slices.Delete(list, i, i+1)
			ix.nPts--
			if len(list) == 0 {
				delete(ix.pts, k)
			} else {
				ix.pts[k] = list
			}
		}
		return
	}
	x0, y0, x1, y1 := ix.span(g.Bound())
	if uint64(x1-x0+1)*uint64(y1-y0+1) > maxShapeBuckets {
		if i := slices.IndexFunc(ix.big, func(s *shapeRec) bool { return s.code == code }); i >= 0 {
			ix.big = slices.Delete(ix.big, i, i+1)
			ix.nShapes--
		}
		return
	}
	found := false
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			k := cellKey(x, y)
			list := ix.shapes[k]
			if i := slices.IndexFunc(list, func(s *shapeRec) bool { return s.code == code }); i >= 0 {
				found = true
				last := len(list) - 1
				list[i] = list[last]
				list[last] = nil
				list = list[:last]
				if len(list) == 0 {
					delete(ix.shapes, k)
				} else {
					ix.shapes[k] = list
				}
			}
		}
	}
	if found {
		ix.nShapes--
	}
}

// runEnd returns the end of the run of class cl in a bucket sorted by
// class that goes on at i (i itself when the run ended before it).
func runEnd(list []pointRec, i int, cl parts.Class) int {
	end := i
	for end < len(list) && end < i+8 && list[end].class == cl {
		end++
	}
	if end < len(list) && list[end].class == cl {
		// (a search by hand: slices.BinarySearchFunc passes each probed
		// 32-byte record by value)
		lo, hi := end, len(list)
		for lo < hi {
			mid := int(uint(lo+hi) >> 1)
			if list[mid].class <= cl {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		end = lo
	}
	return end
}

// eligible tells whether a part belongs in the index.
func (m *Map) eligible(p *parts.Part) bool {
	return p != nil && p.Geometry != nil && !p.Retired
}

// change applies a change to the built index (idempotent: replaying a
// change the index already holds leaves it as it is). The caller holds
// ix.mu.
func (m *Map) indexChange(old, new *parts.Part) {
	ix := m.ix
	if m.eligible(old) {
		ix.remove(old.Code, old.Geometry)
	}
	if m.eligible(new) {
		ix.remove(new.Code, new.Geometry)
		if pt, ok := new.Geometry.(orb.Point); ok {
			k := cellKey(ix.bucket(pt))
			list := ix.pts[k]
			i, _ := slices.BinarySearchFunc(list, new.Code, func(r pointRec, c parts.Code) int { return cmpThin(r.code, c) })
			ix.pts[k] = slices.Insert(list, i, newPointRec(new.Code, pt, ix.owner(new.Owner), new.State))
			ix.nPts++
		} else {
			ix.addShape(new.Code, new.Owner, new.State, new.Geometry)
		}
	}
}

// ixFilter is the part of a filter the index answers: classes, majors,
// states and owner.
type ixFilter struct {
	all     bool
	none    bool
	classes []bool // nil: any
	majors  [2]uint64
	hasMaj  bool
	owner   uint32
	hasOwn  bool
	states  uint8
}

// indexable tells whether the index answers a filter.
func indexable(f parts.Filter) bool {
	return f.Dept == "" && f.GridPrefix == "" && f.ChangedSince.IsZero()
}

// compile returns the filter as the index answers it, with the registry's
// semantics (parts.Filter: every field given must match). The caller holds
// ix.mu (read).
func (ix *index) compile(f parts.Filter, buf []bool) ixFilter {
	m := ixFilter{all: f.IsZero()}
	if m.all {
		return m
	}
	if len(f.Classes) > 0 {
		if cap(buf) < 10000 {
			buf = make([]bool, 10000)
		}
		m.classes = buf[:10000]
		clear(m.classes)
		for _, c := range f.Classes {
			if int(c) < len(m.classes) {
				m.classes[c] = true
			}
		}
	}
	if len(f.Majors) > 0 {
		m.hasMaj = true
		for _, mj := range f.Majors {
			if mj >= 0 && mj < 128 {
				m.majors[mj/64] |= 1 << (mj % 64)
			}
		}
		if m.majors == [2]uint64{} {
			m.none = true
		}
	}
	if f.Owner != "" {
		id, ok := ix.ownerID[f.Owner]
		m.owner, m.hasOwn = id, true
		m.none = m.none || !ok
	}
	for _, s := range f.States {
		if s < 8 {
			m.states |= 1 << s
		}
	}
	if len(f.States) > 0 && m.states == 0 {
		m.none = true
	}
	return m
}

func (m *ixFilter) match(cl parts.Class, owner uint32, state parts.State) bool {
	if m.all {
		return true
	}
	if m.none {
		return false
	}
	if m.classes != nil && (int(cl) >= len(m.classes) || !m.classes[cl]) {
		return false
	}
	if m.hasMaj {
		mj := int(cl) / 100
		if mj >= 128 || m.majors[mj/64]&(1<<(mj%64)) == 0 {
			return false
		}
	}
	if m.hasOwn && owner != m.owner {
		return false
	}
	if m.states != 0 && (state >= 8 || m.states&(1<<state) == 0) {
		return false
	}
	return true
}

// gather collects into enc.items the components of the index that the
// source's Scan of pr.lonlat with f would give and that the plan keeps,
// their geometry written in enc.arena. It returns false, with the items
// unspecified, when they reach limit: which ones the capped scan keeps
// depends on the source's order, so the caller scans the source instead.
// The caller holds ix.mu (read).
func (ix *index) gather(ctx context.Context, enc *tileEncoder, pr *projection, f parts.Filter, plan *thinPlan, limit int) (bool, error) {
	l := enc.layer
	fm := ix.compile(f, enc.classPass)
	if fm.classes != nil {
		enc.classPass = fm.classes
	}
	items := enc.items[:0]
	arena := enc.arena[:0]
	defer func() { enc.items, enc.arena = items, arena }()
	if fm.none {
		return true, nil
	}
	box := pr.lonlat
	bx0, by0, bx1, by1 := ix.span(box)
	add := func(code parts.Code, cl parts.Class, owner uint32, state parts.State, typ uint8, at orb.Point) bool {
		plan.note(cl, at)
		off := len(arena)
		arena = append(arena, l.geom...)
		l.discard()
		items = append(items, partItem{code: code, class: cl, state: state, typ: typ, owner: ix.owners[owner], ownerID: owner + 1,
			off: uint32(off), n: uint32(len(arena) - off)})
		return len(items) < limit
	}
	// addPoint keeps a point in the buffered tile, its tile coordinates
	// packed in the item (no geometry written yet).
	addPoint := func(r *pointRec, cl parts.Class) (kept, more bool) {
		x, y, ok := pr.tilePoint(r.pt)
		if !ok {
			return false, true
		}
		plan.note(cl, r.pt)
		items = append(items, partItem{code: r.code, class: cl, state: r.state, typ: geomPoint, owner: ix.owners[r.owner], ownerID: r.owner + 1,
			off: uint32(x), n: uint32(y), packed: true})
		return true, len(items) < limit
	}
	shape := func(s *shapeRec) bool {
		cl := s.code.Class()
		if !fm.match(cl, s.owner, s.state) || !s.intersects(box) || !plan.keep(s.code, cl) {
			return true
		}
		typ, ok := enc.gw.write(l, pr, s.geom)
		if !ok {
			l.discard()
			return true
		}
		return add(s.code, cl, s.owner, s.state, typ, s.bound.Center())
	}
	for by := by0; by <= by1; by++ {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		for bx := bx0; bx <= bx1; bx++ {
			k := cellKey(bx, by)
			list := ix.pts[k]
			if !plan.thinned && fm.classes == nil {
				// every class whole: no runs to find
				for i := range list {
					r := &list[i]
					if !box.Contains(r.pt) || !fm.match(r.class, r.owner, r.state) {
						continue
					}
					if _, more := addPoint(r, r.class); !more {
						return false, nil
					}
				}
				list = nil
			}
			for i := 0; i < len(list); {
				// the run of a class, of which the plan keeps a prefix: a
				// run read to its end needs no search for that end
				cl := list[i].class
				s := plan.shiftOf(cl)
				if s < dropAll && (fm.classes == nil || (int(cl) < len(fm.classes) && fm.classes[cl])) {
					for ; i < len(list) && list[i].class == cl; i++ {
						r := &list[i]
						if s > 0 && hashCode(r.code)>>(64-s) != 0 {
							break
						}
						if !box.Contains(r.pt) || !fm.match(cl, r.owner, r.state) {
							continue
						}
						if _, more := addPoint(r, cl); !more {
							return false, nil
						}
					}
				}
				i = runEnd(list, i, cl)
			}
			for _, s := range ix.shapes[k] {
				// a shape in several buckets is taken in the first one of
				// the query's range
				if bx != max(s.x0, bx0) || by != max(s.y0, by0) {
					continue
				}
				if !shape(s) {
					return false, nil
				}
			}
		}
	}
	for _, s := range ix.big {
		if !shape(s) {
			return false, nil
		}
	}
	return true, nil
}

package tiles

import (
	"slices"
	"sync"

	"citytwin/parts"

	"github.com/paulmach/orb"
)

// cellCount is the count of components of one class and state in a cell.
type cellCount struct {
	key uint32 // class<<2 | state
	n   uint32
}

func countKey(c parts.Class, s parts.State) uint32 { return uint32(c)<<2 | uint32(s&3) }

// cell holds the counts of the components whose representative point (the
// centre of the geometry's box) lies in one cell of the pyramid.
type cell struct {
	total  uint32
	counts []cellCount // sorted by key
}

func (c *cell) add(key uint32, d int32) {
	i, found := slices.BinarySearchFunc(c.counts, key, func(a cellCount, k uint32) int { return int(int64(a.key) - int64(k)) })
	switch {
	case found:
		c.counts[i].n = uint32(int32(c.counts[i].n) + d)
		if c.counts[i].n == 0 {
			c.counts = slices.Delete(c.counts, i, i+1)
		}
	case d > 0:
		c.counts = slices.Insert(c.counts, i, cellCount{key, uint32(d)})
	default:
		return // removing what was never counted: ignore
	}
	c.total = uint32(int32(c.total) + d)
}

// pyramid keeps per-cell counts at the zooms minLevel..base. A cell at
// level z is a tile of zoom z: the aggregate of a tile at zoom z reads the
// 64x64 cells of level z+6, thinning reads the tile's own cell.
type pyramid struct {
	mu       sync.RWMutex
	built    bool
	base     uint32
	minLevel uint32
	levels   []map[uint64]*cell // indexed by level - minLevel
	bound    orb.Bound
	hasBound bool
}

func newPyramid(minLevel, base uint32) *pyramid {
	p := &pyramid{base: base, minLevel: minLevel}
	p.reset()
	return p
}

func (p *pyramid) reset() {
	p.levels = make([]map[uint64]*cell, p.base-p.minLevel+1)
	for i := range p.levels {
		p.levels[i] = make(map[uint64]*cell)
	}
	p.hasBound = false
}

func cellKey(x, y uint32) uint64 { return uint64(x)<<32 | uint64(y) }

// anchor returns the representative point of a geometry.
func anchor(g orb.Geometry) (orb.Point, bool) {
	pt, _, ok := anchorKey(g)
	return pt, ok
}

// anchorKey returns the anchor of a geometry (the point, or its box's centre)
// and its build key (buildKey: the west edge of its box) from one
// computation of its box; ok is false for no geometry.
func anchorKey(g orb.Geometry) (pt orb.Point, key float64, ok bool) {
	switch g := g.(type) {
	case nil:
		return orb.Point{}, 0, false
	case orb.Point:
		return g, g[0], true
	}
	b := g.Bound()
	return b.Center(), b.Min[0], true
}

// baseCell returns the cell of a point at the base level.
func (p *pyramid) baseCell(pt orb.Point) (x, y uint32) {
	return cellAt(worldX(pt[0]), worldY(pt[1]), p.base)
}

// cellAt returns the cell (the tile) at a level of the world coordinates
// wx, wy (worldX, worldY), clamped to the world.
func cellAt(wx, wy float64, level uint32) (x, y uint32) {
	n := float64(uint64(1) << level)
	fx, fy := wx*n, wy*n
	return uint32(max(0, min(n-1, fx))), uint32(max(0, min(n-1, fy)))
}

// add counts (d=1) or uncounts (d=-1) a component at every level. The
// caller holds mu.
func (p *pyramid) add(g orb.Geometry, c parts.Class, s parts.State, d int32) {
	if pt, ok := anchor(g); ok {
		p.addAt(pt, countKey(c, s), d, p.minLevel)
	}
}

// addAt counts (d=1) or uncounts (d=-1) a component anchored at pt at the
// levels from the base down to low.
func (p *pyramid) addAt(pt orb.Point, key uint32, d int32, low uint32) {
	if d > 0 {
		if p.hasBound {
			p.bound = p.bound.Extend(pt)
		} else {
			p.bound, p.hasBound = orb.Bound{Min: pt, Max: pt}, true
		}
	}
	x, y := p.baseCell(pt)
	for lv := p.base; ; lv-- {
		sh := p.base - lv
		m := p.levels[lv-p.minLevel]
		k := cellKey(x>>sh, y>>sh)
		ce := m[k]
		if ce == nil {
			if d < 0 {
				return // never counted
			}
			ce = &cell{}
			m[k] = ce
		}
		ce.add(key, d)
		if ce.total == 0 {
			delete(m, k)
		}
		if lv <= low {
			return
		}
	}
}

// derive fills the levels below the base from the base level (a pyramid
// built with addAt at the base level alone).
func (p *pyramid) derive() {
	for lv := p.base; lv > p.minLevel; lv-- {
		child := p.levels[lv-p.minLevel]
		parent := make(map[uint64]*cell, len(child)/2+1)
		for k, c := range child {
			pk := cellKey(uint32(k>>32)>>1, uint32(k)>>1)
			if pc := parent[pk]; pc != nil {
				pc.merge(c)
			} else {
				parent[pk] = &cell{total: c.total, counts: slices.Clone(c.counts)}
			}
		}
		p.levels[lv-1-p.minLevel] = parent
	}
}

// merge adds the counts of o to c.
func (c *cell) merge(o *cell) {
	out := make([]cellCount, 0, max(len(c.counts), len(o.counts))+2)
	i, j := 0, 0
	for i < len(c.counts) && j < len(o.counts) {
		a, b := c.counts[i], o.counts[j]
		switch {
		case a.key < b.key:
			out = append(out, a)
			i++
		case a.key > b.key:
			out = append(out, b)
			j++
		default:
			out = append(out, cellCount{a.key, a.n + b.n})
			i++
			j++
		}
	}
	out = append(out, c.counts[i:]...)
	out = append(out, o.counts[j:]...)
	c.counts = out
	c.total += o.total
}

// get returns the cell at a level, or nil. The caller holds mu (read).
func (p *pyramid) get(level, x, y uint32) *cell {
	if level < p.minLevel || level > p.base {
		return nil
	}
	return p.levels[level-p.minLevel][cellKey(x, y)]
}

// countFilter selects the counts a filter asks for; it answers class,
// major and state filters. A nil countFilter counts everything.
type countFilter struct {
	classes map[parts.Class]bool
	majors  map[int]bool
	states  [4]bool
	anyStat bool
}

func newCountFilter(f parts.Filter) *countFilter {
	if len(f.Classes) == 0 && len(f.Majors) == 0 && len(f.States) == 0 {
		return nil
	}
	cf := &countFilter{}
	if len(f.Classes) > 0 {
		cf.classes = make(map[parts.Class]bool, len(f.Classes))
		for _, c := range f.Classes {
			cf.classes[c] = true
		}
	}
	if len(f.Majors) > 0 {
		cf.majors = make(map[int]bool, len(f.Majors))
		for _, m := range f.Majors {
			cf.majors[m] = true
		}
	}
	for _, s := range f.States {
		if int(s) < len(cf.states) {
			cf.states[s] = true
		}
		cf.anyStat = true
	}
	return cf
}

// match tells whether a class and state pass. Classes and majors, when
// both are given, must both match (the registry's Filter semantics: every
// field given must match).
func (cf *countFilter) match(c parts.Class, s parts.State) bool {
	if cf == nil {
		return true
	}
	if cf.classes != nil && !cf.classes[c] {
		return false
	}
	if cf.majors != nil && !cf.majors[c.Major()] {
		return false
	}
	if cf.anyStat && (int(s) >= len(cf.states) || !cf.states[s]) {
		return false
	}
	return true
}

// count returns the filtered count of a cell.
func (c *cell) count(cf *countFilter) uint32 {
	if c == nil {
		return 0
	}
	if cf == nil {
		return c.total
	}
	var n uint32
	for _, cc := range c.counts {
		if cf.match(parts.Class(cc.key>>2), parts.State(cc.key&3)) {
			n += cc.n
		}
	}
	return n
}

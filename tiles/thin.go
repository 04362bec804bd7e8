package tiles

import (
	"slices"

	"citytwin/parts"

	"github.com/paulmach/orb"
)

// hashCode mixes a code into 64 uniform bits (splitmix64): the sample that
// thinning keeps depends only on the code, so it is the same in every tile,
// on every refetch, and a sample at a lower zoom is a subset of the sample
// at a higher one.
func hashCode(c parts.Code) uint64 {
	z := uint64(c) + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

const dropAll = 64

// classCount is the number of components of one class anchored in a tile,
// with the class's priority.
type classCount struct {
	c    parts.Class
	n    int
	prio int
}

// thinPlan tells, per class, which share of a tile's components is kept:
// a shift s keeps the components whose code hash has s leading zero bits
// (a share of 2^-s); dropAll keeps none. A tile whose components fit its
// budget keeps them all (thinned is false).
type thinPlan struct {
	shift  [10000]uint8  // by class: shift + 1, 0 for a class not counted
	slot   [10000]uint16 // by class: index in counts + 1
	set    []parts.Class
	counts []classCount // the tile's classes, in decreasing priority
	// kept counts, parallel to counts, the kept components anchored in
	// the tile (filled after the features are collected).
	kept    []int
	unseen  uint8 // shift of a class the tile's counts do not hold
	hardCap int   // most features collected before the source is scanned instead
	shapes  *[10000]bool
	cell    cellTest // which components anchor in the tile
	// total counts the components anchored in the tile that pass the
	// filter, dropped those of the classes the plan drops entirely.
	total, dropped int
	// thinned tells whether the plan leaves components out.
	thinned bool
}

func (p *thinPlan) keep(c parts.Code, cl parts.Class) bool {
	s := p.shiftOf(cl)
	switch {
	case s == 0:
		return true
	case s >= dropAll:
		return false
	}
	return hashCode(c)>>(64-s) == 0
}

// shiftOf returns the shift of a class: keep's share of it is 2^-shift,
// none from dropAll.
func (p *thinPlan) shiftOf(cl parts.Class) uint8 {
	if int(cl) < len(p.shift) && p.shift[cl] > 0 {
		return p.shift[cl] - 1
	}
	if p.shapes != nil && int(cl) < len(p.shapes) && p.shapes[cl] {
		return 0 // a line or polygon that crosses the tile from elsewhere
	}
	return p.unseen
}

// reset empties the plan: it then keeps everything.
func (p *thinPlan) reset() {
	for _, c := range p.set {
		p.shift[c], p.slot[c] = 0, 0
	}
	p.set, p.counts, p.kept = p.set[:0], p.counts[:0], p.kept[:0]
	p.unseen, p.total, p.dropped, p.thinned = 0, 0, 0, false
	p.hardCap = int(^uint(0) >> 1)
}

// note records a kept component of class cl anchored at pt, when the
// plan thins: what it keeps anchored in the tile tells what it left out.
func (p *thinPlan) note(cl parts.Class, pt orb.Point) {
	if !p.thinned || int(cl) >= len(p.slot) || p.slot[cl] == 0 || !p.cell.in(pt) {
		return
	}
	p.kept[p.slot[cl]-1]++
}

// unnote forgets what note recorded (before the features are collected
// again).
func (p *thinPlan) unnote() { clear(p.kept) }

// planThin plans a tile from the counts of its components by class (in
// any order; the plan keeps the slice): a tile with at most budget
// components keeps them all, whatever their class. A denser tile is
// thinned by class priority: classes in decreasing priority take what they
// need while the budget lasts; the first that does not fit and those after
// it are sampled by code hash at a power-of-two share of what remains, and
// a class whose share rounds to nothing is dropped. Features collected
// beyond hardCap (a quarter over budget, for lines and polygons crossing
// from neighbouring tiles) make the caller scan the source instead.
func planThin(p *thinPlan, counts []classCount, budget int) {
	p.reset()
	p.counts = counts
	for _, cc := range counts {
		p.total += cc.n
	}
	if p.total <= budget {
		return
	}
	p.thinned = true
	p.hardCap = budget + budget/4
	slices.SortFunc(counts, func(a, b classCount) int {
		if a.prio != b.prio {
			return b.prio - a.prio
		}
		return int(a.c) - int(b.c)
	})
	var maxShift uint8
	for i, cc := range counts {
		p.kept = append(p.kept, 0)
		if int(cc.c) >= len(p.shift) {
			continue
		}
		p.set = append(p.set, cc.c)
		p.slot[cc.c] = uint16(i + 1)
		s := uint8(0)
		for s < 40 && cc.n>>s > budget {
			s++
		}
		if cc.n>>s == 0 && cc.n > 0 {
			s = dropAll
			p.dropped += cc.n
		}
		p.shift[cc.c] = s + 1
		if s < dropAll {
			budget -= cc.n >> s
			maxShift = max(maxShift, s)
		}
	}
	p.unseen = maxShift
	if budget <= 0 {
		p.unseen = dropAll
	}
}

// cellCounts appends to dst the counts by class of a pyramid cell for the
// components that pass cf. The caller holds the pyramid's lock (read).
func cellCounts(dst []classCount, ce *cell, cf *countFilter, priority func(parts.Class) int) []classCount {
	if ce == nil {
		return dst
	}
	first := len(dst)
	for _, cc := range ce.counts {
		cl, st := parts.Class(cc.key>>2), parts.State(cc.key&3)
		if !cf.match(cl, st) {
			continue
		}
		if k := len(dst) - 1; k >= first && dst[k].c == cl {
			dst[k].n += int(cc.n)
			continue
		}
		dst = append(dst, classCount{cl, int(cc.n), priority(cl)})
	}
	return dst
}

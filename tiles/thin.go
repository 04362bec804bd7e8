package tiles

import (
	"slices"

	"citytwin/parts"
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

// thinPlan tells, per class, which share of a thinned tile's components is
// kept: a shift s keeps the components whose code hash has s leading zero
// bits (a share of 2^-s); dropAll keeps none.
type thinPlan struct {
	shift    [10000]uint8 // by class: shift + 1, 0 for a class not counted
	set      []parts.Class
	minPrio  int
	unseen   uint8 // shift of a class the tile's counts do not hold
	hardCap  int
	priority func(parts.Class) int
	shapes   *[10000]bool // line and polygon classes
	// total and dropped count the components of the tile's cell, and those
	// of the classes the plan drops entirely.
	total, dropped int
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
	switch {
	case p.priority(cl) < p.minPrio:
		return dropAll
	case p.shapes != nil && int(cl) < len(p.shapes) && p.shapes[cl]:
		return 0 // a line or polygon that crosses the tile from elsewhere
	}
	return p.unseen
}

// planThin shares the budget of a tile at zoom z among the classes counted
// in its cell: classes below the zoom's minimum priority (minPriority) are
// dropped, then classes in decreasing priority take what they need while
// the budget lasts; the first that does not fit and those after it are
// sampled by code hash at a power-of-two share of what remains.
func planThin(p *thinPlan, ce *cell, cf *countFilter, z uint32, o *Options, priority func(parts.Class) int) {
	for _, c := range p.set {
		p.shift[c] = 0
	}
	p.set = p.set[:0]
	p.minPrio = minPriority(z, o.DetailZoom)
	p.hardCap = o.MaxFeatures + o.MaxFeatures/4
	p.priority = priority
	p.unseen = 0
	p.total, p.dropped = 0, 0
	type classCount struct {
		c    parts.Class
		n    int
		prio int
	}
	var counts []classCount
	if ce != nil {
		for _, cc := range ce.counts {
			cl, st := parts.Class(cc.key>>2), parts.State(cc.key&3)
			if !cf.match(cl, st) {
				continue
			}
			if k := len(counts) - 1; k >= 0 && counts[k].c == cl {
				counts[k].n += int(cc.n)
				continue
			}
			counts = append(counts, classCount{cl, int(cc.n), priority(cl)})
		}
	}
	slices.SortFunc(counts, func(a, b classCount) int {
		if a.prio != b.prio {
			return b.prio - a.prio
		}
		return int(a.c) - int(b.c)
	})
	budget := o.MaxFeatures
	var maxShift uint8
	for _, cc := range counts {
		if int(cc.c) >= len(p.shift) {
			continue
		}
		p.set = append(p.set, cc.c)
		p.total += cc.n
		if cc.prio < p.minPrio {
			p.shift[cc.c] = dropAll + 1
			p.dropped += cc.n
			continue
		}
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

// minPriority is the lowest class priority drawn at a thinned zoom: 2 at
// DetailZoom-1, one more per zoom below (priority-1 classes such as street
// trees, benches and bike racks appear from DetailZoom).
func minPriority(z, detail uint32) int { return 2 + int(detail-1-z) }

package parts

import (
	"slices"
	"strings"
	"time"
)

// Filter selects parts by attributes. Every set field must match (AND); a
// list matches when any of its values does (OR). The zero Filter matches
// every part.
type Filter struct {
	Classes      []Class   // any of
	Majors       []int     // any of (1..6)
	Owner        string    // dept_owner equals
	Dept         string    // any of owner, supervisor, maintainer equals
	States       []State   // any of
	GridPrefix   string    // grid_code has this prefix (6 district, 9 street, 12 community, 14/15 grid)
	ChangedSince time.Time // Changed >= this (zero: no filter)
}

// IsZero reports whether the filter matches every part.
func (f Filter) IsZero() bool {
	return len(f.Classes) == 0 && len(f.Majors) == 0 && f.Owner == "" && f.Dept == "" &&
		len(f.States) == 0 && f.GridPrefix == "" && f.ChangedSince.IsZero()
}

// Match reports whether p passes the filter. Dates compare by UTC day, as
// the registry stores them.
func (f Filter) Match(p *Part) bool {
	if len(f.Classes) > 0 && !slices.Contains(f.Classes, p.Code.Class()) {
		return false
	}
	if len(f.Majors) > 0 && !slices.Contains(f.Majors, p.Code.Class().Major()) {
		return false
	}
	if f.Owner != "" && p.Owner != f.Owner {
		return false
	}
	if f.Dept != "" && p.Owner != f.Dept && p.Supervisor != f.Dept && p.Maintainer != f.Dept {
		return false
	}
	if len(f.States) > 0 && !slices.Contains(f.States, p.State) {
		return false
	}
	if f.GridPrefix != "" && !strings.HasPrefix(p.Grid, f.GridPrefix) {
		return false
	}
	if !f.ChangedSince.IsZero() && (p.Changed.IsZero() || toDay(p.Changed) < toDay(f.ChangedSince)) {
		return false
	}
	return true
}

// matcher is a Filter compiled against a registry's string table, testing
// records without decoding them. Compile it under the read lock.
type matcher struct {
	all     bool
	none    bool // a string value is not interned: nothing can match
	classes []bool
	majors  uint128
	owner   uint32
	dept    uint32
	hasOwn  bool
	hasDept bool
	states  uint8
	grid    string
	since   int32
	hasDate bool
}

type uint128 [2]uint64

func (r *Registry) compile(f Filter) *matcher {
	m := &matcher{all: f.IsZero()}
	if m.all {
		return m
	}
	if len(f.Classes) > 0 {
		m.classes = make([]bool, 10000)
		for _, c := range f.Classes {
			if int(c) < len(m.classes) {
				m.classes[c] = true
			}
		}
	}
	if len(f.Majors) > 0 {
		for _, mj := range f.Majors {
			if mj >= 0 && mj < 128 {
				m.majors[mj/64] |= 1 << (mj % 64)
			}
		}
		if m.majors == (uint128{}) {
			m.none = true
		}
	}
	if f.Owner != "" {
		id, ok := r.strs.lookup(f.Owner)
		m.owner, m.hasOwn = id, true
		m.none = m.none || !ok
	}
	if f.Dept != "" {
		id, ok := r.strs.lookup(f.Dept)
		m.dept, m.hasDept = id, true
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
	m.grid = f.GridPrefix
	if !f.ChangedSince.IsZero() {
		m.since, m.hasDate = toDay(f.ChangedSince), true
	}
	return m
}

// match tests a record (under the read lock).
func (m *matcher) match(r *Registry, rec *record) bool {
	if m.all {
		return true
	}
	if m.none {
		return false
	}
	if m.classes != nil && !m.classes[rec.class()] {
		return false
	}
	if m.majors != (uint128{}) {
		mj := rec.class() / 100
		if mj >= 128 || m.majors[mj/64]&(1<<(mj%64)) == 0 {
			return false
		}
	}
	if m.hasOwn && rec.owner != m.owner {
		return false
	}
	if m.hasDept && rec.owner != m.dept && rec.super != m.dept && rec.maint != m.dept {
		return false
	}
	if m.states != 0 && (rec.state >= 8 || m.states&(1<<rec.state) == 0) {
		return false
	}
	if m.hasDate && (rec.changed == noDate || rec.changed < m.since) {
		return false
	}
	if m.grid != "" && !strings.HasPrefix(r.strs.get(rec.grid), m.grid) {
		return false
	}
	return true
}

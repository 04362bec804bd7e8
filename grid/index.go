package grid

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// Index is an in-memory index of unit grids: by code, by the
// district > street > community hierarchy that the codes carry, and in
// space (an R-tree of the grids' bounding boxes followed by an exact test
// on the polygon).
//
// The zero Index is empty and ready for use, like NewIndex(). An Index is
// safe for any number of concurrent readers with one writer
// at a time. Grids it returns share their geometry with the index: treat
// Grid.Geometry as read-only (Clone it to change it). The callbacks of
// Search and Each run without any lock held, so they may call the Index,
// writers included.
type Index struct {
	mu     sync.RWMutex
	byCode map[Code]*entry
	tree   rtree.RTreeGN[float64, *entry]
	counts map[string]int    // grids under each 6, 9 and 12 digit prefix
	names  map[string]string // division names set by SetDivision

	// cacheMu guards the caches below. Readers fill them while holding
	// mu.RLock; writers empty them while holding mu.Lock, so a cache never
	// holds a value computed from a state that has since changed.
	cacheMu  sync.Mutex
	sorted   []*entry // all entries in code order; nil when stale; never changed in place
	outlines map[string]orb.MultiLineString
}

// entry is one indexed grid. Entries are never changed after Put made
// them, so a reader may keep using one after it released the lock.
type entry struct {
	grid  Grid
	bound orb.Bound
}

// NewIndex returns an empty index, ready for use.
func NewIndex() *Index {
	return &Index{
		byCode:   make(map[Code]*entry),
		counts:   make(map[string]int),
		names:    make(map[string]string),
		outlines: make(map[string]orb.MultiLineString),
	}
}

// Put adds g to the index or replaces the grid with the same code, and
// returns the grid it replaced, if any. It validates the code (see
// ParseCode) and the geometry: a polygon of one or more closed rings of at
// least 4 points each, with longitudes in [-180, 180], latitudes in
// [-90, 90] and a non-zero area; a bad geometry is a *FieldError for
// "geometry". The index keeps its own copy of the geometry.
func (ix *Index) Put(g Grid) (old Grid, existed bool, err error) {
	code, err := ParseCode(string(g.Code))
	if err != nil {
		return Grid{}, false, err
	}
	if err := validateGeometry(code, g.Geometry); err != nil {
		return Grid{}, false, err
	}
	g.Code = code
	g.Geometry = g.Geometry.Clone()
	e := &entry{grid: g, bound: g.Geometry.Bound()}

	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.byCode == nil {
		ix.byCode = make(map[Code]*entry)
		ix.counts = make(map[string]int)
	}
	prev, existed := ix.byCode[code]
	if existed {
		ix.tree.Delete(prev.bound.Min, prev.bound.Max, prev)
		old = prev.grid
	} else {
		for _, p := range prefixes(code) {
			ix.counts[p]++
		}
	}
	ix.byCode[code] = e
	ix.tree.Insert(e.bound.Min, e.bound.Max, e)
	ix.invalidate(code)
	return old, existed, nil
}

// Remove deletes the grid with code c and returns it; the error wraps
// ErrNotFound when there is none.
func (ix *Index) Remove(c Code) (Grid, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	e, ok := ix.byCode[c]
	if !ok {
		return Grid{}, notFound(c)
	}
	delete(ix.byCode, c)
	ix.tree.Delete(e.bound.Min, e.bound.Max, e)
	for _, p := range prefixes(c) {
		if ix.counts[p]--; ix.counts[p] <= 0 {
			delete(ix.counts, p)
		}
	}
	ix.invalidate(c)
	return e.grid, nil
}

// Get returns the grid with code c; the error wraps ErrNotFound when
// there is none.
func (ix *Index) Get(c Code) (Grid, error) {
	ix.mu.RLock()
	e, ok := ix.byCode[c]
	ix.mu.RUnlock()
	if !ok {
		return Grid{}, notFound(c)
	}
	return e.grid, nil
}

// Len returns the number of grids in the index.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.byCode)
}

// Bounds returns the bounding box of all grids; the zero Bound when the
// index is empty.
func (ix *Index) Bounds() orb.Bound {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.tree.Len() == 0 {
		return orb.Bound{}
	}
	lo, hi := ix.tree.Bounds()
	return orb.Bound{Min: lo, Max: hi}
}

// Each calls fn for every grid in code order until fn returns false. It
// walks a snapshot: grids put or removed meanwhile may or may not be seen.
func (ix *Index) Each(fn func(g Grid) bool) {
	for _, e := range ix.snapshot() {
		if !fn(e.grid) {
			return
		}
	}
}

// snapshot returns all entries in code order. The slice is shared and
// must not be changed.
func (ix *Index) snapshot() []*entry {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.sortedLocked()
}

// sortedLocked is snapshot for a caller that holds ix.mu (either way).
func (ix *Index) sortedLocked() []*entry {
	ix.cacheMu.Lock()
	defer ix.cacheMu.Unlock()
	if ix.sorted == nil {
		s := make([]*entry, 0, len(ix.byCode))
		for _, e := range ix.byCode {
			s = append(s, e)
		}
		slices.SortFunc(s, func(a, b *entry) int { return strings.Compare(string(a.grid.Code), string(b.grid.Code)) })
		ix.sorted = s
	}
	return ix.sorted
}

// under returns the entries whose code starts with prefix, in code order,
// from a snapshot s.
func under(s []*entry, prefix string) []*entry {
	lo, _ := slices.BinarySearchFunc(s, prefix, func(e *entry, p string) int { return strings.Compare(string(e.grid.Code), p) })
	hi := lo
	for hi < len(s) && strings.HasPrefix(string(s[hi].grid.Code), prefix) {
		hi++
	}
	return s[lo:hi]
}

// invalidate drops the caches that a change of grid c makes stale. The
// caller holds ix.mu for writing.
func (ix *Index) invalidate(c Code) {
	ix.cacheMu.Lock()
	defer ix.cacheMu.Unlock()
	ix.sorted = nil
	for _, p := range prefixes(c) {
		delete(ix.outlines, p)
	}
}

// prefixes returns the district, street and community codes of c.
func prefixes(c Code) [3]string {
	return [3]string{c.District(), c.Street(), c.Community()}
}

func notFound(c Code) error {
	return fmt.Errorf("%w: no grid %q", ErrNotFound, string(c))
}

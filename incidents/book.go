package incidents

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/tidwall/rtree"
)

// Limits of a Search.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// checkEvery is how many cases a scan visits between context checks.
const checkEvery = 4096

// Book holds cases in memory; it is safe for concurrent use. The zero
// value is empty and ready to use.
//
// Cases are kept by ID in a map and in a sorted slice of ids (Search pages
// in ID order, scanning: O(n), a few milliseconds at 100,000 cases); the
// open cases' locations are in an R-tree (tidwall/rtree) that serves Near
// and the bbox searches of open cases. Stored cases are never modified:
// Put replaces them, so readers copy pointers under a short read lock and
// test outside it.
type Book struct {
	mu        sync.RWMutex
	byID      map[ID]*Case
	ids       []ID // sorted
	open      rtree.RTreeG[*Case]
	byProblem map[string]*Case // open cases with a Problem
}

// NewBook returns an empty book (the zero Book is ready too).
func NewBook() *Book { return &Book{} }

// Len returns the number of cases.
func (b *Book) Len() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.byID)
}

// Open returns the number of open cases.
func (b *Book) Open() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.open.Len()
}

// Get returns the case; the error wraps ErrNotFound.
func (b *Book) Get(id ID) (Case, error) {
	b.mu.RLock()
	c, ok := b.byID[id]
	b.mu.RUnlock()
	if !ok {
		return Case{}, fmt.Errorf("%w: case %s", ErrNotFound, id)
	}
	return *c, nil
}

func pointBox(p orb.Point) [2]float64 { return [2]float64{p[0], p[1]} }

// Put stores c as is (validated and persisted before), replacing the case
// with the same ID, and returns the case it replaced. The caller must not
// modify c's slices afterwards (Transition and Merge copy on append).
func (b *Book) Put(c Case) (old Case, existed bool) {
	nc := &c
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.byID == nil {
		b.byID = make(map[ID]*Case)
		b.byProblem = make(map[string]*Case)
	}
	prev, existed := b.byID[c.ID]
	if existed {
		old = *prev
		if prev.State.Open() {
			b.open.Delete(pointBox(prev.Location), pointBox(prev.Location), prev)
		}
		if prev.Problem != "" && b.byProblem[prev.Problem] == prev {
			delete(b.byProblem, prev.Problem)
		}
	} else {
		i, _ := slices.BinarySearch(b.ids, c.ID)
		b.ids = slices.Insert(b.ids, i, c.ID)
	}
	b.byID[c.ID] = nc
	if c.State.Open() {
		b.open.Insert(pointBox(c.Location), pointBox(c.Location), nc)
		if c.Problem != "" {
			b.byProblem[c.Problem] = nc
		}
	}
	return old, existed
}

// Delete removes a case (a store rollback, a purge) and returns it; the
// error wraps ErrNotFound.
func (b *Book) Delete(id ID) (Case, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.byID[id]
	if !ok {
		return Case{}, fmt.Errorf("%w: case %s", ErrNotFound, id)
	}
	delete(b.byID, id)
	if i, found := slices.BinarySearch(b.ids, id); found {
		b.ids = slices.Delete(b.ids, i, i+1)
	}
	if c.State.Open() {
		b.open.Delete(pointBox(c.Location), pointBox(c.Location), c)
	}
	if c.Problem != "" && b.byProblem[c.Problem] == c {
		delete(b.byProblem, c.Problem)
	}
	return *c, nil
}

// ByProblem returns the open case of a sensor problem key
// ("<code>/<sensor kind>"), if any.
func (b *Book) ByProblem(problem string) (Case, bool) {
	b.mu.RLock()
	c, ok := b.byProblem[problem]
	b.mu.RUnlock()
	if !ok {
		return Case{}, false
	}
	return *c, true
}

// Near returns the open case of the same type and class nearest to pt
// within dist metres that was reported after since: the case a duplicate
// report merges into.
func (b *Book) Near(pt orb.Point, typ Type, class string, dist float64, since time.Time) (Case, bool) {
	if !(dist >= 0) || math.IsInf(dist, 0) {
		return Case{}, false
	}
	box := geo.NewBoundAroundPoint(pt, dist)
	var best *Case
	bestD := math.Inf(1)
	b.mu.RLock()
	b.open.Search(pointBox(box.Min), pointBox(box.Max), func(_, _ [2]float64, c *Case) bool {
		if c.Type != typ || c.Class != class || !c.Reported.After(since) {
			return true
		}
		d := geo.Distance(pt, c.Location)
		if d <= dist && (d < bestD || d == bestD && c.ID < best.ID) {
			best, bestD = c, d
		}
		return true
	})
	b.mu.RUnlock()
	if best == nil {
		return Case{}, false
	}
	return *best, true
}

// All calls fn for every case in ID order until fn returns false. fn runs
// outside the book's lock, on a snapshot. Its shape is iter.Seq[Case], so
// Evaluate(book.All, ...) works.
func (b *Book) All(fn func(Case) bool) {
	b.mu.RLock()
	snap := make([]*Case, len(b.ids))
	for i, id := range b.ids {
		snap[i] = b.byID[id]
	}
	b.mu.RUnlock()
	for _, c := range snap {
		if !fn(*c) {
			return
		}
	}
}

// Query selects cases. Every set field must match; States matches any of
// its values.
type Query struct {
	Bound   *orb.Bound // location within
	States  []State
	Type    Type
	Dept    string
	Class   string
	Grid    string // grid code prefix: 6 district, 9 street, 12 community, 14/15 grid
	Overdue *bool  // Case.Overdue(Now) equals
	Now     time.Time
	Limit   int    // 1..MaxLimit; 0 means DefaultLimit
	Cursor  string // Page.Next of the previous page
}

// Page is one page of a Search.
type Page struct {
	Cases   []Case
	Matched int    // cases matching the query, over all pages
	Next    string // cursor of the next page; "" on the last
}

// Validate checks the query; errors are *FieldError.
func (q *Query) Validate() error {
	if q.Limit < 0 || q.Limit > MaxLimit {
		return &FieldError{Field: "limit", Reason: fmt.Sprintf("%d is not in 1..%d", q.Limit, MaxLimit)}
	}
	if q.Bound != nil {
		bb := *q.Bound
		if err := validatePoint("bbox", bb.Min); err != nil {
			return err
		}
		if err := validatePoint("bbox", bb.Max); err != nil {
			return err
		}
		if bb.Min[0] > bb.Max[0] || bb.Min[1] > bb.Max[1] {
			return &FieldError{Field: "bbox", Reason: "min is above max"}
		}
	}
	for _, s := range q.States {
		if _, err := ParseState(string(s)); err != nil {
			return err
		}
	}
	if q.Type != "" {
		if _, err := ParseType(string(q.Type)); err != nil {
			return err
		}
	}
	if q.Overdue != nil && q.Now.IsZero() {
		return &FieldError{Field: "overdue", Reason: "an overdue filter needs Now"}
	}
	if _, err := decodeCursor(q.Cursor); err != nil {
		return err
	}
	return nil
}

func (q *Query) match(c *Case) bool {
	if q.Bound != nil && !q.Bound.Contains(c.Location) {
		return false
	}
	if len(q.States) > 0 && !slices.Contains(q.States, c.State) {
		return false
	}
	if q.Type != "" && c.Type != q.Type {
		return false
	}
	if q.Dept != "" && c.Dept != q.Dept {
		return false
	}
	if q.Class != "" && c.Class != q.Class {
		return false
	}
	if q.Grid != "" && !strings.HasPrefix(c.Grid, q.Grid) {
		return false
	}
	if q.Overdue != nil && c.Overdue(q.Now) != *q.Overdue {
		return false
	}
	return true
}

func encodeCursor(id ID) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

func decodeCursor(s string) (ID, error) {
	if s == "" {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		var id ID
		if id, err = ParseID(string(raw)); err == nil {
			return id, nil
		}
	}
	return "", &FieldError{Field: "cursor", Reason: "not a cursor of this search"}
}

// Search returns the page of cases matching q after q.Cursor, in ID
// order. The cursor is the last id of the page, so paging is stable while
// cases come and go. A query of open states only with a Bound searches
// the R-tree; others scan every case.
func (b *Book) Search(ctx context.Context, q Query) (Page, error) {
	if err := q.Validate(); err != nil {
		return Page{}, err
	}
	after, _ := decodeCursor(q.Cursor)
	limit := q.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	var cands []*Case
	b.mu.RLock()
	if q.Bound != nil && len(q.States) > 0 && !slices.ContainsFunc(q.States, func(s State) bool { return !s.Open() }) {
		b.open.Search(pointBox(q.Bound.Min), pointBox(q.Bound.Max), func(_, _ [2]float64, c *Case) bool {
			cands = append(cands, c)
			return true
		})
		b.mu.RUnlock()
		slices.SortFunc(cands, func(x, y *Case) int { return strings.Compare(string(x.ID), string(y.ID)) })
	} else {
		cands = make([]*Case, len(b.ids))
		for i, id := range b.ids {
			cands[i] = b.byID[id]
		}
		b.mu.RUnlock()
	}
	var p Page
	for i, c := range cands {
		if i%checkEvery == checkEvery-1 {
			if err := ctx.Err(); err != nil {
				return Page{}, err
			}
		}
		if !q.match(c) {
			continue
		}
		p.Matched++
		if c.ID <= after {
			continue
		}
		if len(p.Cases) < limit {
			p.Cases = append(p.Cases, *c)
		} else if p.Next == "" {
			p.Next = encodeCursor(p.Cases[len(p.Cases)-1].ID)
		}
	}
	if p.Cases == nil {
		p.Cases = []Case{}
	}
	return p, nil
}

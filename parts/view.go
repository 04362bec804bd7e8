package parts

import (
	"context"
	"unsafe"

	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// View is a light handle on one part of a search page: its fixed fields
// (code, state, version and geometry) copied from the registry under the
// read lock at which the part was found, and the record index to read the
// rest on demand (Part, Registry.AppendParts). A View is 48 bytes and holds
// no copy of the part's strings, so a page of views in a reused buffer
// costs no allocation.
//
// Consistency: the fixed fields are one consistent snapshot of the part,
// taken together with the filter and geometry tests of the search, and they
// never change afterwards; the geometry is shared with the registry and
// read-only (the registry never writes a geometry it handed out: a write
// replaces it). Part and AppendParts read the record as it is when they
// are called, under the read lock, so they never see a torn record; a
// part written since the view was taken then comes in its newer version
// (Part reports it, AppendParts leaves the comparison of Version to the
// caller).
//
// Views are comparable: two are equal when they are the same snapshot of
// the same part (the same geometry in the same memory). The zero View is
// no part: Part reports false.
type View struct {
	reg *Registry
	// The geometry as the two words of its interface value, so that == on
	// views compares it by identity instead of panicking on a slice.
	gtyp, gdata unsafe.Pointer
	code        uint64
	idx         uint32
	version     uint32
	state       uint8
}

// Code returns the part's code.
func (v View) Code() Code { return Code(v.code) }

// Class returns the part's minor class (the class in its code).
func (v View) Class() Class { return Class(v.code / 1e6 % 1e4) }

// State returns the part's state when the view was taken.
func (v View) State() State { return State(v.state) }

// Version returns the part's version when the view was taken.
func (v View) Version() uint64 { return uint64(v.version) }

// Geometry returns the part's orb.Point, orb.LineString or orb.Polygon,
// shared with the registry: read-only.
func (v View) Geometry() orb.Geometry {
	if v.gtyp == nil {
		return nil
	}
	return sharedGeometry(v.gtyp, v.gdata)
}

// Point returns the point of a part whose geometry is a point; ok is false
// for a line or a polygon.
func (v View) Point() (pt orb.Point, ok bool) {
	if v.gtyp != pointType {
		return orb.Point{}, false
	}
	return *(*orb.Point)(v.gdata), true
}

// Bound returns the box of the part's geometry.
func (v View) Bound() orb.Bound {
	if v.gtyp == nil {
		return orb.Bound{}
	}
	if v.gtyp == pointType {
		p := *(*orb.Point)(v.gdata)
		return orb.Bound{Min: p, Max: p}
	}
	return spatial.Bound(v.Geometry())
}

// Part returns the full part as the registry holds it now, read under the
// read lock. current is false when the part was written since the view
// was taken (another version, state or geometry, or retired): p is then
// its newer version, which may no longer pass the search that found it.
// For the zero View it returns the zero Part and false.
func (v View) Part() (p Part, current bool) {
	r := v.reg
	if r == nil {
		return Part{}, false
	}
	r.mu.RLock()
	r.fill(&p, v.idx)
	current = v.current(r, &r.recs[v.idx])
	r.mu.RUnlock()
	return p, current
}

// current reports whether rec is still the record the view was taken
// from (under the read lock).
func (v *View) current(r *Registry, rec *record) bool {
	return rec.code == v.code && rec.version == v.version && rec.state == v.state &&
		rec.flags&(flagRetired|flagNoGeom) == 0 && v.sameGeometry(r.geometry(rec))
}

// sameGeometry reports whether g is the view's geometry: the same value in
// the same memory. The registry never writes a geometry it handed out
// (points are append-only, a written line or polygon is a fresh copy),
// and the view holding one keeps it alive, so another geometry cannot sit
// at the same address. It may report false for an unchanged point whose
// table grew since (a conservative answer).
func (v *View) sameGeometry(g orb.Geometry) bool {
	e := (*eface)(unsafe.Pointer(&g))
	return e.typ == v.gtyp && e.data == v.gdata
}

// AppendParts appends to dst the full part of each view, in order, as the
// registry holds it now, all read under one read lock (a batch write is
// seen whole or not at all), and returns the extended slice. A part
// written since its view was taken comes in its newer version: compare
// Version with the view's to tell, and Retired to see one retired
// meanwhile. With a reused dst it allocates nothing. It panics on a view
// that does not come from r (the zero View included).
func (r *Registry) AppendParts(dst []Part, vs []View) []Part {
	for i := range vs {
		if vs[i].reg != r {
			panic("parts: AppendParts of a view from another registry")
		}
	}
	dst = reserve(dst, len(vs))
	r.mu.RLock()
	defer r.mu.RUnlock()
	for i := range vs {
		dst = append(dst, Part{})
		r.fill(&dst[len(dst)-1], vs[i].idx)
	}
	return dst
}

// reserve returns s with room for n more elements.
func reserve[T any](s []T, n int) []T {
	if cap(s)-len(s) >= n {
		return s
	}
	ns := make([]T, len(s), len(s)+n)
	copy(ns, s)
	return ns
}

// ViewPage is one page of views in code order, as Page is of parts.
type ViewPage struct {
	// Views is the dst given to SearchViews with the page's views appended.
	Views         []View
	NumberMatched int    // parts matching the query over all pages
	Next          string // opaque cursor of the next page, "" on the last page
}

// SearchViews is Search returning views instead of full parts: the same
// parts in the same order, the same NumberMatched and the same cursors
// (a cursor of one serves the other), with the same errors. The page's
// views are appended to dst and the extended slice returned in
// ViewPage.Views: pass buf[:0] to reuse a buffer, and the page costs no
// allocation for its parts.
//
// Each view is taken under the read lock at which its part passed the
// filter and the exact test. A search whose box holds up to about 8,000
// candidates (see stripeSize) and whose page keeps up to 2,048 hits runs
// under one read lock, from the tree walk to the views; a bigger one walks
// in stripes, and the parts of its page are read and tested again under
// one last lock, as Search does (a part changed meanwhile is left out if
// it no longer passes).
func (r *Registry) SearchViews(ctx context.Context, q Query, dst []View) (ViewPage, error) {
	limit, sum, cur, err := r.checkSearch(q)
	if err != nil {
		return ViewPage{Views: dst}, err
	}
	pg, _, err := r.viewPage(ctx, q.BBox, q.Filter, limit, cur, sum, boxTest(q.BBox), dst)
	return pg, err
}

// WithinViews is Within returning views, as SearchViews is Search.
func (r *Registry) WithinViews(ctx context.Context, area orb.Geometry, f Filter, limit int, cursor string, dst []View) (ViewPage, error) {
	limit, sum, cur, pa, err := r.checkWithin(area, f, limit, cursor)
	if err != nil {
		return ViewPage{Views: dst}, err
	}
	pg, _, err := r.viewPage(ctx, pa.Bound(), f, limit, cur, sum, areaTest(pa), dst)
	return pg, err
}

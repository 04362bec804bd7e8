package parts

import (
	"context"
	"fmt"

	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// Page limits.
const (
	DefaultLimit = 100   // parts per page when Query.Limit is 0
	MaxLimit     = 10000 // largest page
)

// Query is a box search with a filter, paged by a keyset cursor.
type Query struct {
	BBox   orb.Bound // lon/lat box; zero-area boxes are allowed
	Filter Filter
	Limit  int    // parts per page, 1..MaxLimit; 0 means DefaultLimit
	Cursor string // Page.Next of the previous page, "" for the first
}

// Page is one page of results in code order.
type Page struct {
	Parts         []Part
	NumberMatched int    // parts matching the query over all pages
	Next          string // opaque cursor of the next page, "" on the last page
}

// Search returns the live parts whose geometry really intersects q.BBox
// (edges included, not only their boxes) and that pass q.Filter, ordered
// by code. Paging is by keyset: a page starts after the last code of the
// previous one, so parts added or retired between pages neither repeat nor
// shift the others. Errors are *FieldError wrapping ErrInvalidQuery
// (Field "bbox", "limit" or "cursor"), or the context's error.
func (r *Registry) Search(ctx context.Context, q Query) (Page, error) {
	limit, sum, cur, err := r.checkSearch(q)
	if err != nil {
		return Page{}, err
	}
	return r.page(ctx, q.BBox, q.Filter, limit, cur, sum, boxTest(q.BBox))
}

// checkSearch checks a box query and returns its limit, its hash and its
// cursor.
func (r *Registry) checkSearch(q Query) (limit int, sum uint64, cur cursor, err error) {
	limit, err = checkLimit(q.Limit)
	if err != nil {
		return 0, 0, cursor{}, err
	}
	if err := spatial.ValidateBound(q.BBox); err != nil {
		return 0, 0, cursor{}, &FieldError{Field: "bbox", Reason: err.Error(), Err: ErrInvalidQuery}
	}
	h := newQueryHash("bbox")
	h.geometry(q.BBox)
	h.filter(q.Filter)
	sum = h.sum()
	cur, err = decodeCursor(q.Cursor, sum)
	return limit, sum, cur, err
}

// Within returns the live parts that really intersect the area (an
// orb.Polygon or orb.MultiPolygon; holes excluded, boundaries included) and
// pass the filter, ordered by code and paged as Search. The area is
// prepared (spatial.Prepared) once, so the exact test of a candidate reads
// a few edges, not all of them; the tests run outside the registry's lock
// (see viewPage). Errors are *FieldError wrapping ErrInvalidQuery (Field
// "area", "limit" or "cursor"), or the context's error.
func (r *Registry) Within(ctx context.Context, area orb.Geometry, f Filter, limit int, cursor string) (Page, error) {
	limit, sum, cur, pa, err := r.checkWithin(area, f, limit, cursor)
	if err != nil {
		return Page{}, err
	}
	return r.page(ctx, pa.Bound(), f, limit, cur, sum, areaTest(pa))
}

// checkWithin checks an area query and returns its limit, its hash, its
// cursor and the prepared area.
func (r *Registry) checkWithin(area orb.Geometry, f Filter, limit int, cs string) (int, uint64, cursor, *spatial.Prepared, error) {
	limit, err := checkLimit(limit)
	if err != nil {
		return 0, 0, cursor{}, nil, err
	}
	if err := checkArea(area); err != nil {
		return 0, 0, cursor{}, nil, err
	}
	h := newQueryHash("within")
	h.geometry(area)
	h.filter(f)
	sum := h.sum()
	cur, err := decodeCursor(cs, sum)
	if err != nil {
		return 0, 0, cursor{}, nil, err
	}
	return limit, sum, cur, spatial.Prepare(area), nil
}

func checkLimit(limit int) (int, error) {
	switch {
	case limit == 0:
		return DefaultLimit, nil
	case limit < 0 || limit > MaxLimit:
		return 0, &FieldError{Field: "limit", Reason: fmt.Sprintf("%d is not in 1..%d", limit, MaxLimit), Err: ErrInvalidQuery}
	}
	return limit, nil
}

func checkArea(area orb.Geometry) error {
	bad := func(reason string) error {
		return &FieldError{Field: "area", Reason: reason, Err: ErrInvalidQuery}
	}
	var polys []orb.Polygon
	switch a := area.(type) {
	case orb.Polygon:
		polys = []orb.Polygon{a}
	case orb.MultiPolygon:
		polys = a
	case nil:
		return bad("missing")
	default:
		return bad(fmt.Sprintf("a %s is not a Polygon or MultiPolygon", a.GeoJSONType()))
	}
	if len(polys) == 0 {
		return bad("the multipolygon is empty")
	}
	for _, p := range polys {
		if len(p) == 0 {
			return bad("a polygon needs an outer ring")
		}
		for i, ring := range p {
			if len(ring) < 4 {
				return bad(fmt.Sprintf("ring %d has %d points, a closed ring needs at least 4", i, len(ring)))
			}
			if ring[0] != ring[len(ring)-1] {
				return bad(fmt.Sprintf("ring %d is not closed", i))
			}
			if err := spatial.ValidateBound(ring.Bound()); err != nil {
				return bad(fmt.Sprintf("ring %d: %v", i, err))
			}
		}
	}
	return nil
}

// hit is a match waiting for its page: code, record index and the record's
// ord (0 when the code has no rank).
type hit struct {
	code uint64
	idx  uint32
	ord  uint32
}

func compareHits(a, b hit) int {
	switch {
	case a.code < b.code:
		return -1
	case a.code > b.code:
		return 1
	}
	return 0
}

// exact runs the exact geometry test on a record.
func (r *Registry) exact(rec *record, pointIn func(orb.Point) bool, shapeIn func(orb.Geometry) bool) bool {
	if rec.flags&flagShape != 0 {
		return shapeIn(r.shapes[rec.geo])
	}
	return pointIn(r.pts[rec.geo])
}

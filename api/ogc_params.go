package api

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"citytwin/parts"
)

// crs84 is the only CRS of the OGC endpoints (OGC API - Features Part 1).
const crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

// ogcItemsParams are the parameters every items request takes.
var ogcItemsParams = []string{"f", "bbox", "bbox-crs", "limit", "cursor"}

// ogcPartFilters are the property filters of the parts collection, named
// as the properties (and store columns) they filter on, plus datetime.
var ogcPartFilters = []string{"class", "major", "state", "dept_owner", "dept", "grid_code", "datetime"}

// ogcGridFilters are the property filters of the grids collection.
var ogcGridFilters = []string{"dept", "district", "street", "community"}

// parseOGCBBox reads an OGC bbox: 4 numbers (minLon,minLat,maxLon,maxLat)
// or 6 with heights (minLon,minLat,minH,maxLon,maxLat,maxH; the heights are
// ignored). Only CRS84 is accepted as bbox-crs.
func parseOGCBBox(q url.Values) (orb.Bound, bool, error) {
	s, err := oneParam(q, "bbox")
	if err != nil || s == "" {
		return world, false, err
	}
	if c, err := oneParam(q, "bbox-crs"); err != nil {
		return orb.Bound{}, false, err
	} else if c != "" && c != crs84 {
		return orb.Bound{}, false, badInput("bbox-crs", "%q is not supported; the only CRS is %s", clipString(c), crs84)
	}
	if f := strings.Split(s, ","); len(f) == 6 {
		s = strings.Join([]string{f[0], f[1], f[3], f[4]}, ",")
	}
	b, err := parseBBox(s)
	return b, true, err
}

// parseOGCLimit reads limit: def when absent; a value above max is lowered
// to max, as OGC API - Features wants ("if you ask for 50000 you might get
// up to 10000 and a next link"); 0, negatives and non-numbers are 400.
func parseOGCLimit(q url.Values, def, max int) (int, error) {
	s, err := oneParam(q, "limit")
	if err != nil || s == "" {
		return def, err
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		if strings.Trim(s, "0123456789") == "" {
			return max, nil // too many digits for an int: capped as well
		}
		return 0, badInput("limit", "%q is not a whole number from 1 (at most %d are returned)", clipString(s), max)
	}
	if n < 1 {
		return 0, badInput("limit", "%d is not at least 1", n)
	}
	return min(n, max), nil
}

// parseOGCPartFilter reads the property filters of the parts collection:
//
//	class=0101,0102     any of these minor classes
//	major=1,2           any of these major classes (01..06)
//	state=破损,missing   any of these states (Chinese, English or digit)
//	dept_owner=water    the owner (权属单位) equals
//	dept=water          the supervisor, owner or maintainer equals
//	grid_code=...       the grid code equals, or starts with this 6/9/12
//	                    digit district, street or community code
//	datetime=2026-01-01/..  changed on or after that day (intervals open
//	                    at the end only: the filter is on the change day)
//
// Every bad one is named in one *InputError.
func parseOGCPartFilter(q url.Values, cat *parts.Catalogue) (parts.Filter, error) {
	// The REST filter parser reads class, major, state and dept; the OGC
	// names of the others are mapped onto its names.
	rest := url.Values{}
	for _, k := range []string{"class", "major", "state", "dept"} {
		if v, ok := q[k]; ok {
			rest[k] = v
		}
	}
	if v, ok := q["dept_owner"]; ok {
		rest["owner"] = v
	}
	if v, ok := q["grid_code"]; ok {
		rest["grid"] = v
	}
	f, err := parseFilter(rest, cat)
	var errs []FieldReason
	if err != nil {
		in, ok := err.(*InputError)
		if !ok {
			return parts.Filter{}, err
		}
		for _, e := range in.Errors {
			switch e.Field {
			case "owner":
				e.Field = "dept_owner"
			case "grid":
				e.Field = "grid_code"
			}
			errs = append(errs, e)
		}
	}
	if d, derr := oneParam(q, "datetime"); derr != nil {
		errs = append(errs, derr.(*InputError).Errors...)
	} else if d != "" {
		since, serr := parseSince(d)
		if serr != nil {
			errs = append(errs, FieldReason{Field: "datetime", Reason: serr.Error()})
		}
		f.ChangedSince = since
	}
	if len(errs) > 0 {
		return parts.Filter{}, &InputError{Errors: errs}
	}
	return f, nil
}

// parseSince reads an OGC datetime interval open at its end ("start/.."
// or "start/"), start being a date or an RFC 3339 date-time; "..", "../.."
// and "/.." mean no filter.
func parseSince(s string) (time.Time, error) {
	start, end, ok := strings.Cut(s, "/")
	if s == ".." || (ok && (start == ".." || start == "") && (end == ".." || end == "")) {
		return time.Time{}, nil
	}
	if !ok || (end != ".." && end != "") {
		return time.Time{}, fmt.Errorf("%q: only intervals open at the end (2026-01-01/..) are supported; the filter is on the day of the last change", clipString(s))
	}
	t, err := parseDate(start)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: %q is not a date (2006-01-02) or an RFC 3339 date-time", clipString(s), clipString(start))
	}
	return t, nil
}

// gridFilter is what the grids collection filters on: the responsible unit
// and the code prefix of a district, street or community.
type gridFilter struct {
	dept   string
	prefix string
}

// parseOGCGridFilter reads dept, district (6 digits), street (9) and
// community (12); district, street and community must agree with each
// other (the longest one wins as the code prefix).
func parseOGCGridFilter(q url.Values) (gridFilter, error) {
	var f gridFilter
	var errs []FieldReason
	var err error
	if f.dept, err = oneParam(q, "dept"); err != nil {
		errs = append(errs, err.(*InputError).Errors...)
	}
	for _, lv := range []struct {
		key string
		n   int
	}{{"district", 6}, {"street", 9}, {"community", 12}} {
		v, err := oneParam(q, lv.key)
		if err != nil {
			errs = append(errs, err.(*InputError).Errors...)
			continue
		}
		if v == "" {
			continue
		}
		if len(v) != lv.n || !isGridPrefix(v) {
			errs = append(errs, FieldReason{Field: lv.key, Reason: fmt.Sprintf("%q is not a %d-digit %s code", clipString(v), lv.n, lv.key)})
			continue
		}
		if !strings.HasPrefix(v, f.prefix) {
			errs = append(errs, FieldReason{Field: lv.key, Reason: fmt.Sprintf("%s is not inside %s", v, f.prefix)})
			continue
		}
		f.prefix = v
	}
	if len(errs) > 0 {
		return gridFilter{}, &InputError{Errors: errs}
	}
	return f, nil
}

// checkFormat accepts f=json (and the aliases geojson, application/json,
// application/geo+json) or no f at all: JSON is the only encoding.
func checkFormat(q url.Values) error {
	f, err := oneParam(q, "f")
	if err != nil {
		return err
	}
	switch f {
	case "", "json", "geojson", "application/json", "application/geo+json":
		return nil
	}
	return badInput("f", "%q is not a format of this service; the only one is f=json", clipString(f))
}

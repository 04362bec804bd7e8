package api

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/paulmach/orb"

	"citytwin/parts"
)

// filterParams are the query parameters that build a parts.Filter.
var filterParams = []string{"class", "major", "owner", "dept", "state", "grid", "changed_since"}

// world is the bound used when a query gives no bbox: the whole city.
var world = orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}

// checkParams rejects query parameters not in allowed, naming them all.
func checkParams(q url.Values, allowed ...[]string) error {
	var errs []FieldReason
	for _, k := range sortedKeys(q) {
		known := false
		for _, a := range allowed {
			known = known || slices.Contains(a, k)
		}
		if !known {
			var all []string
			for _, a := range allowed {
				all = append(all, a...)
			}
			errs = append(errs, FieldReason{Field: k, Reason: "unknown query parameter (known: " + strings.Join(all, ", ") + ")"})
		}
	}
	if len(errs) > 0 {
		return &InputError{Errors: errs}
	}
	return nil
}

// listParam splits a parameter given as a,b,c and/or repeated.
func listParam(q url.Values, key string) []string {
	var out []string
	for _, v := range q[key] {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// oneParam returns a parameter that may be given at most once.
func oneParam(q url.Values, key string) (string, error) {
	vs := q[key]
	if len(vs) > 1 {
		return "", badInput(key, "given %d times, give it once", len(vs))
	}
	if len(vs) == 0 {
		return "", nil
	}
	return strings.TrimSpace(vs[0]), nil
}

// parseFilter builds a parts.Filter from class=0101,0118 major=1 owner=
// dept= state=破损 grid=<code prefix> changed_since=<date|RFC 3339>,
// collecting every bad parameter into one *InputError. Classes must be in
// cat.
func parseFilter(q url.Values, cat *parts.Catalogue) (parts.Filter, error) {
	var f parts.Filter
	var errs []FieldReason
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldReason{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	for _, s := range listParam(q, "class") {
		c, err := parts.ParseClass(s)
		if err != nil {
			bad("class", "%q is not a 4-digit minor class such as 0101", s)
			continue
		}
		if _, ok := cat.Lookup(c); !ok {
			bad("class", "%s is not in the class catalogue", c)
			continue
		}
		f.Classes = append(f.Classes, c)
	}
	for _, s := range listParam(q, "major") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 99 || len(s) > 2 {
			bad("major", "%q is not a major class 1-99 (01 public utilities ... 06 other)", s)
			continue
		}
		f.Majors = append(f.Majors, n)
	}
	for _, s := range listParam(q, "state") {
		st, err := parts.ParseState(s)
		if err != nil {
			bad("state", "%q is not one of 完好 破损 丢失 占用 (intact damaged missing occupied)", s)
			continue
		}
		f.States = append(f.States, st)
	}
	for _, key := range []string{"owner", "dept", "grid", "changed_since"} {
		v, err := oneParam(q, key)
		if err != nil {
			errs = append(errs, err.(*InputError).Errors...)
			continue
		}
		switch key {
		case "owner":
			f.Owner = v
		case "dept":
			f.Dept = v
		case "grid":
			if v != "" && !isGridPrefix(v) {
				bad("grid", "%q is not a grid code prefix (6 district, 9 street, 12 community or 14-15 grid digits)", v)
				continue
			}
			f.GridPrefix = v
		case "changed_since":
			if v == "" {
				continue
			}
			t, err := parseDate(v)
			if err != nil {
				bad("changed_since", "%q is not a date (2006-01-02) or an RFC 3339 time", v)
				continue
			}
			f.ChangedSince = t
		}
	}
	if len(errs) > 0 {
		return parts.Filter{}, &InputError{Errors: errs}
	}
	return f, nil
}

// isGridPrefix accepts 1 to 15 digits.
func isGridPrefix(s string) bool {
	if len(s) == 0 || len(s) > 15 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseBBox reads minLon,minLat,maxLon,maxLat in WGS84. A box crossing the
// antimeridian (minLon > maxLon) is refused.
func parseBBox(s string) (orb.Bound, error) {
	fs := strings.Split(s, ",")
	if len(fs) != 4 {
		return orb.Bound{}, badInput("bbox", "want minLon,minLat,maxLon,maxLat, got %d numbers", len(fs))
	}
	var v [4]float64
	for i, f := range fs {
		x, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return orb.Bound{}, badInput("bbox", "%q is not a number", clipString(f))
		}
		v[i] = x
	}
	switch {
	case v[0] < -180 || v[2] > 180 || v[0] > 180 || v[2] < -180:
		return orb.Bound{}, badInput("bbox", "longitudes %v and %v must be within -180..180", v[0], v[2])
	case v[1] < -90 || v[3] > 90 || v[1] > 90 || v[3] < -90:
		return orb.Bound{}, badInput("bbox", "latitudes %v and %v must be within -90..90", v[1], v[3])
	case v[0] > v[2]:
		return orb.Bound{}, badInput("bbox", "minLon %v is greater than maxLon %v", v[0], v[2])
	case v[1] > v[3]:
		return orb.Bound{}, badInput("bbox", "minLat %v is greater than maxLat %v", v[1], v[3])
	}
	return orb.Bound{Min: orb.Point{v[0], v[1]}, Max: orb.Point{v[2], v[3]}}, nil
}

func clipString(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// parseLimit reads limit (default def, 1..max).
func parseLimit(q url.Values, def, max int) (int, error) {
	s, err := oneParam(q, "limit")
	if err != nil || s == "" {
		return def, err
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, badInput("limit", "%q is not a whole number from 1 to %d", clipString(s), max)
	}
	if n > max {
		return 0, badInput("limit", "%d is more than the maximum of %d; page with the next link", n, max)
	}
	return n, nil
}

// parseLonLat reads the lon and lat parameters (both required).
func parseLonLat(q url.Values) (orb.Point, error) {
	var errs []FieldReason
	var pt orb.Point
	for i, key := range []string{"lon", "lat"} {
		s, err := oneParam(q, key)
		if err != nil {
			errs = append(errs, err.(*InputError).Errors...)
			continue
		}
		lim := 180.0
		if key == "lat" {
			lim = 90
		}
		x, err := strconv.ParseFloat(s, 64)
		switch {
		case s == "":
			errs = append(errs, FieldReason{Field: key, Reason: "required"})
		case err != nil || math.IsNaN(x):
			errs = append(errs, FieldReason{Field: key, Reason: fmt.Sprintf("%q is not a number", clipString(s))})
		case x < -lim || x > lim:
			errs = append(errs, FieldReason{Field: key, Reason: fmt.Sprintf("%v is outside -%v..%v", x, lim, lim)})
		default:
			pt[i] = x
		}
	}
	if len(errs) > 0 {
		return orb.Point{}, &InputError{Errors: errs}
	}
	return pt, nil
}

// queryKey identifies a query for its cursors: the route, every parameter
// but cursor and limit, and extra (the body of a POST query).
func queryKey(route string, q url.Values, extra []byte) uint64 {
	h := fnv.New64a()
	h.Write([]byte(route))
	for _, k := range sortedKeys(q) {
		if k == "cursor" || k == "limit" {
			continue
		}
		for _, v := range q[k] {
			h.Write([]byte{0})
			h.Write([]byte(k))
			h.Write([]byte{1})
			h.Write([]byte(v))
		}
	}
	h.Write([]byte{2})
	h.Write(extra)
	return h.Sum64()
}

// wrapCursor binds an inner cursor to its query.
func wrapCursor(key uint64, inner string) string {
	if inner == "" {
		return ""
	}
	b := binary.BigEndian.AppendUint64(nil, key)
	return base64.RawURLEncoding.EncodeToString(append(b, inner...))
}

// unwrapCursor returns the inner cursor, or an error naming "cursor" when
// it is malformed or came from another query.
func unwrapCursor(key uint64, s string) (string, error) {
	if s == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) <= 8 {
		return "", badInput("cursor", "not a cursor of this API; use the next link as given")
	}
	if binary.BigEndian.Uint64(b) != key {
		return "", badInput("cursor", "the cursor belongs to another query; change no parameter but limit when following a next link")
	}
	return string(b[8:]), nil
}

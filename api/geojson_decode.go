package api

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
)

// rawFeature is a GeoJSON Feature as sent by a client, before its
// properties are checked against a component or a grid.
type rawFeature struct {
	ID          string                     // "" when absent
	Geometry    orb.Geometry               // nil when absent or null
	HasGeometry bool                       // the member was present (even null)
	Properties  map[string]json.RawMessage // nil when absent or null
}

// featureMembers are the members a Feature may have; anything else is a
// typo or a foreign member we refuse rather than ignore.
var featureMembers = []string{"type", "id", "geometry", "properties", "bbox"}

// decodeJSONObject decodes one JSON object and nothing after it.
func decodeJSONObject(body []byte, what string) (map[string]json.RawMessage, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	var m map[string]json.RawMessage
	if err := d.Decode(&m); err != nil {
		return nil, badInput("body", "%s is not a JSON object: %s", what, jsonErrText(err))
	}
	if m == nil {
		return nil, badInput("body", "%s is null, want a JSON object", what)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, badInput("body", "%s has data after the JSON object", what)
	}
	return m, nil
}

// jsonErrText is the decoder's complaint without Go type names.
func jsonErrText(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("a JSON %s where an object was expected (at byte %d)", te.Value, te.Offset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of input"
	}
	return err.Error()
}

// decodeFeature decodes a GeoJSON Feature. When partial is set (PATCH) the
// type member may be left out. Geometries are checked for shape and range
// here; whether the type suits the component's class is checked later.
func decodeFeature(body []byte, partial bool) (rawFeature, error) {
	m, err := decodeJSONObject(body, "the feature")
	if err != nil {
		return rawFeature{}, err
	}
	return featureFromMembers(m, partial, "")
}

func featureFromMembers(m map[string]json.RawMessage, partial bool, prefix string) (rawFeature, error) {
	var f rawFeature
	var errs []FieldReason
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldReason{Field: prefix + field, Reason: fmt.Sprintf(format, args...)})
	}
	for _, k := range sortedKeys(m) {
		if !slices.Contains(featureMembers, k) {
			bad(k, "unknown member of a Feature (want %s)", strings.Join(featureMembers, ", "))
		}
	}
	if t, ok := m["type"]; ok {
		var s string
		if json.Unmarshal(t, &s) != nil || s != "Feature" {
			bad("type", "want \"Feature\", got %s", clip(t))
		}
	} else if !partial {
		bad("type", "missing, want \"Feature\"")
	}
	if id, ok := m["id"]; ok && !isNull(id) {
		s, err := stringOrNumber(id)
		if err != nil {
			bad("id", "%v", err)
		}
		f.ID = s
	}
	if g, ok := m["geometry"]; ok {
		f.HasGeometry = true
		if !isNull(g) {
			geom, err := decodeGeometry(g)
			if err != nil {
				errs = append(errs, prefixed(err, prefix)...)
			}
			f.Geometry = geom
		}
	}
	if p, ok := m["properties"]; ok && !isNull(p) {
		if err := json.Unmarshal(p, &f.Properties); err != nil {
			bad("properties", "not a JSON object")
		}
	}
	if len(errs) > 0 {
		return rawFeature{}, &InputError{Errors: errs}
	}
	return f, nil
}

func prefixed(err error, prefix string) []FieldReason {
	var in *InputError
	if errors.As(err, &in) {
		out := make([]FieldReason, len(in.Errors))
		for i, e := range in.Errors {
			out[i] = FieldReason{Field: prefix + e.Field, Reason: e.Reason}
		}
		return out
	}
	return []FieldReason{{Field: prefix + "geometry", Reason: err.Error()}}
}

func isNull(b json.RawMessage) bool { return string(bytes.TrimSpace(b)) == "null" }

// clip shortens a JSON value for an error message.
func clip(b []byte) string {
	s := string(bytes.TrimSpace(b))
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return s
}

// stringOrNumber reads a JSON string, or a JSON number kept as its digits
// (a 16-digit code does not survive float64).
func stringOrNumber(b json.RawMessage) (string, error) {
	b = bytes.TrimSpace(b)
	var s string
	if json.Unmarshal(b, &s) == nil {
		return s, nil
	}
	var n json.Number
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if d.Decode(&n) == nil {
		return n.String(), nil
	}
	return "", fmt.Errorf("want a string or a number, got %s", clip(b))
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// decodeGeometry decodes a GeoJSON geometry object: Point, MultiPoint,
// LineString, MultiLineString, Polygon or MultiPolygon, with positions of
// 2 or 3 finite numbers (the altitude is dropped) inside lon -180..180,
// lat -90..90. Polygon rings must be closed with at least 4 positions.
func decodeGeometry(b json.RawMessage) (orb.Geometry, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || raw == nil {
		return nil, badInput("geometry", "not a GeoJSON geometry object")
	}
	var typ string
	if t, ok := raw["type"]; !ok || json.Unmarshal(t, &typ) != nil {
		return nil, badInput("geometry.type", "missing or not a string")
	}
	for _, k := range sortedKeys(raw) {
		if k != "type" && k != "coordinates" && k != "bbox" {
			return nil, badInput("geometry."+k, "unknown member of a %s geometry", typ)
		}
	}
	coords, ok := raw["coordinates"]
	if !ok {
		if typ == "GeometryCollection" {
			return nil, badInput("geometry.type", "GeometryCollection is not supported")
		}
		return nil, badInput("geometry.coordinates", "missing")
	}
	shape := func(want string) error {
		return badInput("geometry.coordinates", "a %s needs %s", typ, want)
	}
	switch typ {
	case "Point":
		var c []float64
		if json.Unmarshal(coords, &c) != nil {
			return nil, shape("one position [lon, lat]")
		}
		return position(c, "geometry.coordinates")
	case "MultiPoint", "LineString":
		var cs [][]float64
		if json.Unmarshal(coords, &cs) != nil {
			return nil, shape("an array of positions")
		}
		pts, err := positions(cs, "geometry.coordinates")
		if err != nil {
			return nil, err
		}
		if typ == "MultiPoint" {
			return orb.MultiPoint(pts), nil
		}
		if len(pts) < 2 {
			return nil, shape("at least 2 positions")
		}
		return orb.LineString(pts), nil
	case "MultiLineString":
		var cs [][][]float64
		if json.Unmarshal(coords, &cs) != nil {
			return nil, shape("an array of lines")
		}
		out := make(orb.MultiLineString, len(cs))
		for i, l := range cs {
			pts, err := positions(l, fmt.Sprintf("geometry.coordinates[%d]", i))
			if err != nil {
				return nil, err
			}
			if len(pts) < 2 {
				return nil, badInput(fmt.Sprintf("geometry.coordinates[%d]", i), "a line needs at least 2 positions")
			}
			out[i] = pts
		}
		return out, nil
	case "Polygon":
		var cs [][][]float64
		if json.Unmarshal(coords, &cs) != nil {
			return nil, shape("an array of rings")
		}
		return polygon(cs, "geometry.coordinates")
	case "MultiPolygon":
		var cs [][][][]float64
		if json.Unmarshal(coords, &cs) != nil {
			return nil, shape("an array of polygons")
		}
		out := make(orb.MultiPolygon, len(cs))
		for i, p := range cs {
			poly, err := polygon(p, fmt.Sprintf("geometry.coordinates[%d]", i))
			if err != nil {
				return nil, err
			}
			out[i] = poly
		}
		if len(out) == 0 {
			return nil, shape("at least one polygon")
		}
		return out, nil
	case "GeometryCollection":
		return nil, badInput("geometry.type", "GeometryCollection is not supported")
	}
	return nil, badInput("geometry.type", "%q is not a GeoJSON geometry type", typ)
}

func position(c []float64, field string) (orb.Point, error) {
	if len(c) != 2 && len(c) != 3 {
		return orb.Point{}, badInput(field, "a position has 2 or 3 numbers, got %d", len(c))
	}
	lon, lat := c[0], c[1]
	if math.IsNaN(lon) || math.IsNaN(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90 {
		return orb.Point{}, badInput(field, "(%v, %v) is outside lon -180..180, lat -90..90", lon, lat)
	}
	return orb.Point{lon, lat}, nil
}

func positions(cs [][]float64, field string) ([]orb.Point, error) {
	pts := make([]orb.Point, len(cs))
	for i, c := range cs {
		p, err := position(c, field+"["+strconv.Itoa(i)+"]")
		if err != nil {
			return nil, err
		}
		pts[i] = p
	}
	return pts, nil
}

func polygon(cs [][][]float64, field string) (orb.Polygon, error) {
	if len(cs) == 0 {
		return nil, badInput(field, "a polygon needs an outer ring")
	}
	out := make(orb.Polygon, len(cs))
	for i, r := range cs {
		f := field + "[" + strconv.Itoa(i) + "]"
		pts, err := positions(r, f)
		if err != nil {
			return nil, err
		}
		if len(pts) < 4 {
			return nil, badInput(f, "a ring needs at least 4 positions, got %d", len(pts))
		}
		if pts[0] != pts[len(pts)-1] {
			return nil, badInput(f, "the ring is not closed (first and last positions differ)")
		}
		out[i] = pts
	}
	return out, nil
}

// checkSimple rejects polygons whose rings cross themselves or each other
// (field "geometry"), and geometries with more than max vertices.
func checkSimple(g orb.Geometry, max int) error {
	var polys []orb.Polygon
	switch g := g.(type) {
	case orb.Polygon:
		polys = []orb.Polygon{g}
	case orb.MultiPolygon:
		polys = g
	default:
		return nil
	}
	n := 0
	for _, p := range polys {
		for _, r := range p {
			n += len(r)
		}
	}
	if n > max {
		return badInput("geometry", "%d vertices, more than the limit of %d", n, max)
	}
	for i, p := range polys {
		if why := polygonIntersection(p); why != "" {
			if len(polys) > 1 {
				why = fmt.Sprintf("polygon %d: %s", i, why)
			}
			return badInput("geometry", "self-intersecting polygon: %s", why)
		}
	}
	return nil
}

// polygonIntersection describes where a polygon is not simple, or "".
// Within a ring, segments that are not neighbours may not touch, and
// neighbours may not fold back onto each other; rings may not cross.
//
// The segments are swept in order of their lowest y, and only the pairs
// whose boxes overlap are tested: O(n log n) plus the overlapping pairs,
// instead of every pair (12.5 million for 5,000 vertices).
func polygonIntersection(p orb.Polygon) string {
	type seg struct {
		ring, i, n int // ring, index in the ring, segments of the ring
		a, b       orb.Point
		box        orb.Bound
	}
	var segs []seg
	for ri, r := range p {
		r = dropRepeats(r)
		if len(r) < 4 {
			return fmt.Sprintf("ring %d has fewer than 3 distinct positions", ri)
		}
		n := len(r) - 1 // segments; the ring is closed
		for i := 0; i < n; i++ {
			segs = append(segs, seg{ring: ri, i: i, n: n, a: r[i], b: r[i+1], box: orb.Bound{Min: r[i], Max: r[i]}.Extend(r[i+1])})
		}
	}
	slices.SortFunc(segs, func(x, y seg) int { return cmp.Compare(x.box.Min[1], y.box.Min[1]) })
	var active []int
	for k := range segs {
		s := &segs[k]
		live := active[:0]
		for _, j := range active {
			if segs[j].box.Max[1] >= s.box.Min[1] {
				live = append(live, j)
			}
		}
		active = live
		for _, j := range active {
			t := &segs[j]
			if t.box.Max[0] < s.box.Min[0] || s.box.Max[0] < t.box.Min[0] {
				continue
			}
			x, y := t, s // x before y in ring order
			if x.ring > y.ring || (x.ring == y.ring && x.i > y.i) {
				x, y = y, x
			}
			if x.ring != y.ring {
				if segmentsCross(x.a, x.b, y.a, y.b) {
					return fmt.Sprintf("ring %d crosses ring %d", x.ring, y.ring)
				}
				continue
			}
			if y.i == x.i+1 || (x.i == 0 && y.i == x.n-1) {
				// Neighbours: sharing a vertex is fine; folding back is not.
				if orient(x.a, x.b, y.a) == 0 && orient(x.a, x.b, y.b) == 0 && foldsBack(x.a, x.b, y.a, y.b) {
					return fmt.Sprintf("ring %d folds back on itself at segment %d", x.ring, y.i)
				}
				continue
			}
			if segmentsTouch(x.a, x.b, y.a, y.b) {
				return fmt.Sprintf("ring %d: segment %d crosses segment %d", x.ring, x.i, y.i)
			}
		}
		active = append(active, k)
	}
	return ""
}

// dropRepeats removes consecutive repeated positions (a repeated vertex is
// not an intersection).
func dropRepeats(r orb.Ring) orb.Ring {
	out := make(orb.Ring, 0, len(r))
	for i, pt := range r {
		if i == 0 || pt != r[i-1] {
			out = append(out, pt)
		}
	}
	return out
}

// foldsBack reports whether collinear neighbour segments ab and cd overlap
// in more than their shared vertex.
func foldsBack(a, b, c, d orb.Point) bool {
	// Shared vertex s; the other ends u (of ab) and v (of cd).
	var s, u, v orb.Point
	switch {
	case b == c:
		s, u, v = b, a, d
	case a == d:
		s, u, v = a, b, c
	case a == c:
		s, u, v = a, b, d
	case b == d:
		s, u, v = b, a, c
	default:
		return segmentsTouch(a, b, c, d)
	}
	// Overlap when u and v lie on the same side of s.
	return (u[0]-s[0])*(v[0]-s[0])+(u[1]-s[1])*(v[1]-s[1]) > 0
}

// orient is the sign of the turn a->b->c: 1 left, -1 right, 0 collinear.
func orient(a, b, c orb.Point) int {
	v := (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

func onSegment(a, b, p orb.Point) bool {
	return math.Min(a[0], b[0]) <= p[0] && p[0] <= math.Max(a[0], b[0]) &&
		math.Min(a[1], b[1]) <= p[1] && p[1] <= math.Max(a[1], b[1])
}

// segmentsTouch reports whether segments ab and cd share any point.
func segmentsTouch(a, b, c, d orb.Point) bool {
	o1, o2, o3, o4 := orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b)
	if o1 != o2 && o3 != o4 {
		return true
	}
	return (o1 == 0 && onSegment(a, b, c)) || (o2 == 0 && onSegment(a, b, d)) ||
		(o3 == 0 && onSegment(c, d, a)) || (o4 == 0 && onSegment(c, d, b))
}

// segmentsCross reports a proper crossing (interiors meet at one point).
func segmentsCross(a, b, c, d orb.Point) bool {
	o1, o2, o3, o4 := orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b)
	return o1*o2 < 0 && o3*o4 < 0
}

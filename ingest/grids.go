package ingest

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"citytwin/grid"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// GridMapping names the source fields of unit grids: Code (required), Name,
// Dept (responsible unit), Level (district, street, community, grid or
// 1-4) and Parent (the code of the division above).
type GridMapping struct {
	Code, Name, Dept, Level, Parent string
}

// ParseGridMapping parses "code=FIELD,name=FIELD,dept=FIELD,level=FIELD,
// parent=FIELD" (keys case-insensitive, a leading @ on a field allowed).
// code defaults to "code".
func ParseGridMapping(kv string) (GridMapping, error) {
	m := GridMapping{}
	seen := map[string]bool{}
	for _, pair := range strings.Split(kv, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		key := strings.ToLower(strings.TrimSpace(k))
		val := strings.TrimPrefix(strings.TrimSpace(v), "@")
		if !ok || val == "" {
			return GridMapping{}, &MappingError{Key: key, Value: val, Reason: "want key=FIELD"}
		}
		if seen[key] {
			return GridMapping{}, &MappingError{Key: key, Value: val, Reason: "given twice"}
		}
		seen[key] = true
		switch key {
		case "code":
			m.Code = val
		case "name":
			m.Name = val
		case "dept", "owner":
			m.Dept = val
		case "level":
			m.Level = val
		case "parent":
			m.Parent = val
		default:
			return GridMapping{}, &MappingError{Key: key, Value: val, Reason: "unknown key; grid keys: code, name, dept, level, parent"}
		}
	}
	if m.Code == "" {
		m.Code = "code"
	}
	return m, nil
}

// GridRow is one grid read by a GridReader. Repairs lists what was fixed
// in its geometry (repeated points dropped, a MultiPolygon of one polygon
// reduced); empty when nothing was.
type GridRow struct {
	Row     int
	Grid    grid.Grid
	Repairs []string
}

// GridReader reads unit grids from GeoJSON or from features.
type GridReader struct {
	src source
	m   GridMapping
}

// NewGridReader returns a reader of the grids of r (GeoJSON or a GeoJSON
// sequence).
func NewGridReader(r io.Reader, f Format, m GridMapping) (*GridReader, error) {
	gr := &GridReader{m: m}
	switch f {
	case GeoJSON:
		gr.src = newCollectionSource(r)
	case GeoJSONSeq:
		gr.src = newSequenceSource(r)
	default:
		return nil, &FormatError{Name: string(f), Reason: "grids are read from geojson, geojsonseq or a GeoPackage layer"}
	}
	return gr, nil
}

// NewGridFeatureReader returns a reader of the grids of features (a
// GeoPackage layer).
func NewGridFeatureReader(next func() (Feature, error), m GridMapping) *GridReader {
	return &GridReader{src: &featureSource{read: next}, m: m}
}

// Next returns the next grid, io.EOF at the end, a *RowError for a bad
// row (code, hierarchy, geometry: call Next again), or a *SyntaxError.
func (gr *GridReader) Next() (GridRow, error) {
	rec, err := gr.src.next()
	if err != nil {
		return GridRow{}, err
	}
	bad := func(field, format string, args ...any) error {
		return &RowError{Row: rec.row, Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	get := func(name string) string {
		if name == "" {
			return ""
		}
		v, _ := rec.fields.lookup(name)
		return strings.TrimSpace(v)
	}
	codeV := get(gr.m.Code)
	if codeV == "" {
		return GridRow{}, bad("code", "field %q is empty or missing", gr.m.Code)
	}
	if lv := get(gr.m.Level); lv != "" {
		l, err := parseGridLevel(lv)
		if err != nil {
			return GridRow{}, bad("level", "field %q: %v", gr.m.Level, err)
		}
		if l != grid.Cell {
			return GridRow{}, bad("level", "a %s (%s), not a grid: divisions are not imported as grids", l, codeV)
		}
	}
	c, err := grid.ParseCode(codeV)
	if err != nil {
		return GridRow{}, bad("code", "field %q: %v", gr.m.Code, err)
	}
	if p := get(gr.m.Parent); p != "" {
		if lv := grid.LevelOf(p); lv < grid.District || lv > grid.Community || !strings.HasPrefix(string(c), p) {
			return GridRow{}, bad("parent", "parent %q is not the district, street or community of grid %s (a prefix of 6, 9 or 12 digits)", p, c)
		}
	}
	row := GridRow{Row: rec.row, Grid: grid.Grid{Code: c, Name: get(gr.m.Name), Dept: get(gr.m.Dept)}}
	if rec.geomErr != nil {
		var re *RowError
		if errors.As(rec.geomErr, &re) {
			return GridRow{}, re
		}
		return GridRow{}, bad("geometry", "%v", rec.geomErr)
	}
	poly, repairs, err := gridPolygon(rec.geom)
	if err != nil {
		return GridRow{}, bad("geometry", "grid %s: %v", c, err)
	}
	row.Grid.Geometry, row.Repairs = poly, repairs
	return row, nil
}

func parseGridLevel(s string) (grid.Level, error) {
	switch strings.ToLower(s) {
	case "1", "district", "区", "county":
		return grid.District, nil
	case "2", "street", "街道", "town":
		return grid.Street, nil
	case "3", "community", "社区":
		return grid.Community, nil
	case "4", "5", "grid", "cell", "网格", "单元网格":
		return grid.Cell, nil
	}
	return 0, fmt.Errorf("%q is not district, street, community or grid", s)
}

// gridPolygon checks and repairs the geometry of a grid: a Polygon (or a
// MultiPolygon of one polygon); repeated consecutive points are dropped
// (repaired); a ring that crosses itself or another ring, or has no area,
// cannot be repaired and is rejected with the place where it fails.
func gridPolygon(g orb.Geometry) (orb.Polygon, []string, error) {
	var repairs []string
	var p orb.Polygon
	switch x := g.(type) {
	case orb.Polygon:
		p = x
	case orb.MultiPolygon:
		if len(x) != 1 {
			return nil, nil, fmt.Errorf("a MultiPolygon of %d polygons, a grid is one polygon", len(x))
		}
		p = x[0]
		repairs = append(repairs, "MultiPolygon of one polygon reduced to it")
	case nil:
		return nil, nil, errors.New("missing")
	default:
		return nil, nil, fmt.Errorf("a %s, a grid is a Polygon", g.GeoJSONType())
	}
	out := make(orb.Polygon, 0, len(p))
	for i, r := range p {
		nr := make(orb.Ring, 0, len(r))
		for _, pt := range r {
			if len(nr) > 0 && nr[len(nr)-1] == pt {
				continue
			}
			nr = append(nr, pt)
		}
		if d := len(r) - len(nr); d > 0 {
			repairs = append(repairs, fmt.Sprintf("ring %d: %d repeated points dropped", i, d))
		}
		if len(nr) > 0 && nr[0] != nr[len(nr)-1] {
			nr = append(nr, nr[0])
			repairs = append(repairs, fmt.Sprintf("ring %d closed", i))
		}
		if len(nr) < 4 {
			return nil, nil, fmt.Errorf("ring %d has %d distinct points, a ring needs 3", i, len(nr)-1)
		}
		out = append(out, nr)
	}
	if err := checkSimple(out); err != nil {
		return nil, nil, err
	}
	for i, r := range out {
		if planar.Area(r) == 0 {
			return nil, nil, fmt.Errorf("ring %d has no area", i)
		}
	}
	return out, repairs, nil
}

// checkSimple reports the first crossing of two edges of the polygon's
// rings (a self-intersection: a bow-tie, a ring folding over itself, a
// hole crossing its shell).
func checkSimple(p orb.Polygon) error {
	type edge struct {
		ring, i int
		a, b    orb.Point
	}
	var es []edge
	for ri, r := range p {
		for i := 0; i+1 < len(r); i++ {
			es = append(es, edge{ri, i, r[i], r[i+1]})
		}
	}
	if len(es) > 20000 {
		return nil // too big to check pairwise here; the index takes it as it is
	}
	sort.Slice(es, func(i, j int) bool { return math.Min(es[i].a[0], es[i].b[0]) < math.Min(es[j].a[0], es[j].b[0]) })
	for i := range es {
		ei := es[i]
		maxX := math.Max(ei.a[0], ei.b[0])
		for j := i + 1; j < len(es); j++ {
			ej := es[j]
			if math.Min(ej.a[0], ej.b[0]) > maxX {
				break
			}
			if ei.ring == ej.ring {
				n := len(p[ei.ring]) - 1
				if d := ei.i - ej.i; d == 1 || d == -1 || d == n-1 || d == 1-n {
					continue // neighbours share a vertex
				}
			}
			if at, ok := properCross(ei.a, ei.b, ej.a, ej.b); ok {
				if ei.ring == ej.ring {
					return fmt.Errorf("ring %d crosses itself near (%.7f, %.7f) (edges %d and %d): a self-intersecting polygon cannot be repaired here; fix it in a GIS (e.g. QGIS Fix geometries) and import again", ei.ring, at[0], at[1], min(ei.i, ej.i), max(ei.i, ej.i))
				}
				return fmt.Errorf("rings %d and %d cross near (%.7f, %.7f)", min(ei.ring, ej.ring), max(ei.ring, ej.ring), at[0], at[1])
			}
		}
	}
	return nil
}

// properCross reports whether segments a-b and c-d cross at a point inside
// both (touching at an end or overlapping collinearly does not count).
func properCross(a, b, c, d orb.Point) (orb.Point, bool) {
	o := func(p, q, r orb.Point) float64 { return (q[0]-p[0])*(r[1]-p[1]) - (q[1]-p[1])*(r[0]-p[0]) }
	d1, d2, d3, d4 := o(c, d, a), o(c, d, b), o(a, b, c), o(a, b, d)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		t := d1 / (d1 - d2)
		return orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}, true
	}
	return orb.Point{}, false
}

// Overlap is two grids whose interiors intersect.
type Overlap struct {
	A, B grid.Code
	At   orb.Point // a point of the overlap
}

// Gap is an uncovered place inside a community's coverage: a point no
// grid holds, with grids of the community on all four sides of it.
type Gap struct {
	Community string
	At        orb.Point
}

// Coverage checks a set of grids for overlaps (any two) and gaps (inside
// each community): the rule of 万米单元网格 is that the grids of a community
// cover it without gaps or overlaps. Gaps are found by sampling each
// community's box on a 64 x 64 lattice; one gap is reported per uncovered
// run of samples, so tiny slivers between samples go unseen.
func Coverage(gs []grid.Grid) (overlaps []Overlap, gaps []Gap) {
	type item struct {
		g grid.Grid
		b orb.Bound
	}
	items := make([]item, 0, len(gs))
	for _, g := range gs {
		if len(g.Geometry) > 0 {
			items = append(items, item{g, g.Geometry.Bound()})
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i].b.Min[0] < items[j].b.Min[0] })
	for i := range items {
		for j := i + 1; j < len(items) && items[j].b.Min[0] < items[i].b.Max[0]; j++ {
			if !items[i].b.Intersects(items[j].b) {
				continue
			}
			if at, ok := interiorsMeet(items[i].g.Geometry, items[j].g.Geometry); ok {
				a, b := items[i].g.Code, items[j].g.Code
				if b < a {
					a, b = b, a
				}
				overlaps = append(overlaps, Overlap{A: a, B: b, At: at})
			}
		}
	}
	sort.Slice(overlaps, func(i, j int) bool {
		return overlaps[i].A < overlaps[j].A || overlaps[i].A == overlaps[j].A && overlaps[i].B < overlaps[j].B
	})
	byComm := map[string][]item{}
	var comms []string
	for _, it := range items {
		c := it.g.Code.Community()
		if _, ok := byComm[c]; !ok {
			comms = append(comms, c)
		}
		byComm[c] = append(byComm[c], it)
	}
	sort.Strings(comms)
	const n = 64
	for _, c := range comms {
		its := byComm[c]
		if len(its) < 2 {
			continue
		}
		b := its[0].b
		for _, it := range its[1:] {
			b = b.Union(it.b)
		}
		dx, dy := (b.Max[0]-b.Min[0])/n, (b.Max[1]-b.Min[1])/n
		var cover [n][n]bool
		for x := range n {
			for y := range n {
				pt := orb.Point{b.Min[0] + (float64(x)+0.5)*dx, b.Min[1] + (float64(y)+0.5)*dy}
				for _, it := range its {
					if it.b.Contains(pt) && planar.PolygonContains(it.g.Geometry, pt) {
						cover[x][y] = true
						break
					}
				}
			}
		}
		enclosed := func(x, y int) bool {
			l, r, d, u := false, false, false, false
			for i := 0; i < x && !l; i++ {
				l = cover[i][y]
			}
			for i := x + 1; i < n && !r; i++ {
				r = cover[i][y]
			}
			for i := 0; i < y && !d; i++ {
				d = cover[x][i]
			}
			for i := y + 1; i < n && !u; i++ {
				u = cover[x][i]
			}
			return l && r && d && u
		}
		var seen [n][n]bool
		for x := range n {
			for y := range n {
				if cover[x][y] || seen[x][y] || !enclosed(x, y) {
					continue
				}
				// flood the uncovered, enclosed run: one gap
				stack := [][2]int{{x, y}}
				seen[x][y] = true
				for len(stack) > 0 {
					q := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					for _, d := range [][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
						nx, ny := q[0]+d[0], q[1]+d[1]
						if nx >= 0 && ny >= 0 && nx < n && ny < n && !cover[nx][ny] && !seen[nx][ny] && enclosed(nx, ny) {
							seen[nx][ny] = true
							stack = append(stack, [2]int{nx, ny})
						}
					}
				}
				gaps = append(gaps, Gap{Community: c, At: orb.Point{b.Min[0] + (float64(x)+0.5)*dx, b.Min[1] + (float64(y)+0.5)*dy}})
			}
		}
	}
	return overlaps, gaps
}

// interiorsMeet reports whether two polygons share interior: their edges
// cross properly, or a vertex or the centroid of one lies inside the other
// away from its boundary.
func interiorsMeet(a, b orb.Polygon) (orb.Point, bool) {
	for _, ra := range a {
		for i := 0; i+1 < len(ra); i++ {
			for _, rb := range b {
				for j := 0; j+1 < len(rb); j++ {
					if at, ok := properCross(ra[i], ra[i+1], rb[j], rb[j+1]); ok {
						return at, true
					}
				}
			}
		}
	}
	inside := func(p orb.Polygon, pt orb.Point) bool {
		if !planar.PolygonContains(p, pt) {
			return false
		}
		// away from the boundary: shared edges are not overlaps
		for _, r := range p {
			for i := 0; i+1 < len(r); i++ {
				if segDist(pt, r[i], r[i+1]) < 1e-9 {
					return false
				}
			}
		}
		return true
	}
	for _, pair := range [][2]orb.Polygon{{a, b}, {b, a}} {
		c, _ := planar.CentroidArea(pair[0])
		if inside(pair[1], c) {
			return c, true
		}
		for _, pt := range pair[0][0] {
			if inside(pair[1], pt) {
				return pt, true
			}
		}
	}
	return orb.Point{}, false
}

func segDist(p, a, b orb.Point) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	l := dx*dx + dy*dy
	t := 0.0
	if l > 0 {
		t = math.Max(0, math.Min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l))
	}
	x, y := a[0]+t*dx-p[0], a[1]+t*dy-p[1]
	return math.Sqrt(x*x + y*y)
}

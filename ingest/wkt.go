package ingest

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
)

// maxWKTDepth bounds the nesting of a WKT text (a MultiPolygon is 3 deep).
const maxWKTDepth = 4

// ParseWKT reads a Well-Known Text geometry as open-data portals publish
// it in a CSV column: POINT, LINESTRING, POLYGON, and MULTIPOINT,
// MULTILINESTRING or MULTIPOLYGON with exactly one member (reduced to it).
// Keywords are case-insensitive; an EWKT "SRID=4326;" prefix is accepted
// (other SRIDs are refused: coordinates must be WGS84 lon/lat); Z, M and ZM
// coordinates are read and their extra ordinates dropped; MULTIPOINT
// members may be bare ("MULTIPOINT (1 2)") or parenthesised. EMPTY
// geometries are refused. Rings must be closed. Errors name the offset.
func ParseWKT(s string) (orb.Geometry, error) {
	p := &wktParser{s: s}
	p.space()
	if p.keyword("SRID") {
		p.space()
		if !p.eat('=') {
			return nil, p.fail("want = after SRID")
		}
		start := p.i
		for p.i < len(p.s) && p.s[p.i] != ';' {
			p.i++
		}
		srid := strings.TrimSpace(p.s[start:p.i])
		if !p.eat(';') {
			return nil, p.fail("want ; after SRID=%s", srid)
		}
		if srid != "4326" && srid != "4490" {
			return nil, badGeometry("SRID %s is not WGS84 lon/lat (4326, or 4490 CGCS2000)", srid)
		}
		p.space()
	}
	typ := strings.ToUpper(p.word())
	if typ == "" {
		return nil, p.fail("want a geometry type such as POINT")
	}
	p.space()
	// Z, M, ZM between the type and the coordinates, or fused (POINTZ).
	switch dim := strings.ToUpper(p.peekWord()); dim {
	case "Z", "M", "ZM":
		p.word()
		p.space()
	}
	for _, suf := range []string{"ZM", "Z", "M"} {
		if strings.HasSuffix(typ, suf) && typ != "POINT" && len(typ) > len(suf) {
			if base := strings.TrimSuffix(typ, suf); isWKTType(base) {
				typ = base
				break
			}
		}
	}
	if strings.EqualFold(p.peekWord(), "EMPTY") {
		return nil, badGeometry("%s EMPTY has no coordinates", typ)
	}
	var g orb.Geometry
	var err error
	switch typ {
	case "POINT":
		var pt orb.Point
		if pt, err = p.pointList1(); err == nil {
			g = pt
		}
	case "LINESTRING":
		var ls orb.LineString
		if ls, err = p.line(); err == nil {
			g = ls
		}
	case "POLYGON":
		var pg orb.Polygon
		if pg, err = p.polygon(); err == nil {
			g = pg
		}
	case "MULTIPOINT":
		g, err = p.multi(func() (orb.Geometry, error) {
			if p.peek() == '(' {
				return p.pointList1()
			}
			return p.coord()
		}, "MultiPoint", "points")
	case "MULTILINESTRING":
		g, err = p.multi(func() (orb.Geometry, error) { return p.line() }, "MultiLineString", "lines")
	case "MULTIPOLYGON":
		g, err = p.multi(func() (orb.Geometry, error) { return p.polygon() }, "MultiPolygon", "polygons")
	case "GEOMETRYCOLLECTION":
		return nil, badGeometry("GEOMETRYCOLLECTION is not supported (want POINT, LINESTRING or POLYGON)")
	default:
		return nil, badGeometry("WKT type %q is not supported (want POINT, LINESTRING or POLYGON)", typ)
	}
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, p.fail("unexpected text after the geometry")
	}
	return g, nil
}

func isWKTType(s string) bool {
	switch s {
	case "POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON":
		return true
	}
	return false
}

type wktParser struct {
	s     string
	i     int
	depth int
}

func (p *wktParser) fail(format string, args ...any) error {
	return badGeometry("WKT at offset %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *wktParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *wktParser) peek() byte {
	p.space()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *wktParser) eat(c byte) bool {
	if p.peek() == c {
		p.i++
		return true
	}
	return false
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func (p *wktParser) word() string {
	start := p.i
	for p.i < len(p.s) && isLetter(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

func (p *wktParser) peekWord() string {
	save := p.i
	p.space()
	w := p.word()
	p.i = save
	return w
}

// keyword consumes w (any case) when it comes next.
func (p *wktParser) keyword(w string) bool {
	if len(p.s)-p.i >= len(w) && strings.EqualFold(p.s[p.i:p.i+len(w)], w) {
		p.i += len(w)
		return true
	}
	return false
}

func (p *wktParser) number() (float64, error) {
	p.space()
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E' {
			p.i++
			continue
		}
		break
	}
	if start == p.i {
		return 0, p.fail("want a number")
	}
	v, err := strconv.ParseFloat(p.s[start:p.i], 64)
	if err != nil {
		return 0, p.fail("%q is not a number", p.s[start:p.i])
	}
	return v, nil
}

// coord reads "x y [z [m]]".
func (p *wktParser) coord() (orb.Point, error) {
	x, err := p.number()
	if err != nil {
		return orb.Point{}, err
	}
	y, err := p.number()
	if err != nil {
		return orb.Point{}, err
	}
	for n := 0; n < 2; n++ {
		c := p.peek()
		if c == ',' || c == ')' || c == 0 {
			break
		}
		if _, err := p.number(); err != nil {
			return orb.Point{}, err
		}
	}
	pt := orb.Point{x, y}
	return pt, checkPoint(pt)
}

// coords reads "(x y, x y, ...)".
func (p *wktParser) coords() ([]orb.Point, error) {
	if !p.eat('(') {
		return nil, p.fail("want (")
	}
	var out []orb.Point
	for {
		pt, err := p.coord()
		if err != nil {
			return nil, err
		}
		out = append(out, pt)
		if p.eat(',') {
			continue
		}
		if p.eat(')') {
			return out, nil
		}
		return nil, p.fail("want , or )")
	}
}

func (p *wktParser) pointList1() (orb.Point, error) {
	pts, err := p.coords()
	if err != nil {
		return orb.Point{}, err
	}
	if len(pts) != 1 {
		return orb.Point{}, badGeometry("a point has %d positions, want 1", len(pts))
	}
	return pts[0], nil
}

func (p *wktParser) line() (orb.LineString, error) {
	pts, err := p.coords()
	if err != nil {
		return nil, err
	}
	if len(pts) < 2 {
		return nil, badGeometry("a line needs at least 2 positions, got %d", len(pts))
	}
	return orb.LineString(pts), nil
}

func (p *wktParser) polygon() (orb.Polygon, error) {
	if p.depth++; p.depth > maxWKTDepth {
		return nil, p.fail("nested too deep")
	}
	defer func() { p.depth-- }()
	if !p.eat('(') {
		return nil, p.fail("want (")
	}
	var pg orb.Polygon
	for {
		pts, err := p.coords()
		if err != nil {
			return nil, err
		}
		i := len(pg)
		if len(pts) < 4 {
			return nil, badGeometry("ring %d has %d positions, a closed ring needs at least 4", i, len(pts))
		}
		if pts[0] != pts[len(pts)-1] {
			return nil, badGeometry("ring %d is not closed", i)
		}
		pg = append(pg, orb.Ring(pts))
		if p.eat(',') {
			continue
		}
		if p.eat(')') {
			return pg, nil
		}
		return nil, p.fail("want , or )")
	}
}

// multi reads "(member, member, ...)" and reduces a single member to it.
func (p *wktParser) multi(member func() (orb.Geometry, error), name, what string) (orb.Geometry, error) {
	if !p.eat('(') {
		return nil, p.fail("want (")
	}
	var out []orb.Geometry
	for {
		g, err := member()
		if err != nil {
			return nil, err
		}
		out = append(out, g)
		if p.eat(',') {
			continue
		}
		if p.eat(')') {
			break
		}
		return nil, p.fail("want , or )")
	}
	if len(out) != 1 {
		return nil, badGeometry("%s with %d %s (only one member is supported)", name, len(out), what)
	}
	return out[0], nil
}

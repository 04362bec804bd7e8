package gpkg

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/paulmach/orb"
)

// SRSID is the spatial reference system of every geometry in the file:
// EPSG:4326, WGS84 longitude/latitude.
const SRSID = 4326

// GeoPackage binary header flags (GeoPackage 1.3, 2.1.3.1.1).
const (
	flagLittleEndian = 0x01
	flagEnvelopeXY   = 0x02 // envelope indicator 1: [minx, maxx, miny, maxy]
	flagEmpty        = 0x10
	flagExtended     = 0x20
)

// WKB geometry type codes.
const (
	wkbPoint           = 1
	wkbLineString      = 2
	wkbPolygon         = 3
	wkbMultiPoint      = 4
	wkbMultiLineString = 5
	wkbMultiPolygon    = 6
)

// headerSize is the size of a GP header without envelope.
const headerSize = 8

// pointBlobSize is the size of a point's blob: header + WKB point.
const pointBlobSize = headerSize + 21

// appendGeometry appends g as a GeoPackage geometry blob to dst and returns
// it with g's bound. Points carry no envelope (as GDAL writes them); other
// geometries carry [minx, maxx, miny, maxy]. Coordinates must be finite.
func appendGeometry(dst []byte, g orb.Geometry) ([]byte, orb.Bound, error) {
	switch g := g.(type) {
	case orb.Point:
		if !finite(g) {
			return dst, orb.Bound{}, &GeometryError{Offset: -1, Reason: fmt.Sprintf("point (%v, %v) is not finite", g[0], g[1])}
		}
		dst = append(dst, 'G', 'P', 0, flagLittleEndian, SRSID&0xff, SRSID>>8, 0, 0)
		dst = append(dst, 1)
		dst = binary.LittleEndian.AppendUint32(dst, wkbPoint)
		dst = appendXY(dst, g)
		return dst, orb.Bound{Min: g, Max: g}, nil
	case orb.LineString:
		if err := checkPoints(g); err != nil {
			return dst, orb.Bound{}, err
		}
		if len(g) == 0 {
			return appendEmpty(dst, wkbLineString), orb.Bound{}, nil
		}
		b := g.Bound()
		dst = appendHeader(dst, b)
		dst = append(dst, 1)
		dst = binary.LittleEndian.AppendUint32(dst, wkbLineString)
		dst = appendPoints(dst, g)
		return dst, b, nil
	case orb.Polygon:
		for _, r := range g {
			if err := checkPoints(r); err != nil {
				return dst, orb.Bound{}, err
			}
		}
		if len(g) == 0 || len(g[0]) == 0 {
			return appendEmpty(dst, wkbPolygon), orb.Bound{}, nil
		}
		b := g.Bound()
		dst = appendHeader(dst, b)
		dst = appendPolygon(dst, g)
		return dst, b, nil
	case nil:
		return dst, orb.Bound{}, &GeometryError{Offset: -1, Reason: "geometry is missing"}
	}
	return dst, orb.Bound{}, &GeometryError{Offset: -1, Reason: fmt.Sprintf("%s is not a Point, LineString or Polygon", g.GeoJSONType())}
}

func finite(p orb.Point) bool {
	return !math.IsNaN(p[0]) && !math.IsNaN(p[1]) && !math.IsInf(p[0], 0) && !math.IsInf(p[1], 0)
}

func checkPoints(ps []orb.Point) error {
	for i, p := range ps {
		if !finite(p) {
			return &GeometryError{Offset: -1, Reason: fmt.Sprintf("point %d (%v, %v) is not finite", i, p[0], p[1])}
		}
	}
	return nil
}

func appendHeader(dst []byte, b orb.Bound) []byte {
	dst = append(dst, 'G', 'P', 0, flagLittleEndian|flagEnvelopeXY, SRSID&0xff, SRSID>>8, 0, 0)
	for _, v := range [4]float64{b.Min[0], b.Max[0], b.Min[1], b.Max[1]} {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
	}
	return dst
}

func appendEmpty(dst []byte, typ uint32) []byte {
	dst = append(dst, 'G', 'P', 0, flagLittleEndian|flagEmpty, SRSID&0xff, SRSID>>8, 0, 0)
	dst = append(dst, 1)
	dst = binary.LittleEndian.AppendUint32(dst, typ)
	return binary.LittleEndian.AppendUint32(dst, 0)
}

func appendXY(dst []byte, p orb.Point) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(p[0]))
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(p[1]))
}

func appendPoints(dst []byte, ps []orb.Point) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(ps)))
	for _, p := range ps {
		dst = appendXY(dst, p)
	}
	return dst
}

func appendPolygon(dst []byte, g orb.Polygon) []byte {
	dst = append(dst, 1)
	dst = binary.LittleEndian.AppendUint32(dst, wkbPolygon)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(g)))
	for _, r := range g {
		dst = appendPoints(dst, r)
	}
	return dst
}

// decodePoint decodes the blob of a point as appendGeometry writes it (no
// envelope, little endian) without allocating; ok is false for any other
// blob, which decodeGeometry then handles.
func decodePoint(b []byte) (p orb.Point, ok bool) {
	if len(b) != pointBlobSize || b[0] != 'G' || b[1] != 'P' || b[2] != 0 || b[3] != flagLittleEndian ||
		b[8] != 1 || binary.LittleEndian.Uint32(b[9:]) != wkbPoint {
		return p, false
	}
	p[0] = math.Float64frombits(binary.LittleEndian.Uint64(b[13:]))
	p[1] = math.Float64frombits(binary.LittleEndian.Uint64(b[21:]))
	return p, true
}

// eface is the layout of an interface value.
type eface struct{ typ, data unsafe.Pointer }

// pointType is the type word of an orb.Point in an orb.Geometry.
var pointType = func() unsafe.Pointer {
	var g orb.Geometry = orb.Point{}
	return (*eface)(unsafe.Pointer(&g)).typ
}()

// pointGeometry returns an orb.Geometry holding the point *p without
// copying it to an allocation of its own, as a conversion would: *p must
// never be written again.
func pointGeometry(p *orb.Point) orb.Geometry {
	var g orb.Geometry
	e := (*eface)(unsafe.Pointer(&g))
	e.typ, e.data = pointType, unsafe.Pointer(p)
	return g
}

// DecodeGeometry decodes a GeoPackage geometry blob (GeoPackage 1.3 binary:
// the "GP" header, any envelope, then WKB in either byte order) into a Point,
// LineString, Polygon, MultiPoint, MultiLineString or MultiPolygon. It never
// panics: a malformed blob gives a *GeometryError.
func DecodeGeometry(b []byte) (orb.Geometry, error) {
	if p, ok := decodePoint(b); ok {
		return p, nil
	}
	if len(b) < headerSize {
		return nil, &GeometryError{Offset: 0, Reason: fmt.Sprintf("blob of %d bytes is shorter than the %d-byte header", len(b), headerSize)}
	}
	if b[0] != 'G' || b[1] != 'P' {
		return nil, &GeometryError{Offset: 0, Reason: fmt.Sprintf("magic is %q, want \"GP\"", b[:2])}
	}
	if b[2] != 0 {
		return nil, &GeometryError{Offset: 2, Reason: fmt.Sprintf("version %d, want 0 (GeoPackage 1)", b[2])}
	}
	flags := b[3]
	if flags&flagExtended != 0 {
		return nil, &GeometryError{Offset: 3, Reason: "extended GeoPackage geometry is not supported"}
	}
	var envSize int
	switch ind := (flags >> 1) & 7; ind {
	case 0:
	case 1:
		envSize = 32
	case 2, 3:
		envSize = 48
	case 4:
		envSize = 64
	default:
		return nil, &GeometryError{Offset: 3, Reason: fmt.Sprintf("envelope indicator %d is not 0-4", ind)}
	}
	off := headerSize + envSize
	if len(b) < off {
		return nil, &GeometryError{Offset: headerSize, Reason: fmt.Sprintf("blob of %d bytes is shorter than its %d-byte envelope", len(b), envSize)}
	}
	r := wkbReader{b: b, off: off}
	g := r.geometry(0)
	if r.err != nil {
		return nil, r.err
	}
	if r.off != len(b) {
		return nil, &GeometryError{Offset: r.off, Reason: fmt.Sprintf("%d bytes after the geometry", len(b)-r.off)}
	}
	return g, nil
}

// wkbReader reads WKB; the first error sticks in err.
type wkbReader struct {
	b     []byte
	off   int
	order binary.ByteOrder
	err   error
}

func (r *wkbReader) fail(reason string, args ...any) {
	if r.err == nil {
		r.err = &GeometryError{Offset: r.off, Reason: fmt.Sprintf(reason, args...)}
	}
}

func (r *wkbReader) need(n int) bool {
	if r.err != nil {
		return false
	}
	if n < 0 || len(r.b)-r.off < n {
		r.fail("want %d more bytes, have %d", n, len(r.b)-r.off)
		return false
	}
	return true
}

func (r *wkbReader) uint32() uint32 {
	if !r.need(4) {
		return 0
	}
	v := r.order.Uint32(r.b[r.off:])
	r.off += 4
	return v
}

func (r *wkbReader) point() orb.Point {
	if !r.need(16) {
		return orb.Point{}
	}
	p := orb.Point{
		math.Float64frombits(r.order.Uint64(r.b[r.off:])),
		math.Float64frombits(r.order.Uint64(r.b[r.off+8:])),
	}
	r.off += 16
	return p
}

// count reads an element count and checks that at least count*minSize
// bytes remain, so a lying count cannot make a huge allocation.
func (r *wkbReader) count(minSize int) int {
	n := r.uint32()
	if r.err != nil {
		return 0
	}
	if uint64(n)*uint64(minSize) > uint64(len(r.b)-r.off) {
		r.fail("count %d needs %d bytes, have %d", n, uint64(n)*uint64(minSize), len(r.b)-r.off)
		return 0
	}
	return int(n)
}

func (r *wkbReader) points() []orb.Point {
	n := r.count(16)
	if r.err != nil {
		return nil
	}
	ps := make([]orb.Point, n)
	for i := range ps {
		ps[i] = r.point()
	}
	return ps
}

func (r *wkbReader) polygon() orb.Polygon {
	n := r.count(4)
	if r.err != nil {
		return nil
	}
	pg := make(orb.Polygon, n)
	for i := range pg {
		pg[i] = orb.Ring(r.points())
	}
	return pg
}

// geometry reads one WKB geometry; depth is 0 at the top and 1 inside a
// multi geometry, where only the matching simple type is allowed.
func (r *wkbReader) geometry(depth int) orb.Geometry {
	typ := r.typ()
	if r.err != nil {
		return nil
	}
	switch typ {
	case wkbPoint:
		return r.point()
	case wkbLineString:
		return orb.LineString(r.points())
	case wkbPolygon:
		return r.polygon()
	}
	if depth > 0 {
		r.fail("geometry type %d inside a multi geometry", typ)
		return nil
	}
	switch typ {
	case wkbMultiPoint:
		n := r.count(21)
		mp := make(orb.MultiPoint, n)
		for i := range mp {
			mp[i] = r.member(wkbPoint).(orb.Point)
		}
		return mp
	case wkbMultiLineString:
		n := r.count(9)
		ml := make(orb.MultiLineString, n)
		for i := range ml {
			ml[i] = r.member(wkbLineString).(orb.LineString)
		}
		return ml
	case wkbMultiPolygon:
		n := r.count(9)
		mp := make(orb.MultiPolygon, n)
		for i := range mp {
			mp[i] = r.member(wkbPolygon).(orb.Polygon)
		}
		return mp
	}
	r.fail("geometry type %d is not supported (want 1-6, 2D)", typ)
	return nil
}

// member reads a member of a multi geometry, which must be of type want; it
// returns the zero value of that type after an error.
func (r *wkbReader) member(want uint32) orb.Geometry {
	start := r.off
	g := r.geometry(1)
	if r.err == nil {
		switch want {
		case wkbPoint:
			if p, ok := g.(orb.Point); ok {
				return p
			}
		case wkbLineString:
			if l, ok := g.(orb.LineString); ok {
				return l
			}
		case wkbPolygon:
			if p, ok := g.(orb.Polygon); ok {
				return p
			}
		}
		r.off = start
		r.fail("member is a %s, want WKB type %d", g.GeoJSONType(), want)
	}
	switch want {
	case wkbPoint:
		return orb.Point{}
	case wkbLineString:
		return orb.LineString(nil)
	}
	return orb.Polygon(nil)
}

// typ reads a byte order mark and a geometry type.
func (r *wkbReader) typ() uint32 {
	if !r.need(1) {
		return 0
	}
	switch r.b[r.off] {
	case 0:
		r.order = binary.BigEndian
	case 1:
		r.order = binary.LittleEndian
	default:
		r.fail("byte order mark %d is not 0 or 1", r.b[r.off])
		return 0
	}
	r.off++
	return r.uint32()
}

package tiles

import (
	"io"
	"slices"

	"citytwin/parts"
)

// The MVT 2.1 protobuf messages, written by hand:
//
//	Tile    { repeated Layer layers = 3; }
//	Layer   { uint32 version = 15; string name = 1; repeated Feature features = 2;
//	          repeated string keys = 3; repeated Value values = 4; uint32 extent = 5; }
//	Feature { uint64 id = 1; packed uint32 tags = 2; GeomType type = 3; packed uint32 geometry = 4; }
//	Value   { string string_value = 1; ...; uint64 uint_value = 5; ... }

// Geometry types of a feature.
const (
	geomPoint   = 1
	geomLine    = 2
	geomPolygon = 3
)

// Geometry commands.
const (
	cmdMoveTo    = 1
	cmdLineTo    = 2
	cmdClosePath = 7
)

func appendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func sizeVarint(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func zigzag(v int32) uint32 { return uint32((v << 1) ^ (v >> 31)) }

func command(id, count uint32) uint32 { return id&7 | count<<3 }

// layerEncoder builds one layer: the features and the key and value
// dictionaries, into buffers that are reused from tile to tile.
type layerEncoder struct {
	name     string
	features []byte
	keys     []byte
	nkeys    uint32
	keyIdx   map[string]uint32
	values   []byte
	nvalues  uint32
	strIdx   map[string]uint32
	uintIdx  map[uint64]uint32
	classIdx []uint32 // by class: value index + 1, 0 unset
	classSet []uint16 // classes set in classIdx, to reset
	recent   []recentValue
	tags     []byte
	geom     []byte
	count    int
	// geometry cursor of the current feature
	cx, cy int32
}

func newLayerEncoder() *layerEncoder {
	return &layerEncoder{
		keyIdx:   make(map[string]uint32),
		strIdx:   make(map[string]uint32),
		uintIdx:  make(map[uint64]uint32),
		classIdx: make([]uint32, 10000),
	}
}

func (l *layerEncoder) reset(name string) {
	l.name = name
	l.features = l.features[:0]
	l.keys = l.keys[:0]
	l.values = l.values[:0]
	l.tags = l.tags[:0]
	l.geom = l.geom[:0]
	l.nkeys, l.nvalues, l.count = 0, 0, 0
	l.cx, l.cy = 0, 0
	clear(l.keyIdx)
	clear(l.strIdx)
	clear(l.uintIdx)
	for _, c := range l.classSet {
		l.classIdx[c] = 0
	}
	l.classSet = l.classSet[:0]
	l.recent = l.recent[:0]
}

// key returns the index of a key, adding it on first use.
func (l *layerEncoder) key(k string) uint32 {
	if i, ok := l.keyIdx[k]; ok {
		return i
	}
	i := l.nkeys
	l.nkeys++
	l.keyIdx[k] = i
	l.keys = append(l.keys, 0x1a)
	l.keys = appendVarint(l.keys, uint64(len(k)))
	l.keys = append(l.keys, k...)
	return i
}

func (l *layerEncoder) appendStringValue(s []byte) uint32 {
	i := l.nvalues
	l.nvalues++
	inner := 1 + sizeVarint(uint64(len(s))) + len(s)
	l.values = append(l.values, 0x22)
	l.values = appendVarint(l.values, uint64(inner))
	l.values = append(l.values, 0x0a)
	l.values = appendVarint(l.values, uint64(len(s)))
	l.values = append(l.values, s...)
	return i
}

// strValue returns the index of a string value, shared by the features
// that carry it.
func (l *layerEncoder) strValue(s string) uint32 {
	for _, r := range l.recent {
		if r.s == s {
			return r.i
		}
	}
	i, ok := l.strIdx[s]
	if !ok {
		i = l.appendStringValue([]byte(s))
		l.strIdx[s] = i
	}
	if len(l.recent) < maxRecent {
		l.recent = append(l.recent, recentValue{s, i})
	}
	return i
}

// recentValue caches the first string values of a layer: the few states
// and owners of a tile are found by a short linear search, without hashing.
type recentValue struct {
	s string
	i uint32
}

const maxRecent = 24

// uniqueValue adds a string value that no other feature carries (a code):
// no dictionary look-up.
func (l *layerEncoder) uniqueValue(s []byte) uint32 { return l.appendStringValue(s) }

// codeValue adds the 16-digit string value of a component code, like
// uniqueValue of its digits, written in place.
func (l *layerEncoder) codeValue(c parts.Code) uint32 {
	i := l.nvalues
	l.nvalues++
	n := len(l.values)
	l.values = slices.Grow(l.values, 20)[:n+20]
	v := l.values[n : n+20]
	v[0], v[1], v[2], v[3] = 0x22, 18, 0x0a, 16
	c.Digits((*[16]byte)(v[4:20]))
	return i
}

// classValue returns the index of a 4-digit class value.
func (l *layerEncoder) classValue(c uint16) uint32 {
	if int(c) >= len(l.classIdx) {
		c %= 10000
	}
	if i := l.classIdx[c]; i > 0 {
		return i - 1
	}
	b := [4]byte{byte('0' + c/1000%10), byte('0' + c/100%10), byte('0' + c/10%10), byte('0' + c%10)}
	i := l.appendStringValue(b[:])
	l.classIdx[c] = i + 1
	l.classSet = append(l.classSet, c)
	return i
}

// uintValue returns the index of an unsigned integer value.
func (l *layerEncoder) uintValue(v uint64) uint32 {
	if i, ok := l.uintIdx[v]; ok {
		return i
	}
	i := l.nvalues
	l.nvalues++
	l.values = append(l.values, 0x22)
	l.values = appendVarint(l.values, uint64(1+sizeVarint(v)))
	l.values = append(l.values, 0x28)
	l.values = appendVarint(l.values, v)
	l.uintIdx[v] = i
	return i
}

// tag adds a key/value pair to the current feature.
func (l *layerEncoder) tag(k, v uint32) {
	l.tags = appendVarint(l.tags, uint64(k))
	l.tags = appendVarint(l.tags, uint64(v))
}

func (l *layerEncoder) cmd(id, count uint32) {
	l.geom = appendVarint(l.geom, uint64(command(id, count)))
}

func (l *layerEncoder) to(x, y int32) {
	l.geom = appendVarint(l.geom, uint64(zigzag(x-l.cx)))
	l.geom = appendVarint(l.geom, uint64(zigzag(y-l.cy)))
	l.cx, l.cy = x, y
}

// point writes a point geometry.
func (l *layerEncoder) point(x, y int32) {
	l.cmd(cmdMoveTo, 1)
	l.to(x, y)
}

// line writes one part of a line geometry (at least 2 points).
func (l *layerEncoder) line(pts []ipoint) {
	l.cmd(cmdMoveTo, 1)
	l.to(pts[0].x, pts[0].y)
	l.cmd(cmdLineTo, uint32(len(pts)-1))
	for _, p := range pts[1:] {
		l.to(p.x, p.y)
	}
}

// ring writes one ring of a polygon (at least 3 points, open: the first
// point is not repeated).
func (l *layerEncoder) ring(pts []ipoint) {
	l.line(pts)
	l.cmd(cmdClosePath, 1)
}

// discard drops the tags and geometry of the current feature.
func (l *layerEncoder) discard() {
	l.tags = l.tags[:0]
	l.geom = l.geom[:0]
	l.cx, l.cy = 0, 0
}

// feature writes the current feature with its id and type and starts the
// next one. Its fields go in the order type, tags, geometry, id (protobuf
// takes them in any order): the regular fields first and the id, which
// differs in its low digits from feature to feature, last, which gzip
// compresses about 7 % smaller and 10 % faster than the id first.
func (l *layerEncoder) feature(id uint64, typ uint8) {
	l.featureOf(id, typ, l.tags, l.geom)
	l.discard()
}

// featureOf writes a feature with its id, type, packed tags and geometry
// commands (like feature, from the caller's buffers).
func (l *layerEncoder) featureOf(id uint64, typ uint8, tags, geom []byte) {
	n := 1 + sizeVarint(id) + // id
		2 + // type
		1 + sizeVarint(uint64(len(geom))) + len(geom)
	if len(tags) > 0 {
		n += 1 + sizeVarint(uint64(len(tags))) + len(tags)
	}
	f := append(l.features, 0x12)
	f = appendVarint(f, uint64(n))
	f = append(f, 0x18, typ)
	if len(tags) > 0 {
		f = append(f, 0x12)
		f = appendVarint(f, uint64(len(tags)))
		f = append(f, tags...)
	}
	f = append(f, 0x22)
	f = appendVarint(f, uint64(len(geom)))
	f = append(f, geom...)
	f = append(f, 0x08)
	f = appendVarint(f, id)
	l.features = f
	l.count++
}

// appendPoint appends the commands of a point geometry (a feature's
// first: the cursor at 0,0), like point.
func appendPoint(b []byte, x, y int32) []byte {
	b = appendVarint(b, uint64(command(cmdMoveTo, 1)))
	b = appendVarint(b, uint64(zigzag(x)))
	return appendVarint(b, uint64(zigzag(y)))
}

// writeTo writes the layer as a Tile.layers field, like appendTo, without
// copying the features into one buffer.
func (l *layerEncoder) writeTo(w io.Writer) error {
	if l.count == 0 {
		return nil
	}
	var hdr [32]byte
	h := l.header(hdr[:0])
	var tail [4]byte
	t := appendVarint(append(tail[:0], 0x28), Extent)
	for _, b := range [][]byte{h, []byte(l.name), l.features, l.keys, l.values, t} {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// header appends the layer's field tag and length, its version and the
// tag and length of its name.
func (l *layerEncoder) header(b []byte) []byte {
	n := 2 + // version
		1 + sizeVarint(uint64(len(l.name))) + len(l.name) +
		len(l.features) + len(l.keys) + len(l.values) +
		1 + sizeVarint(Extent)
	b = append(b, 0x1a)
	b = appendVarint(b, uint64(n))
	b = append(b, 0x78, 2, 0x0a)
	return appendVarint(b, uint64(len(l.name)))
}

// appendTo appends the layer as a Tile.layers field; an empty layer is
// left out.
func (l *layerEncoder) appendTo(b []byte) []byte {
	if l.count == 0 {
		return b
	}
	b = l.header(b)
	b = append(b, l.name...)
	b = append(b, l.features...)
	b = append(b, l.keys...)
	b = append(b, l.values...)
	b = append(b, 0x28)
	b = appendVarint(b, Extent)
	return b
}

package parts

import (
	"hash/maphash"
	"math"
	"time"
	"unsafe"

	"github.com/paulmach/orb"
)

// record is the compact form of a Part inside the Registry: 64 bytes, one
// cache line. Strings are ids in the registry's strtab; dates are days since
// 1970-01-01 UTC (noDate for the zero time); a point lives in Registry.pts
// and a line or polygon in Registry.shapes (flagShape), at index geo. The
// class is not stored: it is part of the code.
type record struct {
	code     uint64
	geo      uint32
	name     uint32
	super    uint32
	owner    uint32
	maint    uint32
	grid     uint32
	material uint32
	label    uint32
	surveyed int32
	changed  int32
	version  uint32
	// ord is 1 + the rank of code among the codes of a Build, so that
	// sorting by ord is sorting by code; 0 for a code added after Build.
	ord    uint32
	state  uint8
	source uint8
	flags  uint8
}

// record flags.
const (
	flagRetired = 1 << iota // 作废: kept in the map, out of the spatial index
	flagShape               // the geometry is shapes[geo], else pts[geo]
	flagRare                // photo, note or provenance in Registry.rare
	flagNoGeom              // the part has no geometry (not indexed)
)

// Registry.cls: the class of a record in the low bits, and a bit on how a
// count tests its geometry.
const (
	clsClass = 1<<14 - 1 // the class (0-9999)
	// clsInner: the geometry is connected and reaches each side of its
	// bound (a point, or a line or polygon with a vertex), so that its
	// stored R-tree box can settle its exact test against a box (sureIn).
	clsInner = 1 << 15
)

// clsOf returns the Registry.cls entry of rec, whose geometry is g (as
// given: nil, a point, or the line or polygon stored in shapes).
func clsOf(rec *record, g orb.Geometry) uint16 {
	c := rec.class()
	switch g := g.(type) {
	case orb.Point:
		c |= clsInner
	case orb.LineString:
		if len(g) > 0 {
			c |= clsInner
		}
	case orb.Polygon:
		// A polygon's bound is its outer ring's.
		if len(g) > 0 && len(g[0]) > 0 {
			c |= clsInner
		}
	}
	return c
}

// setCls sets the cls entry of the record at idx, appending it when idx is
// a new record.
func (r *Registry) setCls(idx uint32, c uint16) {
	if int(idx) == len(r.cls) {
		r.cls = append(r.cls, c)
		return
	}
	r.cls[idx] = c
}

// noDate is the stored day of the zero time.
const noDate = math.MinInt32

// rare holds the seldom-set strings of a record: photo, note and the
// provenance of imported components (source name and source id).
type rare struct{ photo, note, srcName, srcID uint32 }

func toDay(t time.Time) int32 {
	if t.IsZero() {
		return noDate
	}
	s := t.Unix()
	d := s / 86400
	if s < 0 && s%86400 != 0 {
		d--
	}
	if d <= noDate || d > math.MaxInt32 {
		return noDate
	}
	return int32(d)
}

func fromDay(d int32) time.Time {
	if d == noDate {
		return time.Time{}
	}
	return time.Unix(int64(d)*86400, 0).UTC()
}

// class returns the minor class of the record's code.
func (r *record) class() uint16 { return uint16(r.code / 1e6 % 1e4) }

// strtab interns strings into one append-only byte arena; id 0 is "".
// Strings returned by get share the arena, which is never overwritten, so
// they stay valid after the table grows. Readers may call get and lookup
// concurrently with each other; intern needs exclusive access (the
// Registry's write lock).
type strtab struct {
	seed  maphash.Seed
	data  []byte
	offs  []uint32 // string i is data[offs[i]:offs[i+1]]
	slots []uint32 // open addressing: id, 0 = empty
	n     int
	// recent, when set (by a Builder), remembers the ids of recently
	// interned strings by the address of their bytes: a loader hands the
	// same string values (interned on its side) again and again, and a
	// hit skips hashing and comparing them. An entry holds its string, so
	// the address cannot be reused by another string while it is there
	// (strings do not change; one made with unsafe over memory that is
	// rewritten later would break this, as it breaks a map keyed by it).
	recent []recentStr
}

// recentStr is an entry of strtab.recent.
type recentStr struct {
	s  string
	id uint32
}

// recentBits is log2 of the number of entries of strtab.recent.
const recentBits = 13

func (t *strtab) init() {
	if t.offs == nil {
		t.seed = maphash.MakeSeed()
		t.offs = []uint32{0, 0}
		t.slots = make([]uint32, 64)
	}
}

func (t *strtab) get(id uint32) string {
	a, b := t.offs[id], t.offs[id+1]
	if a == b {
		return ""
	}
	return unsafe.String(&t.data[a], int(b-a))
}

// lookup returns the id of s and whether it is interned.
func (t *strtab) lookup(s string) (uint32, bool) {
	if s == "" {
		return 0, true
	}
	if t.offs == nil {
		return 0, false
	}
	mask := uint64(len(t.slots) - 1)
	for i := maphash.String(t.seed, s) & mask; ; i = (i + 1) & mask {
		id := t.slots[i]
		if id == 0 {
			return 0, false
		}
		if t.get(id) == s {
			return id, true
		}
	}
}

// intern returns the id of s, adding it if needed.
func (t *strtab) intern(s string) uint32 {
	if s == "" {
		return 0
	}
	if t.recent != nil {
		h := uint64(uintptr(unsafe.Pointer(unsafe.StringData(s)))) * 0x9e3779b97f4a7c15 >> (64 - recentBits)
		e := &t.recent[h]
		if len(e.s) == len(s) && unsafe.StringData(e.s) == unsafe.StringData(s) {
			return e.id
		}
		id := t.add(s)
		*e = recentStr{s: s, id: id}
		return id
	}
	return t.add(s)
}

// add returns the id of s (not ""), adding it if needed.
func (t *strtab) add(s string) uint32 {
	t.init()
	mask := uint64(len(t.slots) - 1)
	i := maphash.String(t.seed, s) & mask
	for ; ; i = (i + 1) & mask {
		id := t.slots[i]
		if id == 0 {
			break
		}
		if t.get(id) == s {
			return id
		}
	}
	if uint64(len(t.data))+uint64(len(s)) > math.MaxUint32 {
		panic("parts: string table over 4 GiB")
	}
	// Grow the arena by at least 1/8 to keep appends amortized without the
	// 2x overshoot of append on a big arena.
	if cap(t.data)-len(t.data) < len(s) {
		nd := make([]byte, len(t.data), len(t.data)+len(t.data)/8+len(s)+4096)
		copy(nd, t.data)
		t.data = nd
	}
	t.data = append(t.data, s...)
	t.offs = append(t.offs, uint32(len(t.data)))
	id := uint32(len(t.offs) - 2)
	t.slots[i] = id
	t.n++
	if t.n*4 > len(t.slots)*3 {
		t.rehash(len(t.slots) * 2)
	}
	return id
}

func (t *strtab) rehash(size int) {
	slots := make([]uint32, size)
	mask := uint64(size - 1)
	for id := uint32(1); int(id) < len(t.offs)-1; id++ {
		i := maphash.String(t.seed, t.get(id)) & mask
		for slots[i] != 0 {
			i = (i + 1) & mask
		}
		slots[i] = id
	}
	t.slots = slots
}

// codeTable maps a code to its record index with open addressing and
// linear probing. A slot is one uint64: the record index + 1 in the low 32
// bits (0 = empty) and a 32-bit tag from the code's hash in the high bits,
// so a probe only reads the record of a code whose tag matches: a lookup
// touches one slot line and, almost always, only the record it returns.
// About 16 bytes a code instead of the ~30 of a Go map. It never deletes
// (retired parts stay).
type codeTable struct {
	slots []uint64
	n     int
}

func codeHash(c uint64) uint64 {
	c ^= c >> 33
	c *= 0xff51afd7ed558ccd
	c ^= c >> 33
	c *= 0xc4ceb9fe1a85ec53
	c ^= c >> 33
	return c
}

func newCodeTable(hint int) codeTable {
	size := 64
	for size*3 < hint*4 {
		size *= 2
	}
	slots := make([]uint64, size)
	adviseHuge(unsafe.Pointer(&slots[0]), uintptr(size)*8)
	return codeTable{slots: slots}
}

// find returns the record index of c.
func (t *codeTable) find(recs []record, c uint64) (uint32, bool) {
	if len(t.slots) == 0 {
		return 0, false
	}
	h := codeHash(c)
	tag := h >> 32
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return 0, false
		}
		if s>>32 == tag {
			if idx := uint32(s) - 1; recs[idx].code == c {
				return idx, true
			}
		}
	}
}

// slotFor returns the slot where c is, or the free slot where it would go
// (found false). It grows the table first if one more code would overfill
// it, so the free slot stays valid for one insertAt.
func (t *codeTable) slotFor(recs []record, c uint64) (slot uint64, found bool) {
	if len(t.slots) == 0 {
		*t = newCodeTable(0)
	}
	if (t.n+1)*4 > len(t.slots)*3 {
		t.grow(recs)
	}
	h := codeHash(c)
	tag := h >> 32
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return i, false
		}
		if s>>32 == tag && recs[uint32(s)-1].code == c {
			return i, true
		}
	}
}

// insertAt adds c at record index idx in the free slot that slotFor
// returned for it.
func (t *codeTable) insertAt(slot, c uint64, idx uint32) {
	t.slots[slot] = codeHash(c)>>32<<32 | uint64(idx+1)
	t.n++
}

// rebuild empties the table and adds the codes of recs at their indexes.
func (t *codeTable) rebuild(recs []record) {
	clear(t.slots)
	t.n = 0
	for i := range recs {
		t.place(codeHash(recs[i].code), uint32(i)+1)
		t.n++
	}
}

// insert adds c at record index idx; c must not be present.
func (t *codeTable) insert(recs []record, c uint64, idx uint32) {
	if len(t.slots) == 0 {
		*t = newCodeTable(0)
	}
	if (t.n+1)*4 > len(t.slots)*3 {
		t.grow(recs)
	}
	t.place(codeHash(c), idx+1)
	t.n++
}

// place puts the slot value of record index+1 v with hash h in the first
// free slot of its probe sequence.
func (t *codeTable) place(h uint64, v uint32) {
	mask := uint64(len(t.slots) - 1)
	i := h & mask
	for t.slots[i] != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = h>>32<<32 | uint64(v)
}

func (t *codeTable) grow(recs []record) {
	old := t.slots
	t.slots = make([]uint64, len(old)*2)
	adviseHuge(unsafe.Pointer(&t.slots[0]), uintptr(len(t.slots))*8)
	for _, s := range old {
		if s != 0 {
			t.place(codeHash(recs[uint32(s)-1].code), uint32(s))
		}
	}
}

// eface is the layout of an interface value.
type eface struct {
	typ, data unsafe.Pointer
}

// typeWord returns the type word of an interface value.
func typeWord(g orb.Geometry) unsafe.Pointer { return (*eface)(unsafe.Pointer(&g)).typ }

// Type words of the geometries the registry hands out without copying.
var (
	pointType      = typeWord(orb.Point{})
	lineStringType = typeWord(orb.LineString(nil))
	polygonType    = typeWord(orb.Polygon(nil))
)

// sharedGeometry returns an orb.Geometry of the type typ whose value is
// *p, without copying it to a new allocation: *p must never be written
// again.
func sharedGeometry(typ, p unsafe.Pointer) orb.Geometry {
	var g orb.Geometry
	e := (*eface)(unsafe.Pointer(&g))
	e.typ = typ
	e.data = p
	return g
}

// pointGeometry returns an orb.Geometry holding the point *p (see
// sharedGeometry).
func pointGeometry(p *orb.Point) orb.Geometry { return sharedGeometry(pointType, unsafe.Pointer(p)) }

// packShapes lays the lines and polygons of the records out in the order of
// the records, in a few big arrays (coordinates, rings, slice headers), and
// returns the new shapes table with the records' geo renumbered. After a
// Builder's Hilbert sort, the exact tests of a search then read shapes that
// are near in space from memory that is near, instead of chasing one small
// allocation per shape, and the GC has a few objects instead of millions.
// Nothing in the arrays is written again: slices are capped at their
// length, and a later write of a shape replaces its table entry.
func packShapes(recs []record, old []orb.Geometry) []orb.Geometry {
	var nShapes, nPts, nRings, nLines, nPolys int
	for i := range recs {
		if recs[i].flags&flagShape == 0 {
			continue
		}
		nShapes++
		switch g := old[recs[i].geo].(type) {
		case orb.LineString:
			nLines++
			nPts += len(g)
		case orb.Polygon:
			nPolys++
			nRings += len(g)
			for _, rg := range g {
				nPts += len(rg)
			}
		}
	}
	pts := make([]orb.Point, 0, nPts)
	rings := make([]orb.Ring, 0, nRings)
	lines := make([]orb.LineString, 0, nLines)
	polys := make([]orb.Polygon, 0, nPolys)
	shapes := make([]orb.Geometry, 0, nShapes)
	for i := range recs {
		rec := &recs[i]
		if rec.flags&flagShape == 0 {
			continue
		}
		g := old[rec.geo]
		switch s := g.(type) {
		case orb.LineString:
			a := len(pts)
			pts = append(pts, s...)
			lines = append(lines, orb.LineString(pts[a:len(pts):len(pts)]))
			g = sharedGeometry(lineStringType, unsafe.Pointer(&lines[len(lines)-1]))
		case orb.Polygon:
			ra := len(rings)
			for _, rg := range s {
				a := len(pts)
				pts = append(pts, rg...)
				rings = append(rings, orb.Ring(pts[a:len(pts):len(pts)]))
			}
			polys = append(polys, orb.Polygon(rings[ra:len(rings):len(rings)]))
			g = sharedGeometry(polygonType, unsafe.Pointer(&polys[len(polys)-1]))
		}
		rec.geo = uint32(len(shapes))
		shapes = append(shapes, g)
	}
	return shapes
}

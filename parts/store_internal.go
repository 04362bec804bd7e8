package parts

import (
	"hash/maphash"
	"math"
	"time"
	"unsafe"

	"github.com/paulmach/orb"
)

// record is the compact form of a Part inside the Registry (72 bytes).
// Strings are ids in the registry's strtab; dates are days since
// 1970-01-01 UTC (noDate for the zero time); a point is kept inline, a line
// or polygon lives in Registry.shapes and x holds its index (flagShape).
type record struct {
	code     uint64
	x, y     float64
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
	class    uint16
	state    uint8
	source   uint8
	flags    uint8
}

// record flags.
const (
	flagRetired = 1 << iota // 作废: kept in the map, out of the spatial index
	flagShape               // the geometry is shapes[x]
	flagRare                // photo or note in Registry.rare
	flagNoGeom              // the part has no geometry (not indexed)
)

// noDate is the stored day of the zero time.
const noDate = math.MinInt32

// rare holds the seldom-set strings of a record.
type rare struct{ photo, note uint32 }

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

func (r *record) shapeIndex() int { return int(math.Float64bits(r.x)) }

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
}

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
	if len(t.data)+len(s) > math.MaxUint32 {
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

// codeTable maps a code to its record index with open addressing over
// uint32 slots (index+1, 0 = empty): about 6-8 bytes a code instead of the
// ~30 of a Go map. It never deletes (retired parts stay).
type codeTable struct {
	slots []uint32
	n     int
}

func codeHash(c uint64) uint64 {
	c ^= c >> 33
	c *= 0xff51afd7ed558ccd
	c ^= c >> 33
	return c
}

func newCodeTable(hint int) codeTable {
	size := 64
	for size*3 < hint*4 {
		size *= 2
	}
	return codeTable{slots: make([]uint32, size)}
}

// find returns the record index of c.
func (t *codeTable) find(recs []record, c uint64) (uint32, bool) {
	if len(t.slots) == 0 {
		return 0, false
	}
	mask := uint64(len(t.slots) - 1)
	for i := codeHash(c) & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return 0, false
		}
		if recs[s-1].code == c {
			return s - 1, true
		}
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
	mask := uint64(len(t.slots) - 1)
	i := codeHash(c) & mask
	for t.slots[i] != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = idx + 1
	t.n++
}

func (t *codeTable) grow(recs []record) {
	old := t.slots
	t.slots = make([]uint32, len(old)*2)
	mask := uint64(len(t.slots) - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		i := codeHash(recs[s-1].code) & mask
		for t.slots[i] != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}

// pointSlab hands out orb.Geometry values holding orb.Point without one
// allocation per point: the points live in chunks that are never written
// after the value is made, and the interface points into the chunk.
type pointSlab struct {
	buf []orb.Point
}

type eface struct {
	typ, data unsafe.Pointer
}

var pointType = func() unsafe.Pointer {
	var g orb.Geometry = orb.Point{}
	return (*eface)(unsafe.Pointer(&g)).typ
}()

// reserve makes room for n more points in one allocation.
func (s *pointSlab) reserve(n int) {
	if cap(s.buf)-len(s.buf) < n {
		s.buf = make([]orb.Point, 0, n)
	}
}

func (s *pointSlab) geometry(x, y float64) orb.Geometry {
	if len(s.buf) == cap(s.buf) {
		s.buf = make([]orb.Point, 0, min(256, max(8, 2*cap(s.buf))))
	}
	s.buf = append(s.buf, orb.Point{x, y})
	var g orb.Geometry
	e := (*eface)(unsafe.Pointer(&g))
	e.typ = pointType
	e.data = unsafe.Pointer(&s.buf[len(s.buf)-1])
	return g
}

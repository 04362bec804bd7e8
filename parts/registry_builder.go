package parts

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sync"
	"unsafe"

	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// Builder bulk-loads a Registry (from the store at start, from the
// generator): Add the parts, then Build once. It is not safe for concurrent
// use, and not usable after Build.
type Builder struct {
	r     *Registry
	built bool
	// The class looked up last, for the quick validation of Add.
	lastClass Class
	lastInfo  ClassInfo
	touched   uint64 // see AddAll
	// boxes holds the R-tree box of each record (zero without geometry),
	// and all the bound of every geometry: Add computes them while the
	// store is still being read, so that Build need not.
	boxes []box32
	all   orb.Bound
	any   bool // all is set
}

// NewBuilder returns a builder for about sizeHint parts over the catalogue
// (nil means DefaultCatalogue).
func NewBuilder(cat *Catalogue, sizeHint int) *Builder {
	r := NewRegistry(cat)
	sizeHint = max(sizeHint, 0)
	r.recs = hugeSlice[record](0, sizeHint)
	r.pts = hugeSlice[orb.Point](0, sizeHint)
	r.cls = hugeSlice[uint16](0, sizeHint)
	r.codes = newCodeTable(sizeHint)
	r.strs.recent = make([]recentStr, 1<<recentBits)
	return &Builder{r: r, boxes: hugeSlice[box32](0, sizeHint)}
}

// hugeSlice returns make([]T, n, c), its array advised for huge pages
// (adviseHuge). The arrays of a load are big and filled once: on a
// virtual machine a fault for each 4 KiB page of them can cost more than
// filling the page.
func hugeSlice[T any](n, c int) []T {
	s := make([]T, n, c)
	if c > 0 {
		adviseHuge(unsafe.Pointer(unsafe.SliceData(s)), uintptr(c)*unsafe.Sizeof(s[0]))
	}
	return s
}

// Add validates p (Part.Validate) and adds it; a code already added is
// rejected with ErrExists. It keeps p.Version, or sets it to 1 when it is 0.
func (b *Builder) Add(p Part) error { return b.add(&p) }

// add is Add without the copy of the part: it does not write to *p.
func (b *Builder) add(p *Part) error {
	if b.built {
		return fmt.Errorf("parts: builder already built")
	}
	if !b.check(p) {
		q := *p // Validate fills in the class
		if err := q.Validate(b.r.cat); err != nil {
			return err
		}
	}
	r := b.r
	slot, found := r.codes.slotFor(r.recs, uint64(p.Code))
	if found {
		return fmt.Errorf("%w: %s", ErrExists, p.Code)
	}
	idx := uint32(len(r.recs))
	r.recs = append(r.recs, record{})
	r.encode(p, idx)
	if p.Version == 0 {
		r.recs[idx].version = 1
	}
	r.codes.insertAt(slot, uint64(p.Code), idx)
	if !p.Retired {
		r.live++
	}
	var bx box32
	if rec := &r.recs[idx]; rec.flags&flagNoGeom == 0 {
		bd := r.bound(rec)
		bx.min, bx.max = spatial.Box32(bd)
		if b.any {
			b.all.Min[0], b.all.Max[0] = min(b.all.Min[0], bd.Min[0]), max(b.all.Max[0], bd.Max[0])
			b.all.Min[1], b.all.Max[1] = min(b.all.Min[1], bd.Min[1]), max(b.all.Max[1], bd.Max[1])
		} else {
			b.all, b.any = bd, true
		}
	}
	b.boxes = append(b.boxes, bx)
	return nil
}

// AddAll adds the parts of ps in order, as Add does each, and returns how
// many it added: all of them, or those before the first that Add refused,
// with Add's error. It is faster than a loop of Add: it reads the code
// table's slots of all the codes first, so that the memory loads overlap
// instead of waiting one by one.
func (b *Builder) AddAll(ps []Part) (int, error) {
	r := b.r
	// Touch the slots (a few dozen at once stay in the cache); the sum
	// keeps the loads from being optimised away.
	if mask := uint64(len(r.codes.slots) - 1); len(r.codes.slots) > 0 && len(ps) > 1 {
		var sum uint64
		for i := range ps {
			sum += r.codes.slots[codeHash(uint64(ps[i].Code))&mask]
		}
		b.touched += sum
	}
	for i := range ps {
		if err := b.add(&ps[i]); err != nil {
			return i, err
		}
	}
	return len(ps), nil
}

// check tells whether Validate would accept p, without its allocations
// and without writing to *p (a p.Class of 0 is the class of the code, as
// Validate has it); false means "ask Validate", which then gives the
// error (or accepts p).
func (b *Builder) check(p *Part) bool {
	c := p.Code
	cl := c.Class()
	if county := c.County(); county < 110000 || county > 829999 || cl.Major() < 1 || cl.Major() > 99 ||
		cl%100 == 0 || c.Serial() == 0 || int(p.State) >= len(stateNames) {
		return false
	}
	if p.Class != 0 && p.Class != cl {
		return false
	}
	if cl != b.lastClass {
		ci, ok := b.r.cat.Lookup(cl)
		if !ok {
			return false
		}
		b.lastClass, b.lastInfo = cl, ci
	}
	in := func(q orb.Point) bool { return q[0] >= -180 && q[0] <= 180 && q[1] >= -90 && q[1] <= 90 }
	acc := b.lastInfo.Accepts()
	switch g := p.Geometry.(type) {
	case orb.Point:
		return acc.Has(Point) && in(g)
	case orb.LineString:
		if !acc.Has(Line) || len(g) < 2 {
			return false
		}
		for _, q := range g {
			if !in(q) {
				return false
			}
		}
		return true
	case orb.Polygon:
		if !acc.Has(Polygon) || len(g) == 0 {
			return false
		}
		for _, rg := range g {
			if len(rg) < 4 || rg[0] != rg[len(rg)-1] {
				return false
			}
			for _, q := range rg {
				if !in(q) {
					return false
				}
			}
		}
		return true
	}
	return false
}

// box32 is an item of the R-tree as it is stored: float32, rounded outward.
type box32 struct{ min, max [2]float32 }

// Build sorts the parts by the Hilbert order of their box centres, so that
// neighbours in space are neighbours in memory, ranks their codes, packs
// the R-tree in that order (spatial.Packer) and returns the registry.
//
// Add has computed the boxes and their bound already. Build runs on three
// goroutines: one ranks the codes while another computes and sorts the
// Hilbert keys; then one packs the R-tree from the boxes in key order and
// rebuilds the code table, while the other moves the records (in place
// when they fill their array), the points and the shapes into that order.
func (b *Builder) Build() *Registry {
	r := b.r
	b.built = true
	r.strs.recent = nil
	n := len(r.recs)

	ranked := make(chan struct{})
	go func() {
		defer close(ranked)
		rank(r.recs, nil)
	}()

	// Which parts stay out of the tree, and the Hilbert keys of the box
	// centres over the bound of all parts, with the old index in the low
	// bits, sorted on the key (stable: equal keys stay in order of
	// addition).
	all, boxes := b.all, b.boxes
	b.boxes = nil
	skip := make([]uint64, (n+63)/64)
	keys := hugeSlice[uint64](n, n)
	keyRange := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			rec := &r.recs[i]
			var c orb.Point
			switch {
			case rec.flags&flagNoGeom != 0:
				skip[i/64] |= 1 << (i % 64)
			case rec.flags&flagShape != 0:
				c = spatial.Bound(r.shapes[rec.geo]).Center()
			default:
				c = r.pts[rec.geo]
			}
			if rec.flags&flagRetired != 0 {
				skip[i/64] |= 1 << (i % 64)
			}
			keys[i] = spatial.Hilbert(c, all)<<32 | uint64(i)
		}
	}
	// Two halves at once (split on a word of skip), beside rank: the
	// keys are most of the work before the sort.
	if half := n / 2 &^ 63; half >= parallelKeys {
		var kw sync.WaitGroup
		kw.Go(func() { keyRange(half, n) })
		keyRange(0, half)
		kw.Wait()
	} else {
		keyRange(0, n)
	}
	sortHigh32(keys)

	// The R-tree, packed from the boxes in the new order, and then the
	// code table, while the records move.
	permuted := make(chan struct{})
	var tree sync.WaitGroup
	tree.Add(1)
	go func() {
		defer tree.Done()
		items := n
		for _, w := range skip {
			items -= bits.OnesCount64(w)
		}
		pk := r.tree.Packer(items)
		pk.Advise = adviseHuge
		for i, k := range keys {
			if old := uint32(k); skip[old/64]&(1<<(old%64)) == 0 {
				pk.Add(boxes[old].min, boxes[old].max, uint32(i))
			}
		}
		pk.Done()
		<-permuted
		r.codes.rebuild(r.recs)
	}()

	// Move the records (after rank set their ord) and the rare side table.
	<-ranked // the tree goroutine only reads keys, boxes and skip
	r.recs = permute(r.recs, keys)
	close(permuted)
	recs := r.recs
	r.cls = permute(r.cls, keys)
	rareOld := r.rare
	r.rare = make(map[uint32]rare, len(rareOld))
	for i := range recs {
		if recs[i].flags&flagRare != 0 {
			r.rare[uint32(i)] = rareOld[uint32(keys[i])]
		}
	}
	// The points in the same order, for the exact tests of a search.
	np := 0
	for i := range recs {
		if recs[i].flags&(flagShape|flagNoGeom) == 0 {
			np++
		}
	}
	pts := hugeSlice[orb.Point](np, np)
	np = 0
	for i := range recs {
		if rec := &recs[i]; rec.flags&(flagShape|flagNoGeom) == 0 {
			pts[np] = r.pts[rec.geo]
			rec.geo = uint32(np)
			np++
		}
	}
	r.pts = pts
	r.shapes = packShapes(recs, r.shapes)
	tree.Wait()
	return r
}

// permuteInPlace is the size from which permute moves an array in place.
const permuteInPlace = 32 << 20

// parallelKeys is the number of parts from which Build computes the
// Hilbert keys of each half of the parts on a goroutine of its own.
const parallelKeys = 1 << 15

// permute returns recs in the order of keys (the old index in the low 32
// bits of each): in place when recs is large (permuteInPlace bytes or
// more) and has little spare capacity, else in a new array of the exact
// size. In place follows the permutation's cycles, one dependent load
// after another (~150 ns a step on the 2M city); a copy's loads are
// independent and several times faster, so an array small enough to have
// twice over is copied.
func permute[T any](recs []T, keys []uint64) []T {
	n := len(recs)
	if cap(recs)-n > n/16 || uintptr(n)*unsafe.Sizeof(recs[0]) < permuteInPlace {
		out := hugeSlice[T](n, n)
		for i, k := range keys {
			out[i] = recs[uint32(k)]
		}
		return out
	}
	// Follow each cycle of the permutation: position j takes the record of
	// position keys[j].
	done := make([]uint64, (n+63)/64)
	for i := range n {
		if done[i/64]&(1<<(i%64)) != 0 {
			continue
		}
		tmp := recs[i]
		j := i
		for {
			done[j/64] |= 1 << (j % 64)
			k := int(uint32(keys[j]))
			if k == i {
				recs[j] = tmp
				break
			}
			recs[j] = recs[k]
			j = k
		}
	}
	return recs
}

// sortHigh32 sorts keys by their high 32 bits, stably: an LSD radix sort in
// three passes of 11 bits.
func sortHigh32(keys []uint64) {
	const bits = 11
	if len(keys) == 0 {
		return
	}
	tmp := hugeSlice[uint64](len(keys), len(keys))
	src, dst := keys, tmp
	var count [1 << bits]int
	for shift := uint(32); shift < 64; shift += bits {
		count = [1 << bits]int{}
		for _, k := range src {
			count[(k>>shift)&(1<<bits-1)]++
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, k := range src {
			d := (k >> shift) & (1<<bits - 1)
			dst[count[d]] = k
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &keys[0] {
		copy(keys, src)
	}
}

// rank sets the ord of every record to 1 + the rank of its code. A store
// usually loads parts in code order: then there is nothing to sort. tmp is
// scratch space for radixHits.
func rank(recs []record, tmp []hit) {
	inOrder := true
	for i := 1; i < len(recs) && inOrder; i++ {
		inOrder = recs[i-1].code < recs[i].code
	}
	if inOrder {
		for i := range recs {
			recs[i].ord = uint32(i + 1)
		}
		return
	}
	if rankPacked(recs) {
		return
	}
	byCode := make([]hit, len(recs))
	for i := range recs {
		byCode[i] = hit{code: recs[i].code, idx: uint32(i)}
	}
	radixHits(byCode, tmp)
	for i, h := range byCode {
		recs[h.idx].ord = uint32(i + 1)
	}
}

// rankPacked is rank for the usual case of at most 4096 distinct prefixes
// (county and class: code / 10^6) among the codes: it sorts 8-byte keys
// prefix rank<<52 | serial<<32 | index on their high 32 bits, three passes
// instead of the six or seven of sorting the codes with their indexes. It
// reports false, having done nothing, when there are more prefixes.
func rankPacked(recs []record) bool {
	const prefixBits, serialBits = 12, 20
	if uint64(len(recs)) > 1<<32 {
		return false
	}
	ids := make(map[uint64]uint64) // prefix -> id, in order of appearance
	keys := hugeSlice[uint64](len(recs), len(recs))
	lastPrefix, lastID := uint64(math.MaxUint64), uint64(0)
	for i := range recs {
		c := recs[i].code
		if p := c / 1e6; p != lastPrefix {
			id, ok := ids[p]
			if !ok {
				if len(ids) == 1<<prefixBits {
					return false
				}
				id = uint64(len(ids))
				ids[p] = id
			}
			lastPrefix, lastID = p, id
		}
		keys[i] = (lastID<<serialBits|c%1e6)<<32 | uint64(i)
	}
	// Ids in order of appearance -> ranks of the prefixes.
	prefixes := make([]uint64, 0, len(ids))
	for p := range ids {
		prefixes = append(prefixes, p)
	}
	slices.Sort(prefixes)
	rankOf := make([]uint64, len(ids))
	for r, p := range prefixes {
		rankOf[ids[p]] = uint64(r)
	}
	const low = 64 - prefixBits
	for i, k := range keys {
		keys[i] = rankOf[k>>low]<<low | k&(1<<low-1)
	}
	sortHigh32(keys)
	for j, k := range keys {
		recs[uint32(k)].ord = uint32(j + 1)
	}
	return true
}

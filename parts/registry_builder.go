package parts

import (
	"fmt"
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
}

// NewBuilder returns a builder for about sizeHint parts over the catalogue
// (nil means DefaultCatalogue).
func NewBuilder(cat *Catalogue, sizeHint int) *Builder {
	r := NewRegistry(cat)
	sizeHint = max(sizeHint, 0)
	r.recs = make([]record, 0, sizeHint)
	r.pts = make([]orb.Point, 0, sizeHint)
	r.codes = newCodeTable(sizeHint)
	return &Builder{r: r}
}

// Add validates p (Part.Validate) and adds it; a code already added is
// rejected with ErrExists. It keeps p.Version, or sets it to 1 when it is 0.
func (b *Builder) Add(p Part) error {
	if b.built {
		return fmt.Errorf("parts: builder already built")
	}
	if err := p.Validate(b.r.cat); err != nil {
		return err
	}
	r := b.r
	if _, ok := r.codes.find(r.recs, uint64(p.Code)); ok {
		return fmt.Errorf("%w: %s", ErrExists, p.Code)
	}
	if p.Version == 0 {
		p.Version = 1
	}
	idx := uint32(len(r.recs))
	r.recs = append(r.recs, record{})
	r.encode(&p, idx)
	r.codes.insert(r.recs, uint64(p.Code), idx)
	if !p.Retired {
		r.live++
	}
	return nil
}

// Build sorts the parts by the Hilbert order of their box centres, so that
// neighbours in space are neighbours in memory, ranks their codes, loads
// the R-tree in that order and returns the registry.
func (b *Builder) Build() *Registry {
	r := b.r
	b.built = true
	n := len(r.recs)
	// Bounds of all parts, for the Hilbert curve.
	var all orb.Bound
	first := true
	bounds := make([]orb.Bound, n)
	for i := range r.recs {
		rec := &r.recs[i]
		if rec.flags&flagNoGeom != 0 {
			continue
		}
		bounds[i] = r.bound(rec)
		if first {
			all, first = bounds[i], false
		} else {
			all = all.Union(bounds[i])
		}
	}
	// Hilbert keys, radix-sorted (stable: equal keys stay in order of
	// addition).
	keys := make([]hit, n)
	for i := range keys {
		keys[i] = hit{code: spatial.Hilbert(bounds[i].Center(), all), idx: uint32(i)}
	}
	tmp := radixHits(keys, nil)
	rank(r.recs, tmp)
	// Permute records (and the rare side table, keyed by index).
	recs := make([]record, n)
	if n > 0 {
		adviseHuge(unsafe.Pointer(&recs[0]), uintptr(n)*unsafe.Sizeof(recs[0]))
	}
	sorted := make([]orb.Bound, n)
	rareOld := r.rare
	r.rare = make(map[uint32]rare, len(rareOld))
	inv := make([]uint32, n) // old index -> new index
	for i, k := range keys {
		inv[k.idx] = uint32(i)
		recs[i] = r.recs[k.idx]
		sorted[i] = bounds[k.idx]
		if recs[i].flags&flagRare != 0 {
			r.rare[uint32(i)] = rareOld[k.idx]
		}
	}
	r.recs = recs
	// The points in the same order, for the exact tests of a search.
	np := 0
	for i := range recs {
		if recs[i].flags&(flagShape|flagNoGeom) == 0 {
			np++
		}
	}
	pts := make([]orb.Point, np)
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
	r.codes.renumber(inv)
	for i := range recs {
		if recs[i].flags&(flagRetired|flagNoGeom) == 0 {
			r.tree.Insert(sorted[i], uint32(i))
		}
	}
	return r
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
	byCode := make([]hit, len(recs))
	for i := range recs {
		byCode[i] = hit{code: recs[i].code, idx: uint32(i)}
	}
	radixHits(byCode, tmp)
	for i, h := range byCode {
		recs[h.idx].ord = uint32(i + 1)
	}
}

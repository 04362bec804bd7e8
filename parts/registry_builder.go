package parts

import (
	"fmt"
	"slices"

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
// neighbours in space are neighbours in memory, loads the R-tree in that
// order and returns the registry.
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
	type key struct {
		h   uint64
		idx uint32
	}
	keys := make([]key, n)
	for i := range keys {
		keys[i] = key{spatial.Hilbert(bounds[i].Center(), all), uint32(i)}
	}
	slices.SortFunc(keys, func(a, b key) int {
		switch {
		case a.h < b.h:
			return -1
		case a.h > b.h:
			return 1
		}
		return int(a.idx) - int(b.idx)
	})
	// Permute records (and the rare side table, keyed by index).
	recs := make([]record, n)
	sorted := make([]orb.Bound, n)
	rareOld := r.rare
	r.rare = make(map[uint32]rare, len(rareOld))
	for i, k := range keys {
		recs[i] = r.recs[k.idx]
		sorted[i] = bounds[k.idx]
		if recs[i].flags&flagRare != 0 {
			r.rare[uint32(i)] = rareOld[k.idx]
		}
	}
	keys = nil
	r.recs = recs
	r.codes = newCodeTable(n)
	for i := range recs {
		r.codes.insert(recs, recs[i].code, uint32(i))
	}
	for i := range recs {
		if recs[i].flags&(flagRetired|flagNoGeom) == 0 {
			r.tree.Insert(sorted[i], uint32(i))
		}
	}
	return r
}

package parts

import (
	"fmt"
	"math"
	"sync"

	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// Registry holds every component in memory: a code lookup, the attributes in
// compact records with interned strings, and an R-tree of live parts.
//
// Concurrency: any number of readers run at once with one writer at a time
// (a sync.RWMutex). Put holds the write lock for one record and one R-tree
// update, PutAll for a whole batch (seen by readers all at once, and by
// GetAll whole or not at all); they are the last step of the single write
// path (the twin validates, checks versions and persists first). Searches over a
// big box (Search, Within, CountByClass) walk the tree in stripes, each
// under a short read lock, with the exact tests outside it; Scan holds the
// lock for its whole walk (a tile's box), so its callback must not write
// to the registry. Strings and
// geometries in returned Parts and Entries are shared and read-only.
//
// At 2 million components the registry takes under 200 bytes of Go heap a
// component, the R-tree and the code lookup included.
type Registry struct {
	mu     sync.RWMutex
	cat    *Catalogue
	recs   []record
	codes  codeTable
	strs   strtab
	rare   map[uint32]rare
	shapes []orb.Geometry
	// pts holds the points of the records, append-only: a point is never
	// overwritten, so returned Parts and Entries point into it instead of
	// boxing a copy. A moved point takes a new slot (16 bytes a move).
	pts []orb.Point
	// cls holds, for each record at the same index, its class and how its
	// geometry is tested (clsOf): a count reads 2 bytes a part here
	// instead of its 64-byte record. encode writes it (appending for a new
	// record) and Build reorders it with the records.
	cls  []uint16
	tree spatial.Index[uint32]
	live int
}

// NewRegistry returns an empty registry over the catalogue (nil means
// DefaultCatalogue).
func NewRegistry(cat *Catalogue) *Registry {
	if cat == nil {
		cat = DefaultCatalogue()
	}
	r := &Registry{cat: cat, rare: make(map[uint32]rare), codes: newCodeTable(0)}
	r.strs.init()
	return r
}

// Catalogue returns the class catalogue the registry validates against.
func (r *Registry) Catalogue() *Catalogue { return r.cat }

// Len returns the number of live (not retired) parts.
func (r *Registry) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.live
}

// Bounds returns the box that holds every live part (float32 precision,
// rounded outward); the zero Bound when there is none.
func (r *Registry) Bounds() orb.Bound {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.tree.Bound()
}

// Get returns the part with code c. It returns ErrNotFound when the code is
// unknown, and a retired part together with an error wrapping ErrRetired.
func (r *Registry) Get(c Code) (Part, error) {
	r.mu.RLock()
	idx, ok := r.codes.find(r.recs, uint64(c))
	if !ok {
		r.mu.RUnlock()
		return Part{}, fmt.Errorf("%w: %s", ErrNotFound, c)
	}
	var p Part
	r.fill(&p, idx)
	r.mu.RUnlock()
	if p.Retired {
		return p, fmt.Errorf("%w: %s", ErrRetired, c)
	}
	return p, nil
}

// Put stores p as is, replacing any part with the same code, and returns
// the part it replaced. It keeps p.Version and does not validate: it is the
// last step of the single write path, after p was validated and persisted.
// A retired part leaves the spatial index but stays retrievable by code.
func (r *Registry) Put(p Part) (old Part, existed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.put(&p)
}

// put stores p under the write lock.
func (r *Registry) put(p *Part) (old Part, existed bool) {
	idx, existed := r.codes.find(r.recs, uint64(p.Code))
	if existed {
		r.fill(&old, idx)
		if o := &r.recs[idx]; o.flags&(flagRetired|flagNoGeom) == 0 {
			r.tree.Delete(r.bound(o), idx)
		}
		if !old.Retired {
			r.live--
		}
		r.encode(p, idx)
	} else {
		idx = uint32(len(r.recs))
		if idx == math.MaxUint32 {
			panic("parts: registry is full (2^32-1 parts)")
		}
		r.recs = append(r.recs, record{})
		r.encode(p, idx)
		r.codes.insert(r.recs, uint64(p.Code), idx)
	}
	if rec := &r.recs[idx]; rec.flags&(flagRetired|flagNoGeom) == 0 {
		r.tree.Insert(r.bound(rec), idx)
	}
	if !p.Retired {
		r.live++
	}
	return old, existed
}

// bound returns the box of a record's geometry.
func (r *Registry) bound(rec *record) orb.Bound {
	if rec.flags&flagShape != 0 {
		return spatial.Bound(r.shapes[rec.geo])
	}
	p := r.pts[rec.geo]
	return orb.Bound{Min: p, Max: p}
}

// encode writes p into the record at idx (under the write lock, or in a
// Builder). A record that had a shape keeps its slot in shapes; one that
// keeps its point keeps its slot in pts.
func (r *Registry) encode(p *Part, idx uint32) {
	rec := &r.recs[idx]
	oldShape, oldPoint := -1, -1
	switch {
	case rec.flags&flagShape != 0:
		oldShape = int(rec.geo)
	case rec.flags&flagNoGeom == 0 && int(rec.geo) < len(r.pts) && rec.code == uint64(p.Code):
		oldPoint = int(rec.geo)
	}
	oldRare := rec.flags&flagRare != 0
	s := &r.strs
	*rec = record{
		code:     uint64(p.Code),
		name:     s.intern(p.Name),
		super:    s.intern(p.Supervisor),
		owner:    s.intern(p.Owner),
		maint:    s.intern(p.Maintainer),
		grid:     s.intern(p.Grid),
		material: s.intern(p.Material),
		label:    s.intern(p.Label),
		surveyed: toDay(p.Surveyed),
		changed:  toDay(p.Changed),
		version:  uint32(min(p.Version, math.MaxUint32)),
		ord:      rec.ord, // the code of an existing record does not change
		state:    uint8(p.State),
		source:   uint8(p.Source),
	}
	if p.Retired {
		rec.flags |= flagRetired
	}
	switch g := p.Geometry.(type) {
	case nil:
		rec.flags |= flagNoGeom
		if oldShape >= 0 {
			r.shapes[oldShape] = nil // abandoned: let the GC have it
		}
	case orb.Point:
		if oldPoint >= 0 && r.pts[oldPoint] == g {
			rec.geo = uint32(oldPoint)
		} else {
			if uint64(len(r.pts)) >= math.MaxUint32 {
				panic("parts: registry is full (2^32-1 points)")
			}
			rec.geo = uint32(len(r.pts))
			r.pts = append(r.pts, g)
		}
		if oldShape >= 0 {
			r.shapes[oldShape] = nil // abandoned: let the GC have it
		}
	default:
		// A private copy: a caller changing its slices afterwards must not
		// move the part away from its box in the R-tree.
		g = orb.Clone(g)
		rec.flags |= flagShape
		if oldShape >= 0 {
			r.shapes[oldShape] = g
		} else {
			oldShape = len(r.shapes)
			r.shapes = append(r.shapes, g)
		}
		rec.geo = uint32(oldShape)
	}
	r.setCls(idx, clsOf(rec, p.Geometry))
	if p.Photo != "" || p.Note != "" || p.SourceName != "" || p.SourceID != "" {
		rec.flags |= flagRare
		r.rare[idx] = rare{photo: s.intern(p.Photo), note: s.intern(p.Note), srcName: s.intern(p.SourceName), srcID: s.intern(p.SourceID)}
	} else if oldRare {
		delete(r.rare, idx)
	}
}

// geometry returns the geometry of a record, shared with the registry:
// points are not copied (see pts).
func (r *Registry) geometry(rec *record) orb.Geometry {
	switch {
	case rec.flags&flagShape != 0:
		return r.shapes[rec.geo]
	case rec.flags&flagNoGeom != 0:
		return nil
	}
	return pointGeometry(&r.pts[rec.geo])
}

// fill decodes the record at idx into p (under the read lock).
func (r *Registry) fill(p *Part, idx uint32) {
	rec := &r.recs[idx]
	s := &r.strs
	// Field by field: p is usually fresh zeroed memory, and this avoids
	// copying a whole Part with its write barriers.
	p.Code = Code(rec.code)
	p.Class = Class(rec.class())
	p.Name = s.get(rec.name)
	p.Supervisor = s.get(rec.super)
	p.Owner = s.get(rec.owner)
	p.Maintainer = s.get(rec.maint)
	p.Grid = s.get(rec.grid)
	p.State = State(rec.state)
	p.Retired = rec.flags&flagRetired != 0
	p.Surveyed = fromDay(rec.surveyed)
	p.Changed = fromDay(rec.changed)
	p.Source = Source(rec.source)
	p.Photo, p.Note, p.SourceName, p.SourceID = "", "", "", ""
	p.Material = s.get(rec.material)
	p.Label = s.get(rec.label)
	p.Version = uint64(rec.version)
	p.Geometry = r.geometry(rec)
	if rec.flags&flagRare != 0 {
		x := r.rare[idx]
		p.Photo, p.Note = s.get(x.photo), s.get(x.note)
		p.SourceName, p.SourceID = s.get(x.srcName), s.get(x.srcID)
	}
}

// Each calls fn for every part, retired ones included, in storage order
// (not code order: the Hilbert order of the parts loaded by a Builder, then
// the parts added later in order of addition), until
// fn returns false. It reads the registry in chunks under short read locks,
// so fn may take its time (export) and writes made meanwhile may or may not
// show.
func (r *Registry) Each(fn func(p Part) bool) {
	const chunk = 1024
	buf := make([]Part, 0, chunk)
	for start := 0; ; start += chunk {
		buf = buf[:0]
		r.mu.RLock()
		end := min(start+chunk, len(r.recs))
		for i := start; i < end; i++ {
			buf = append(buf, Part{})
			r.fill(&buf[len(buf)-1], uint32(i))
		}
		r.mu.RUnlock()
		for i := range buf {
			if !fn(buf[i]) {
				return
			}
		}
		if len(buf) < chunk {
			return
		}
	}
}

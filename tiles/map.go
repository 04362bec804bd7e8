package tiles

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"citytwin/grid"
	"citytwin/parts"

	"github.com/klauspost/compress/gzip"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// Tile is one encoded vector tile. A Tile from the cache is shared: treat
// it as read-only.
type Tile struct {
	// Data is the gzipped MVT (Content-Encoding: gzip).
	Data []byte
	// ETag is a strong entity tag: the quoted hex of the first 16 bytes of
	// the SHA-256 of Data.
	ETag string
	// Features counts the features of each layer written in the tile
	// ("parts", "parts_agg", "grids", "divisions"); layers without features
	// are left out of the tile and of the map.
	Features map[string]int
}

// Map serves the vector tiles of the city from a component source and a
// grid source. It is safe for concurrent use. Construct it with New.
type Map struct {
	parts   PartSource
	grids   GridSource
	o       Options
	prio    map[parts.Class]int
	pyr     *pyramid
	ix      *index
	buildMu sync.Mutex
	// bld is the running Build (nil when none), under pyr.mu.
	bld *building
	// hold holds the sources' writes (SetHold); ready is set when Build
	// is done.
	hold     func(fn func())
	ready    atomic.Bool
	cache    *cache
	outlines *outlines
	free     chan *tileEncoder // encoders kept warm (a sync.Pool empties at every GC)
	flightMu sync.Mutex
	flights  map[string]*flight
	sharedN  atomic.Uint64
	// shapes marks the line and polygon classes, shapeClasses lists them:
	// thinning keeps them in tiles they cross without being counted there.
	shapes       [10000]bool
	shapeClasses []parts.Class
	// beforeEncode, when set (by tests), runs at the start of every
	// encoding, with the encoder taken: a test makes it panic.
	beforeEncode func(layer string, t maptile.Tile)
	// buildHook, when set (by tests), runs after each chunk of Build,
	// outside the hold, and with -1 while the pyramid's levels are
	// derived.
	buildHook func(chunk int)
}

// New returns a map over the components of ps and the grids of gs (either
// may be nil: its layers are then empty). The aggregates (the count
// pyramid of the aggregate layer and the index of the thinned zooms) are
// built by Build, or on the first Encode that needs them: in the
// background when the map has a hold (SetHold), the tiles answered from
// the source meanwhile.
func New(ps PartSource, gs GridSource, o Options) *Map {
	o = o.withDefaults()
	m := &Map{parts: ps, grids: gs, o: o, prio: make(map[parts.Class]int)}
	for _, ci := range o.Catalogue.All() {
		m.prio[ci.Class] = ci.Priority
		if ci.Kind != parts.Point && int(ci.Class) < len(m.shapes) {
			m.shapes[ci.Class] = true
			m.shapeClasses = append(m.shapeClasses, ci.Class)
		}
	}
	base := max(o.ThinZoom-1+aggCellsLog2, o.DetailZoom-1)
	m.pyr = newPyramid(aggCellsLog2, base)
	m.ix = newIndex(min(o.DetailZoom+1, MaxZoom))
	m.cache = newCache(o.CacheBytes, o.Buffer)
	if gs != nil {
		m.outlines = newOutlines(gs)
	}
	m.free = make(chan *tileEncoder, 2*runtime.GOMAXPROCS(0))
	m.flights = make(map[string]*flight)
	return m
}

// majorKey is the aggregate key number of a major class (above every
// class number).
func majorKey(mj int) uint32 { return 10000 + uint32(mj) }

// aggKeyName names an aggregate key: "c0101" for a class, "m01" for a
// major class.
func aggKeyName(k uint32) string {
	if k >= 10000 {
		return fmt.Sprintf("m%02d", k-10000)
	}
	return fmt.Sprintf("c%04d", k)
}

func (m *Map) priority(c parts.Class) int {
	if p, ok := m.prio[c]; ok {
		return p
	}
	return 1
}

func (m *Map) getEncoder() *tileEncoder {
	select {
	case enc := <-m.free:
		return enc
	default:
		zw, _ := gzip.NewWriterLevel(nil, m.o.GzipLevel)
		return &tileEncoder{layer: newLayerEncoder(), zw: zw}
	}
}

func (m *Map) putEncoder(enc *tileEncoder) {
	select {
	case m.free <- enc:
	default:
	}
}

// tileEncoder is the reusable state of one Encode.
type tileEncoder struct {
	layer   *layerEncoder
	gw      geomWriter
	gz      bytes.Buffer
	zw      *gzip.Writer
	keyIdx  map[uint32]uint32
	cells   []*cell
	items   []partItem
	arena   []byte
	order   []uint64
	scratch []uint64
	plan    thinPlan
	classes []parts.Class
	// classPass is the class table of the index's filter.
	classPass []bool
	// omitted lists by class what a thinned tile leaves out.
	omitted []omission
	// ownerVal holds by partItem.ownerID the owner's value index + 1 in
	// the layer being written (0: not yet), ownerSet the ids set.
	ownerVal []uint32
	ownerSet []uint32
}

// Layers returns the layer names Encode accepts.
func Layers() []string { return []string{LayerParts, LayerGrids, LayerCity} }

func checkTile(t maptile.Tile) error {
	if t.Z > MaxZoom {
		return &RangeError{Z: uint32(t.Z), X: t.X, Y: t.Y, Reason: fmt.Sprintf("zoom must be 0..%d", MaxZoom)}
	}
	n := uint64(1) << t.Z
	if uint64(t.X) >= n || uint64(t.Y) >= n {
		return &RangeError{Z: uint32(t.Z), X: t.X, Y: t.Y, Reason: fmt.Sprintf("x and y must be 0..%d at zoom %d", n-1, t.Z)}
	}
	return nil
}

func checkLayer(layer string) error {
	switch layer {
	case LayerParts, LayerGrids, LayerCity:
		return nil
	}
	return &LayerError{Layer: layer, Known: Layers()}
}

// Encode returns the tile t of a layer ("parts", "grids" or "city", which
// holds all layers) for the components that pass f, from the cache or
// freshly encoded. The grids layers honour only f.GridPrefix. Errors:
// *LayerError, *RangeError, *FilterError, the context's error or the
// sources' errors.
func (m *Map) Encode(ctx context.Context, layer string, t maptile.Tile, f parts.Filter) (Tile, error) {
	if err := checkLayer(layer); err != nil {
		return Tile{}, err
	}
	if err := checkTile(t); err != nil {
		return Tile{}, err
	}
	if err := ctx.Err(); err != nil {
		return Tile{}, err
	}
	fk := filterKey(f)
	if layer == LayerGrids {
		fk = filterKey(parts.Filter{GridPrefix: f.GridPrefix})
	}
	key := cacheKey(layer, t, fk)
	if tile, ok := m.cache.get(key); ok {
		return tile, nil
	}
	return m.shared(ctx, key, func() (Tile, error) { return m.encode(ctx, layer, t, f, key) })
}

// flight is an encoding in progress that concurrent misses of the same key
// wait for instead of encoding the tile again.
type flight struct {
	epoch uint64 // cache epoch when the encoding was asked for
	done  chan struct{}
	tile  Tile
	err   error
}

// shared runs fn once for the concurrent callers of a key that arrive
// while no change happened since the running call began; a caller after a
// change runs its own. The in-flight entry is released on every path: when
// fn panics, the waiting callers get ErrEncodePanic, the panic goes on up
// the stack of the caller that ran fn, and the next caller of the key runs
// fn afresh.
func (m *Map) shared(ctx context.Context, key string, fn func() (Tile, error)) (Tile, error) {
	epoch := m.cache.start()
	m.flightMu.Lock()
	if c, ok := m.flights[key]; ok && c.epoch == epoch {
		m.flightMu.Unlock()
		m.sharedN.Add(1)
		select {
		case <-c.done:
			if errors.Is(c.err, context.Canceled) || errors.Is(c.err, context.DeadlineExceeded) {
				return fn() // the first caller gave up, not this one
			}
			return c.tile, c.err
		case <-ctx.Done():
			return Tile{}, ctx.Err()
		}
	}
	c := &flight{epoch: epoch, done: make(chan struct{})}
	m.flights[key] = c
	m.flightMu.Unlock()
	returned := false
	defer func() {
		if !returned { // fn panicked (or called runtime.Goexit)
			c.tile, c.err = Tile{}, fmt.Errorf("%w: %s", ErrEncodePanic, key)
			m.release(key, c)
		}
	}()
	c.tile, c.err = fn()
	returned = true
	m.release(key, c)
	return c.tile, c.err
}

// release removes the in-flight entry c of key and wakes its waiters.
func (m *Map) release(key string, c *flight) {
	m.flightMu.Lock()
	if m.flights[key] == c {
		delete(m.flights, key)
	}
	m.flightMu.Unlock()
	close(c.done)
}

// encode encodes a tile that the cache does not hold and caches it.
func (m *Map) encode(ctx context.Context, layer string, t maptile.Tile, f parts.Filter, key string) (Tile, error) {
	start := m.cache.start()
	touch := layerTouch(layer)
	if touch&touchParts != 0 && t.Z < maptile.Zoom(m.o.DetailZoom) && m.parts != nil && !m.ready.Load() {
		// With a hold, its owner runs Build (app.Start does) and the tile
		// is answered from the source meanwhile.
		if m.hold == nil {
			if err := m.Build(ctx); err != nil {
				return Tile{}, err
			}
		}
	}
	enc := m.getEncoder()
	// An encoder left by a panic is dropped, not put back: its state is
	// unknown.
	tile, err := m.encodeWith(ctx, enc, layer, t, f, key, start, touch)
	m.putEncoder(enc)
	return tile, err
}

// encodeWith is encode with the encoder enc.
func (m *Map) encodeWith(ctx context.Context, enc *tileEncoder, layer string, t maptile.Tile, f parts.Filter, key string, start uint64, touch uint8) (Tile, error) {
	if m.beforeEncode != nil {
		m.beforeEncode(layer, t)
	}
	tol := 0.0
	if uint32(t.Z) < m.o.SimplifyMaxZoom && m.o.Simplify > 0 {
		tol = m.o.Simplify
	}
	pr := newProjection(t, m.o.Buffer, tol)
	counts := make(map[string]int, 2)
	enc.gz.Reset()
	enc.zw.Reset(&enc.gz)
	if touch&touchParts != 0 && m.parts != nil {
		if err := m.encodeParts(ctx, enc, &pr, t, f); err != nil {
			return Tile{}, err
		}
		if enc.layer.count > 0 {
			counts[enc.layer.name] = enc.layer.count
		}
		if err := enc.layer.writeTo(enc.zw); err != nil {
			return Tile{}, fmt.Errorf("tiles: gzip: %w", err)
		}
		if enc.plan.thinned {
			m.writeOmitted(enc, t)
			counts[enc.layer.name] = enc.layer.count
			if err := enc.layer.writeTo(enc.zw); err != nil {
				return Tile{}, fmt.Errorf("tiles: gzip: %w", err)
			}
		}
	}
	if touch&touchGrids != 0 && m.grids != nil {
		if err := m.encodeGrids(ctx, enc, &pr, t, f.GridPrefix); err != nil {
			return Tile{}, err
		}
		if enc.layer.count > 0 {
			counts[enc.layer.name] = enc.layer.count
		}
		if err := enc.layer.writeTo(enc.zw); err != nil {
			return Tile{}, fmt.Errorf("tiles: gzip: %w", err)
		}
	}
	if err := enc.zw.Close(); err != nil {
		return Tile{}, fmt.Errorf("tiles: gzip: %w", err)
	}
	data := bytes.Clone(enc.gz.Bytes())
	sum := sha256.Sum256(data)
	tile := Tile{Data: data, ETag: `"` + hex.EncodeToString(sum[:16]) + `"`, Features: counts}
	m.cache.put(key, tileKey{uint32(t.Z), t.X, t.Y}, touch, tile, start)
	return tile, nil
}

func cacheKey(layer string, t maptile.Tile, fk string) string {
	b := make([]byte, 0, len(layer)+len(fk)+24)
	b = append(b, layer...)
	b = append(b, '/')
	b = strconv.AppendUint(b, uint64(t.Z), 10)
	b = append(b, '/')
	b = strconv.AppendUint(b, uint64(t.X), 10)
	b = append(b, '/')
	b = strconv.AppendUint(b, uint64(t.Y), 10)
	b = append(b, '?')
	b = append(b, fk...)
	return string(b)
}

// SetHold gives the map the way to hold the writes of its sources:
// hold(fn) runs fn while no write is applied to the sources and no
// PartChanged runs (twin.Twin.Exclusive). Call it before Build and the
// first Encode. With a hold, the caller runs Build (in the background,
// with the context of its lifetime), which holds the writes only chunk by
// chunk, and Encode never waits for the aggregates: it answers from the
// source until they are ready. Without one, Encode builds them itself
// when it first needs them.
func (m *Map) SetHold(hold func(fn func())) { m.hold = hold }

// building is the state of a running Build: the components whose key
// (buildKey: the west edge of their box) is below west have been scanned
// into pyr, which keeps its counts at the base level alone until the
// build derives the levels below.
type building struct {
	mu   sync.Mutex
	pyr  *pyramid
	west float64
	// deriving is set once every chunk is scanned: the changes then wait
	// in deltas while the levels below the base are derived.
	deriving bool
	deltas   []delta
}

// delta is a change of the count of one component.
type delta struct {
	pt  orb.Point
	key uint32
	d   int32
}

// buildKey returns the key that files a geometry in one chunk of Build:
// the west edge of its box, where the geometry has a vertex, so that the
// scan of the chunk's stripe (the whole latitude range) finds it.
func buildKey(g orb.Geometry) float64 {
	_, key, _ := anchorKey(g)
	return key
}

// chunkHold is how long Build aims to hold the writes for one chunk.
const chunkHold = 4 * time.Millisecond

// Build fills the count pyramid of the aggregate layer and the index of
// the thinned zooms from a scan of the component source, chunk by chunk:
// stripes of longitude (sized to take about chunkHold each) scanned each
// under the hold given to SetHold, writes flowing between them. A
// component is filed in the chunk that holds the west edge of its box,
// whatever the chunks it crosses. A change during the build is counted
// at once when that chunk of its old or new state was already scanned
// (else the chunk's scan sees it), and replayed on the index once it is
// sorted. Without a hold, call it before changes flow. Build after a
// successful Build does nothing; concurrent calls wait for one build.
func (m *Map) Build(ctx context.Context) error {
	m.buildMu.Lock()
	defer m.buildMu.Unlock()
	if m.ready.Load() || m.parts == nil {
		return nil
	}
	hold := m.hold
	if hold == nil {
		// nothing to let flow between chunks: one scan of everything
		hold = func(fn func()) { fn() }
	}
	b := &building{pyr: newPyramid(m.pyr.minLevel, m.pyr.base), west: math.Inf(-1)}
	fix := newIndex(m.ix.level)
	fix.reset()
	ib := &indexBuilder{ix: fix}
	if sz, ok := m.parts.(sizer); ok {
		n := sz.Len()
		ib.pts, ib.keys = make([]pointRec, 0, n), make([]uint64, 0, n)
	}
	m.pyr.mu.Lock()
	m.bld = b
	m.pyr.mu.Unlock()
	m.ix.mu.Lock()
	m.ix.building, m.ix.pending = true, nil
	m.ix.mu.Unlock()
	fail := func(err error) error {
		m.pyr.mu.Lock()
		m.bld = nil
		m.pyr.mu.Unlock()
		m.ix.mu.Lock()
		m.ix.building, m.ix.pending = false, nil
		m.ix.mu.Unlock()
		return fmt.Errorf("tiles: build the aggregate: %w", err)
	}
	lo, hi := -180.0, 180.0
	if bd, ok := m.parts.(bounder); ok {
		if bb := bd.Bounds(); !bb.IsZero() {
			lo, hi = bb.Min[0], bb.Max[0]
		}
	}
	base := b.pyr.levels[b.pyr.base-b.pyr.minLevel]
	chunk := 0
	scanChunk := func(west, east float64) (time.Duration, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		box := orb.Bound{Min: orb.Point{max(west, -180), -90}, Max: orb.Point{min(east, 180), 90}}
		var err error
		var took time.Duration
		hold(func() {
			t0 := time.Now()
			defer func() { took = time.Since(t0) }()
			// b.pyr is written without b.mu: PartChanged, which runs
			// under the hold, touches it only below west.
			var lastK uint64
			var lastC *cell
			err = m.parts.Scan(ctx, box, parts.Filter{}, func(e parts.Entry) bool {
				pt, key, ok := anchorKey(e.Geometry) // as PartChanged files it
				if !ok {
					return true
				}
				if key < west || key >= east {
					return true // another chunk's
				}
				// the projection, shared by the pyramid and the index
				wx, wy := worldX(pt[0]), worldY(pt[1])
				// the base level alone, the last cell at hand (the scan
				// goes in tree order: neighbours follow each other)
				p := b.pyr
				if p.hasBound {
					p.bound = p.bound.Extend(pt)
				} else {
					p.bound, p.hasBound = orb.Bound{Min: pt, Max: pt}, true
				}
				k := cellKey(cellAt(wx, wy, p.base))
				if k != lastK || lastC == nil {
					lastK, lastC = k, base[k]
					if lastC == nil {
						lastC = &cell{}
						base[k] = lastC
					}
				}
				lastC.add(countKey(e.Class, e.State), 1)
				if _, isPt := e.Geometry.(orb.Point); isPt {
					ib.addPoint(e.Code, e.Owner, e.State, pt, cellKey(cellAt(wx, wy, fix.level)))
				} else {
					fix.addShape(e.Code, e.Owner, e.State, e.Geometry)
				}
				return true
			})
			if err == nil {
				b.mu.Lock()
				b.west = east
				b.mu.Unlock()
			}
		})
		if err != nil {
			return 0, err
		}
		if m.buildHook != nil {
			m.buildHook(chunk)
		}
		chunk++
		return took, nil
	}
	var err error
	if m.hold == nil {
		_, err = scanChunk(math.Inf(-1), math.Inf(1))
	} else {
		err = walkStripes(lo, hi, 256, chunkHold, scanChunk)
	}
	if err != nil {
		return fail(err)
	}
	// The levels below the base are derived with no lock held (the
	// changes meanwhile wait in deltas), then the pyramid takes over.
	b.mu.Lock()
	b.deriving = true
	b.mu.Unlock()
	if m.buildHook != nil {
		m.buildHook(-1)
	}
	b.pyr.derive()
	m.pyr.mu.Lock()
	b.mu.Lock()
	for _, c := range b.deltas {
		b.pyr.addAt(c.pt, c.key, c.d, b.pyr.minLevel)
	}
	m.pyr.levels, m.pyr.bound, m.pyr.hasBound = b.pyr.levels, b.pyr.bound, b.pyr.hasBound
	m.pyr.built = true
	m.bld = nil
	b.mu.Unlock()
	m.pyr.mu.Unlock()
	// (the pyramid first: from now on it counts the changes itself, while
	// the index collects them in pending until it is ready)
	ib.finish()
	ix := m.ix
	ix.mu.Lock()
	ix.pts, ix.shapes, ix.big, ix.nPts, ix.nShapes = fix.pts, fix.shapes, fix.big, fix.nPts, fix.nShapes
	ix.owners, ix.ownerID = fix.owners, fix.ownerID
	// The changes that landed during the scan may or may not be in it:
	// replay them (idempotent).
	for _, c := range ix.pending {
		m.indexChange(c[0], c[1])
	}
	ix.building, ix.pending, ix.built = false, nil, true
	ix.mu.Unlock()
	m.ready.Store(true)
	return nil
}

// walkStripes calls fn for consecutive stripes of longitude [west, east)
// that cover every longitude, the first from -Inf, the last to +Inf: the
// data's range lo..hi cut first in n, then each stripe sized from the
// time fn reports for the one before, so that each takes about target.
// It stops at fn's first error.
func walkStripes(lo, hi float64, n int, target time.Duration, fn func(west, east float64) (time.Duration, error)) error {
	width := (hi - lo) / float64(n)
	const minWidth = 1e-7 // degrees: about 1 cm
	west := math.Inf(-1)
	for {
		east := max(west, lo) + max(width, minWidth)
		if east >= hi {
			east = math.Inf(1)
		}
		took, err := fn(west, east)
		if err != nil {
			return err
		}
		if math.IsInf(east, 1) {
			return nil
		}
		if took > 0 {
			width *= min(2, max(0.5, float64(target)/float64(took)))
		}
		west = east
	}
}

// PartChanged tells the map that a component changed: old is its state
// before (nil for an add), new its state after (nil for a removal; a
// retired part counts as removed). Call it after the source has the new
// state (under the hold given to SetHold, as the twin does). It updates
// the count pyramid in place (or the one being built, for the chunks
// already scanned) and drops the cached "parts" and "city" tiles, of every
// zoom and filter, whose buffered box meets the old or the new geometry's
// box. It returns the number of cached tiles dropped.
func (m *Map) PartChanged(old, new *parts.Part) int {
	var boxes []orb.Bound
	m.pyr.mu.Lock()
	b := m.bld
	if b != nil {
		b.mu.Lock()
	}
	for i, p := range []*parts.Part{old, new} {
		if p == nil || p.Geometry == nil {
			continue
		}
		boxes = append(boxes, p.Geometry.Bound())
		if p.Retired {
			continue
		}
		d := int32(1)
		if i == 0 {
			d = -1
		}
		switch {
		case m.pyr.built:
			m.pyr.add(p.Geometry, p.Code.Class(), p.State, d)
		case b != nil && buildKey(p.Geometry) < b.west:
			if pt, ok := anchor(p.Geometry); ok {
				if b.deriving {
					b.deltas = append(b.deltas, delta{pt, countKey(p.Code.Class(), p.State), d})
				} else {
					b.pyr.addAt(pt, countKey(p.Code.Class(), p.State), d, b.pyr.base)
				}
			}
		}
	}
	if b != nil {
		b.mu.Unlock()
	}
	m.pyr.mu.Unlock()
	if m.eligible(old) || m.eligible(new) {
		m.ix.mu.Lock()
		switch {
		case m.ix.built:
			m.indexChange(old, new)
		case m.ix.building:
			// copies: the caller may reuse its parts once this returns
			m.ix.pending = append(m.ix.pending, [2]*parts.Part{clonePart(old), clonePart(new)})
		}
		m.ix.mu.Unlock()
	}
	if len(boxes) == 0 {
		return 0
	}
	return m.cache.invalidate(touchParts, boxes...)
}

// clonePart returns a shallow copy of a part, or nil.
func clonePart(p *parts.Part) *parts.Part {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

// GridChanged tells the map that a unit grid changed (old nil for an add,
// new nil for a removal). Call it after the source has the new state. It
// forgets the outlines of the grid's divisions and drops the cached "grids"
// and "city" tiles whose buffered box meets the old or the new polygon's
// box. It returns the number of cached tiles dropped.
func (m *Map) GridChanged(old, new *grid.Grid) int {
	var boxes []orb.Bound
	for _, g := range []*grid.Grid{old, new} {
		if g == nil {
			continue
		}
		if m.outlines != nil {
			m.outlines.forget(g.Code)
		}
		if len(g.Geometry) > 0 {
			boxes = append(boxes, g.Geometry.Bound())
		}
	}
	if len(boxes) == 0 {
		return 0
	}
	return m.cache.invalidate(touchGrids, boxes...)
}

// Stats returns the cache statistics.
func (m *Map) Stats() Stats {
	s := m.cache.snapshot()
	s.Shared = m.sharedN.Load()
	m.flightMu.Lock()
	s.InFlight = len(m.flights)
	m.flightMu.Unlock()
	return s
}

// encodeParts fills enc.layer with the components layer of the tile. From
// ThinZoom to DetailZoom-1 a tile with more components than
// Options.MaxFeatures is thinned (planThin), and enc.plan then tells what
// it left out (writeOmitted); a tile within its budget carries them all.
func (m *Map) encodeParts(ctx context.Context, enc *tileEncoder, pr *projection, t maptile.Tile, f parts.Filter) error {
	z := uint32(t.Z)
	l := enc.layer
	plan := &enc.plan
	plan.reset()
	if z < m.o.ThinZoom {
		return m.encodeAggregate(ctx, enc, t, f)
	}
	l.reset(LayerParts)
	l.key("code")
	l.key("class")
	l.key("state")
	l.key("owner")
	limit := int(^uint(0) >> 1)
	if z < m.o.DetailZoom {
		m.pyr.mu.RLock()
		built := m.pyr.built
		counts := plan.counts[:0]
		if built {
			counts = cellCounts(counts, m.pyr.get(z, t.X, t.Y), newCountFilter(f), m.priority)
		}
		m.pyr.mu.RUnlock()
		if !built || (unaggregated(f) != "" && sumCounts(counts) > m.o.MaxFeatures) {
			// No pyramid yet, or its counts are an upper bound: count
			// exactly.
			var err error
			if counts, err = m.countTile(ctx, t, f, counts[:0]); err != nil {
				return err
			}
		}
		planThin(plan, counts, m.o.MaxFeatures)
		plan.shapes = &m.shapes
		plan.cell = newCellTest(m.pyr, t)
		limit = plan.hardCap
		if plan.thinned {
			// When the plan drops a good share of the tile, let the source
			// skip the dropped classes: they are then never tested for
			// intersection nor decoded. (Below a third, the class test
			// costs more than it saves.)
			keepClasses := enc.classes[:0]
			for _, c := range plan.set {
				if plan.shift[c] <= dropAll {
					keepClasses = append(keepClasses, c)
				}
			}
			for _, c := range m.shapeClasses {
				if plan.shift[c] == 0 {
					keepClasses = append(keepClasses, c)
				}
			}
			if len(f.Classes) > 0 {
				keepClasses = slices.DeleteFunc(keepClasses, func(c parts.Class) bool { return !slices.Contains(f.Classes, c) })
			}
			enc.classes = keepClasses
			if len(keepClasses) == 0 {
				return nil
			}
			if plan.dropped*3 >= plan.total {
				f.Classes = keepClasses
			}
		}
	}
	// Collect the features with their geometry already projected, then
	// write them in code order: neighbouring codes share their leading
	// digits, which gzip turns into short matches, and the order no longer
	// depends on the source's scan order. A thinned tile reads the index
	// when it answers the filter, else (or when the features reach the cap)
	// it scans the source.
	done := false
	if z < m.o.DetailZoom && indexable(f) {
		m.ix.mu.RLock()
		if m.ix.built {
			var err error
			done, err = m.ix.gather(ctx, enc, pr, f, plan, limit)
			if err != nil {
				m.ix.mu.RUnlock()
				return err
			}
		}
		m.ix.mu.RUnlock()
		if !done {
			l.discard()
			plan.unnote()
		}
	}
	if !done {
		items := enc.items[:0]
		arena := enc.arena[:0]
		err := m.parts.Scan(ctx, pr.lonlat, f, func(e parts.Entry) bool {
			if !plan.keep(e.Code, e.Class) {
				return true
			}
			typ, ok := enc.gw.write(l, pr, e.Geometry)
			if !ok {
				l.discard()
				return true
			}
			if plan.thinned {
				if pt, ok := anchor(e.Geometry); ok {
					plan.note(e.Class, pt)
				}
			}
			off := len(arena)
			arena = append(arena, l.geom...)
			l.discard()
			items = append(items, partItem{code: e.Code, class: e.Class, state: e.State, typ: typ, owner: e.Owner,
				off: uint32(off), n: uint32(len(arena) - off)})
			return len(items) < limit
		})
		enc.items, enc.arena = items, arena
		if err != nil {
			return err
		}
	}
	items, arena := enc.items, enc.arena
	order := sortByCode(items, enc.order[:0], &enc.scratch)
	enc.order = order
	var states [8]uint32 // value index + 1 by state
	ownerVal := enc.ownerVal
	var tagBuf [32]byte
	var ptBuf [16]byte
	for _, k := range order {
		it := &items[k&idxMask]
		// the tags and geometry go straight into the feature
		tags := append(tagBuf[:0], 0)
		tags = appendVarint(tags, uint64(l.codeValue(it.code)))
		tags = append(tags, 1)
		tags = appendVarint(tags, uint64(l.classValue(uint16(it.class))))
		si := int(it.state) & 7
		if states[si] == 0 {
			states[si] = l.strValue(it.state.String()) + 1
		}
		tags = append(tags, 2)
		tags = appendVarint(tags, uint64(states[si]-1))
		if it.owner != "" {
			if id := it.ownerID; id > 0 {
				// the index's owner number: its value looked up once a tile
				if int(id) >= len(ownerVal) {
					ownerVal = slices.Grow(ownerVal, int(id)+1-len(ownerVal))[:id+1]
				}
				if ownerVal[id] == 0 {
					ownerVal[id] = l.strValue(it.owner) + 1
					enc.ownerSet = append(enc.ownerSet, id)
				}
				tags = append(tags, 3)
				tags = appendVarint(tags, uint64(ownerVal[id]-1))
			} else {
				tags = append(tags, 3)
				tags = appendVarint(tags, uint64(l.strValue(it.owner)))
			}
		}
		var geom []byte
		if it.packed {
			geom = appendPoint(ptBuf[:0], int32(it.off), int32(it.n))
		} else {
			geom = arena[it.off : it.off+it.n]
		}
		l.featureOf(uint64(it.code), it.typ, tags, geom)
	}
	for _, id := range enc.ownerSet {
		ownerVal[id] = 0
	}
	enc.ownerVal, enc.ownerSet = ownerVal, enc.ownerSet[:0]
	return nil
}

// sumCounts adds up the counts of a tile's classes.
func sumCounts(counts []classCount) int {
	n := 0
	for _, cc := range counts {
		n += cc.n
	}
	return n
}

const idxBits = 27
const idxMask = 1<<idxBits - 1

// sortByCode returns keys that list the items in code order, each with the
// item's index in its low idxBits bits: 3 bits of county rank (the tile's
// counties sorted), 14 of class, 20 of serial, 27 of index, sorted as
// plain integers, which is several times faster than sorting the items.
// With more than 8 counties or 2^27 items it falls back to a comparison
// sort of the items themselves.
func sortByCode(items []partItem, keys []uint64, scratch *[]uint64) []uint64 {
	var counties [8]uint32
	nc := 0
	ok := len(items) <= idxMask
	for i := 0; i < len(items) && ok; i++ {
		c := items[i].code.County()
		found := false
		for _, x := range counties[:nc] {
			if x == c {
				found = true
				break
			}
		}
		if !found {
			if nc == len(counties) {
				ok = false
				break
			}
			counties[nc] = c
			nc++
		}
	}
	if !ok {
		slices.SortFunc(items, func(a, b partItem) int { return cmp.Compare(a.code, b.code) })
		for i := range items {
			keys = append(keys, uint64(i))
		}
		return keys
	}
	slices.Sort(counties[:nc])
	for i := range items {
		code := items[i].code
		rank := uint64(slices.Index(counties[:nc], code.County()))
		keys = append(keys, rank<<61|uint64(code.Class())<<47|uint64(code.Serial())<<idxBits|uint64(i))
	}
	return radixSort(keys, scratch)
}

// radixSort sorts keys on their bits above idxBits (unique per item), by
// four passes of 10 bits; short lists are sorted by comparison.
func radixSort(keys []uint64, scratch *[]uint64) []uint64 {
	if len(keys) < 512 {
		slices.Sort(keys)
		return keys
	}
	if cap(*scratch) < len(keys) {
		*scratch = make([]uint64, len(keys))
	}
	tmp := (*scratch)[:len(keys)]
	src, dst := keys, tmp
	var count [1 << 10]int
	for shift := uint(idxBits); shift < 64; shift += 10 {
		clear(count[:])
		for _, k := range src {
			count[(k>>shift)&1023]++
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, k := range src {
			d := (k >> shift) & 1023
			dst[count[d]] = k
			count[d]++
		}
		src, dst = dst, src
	}
	return src
}

// partItem is a component kept for a tile, its geometry commands stored in
// the encoder's arena, or, when packed, a point whose tile coordinates
// are off and n (as int32).
type partItem struct {
	code    parts.Code
	owner   string
	off, n  uint32
	ownerID uint32 // the index's owner number + 1, 0 when not from the index
	class   parts.Class
	state   parts.State
	typ     uint8
	packed  bool
}

// encodeAggregate fills enc.layer with the "parts_agg" layer: one point
// per non-empty cell of a 64x64 grid over the tile.
func (m *Map) encodeAggregate(ctx context.Context, enc *tileEncoder, t maptile.Tile, f parts.Filter) error {
	const side = 1 << aggCellsLog2
	z := uint32(t.Z)
	cz := z + aggCellsLog2
	x0, y0 := t.X<<aggCellsLog2, t.Y<<aggCellsLog2
	cf := newCountFilter(f)
	if cap(enc.cells) < side*side {
		enc.cells = make([]*cell, side*side)
	}
	cells := enc.cells[:side*side]
	clear(cells)
	field := unaggregated(f)
	m.pyr.mu.RLock()
	built := m.pyr.built
	if built && field == "" {
		defer m.pyr.mu.RUnlock()
		for j := range uint32(side) {
			for i := range uint32(side) {
				cells[j*side+i] = m.pyr.get(cz, x0+i, y0+j)
			}
		}
		m.emitAggregate(enc, cells, cf, x0, y0, cz)
		return nil
	}
	// A filter the pyramid does not answer, or no pyramid yet: the cells
	// are counted from a scan of the tile.
	if field != "" {
		// Count the tile, then scan it if that is cheap enough.
		total := 0
		if built && z >= m.pyr.minLevel {
			total = int(m.pyr.get(z, t.X, t.Y).count(cf))
		} else if built {
			for i := range uint32(side) {
				for j := range uint32(side) {
					total += int(m.pyr.get(cz, x0+i, y0+j).count(cf))
				}
			}
		}
		m.pyr.mu.RUnlock()
		if !built {
			// the pyramid's count of the tile, from the source
			counts, err := m.countTile(ctx, t, parts.Filter{Classes: f.Classes, Majors: f.Majors, States: f.States}, nil)
			if err != nil {
				return err
			}
			total = sumCounts(counts)
		}
		if total > m.o.AggregateScanLimit {
			return &FilterError{Field: field, Z: z, Count: total, Limit: m.o.AggregateScanLimit, MinZ: m.o.ThinZoom}
		}
	} else {
		m.pyr.mu.RUnlock()
	}
	n := float64(uint64(1) << cz)
	err := m.scanStriped(ctx, t.Bound(), f, func(e parts.Entry) {
		pt, ok := anchor(e.Geometry)
		if !ok {
			return
		}
		cx, cy := int64(worldX(pt[0])*n)-int64(x0), int64(worldY(pt[1])*n)-int64(y0)
		if cx < 0 || cy < 0 || cx >= side || cy >= side {
			return
		}
		c := cells[cy*side+cx]
		if c == nil {
			c = &cell{}
			cells[cy*side+cx] = c
		}
		c.add(countKey(e.Class, e.State), 1)
	})
	if err != nil {
		return err
	}
	m.emitAggregate(enc, cells, nil, x0, y0, cz)
	return nil
}

// emitAggregate writes the cells of an aggregate tile, row by row.
func (m *Map) emitAggregate(enc *tileEncoder, cells []*cell, cf *countFilter, x0, y0, cz uint32) {
	const side = 1 << aggCellsLog2
	l := enc.layer
	l.reset(LayerPartsAgg)
	if enc.keyIdx == nil {
		enc.keyIdx = make(map[uint32]uint32)
	}
	clear(enc.keyIdx)
	key := func(k uint32) uint32 {
		if i, ok := enc.keyIdx[k]; ok {
			return i
		}
		i := l.key(aggKeyName(k))
		enc.keyIdx[k] = i
		return i
	}
	countKeyIdx := l.key("count")
	var majors [100]uint32
	for j := range side {
		for i := range side {
			c := cells[j*side+i]
			n := c.count(cf)
			if n == 0 {
				continue
			}
			l.point(int32(i*(Extent/side)+Extent/side/2), int32(j*(Extent/side)+Extent/side/2))
			l.tag(countKeyIdx, l.uintValue(uint64(n)))
			clear(majors[:])
			var cls parts.Class
			var cn uint32
			flush := func() {
				if cn > 0 {
					l.tag(key(uint32(cls)), l.uintValue(uint64(cn)))
				}
			}
			for _, cc := range c.counts {
				cl, st := parts.Class(cc.key>>2), parts.State(cc.key&3)
				if !cf.match(cl, st) {
					continue
				}
				if cl != cls {
					flush()
					cls, cn = cl, 0
				}
				cn += cc.n
				if mj := cl.Major(); mj < len(majors) {
					majors[mj] += cc.n
				}
			}
			flush()
			for mj, v := range majors {
				if v > 0 {
					l.tag(key(majorKey(mj)), l.uintValue(uint64(v)))
				}
			}
			id := uint64(cz)<<58 | uint64(x0+uint32(i))<<29 | uint64(y0+uint32(j))
			l.feature(id, geomPoint)
		}
	}
}

// encodeGrids fills enc.layer with the grids of the tile, or the outlines
// of the divisions below GridZoom, under an optional code prefix.
func (m *Map) encodeGrids(ctx context.Context, enc *tileEncoder, pr *projection, t maptile.Tile, prefix string) error {
	l := enc.layer
	z := uint32(t.Z)
	if z >= m.o.GridZoom {
		l.reset(LayerGrids)
		l.key("code")
		l.key("name")
		l.key("dept")
		return m.grids.Search(ctx, pr.lonlat, func(g grid.Grid) bool {
			if prefix != "" && !strings.HasPrefix(string(g.Code), prefix) {
				return true
			}
			typ, ok := enc.gw.write(l, pr, g.Geometry)
			if !ok {
				l.discard()
				return true
			}
			l.tag(0, l.uniqueValue([]byte(g.Code)))
			if g.Name != "" {
				l.tag(1, l.strValue(g.Name))
			}
			if g.Dept != "" {
				l.tag(2, l.strValue(g.Dept))
			}
			id, _ := strconv.ParseUint(string(g.Code), 10, 64)
			l.feature(id, typ)
			return true
		})
	}
	l.reset(LayerDivisions)
	l.key("code")
	l.key("name")
	l.key("level")
	list, err := m.outlines.level(divisionLevel(z, m.o.GridZoom))
	if err != nil {
		return fmt.Errorf("tiles: division outlines: %w", err)
	}
	for _, ol := range list {
		if err := ctx.Err(); err != nil {
			return err
		}
		c := ol.div.Code
		if prefix != "" && !strings.HasPrefix(c, prefix) && !strings.HasPrefix(prefix, c) {
			continue
		}
		if !ol.bound.Intersects(pr.lonlat) {
			continue
		}
		typ, ok := enc.gw.write(l, pr, ol.lines)
		if !ok {
			l.discard()
			continue
		}
		l.tag(0, l.uniqueValue([]byte(c)))
		if ol.div.Name != "" {
			l.tag(1, l.strValue(ol.div.Name))
		}
		l.tag(2, l.strValue(ol.div.Level.String()))
		id, _ := strconv.ParseUint(c, 10, 64)
		l.feature(id, typ)
	}
	return nil
}

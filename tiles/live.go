package tiles

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"citytwin/incidents"
	"citytwin/sensors"
)

// The live layers: small point layers of things that change all the time,
// encoded on demand from the in-memory indexes (never cached for long).
const (
	LayerSensors   = "sensors"   // sensors at their component's place
	LayerAlarms    = "alarms"    // open alarms at their sensor's place
	LayerIncidents = "incidents" // open cases at their location
)

// LiveLayers returns the layer names Live.Encode accepts.
func LiveLayers() []string { return []string{LayerSensors, LayerAlarms, LayerIncidents} }

// IsLiveLayer reports whether layer is one of LiveLayers.
func IsLiveLayer(layer string) bool { return liveIndex(layer) >= 0 }

func liveIndex(layer string) int {
	switch layer {
	case LayerSensors:
		return 0
	case LayerAlarms:
		return 1
	case LayerIncidents:
		return 2
	}
	return -1
}

// LiveSource is what the live layers read: the sensor engine with the
// places of the sensors, and the cases. *twin.Twin satisfies it.
type LiveSource interface {
	Now() time.Time
	Sensors() *sensors.Engine
	Cases() *incidents.Book
	SearchSensors(ctx context.Context, b orb.Bound, fn func(id sensors.ID, at orb.Point) bool) error
}

// LiveOptions configures the live layers. The zero value gives the
// defaults.
type LiveOptions struct {
	// MaxFeatures bounds the features of one tile (default 10,000): above
	// it, points are clustered on a grid of cells, each cell written as its
	// most important point with point_count, the number it stands for.
	MaxFeatures int
	// MaxScan bounds the points read for one tile (default 20 x
	// MaxFeatures); the rest of a denser tile is left out.
	MaxScan int
	// MaxAge is how long an encoded tile is reused while its layer's
	// generation is unchanged (default 1 s): states that change with time
	// alone (overdue, online) are at most this old.
	MaxAge time.Duration
	// CacheTiles bounds the encoded tiles kept (default 4,096).
	CacheTiles int
	// Buffer is the margin around a tile, in tile units (default 64).
	Buffer int
	// GzipLevel is the compression level (default gzip.DefaultCompression).
	GzipLevel int
}

func (o LiveOptions) withDefaults() LiveOptions {
	if o.MaxFeatures <= 0 {
		o.MaxFeatures = 10000
	}
	if o.MaxScan <= 0 {
		o.MaxScan = 20 * o.MaxFeatures
	}
	if o.MaxAge <= 0 {
		o.MaxAge = time.Second
	}
	if o.CacheTiles <= 0 {
		o.CacheTiles = 4096
	}
	if o.Buffer <= 0 {
		o.Buffer = 64
	}
	if o.GzipLevel == 0 {
		o.GzipLevel = gzip.DefaultCompression
	}
	return o
}

// Live serves the live layers. A generation counter per layer, bumped by
// Touch when something the layer shows changed, invalidates its encoded
// tiles at once. It is safe for concurrent use. Construct it with NewLive.
type Live struct {
	src  LiveSource
	o    LiveOptions
	gens [3]atomic.Uint64

	mu    sync.Mutex
	cache map[liveKey]liveEntry
}

type liveKey struct {
	layer   int
	z, x, y uint32
}

type liveEntry struct {
	gen  uint64
	at   time.Time
	tile Tile
}

// NewLive returns the live layers over src.
func NewLive(src LiveSource, o LiveOptions) *Live {
	return &Live{src: src, o: o.withDefaults(), cache: make(map[liveKey]liveEntry)}
}

// Touch bumps the generation of the named live layers (unknown names are
// ignored): their next tiles are encoded afresh.
func (l *Live) Touch(layers ...string) {
	for _, layer := range layers {
		if i := liveIndex(layer); i >= 0 {
			l.gens[i].Add(1)
		}
	}
}

// Generation returns the generation of a live layer (0 for another name).
func (l *Live) Generation(layer string) uint64 {
	if i := liveIndex(layer); i >= 0 {
		return l.gens[i].Load()
	}
	return 0
}

// Encode returns the tile t of a live layer, gzipped, with a strong ETag of
// its content. Errors: *LayerError, *RangeError or the context's error.
func (l *Live) Encode(ctx context.Context, layer string, t maptile.Tile) (Tile, error) {
	i := liveIndex(layer)
	if i < 0 {
		return Tile{}, &LayerError{Layer: layer, Known: LiveLayers()}
	}
	if err := checkTile(t); err != nil {
		return Tile{}, err
	}
	if err := ctx.Err(); err != nil {
		return Tile{}, err
	}
	key := liveKey{i, uint32(t.Z), t.X, t.Y}
	gen := l.gens[i].Load()
	now := l.src.Now()
	l.mu.Lock()
	e, ok := l.cache[key]
	l.mu.Unlock()
	if ok && e.gen == gen && now.Sub(e.at) < l.o.MaxAge && !now.Before(e.at) {
		return e.tile, nil
	}
	pr := newProjection(t, l.o.Buffer, 0)
	var items []liveItem
	var err error
	switch layer {
	case LayerSensors:
		items, err = l.sensorItems(ctx, &pr)
	case LayerAlarms:
		items, err = l.alarmItems(ctx, &pr)
	default:
		items, err = l.caseItems(ctx, &pr, now)
	}
	if err != nil {
		return Tile{}, err
	}
	items = clusterItems(items, l.o.MaxFeatures)
	tile, err := l.write(layer, items)
	if err != nil {
		return Tile{}, err
	}
	l.mu.Lock()
	if len(l.cache) >= l.o.CacheTiles {
		clear(l.cache)
	}
	l.cache[key] = liveEntry{gen: gen, at: now, tile: tile}
	l.mu.Unlock()
	return tile, nil
}

// liveItem is one point of a live tile: its tile coordinates, how
// important it is (the most important point of a cluster stands for it)
// and its properties.
type liveItem struct {
	x, y  int32
	rank  int64
	id    string
	props []liveProp
	count int // points it stands for (1 unless clustered)
}

type liveProp struct {
	key  string
	kind uint8 // valString, valUint, valBool
	s    string
	u    uint64
}

const (
	valString = iota
	valUint
	valBool
)

func propStr(k, v string) liveProp       { return liveProp{key: k, kind: valString, s: v} }
func propNum(k string, v int) liveProp   { return liveProp{key: k, kind: valUint, u: uint64(max(v, 0))} }
func propFlag(k string, v bool) liveProp { return liveProp{key: k, kind: valBool, u: b2u(v)} }

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// place projects a point and reports whether it falls in the buffered
// tile.
func place(pr *projection, pt orb.Point) (int32, int32, bool) {
	q := pr.xy(pt)
	x, y := floor32(q[0]), floor32(q[1])
	return x, y, inBox(pr, x, y)
}

// write encodes the items as one MVT layer, gzipped.
func (l *Live) write(layer string, items []liveItem) (Tile, error) {
	enc := newLayerEncoder()
	enc.reset(layer)
	var bools [2]uint32
	var hasBool [2]bool
	boolValue := func(b uint64) uint32 {
		if !hasBool[b] {
			i := enc.nvalues
			enc.nvalues++
			enc.values = append(enc.values, 0x22, 2, 0x38, byte(b)) // Value{bool_value = 7}
			bools[b], hasBool[b] = i, true
		}
		return bools[b]
	}
	for i := range items {
		it := &items[i]
		for _, p := range it.props {
			k := enc.key(p.key)
			switch p.kind {
			case valString:
				enc.tag(k, enc.strValue(p.s))
			case valUint:
				enc.tag(k, enc.uintValue(p.u))
			default:
				enc.tag(k, boolValue(p.u))
			}
		}
		enc.tag(enc.key("point_count"), enc.uintValue(uint64(it.count)))
		enc.point(it.x, it.y)
		enc.feature(featureID(it.id), geomPoint)
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, l.o.GzipLevel)
	if err != nil {
		return Tile{}, fmt.Errorf("tiles: gzip: %w", err)
	}
	if err := enc.writeTo(zw); err != nil {
		return Tile{}, fmt.Errorf("tiles: gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return Tile{}, fmt.Errorf("tiles: gzip: %w", err)
	}
	data := buf.Bytes()
	sum := sha256.Sum256(data)
	counts := map[string]int{}
	if enc.count > 0 {
		counts[layer] = enc.count
	}
	return Tile{Data: data, ETag: `"` + hex.EncodeToString(sum[:16]) + `"`, Features: counts}, nil
}

// featureID is a stable feature id from a string id, within the 53 bits
// JavaScript numbers hold exactly.
func featureID(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64() & (1<<53 - 1)
}

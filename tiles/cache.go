package tiles

import (
	"math"
	"sync"

	"github.com/paulmach/orb"
)

// layer bits: which requested layers a change touches.
const (
	touchParts uint8 = 1 << iota
	touchGrids
)

func layerTouch(layer string) uint8 {
	switch layer {
	case LayerParts:
		return touchParts
	case LayerGrids:
		return touchGrids
	}
	return touchParts | touchGrids // city
}

// tileKey packs z/x/y.
type tileKey struct{ z, x, y uint32 }

type entry struct {
	key        string
	tile       tileKey
	touch      uint8
	t          Tile
	size       int64
	prev, next *entry // LRU list, most recent first
}

// slot holds the cached variants (layers and filters) of one tile.
type slot struct{ entries []*entry }

// change is one recorded change, kept so that an Encode that started before
// it does not cache a tile that the change made stale.
type change struct {
	epoch uint64
	touch uint8
	boxes [2]orb.Bound
	n     int
}

const changeLog = 4096

// cache is an LRU cache of encoded tiles bounded in bytes, indexed by tile
// for invalidation.
type cache struct {
	mu      sync.Mutex
	max     int64
	bytes   int64
	buffer  float64
	entries map[string]*entry
	tiles   [MaxZoom + 1]map[uint64]*slot
	head    entry // sentinel of the LRU ring
	epoch   uint64
	log     []change // ring of the last changeLog changes
	stats   Stats
}

// Stats are cache statistics.
type Stats struct {
	Hits        uint64 // Encode calls answered from the cache
	Misses      uint64 // Encode calls that encoded
	Bytes       int64  // bytes of the cached tiles
	Entries     int    // cached tiles (all layers and filters)
	Evictions   uint64 // tiles evicted to stay within CacheBytes
	Dropped     uint64 // tiles dropped by PartChanged and GridChanged
	StaleBlocks uint64 // encoded tiles not cached because a change raced them
	Shared      uint64 // cache misses that waited for the same tile being encoded
	InFlight    int    // tiles being encoded now (distinct keys)
}

func newCache(max int64, buffer int) *cache {
	c := &cache{max: max, buffer: float64(buffer), entries: make(map[string]*entry)}
	for z := range c.tiles {
		c.tiles[z] = make(map[uint64]*slot)
	}
	c.head.prev, c.head.next = &c.head, &c.head
	return c
}

func (c *cache) unlink(e *entry) {
	e.prev.next = e.next
	e.next.prev = e.prev
	e.prev, e.next = nil, nil
}

func (c *cache) pushFront(e *entry) {
	e.prev = &c.head
	e.next = c.head.next
	c.head.next.prev = e
	c.head.next = e
}

// get returns a cached tile.
func (c *cache) get(key string) (Tile, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		c.stats.Misses++
		return Tile{}, false
	}
	c.stats.Hits++
	c.unlink(e)
	c.pushFront(e)
	return e.t, true
}

// start returns the epoch an Encode starts at.
func (c *cache) start() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// put caches a tile encoded from data read after epoch start, unless a
// change since then touched the tile.
func (c *cache) put(key string, tk tileKey, touch uint8, t Tile, start uint64) {
	size := int64(len(t.Data) + len(key) + 256)
	if c.max <= 0 || size > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch != start {
		if c.epoch-start > uint64(len(c.log)) {
			c.stats.StaleBlocks++ // the log no longer reaches back: be safe
			return
		}
		for _, ch := range c.log {
			if ch.epoch > start && ch.touch&touch != 0 && c.touches(&ch, tk) {
				c.stats.StaleBlocks++
				return
			}
		}
	}
	if old, ok := c.entries[key]; ok {
		c.remove(old)
	}
	e := &entry{key: key, tile: tk, touch: touch, t: t, size: size}
	c.entries[key] = e
	sk := cellKey(tk.x, tk.y)
	s := c.tiles[tk.z][sk]
	if s == nil {
		s = &slot{}
		c.tiles[tk.z][sk] = s
	}
	s.entries = append(s.entries, e)
	c.pushFront(e)
	c.bytes += size
	for c.bytes > c.max && c.head.prev != &c.head {
		c.remove(c.head.prev)
		c.stats.Evictions++
	}
}

// remove drops an entry. The caller holds mu.
func (c *cache) remove(e *entry) {
	delete(c.entries, e.key)
	c.unlink(e)
	c.bytes -= e.size
	sk := cellKey(e.tile.x, e.tile.y)
	if s := c.tiles[e.tile.z][sk]; s != nil {
		for i, x := range s.entries {
			if x == e {
				s.entries = append(s.entries[:i], s.entries[i+1:]...)
				break
			}
		}
		if len(s.entries) == 0 {
			delete(c.tiles[e.tile.z], sk)
		}
	}
}

func (c *cache) touches(ch *change, tk tileKey) bool {
	for _, b := range ch.boxes[:ch.n] {
		x0, y0, x1, y1 := tileRange(b, tk.z, c.buffer)
		if tk.x >= x0 && tk.x <= x1 && tk.y >= y0 && tk.y <= y1 {
			return true
		}
	}
	return false
}

// tileRange returns the tiles at zoom z whose buffered box (buffer in tile
// coordinates of Extent) intersects b, inclusive. A hair of slack makes
// sure that rounding never misses a tile.
func tileRange(b orb.Bound, z uint32, buffer float64) (x0, y0, x1, y1 uint32) {
	n := float64(uint64(1) << z)
	pad := buffer/Extent + 1e-9
	fx0 := worldX(b.Min[0])*n - pad
	fx1 := worldX(b.Max[0])*n + pad
	fy0 := worldY(b.Max[1])*n - pad
	fy1 := worldY(b.Min[1])*n + pad
	clamp := func(v float64) uint32 { return uint32(max(0, min(n-1, math.Floor(v)))) }
	// tile t's buffered box is [t-pad, t+1+pad]: it meets [f0, f1] when
	// t <= f1+pad and t+1 >= f0-pad; pad is already in f0 and f1.
	return clamp(math.Ceil(fx0 - 1)), clamp(math.Ceil(fy0 - 1)), clamp(fx1), clamp(fy1)
}

// invalidate records a change and drops the cached tiles it touches.
func (c *cache) invalidate(touch uint8, boxes ...orb.Bound) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	ch := change{epoch: c.epoch, touch: touch}
	for _, b := range boxes {
		if ch.n < len(ch.boxes) {
			ch.boxes[ch.n] = b
			ch.n++
		}
	}
	if len(c.log) < changeLog {
		c.log = append(c.log, ch)
	} else {
		c.log[(c.epoch-1)%changeLog] = ch
	}
	dropped := 0
	for z := uint32(0); z <= MaxZoom; z++ {
		m := c.tiles[z]
		if len(m) == 0 {
			continue
		}
		for _, b := range ch.boxes[:ch.n] {
			x0, y0, x1, y1 := tileRange(b, z, c.buffer)
			span := (uint64(x1-x0) + 1) * (uint64(y1-y0) + 1)
			drop := func(s *slot) {
				for i := 0; i < len(s.entries); {
					e := s.entries[i]
					if e.touch&touch == 0 {
						i++
						continue
					}
					c.remove(e) // removes e from s.entries
					dropped++
				}
			}
			if span <= uint64(len(m)) {
				for x := x0; x <= x1; x++ {
					for y := y0; y <= y1; y++ {
						if s := m[cellKey(x, y)]; s != nil {
							drop(s)
						}
					}
				}
				continue
			}
			for k, s := range m {
				x, y := uint32(k>>32), uint32(k)
				if x >= x0 && x <= x1 && y >= y0 && y <= y1 {
					drop(s)
				}
			}
		}
	}
	c.stats.Dropped += uint64(dropped)
	return dropped
}

func (c *cache) snapshot() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Bytes = c.bytes
	s.Entries = len(c.entries)
	return s
}

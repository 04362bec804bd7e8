package bench_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// centre is the dense centre of the synthetic city (synth.DefaultOptions).
var centre = orb.Point{104.06, 30.66}

// denseHalfKm is half the side of the dense-centre box.
const denseHalfKm = 2.5

// tileList is a named list of tiles, the same for every contender.
type tileList struct {
	name  string // e.g. "city/z14"
	zoom  maptile.Zoom
	tiles []maptile.Tile
}

// randomTiles returns n tiles at zoom z under points drawn uniformly in b
// with a fixed seed: dense places and sparse places in proportion to their
// area, repeats allowed (there are few z12 tiles in a city).
func randomTiles(b orb.Bound, z maptile.Zoom, n int, seed uint64) []maptile.Tile {
	rng := rand.New(rand.NewPCG(seed, uint64(z)))
	out := make([]maptile.Tile, n)
	for i := range out {
		p := orb.Point{
			b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]),
			b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1]),
		}
		out[i] = maptile.At(p, z)
	}
	return out
}

// boxAround returns the box of half side halfKm around p.
func boxAround(p orb.Point, halfKm float64) orb.Bound {
	dLat := halfKm / 111.32
	dLon := halfKm / (111.32 * math.Cos(p[1]*math.Pi/180))
	return orb.Bound{Min: orb.Point{p[0] - dLon, p[1] - dLat}, Max: orb.Point{p[0] + dLon, p[1] + dLat}}
}

// lists returns the tile lists of the benchmark: for each of z12, z14 and
// z16, n random tiles over the city's bounds and n over the dense centre.
func lists(cityBound orb.Bound, n int) []tileList {
	var out []tileList
	for _, area := range []struct {
		name string
		b    orb.Bound
	}{{"city", cityBound}, {"centre", boxAround(centre, denseHalfKm)}} {
		for _, z := range []maptile.Zoom{12, 14, 16} {
			out = append(out, tileList{
				name:  fmt.Sprintf("%s/z%d", area.name, z),
				zoom:  z,
				tiles: randomTiles(area.b, z, n, 20261123),
			})
		}
	}
	return out
}

// run is the outcome of one or more passes over a tile list.
type run struct {
	lat      []time.Duration // per tile, in list order, of the last pass
	all      []time.Duration // every tile of every pass
	wall     time.Duration   // wall time of all passes
	tiles    int             // tiles served in all passes
	bytes    int64
	features int64
	cpu      time.Duration // CPU time of all passes, as the pass's cpu function counts it
}

// tileResult is what one tile request reports.
type tileResult struct {
	bytes, features int
}

// pass requests the tiles (fn gets the index and the tile) with the given
// number of concurrent workers, stopping early (with the tiles done so far)
// once budget has passed (zero: no budget) or fn fails. It adds the
// latencies of the tiles served, in list order, and the growth of cpu
// (nil: none) over the pass to r.
func (r *run) pass(tiles []maptile.Tile, workers int, budget time.Duration, cpu func() time.Duration, fn func(i int, t maptile.Tile) (tileResult, error)) error {
	lat := make([]time.Duration, len(tiles))
	var next atomic.Int64
	var stop atomic.Bool
	var mu sync.Mutex
	var firstErr error
	var bytes, feats atomic.Int64
	var cpu0 time.Duration
	if cpu != nil {
		cpu0 = cpu()
	}
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for !stop.Load() {
				i := int(next.Add(1) - 1)
				if i >= len(tiles) {
					return
				}
				t0 := time.Now()
				res, err := fn(i, tiles[i])
				lat[i] = time.Since(t0)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					stop.Store(true)
					return
				}
				bytes.Add(int64(res.bytes))
				feats.Add(int64(res.features))
				if budget > 0 && time.Since(start) > budget {
					stop.Store(true)
				}
			}
		})
	}
	wg.Wait()
	r.wall += time.Since(start)
	if cpu != nil {
		r.cpu += cpu() - cpu0
	}
	if firstErr != nil {
		return firstErr
	}
	// A worker finishes every tile it took, and stops only before taking
	// the next: the tiles served are a prefix of the list.
	done := min(int(next.Load()), len(tiles))
	r.lat = lat[:done]
	r.all = append(r.all, lat[:done]...)
	r.tiles += done
	r.bytes += bytes.Load()
	r.features += feats.Load()
	return nil
}

// cpuMsPerTile is the CPU time per tile served, in milliseconds.
func (r *run) cpuMsPerTile() float64 {
	if r.tiles == 0 {
		return 0
	}
	return float64(r.cpu) / float64(r.tiles) / float64(time.Millisecond)
}

func (r *run) tilesPerSecond() float64 {
	if r.wall <= 0 {
		return 0
	}
	return float64(r.tiles) / r.wall.Seconds()
}

// percentile returns the q-quantile (0..1) of ds by the nearest-rank
// method, in milliseconds; 0 for no data.
func percentile(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	k := int(math.Ceil(q*float64(len(s)))) - 1
	k = max(0, min(k, len(s)-1))
	return float64(s[k]) / float64(time.Millisecond)
}

// meanMs is the mean of ds in milliseconds; 0 for no data.
func meanMs(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return float64(sum) / float64(len(ds)) / float64(time.Millisecond)
}

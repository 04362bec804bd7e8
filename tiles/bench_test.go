package tiles

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"citytwin/parts"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// The benchmark city: CITYTWIN_BENCH_N components (default 2,000,000) of
// Synthetic{Seed: 1}, clustered around 104.06E 30.66N over 40x40 km.
var (
	benchOnce sync.Once
	benchReg  *parts.Registry
	benchErr  error
)

func benchN() int {
	if v, err := strconv.Atoi(os.Getenv("CITYTWIN_BENCH_N")); err == nil && v > 0 {
		return v
	}
	return 2_000_000
}

func benchCity(tb testing.TB) *parts.Registry {
	tb.Helper()
	benchOnce.Do(func() {
		start := time.Now()
		n := benchN()
		bld := parts.NewBuilder(nil, n)
		benchErr = Synthetic{N: n, Seed: 1}.Each(nil, func(p parts.Part) bool {
			if err := bld.Add(p); err != nil {
				benchErr = err
				return false
			}
			return true
		})
		benchReg = bld.Build()
		fmt.Fprintf(os.Stderr, "bench city: %d components built in %v\n", benchReg.Len(), time.Since(start).Round(time.Millisecond))
	})
	if benchErr != nil {
		tb.Fatal(benchErr)
	}
	return benchReg
}

// benchTiles returns the tiles of a zoom to encode: "centre", the 4x4
// tiles around the densest tile; "city", 256 random tiles over the city.
func benchTiles(m *Map, z maptile.Zoom, where string) []maptile.Tile {
	var out []maptile.Tile
	switch where {
	case "centre":
		c := densest(m, uint32(z))
		for dx := -2; dx < 2; dx++ {
			for dy := -2; dy < 2; dy++ {
				out = append(out, maptile.New(uint32(int(c.X)+dx), uint32(int(c.Y)+dy), z))
			}
		}
	default:
		rng := rand.New(rand.NewPCG(9, uint64(z)))
		for range 256 {
			pt := orb.Point{104.06 + (rng.Float64()*2-1)*0.2089, 30.66 + (rng.Float64()*2-1)*0.1797}
			out = append(out, maptile.At(pt, z))
		}
	}
	return out
}

// densest returns the tile of zoom z (6..18) holding the most components,
// read from the count pyramid.
func densest(m *Map, z uint32) maptile.Tile {
	lv := min(z, m.pyr.base)
	m.pyr.mu.RLock()
	defer m.pyr.mu.RUnlock()
	var best uint64
	var bestN uint32
	for k, c := range m.pyr.levels[lv-m.pyr.minLevel] {
		if c.total > bestN || (c.total == bestN && k < best) {
			best, bestN = k, c.total
		}
	}
	x, y := uint32(best>>32), uint32(best)
	return maptile.New(x<<(z-lv), y<<(z-lv), maptile.Zoom(z))
}

func BenchmarkEncode(b *testing.B) {
	reg := benchCity(b)
	ctx := context.Background()
	for _, z := range []maptile.Zoom{12, 14, 16} {
		for _, where := range []string{"centre", "city"} {
			for _, warm := range []bool{false, true} {
				name := fmt.Sprintf("z%d/%s/cold", z, where)
				o := Options{CacheBytes: -1}
				if warm {
					name = fmt.Sprintf("z%d/%s/warm", z, where)
					o = Options{}
				}
				b.Run(name, func(b *testing.B) {
					m := New(reg, nil, o)
					if err := m.Build(ctx); err != nil {
						b.Fatal(err)
					}
					tiles := benchTiles(m, z, where)
					if warm {
						for _, tl := range tiles {
							if _, err := m.Encode(ctx, LayerParts, tl, parts.Filter{}); err != nil {
								b.Fatal(err)
							}
						}
					}
					var lat []time.Duration
					var bytes, n int64
					b.ReportAllocs()
					cpu0 := cpuTime()
					start := time.Now()
					for b.Loop() {
						tl := tiles[n%int64(len(tiles))]
						t0 := time.Now()
						tile, err := m.Encode(ctx, LayerParts, tl, parts.Filter{})
						if err != nil {
							b.Fatal(err)
						}
						lat = append(lat, time.Since(t0))
						bytes += int64(len(tile.Data))
						n++
					}
					el := time.Since(start)
					reportLatency(b, lat, n, el, bytes)
					b.ReportMetric(float64(cpuTime()-cpu0)/1e6/float64(n), "cpu-ms/tile")
				})
			}
		}
	}
}

// BenchmarkEncodeParallel encodes city-wide z14 tiles cold on every core.
func BenchmarkEncodeParallel(b *testing.B) {
	reg := benchCity(b)
	ctx := context.Background()
	m := New(reg, nil, Options{CacheBytes: -1})
	if err := m.Build(ctx); err != nil {
		b.Fatal(err)
	}
	tiles := benchTiles(m, 14, "city")
	var mu sync.Mutex
	var i int
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			tl := tiles[i%len(tiles)]
			i++
			mu.Unlock()
			if _, err := m.Encode(ctx, LayerParts, tl, parts.Filter{}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tiles/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/1e6/float64(b.N), "cpu-ms/tile")
}

// cpuTime returns the user and system CPU time of the process: on a
// machine shared with other work, CPU per tile tells the cost better than
// wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportLatency(b *testing.B, lat []time.Duration, n int64, el time.Duration, bytes int64) {
	if n == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / 1e6 }
	b.ReportMetric(float64(n)/el.Seconds(), "tiles/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(bytes)/float64(n), "B/tile")
}

// TestLargestTile encodes, at every zoom 0..18, the tiles of the benchmark
// city that hold the most components and checks that none exceeds 500 KB
// gzipped. It builds the full city: set CITYTWIN_LARGEST=1 to run it.
func TestLargestTile(t *testing.T) {
	if os.Getenv("CITYTWIN_LARGEST") == "" {
		t.Skip("set CITYTWIN_LARGEST=1 (and CITYTWIN_BENCH_N) to run")
	}
	reg := benchCity(t)
	ctx := context.Background()
	m := New(reg, nil, Options{CacheBytes: -1})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	if err := m.Build(ctx); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	cells := 0
	for _, lv := range m.pyr.levels {
		cells += len(lv)
	}
	t.Logf("count pyramid of %d components: built in %v, %d cells, %.1f MB", reg.Len(), took.Round(time.Millisecond),
		cells, float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/1e6)
	for z := uint32(0); z <= 18; z++ {
		var cands []maptile.Tile
		if z < m.pyr.minLevel {
			cands = append(cands, maptile.At(orb.Point{104.06, 30.66}, maptile.Zoom(z)))
		} else {
			top := densest(m, z)
			if z > m.pyr.base {
				// the densest base cell's children
				for dx := uint32(0); dx < 1<<(z-m.pyr.base); dx++ {
					for dy := uint32(0); dy < 1<<(z-m.pyr.base); dy++ {
						cands = append(cands, maptile.New(top.X+dx, top.Y+dy, maptile.Zoom(z)))
					}
				}
			} else {
				for dx := -1; dx <= 1; dx++ {
					for dy := -1; dy <= 1; dy++ {
						cands = append(cands, maptile.New(uint32(int(top.X)+dx), uint32(int(top.Y)+dy), maptile.Zoom(z)))
					}
				}
			}
		}
		var best Tile
		var bestT maptile.Tile
		var bestD time.Duration
		for _, tl := range cands {
			t0 := time.Now()
			tile, err := m.Encode(ctx, LayerParts, tl, parts.Filter{})
			d := time.Since(t0)
			if err != nil {
				t.Fatal(err)
			}
			if len(tile.Data) > len(best.Data) {
				best, bestT, bestD = tile, tl, d
			}
		}
		t.Logf("z%-2d largest %d/%d/%d: %7d bytes gzipped, %v, encoded in %v", z, bestT.Z, bestT.X, bestT.Y, len(best.Data), best.Features, bestD.Round(time.Microsecond))
		if len(best.Data) > maxTileBytes {
			t.Errorf("z%d tile %d/%d is %d bytes gzipped, more than %d", z, bestT.X, bestT.Y, len(best.Data), maxTileBytes)
		}
	}
}

// TestExportSynthetic writes the benchmark city as CSV for a PostGIS
// ST_AsMVT comparison: CITYTWIN_BENCH_EXPORT=/path/city.csv (N from
// CITYTWIN_BENCH_N). Load with
// COPY parts(code,class,state,owner,geom) FROM '/path/city.csv' WITH (FORMAT csv, HEADER).
func TestExportSynthetic(t *testing.T) {
	path := os.Getenv("CITYTWIN_BENCH_EXPORT")
	if path == "" {
		t.Skip("set CITYTWIN_BENCH_EXPORT=/path/city.csv to export the benchmark city")
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := (Synthetic{N: benchN(), Seed: 1}).WriteSyntheticCSV(f, nil); err != nil {
		t.Fatal(err)
	}
}

package bench_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"citytwin/parts"
	"citytwin/tiles"

	"github.com/klauspost/compress/gzip"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

// pgSample is the number of PostGIS tiles of a list that are decoded and
// gzipped after the timed passes, for the feature counts and gzip figures.
const pgSample = 20

// encodeTile asks m for the "parts" tile t.
func encodeTile(ctx context.Context, m *tiles.Map) func(i int, t maptile.Tile) (tileResult, error) {
	return func(_ int, t maptile.Tile) (tileResult, error) {
		tl, err := m.Encode(ctx, tiles.LayerParts, t, parts.Filter{})
		if err != nil {
			return tileResult{}, err
		}
		n := 0
		for _, c := range tl.Features {
			n += c
		}
		return tileResult{bytes: len(tl.Data), features: n}, nil
	}
}

// pgCPU is the CPU time of the PostgreSQL server and of this process: what
// a PostGIS tile costs the machine.
func pgCPU() time.Duration { return postgresCPU() + selfCPU() }

// listSummary is one line of the summary table.
type listSummary struct {
	name            string
	cold, warm, pg  *run
	same            *run    // citytwin cold over exactly the tiles PostGIS served
	pgFeat, ctFeat  float64 // mean features of the sampled tiles, PostGIS and citytwin
	pgGzB, pgGzipMs float64 // mean gzipped size and gzip time of the sample
	xCold, xWarm    float64 // PostGIS mean latency / citytwin's, same tiles
	xCPU            float64 // PostGIS CPU per tile / citytwin cold's, same tiles
	xTPS            float64 // citytwin cold tiles/s / PostGIS tiles/s, same tiles
}

// BenchmarkTiles times the same tile lists on citytwin (cold and warm) and
// on PostGIS ST_AsMVT; see the package documentation.
func BenchmarkTiles(b *testing.B) {
	c := getCity(b)
	ctx := context.Background()
	nTiles := envInt(b, "CITYTWIN_BENCH_TILES", 1000)
	nPG := envInt(b, "CITYTWIN_BENCH_PG_TILES", 200)
	budget := envDuration(b, "CITYTWIN_BENCH_BUDGET", 30*time.Second)
	pgBudget := envDuration(b, "CITYTWIN_BENCH_PG_BUDGET", 40*time.Second)
	workers := envInt(b, "CITYTWIN_BENCH_WORKERS", runtime.GOMAXPROCS(0))

	coldOpts := tiles.DefaultOptions()
	coldOpts.CacheBytes = -1
	cold := tiles.New(c.reg, c.grids, coldOpts)
	t0 := time.Now()
	if err := cold.Build(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("tiles: count pyramid built in %v; %d workers; %d tiles per list (budget %v), PostGIS %d (budget %v); load average %s",
		time.Since(t0).Round(time.Millisecond), workers, nTiles, budget, nPG, pgBudget, loadAvg())
	load0 := loadAvg()

	var summary []*listSummary
	for _, l := range lists(c.reg.Bounds(), nTiles) {
		sum := &listSummary{name: l.name}
		summary = append(summary, sum)
		b.Run(l.name+"/citytwin-cold", func(b *testing.B) {
			r := &run{}
			for b.Loop() {
				if err := r.pass(l.tiles, workers, budget, selfCPU, encodeTile(ctx, cold)); err != nil {
					b.Fatal(err)
				}
			}
			reportRun(b, r)
			b.ReportMetric(float64(r.bytes)/float64(r.tiles), "gzB/tile")
			sum.cold = r
		})
		b.Run(l.name+"/citytwin-warm", func(b *testing.B) {
			m := tiles.New(c.reg, c.grids, tiles.DefaultOptions())
			if err := m.Build(ctx); err != nil {
				b.Fatal(err)
			}
			list := l.tiles
			if sum.cold != nil {
				list = list[:len(sum.cold.lat)] // the tiles the cold pass reached
			}
			fill := &run{}
			if err := fill.pass(list, workers, 0, nil, encodeTile(ctx, m)); err != nil {
				b.Fatal(err)
			}
			misses := m.Stats().Misses
			r := &run{}
			for b.Loop() {
				if err := r.pass(list, workers, 0, selfCPU, encodeTile(ctx, m)); err != nil {
					b.Fatal(err)
				}
			}
			if st := m.Stats(); st.Misses != misses {
				b.Logf("warm: %d tiles were encoded again (evicted: %d; cache %d bytes)", st.Misses-misses, st.Evictions, st.Bytes)
			}
			reportRun(b, r)
			b.ReportMetric(float64(r.bytes)/float64(r.tiles), "gzB/tile")
			sum.warm = r
		})
		b.Run(l.name+"/postgis", func(b *testing.B) {
			if c.pg == nil {
				b.Skipf("no PostGIS: %v", c.pgErr)
			}
			list := l.tiles[:min(nPG, len(l.tiles))]
			sample := make([][]byte, min(pgSample, len(list)))
			r := &run{}
			for b.Loop() {
				err := r.pass(list, workers, pgBudget, pgCPU, func(i int, t maptile.Tile) (tileResult, error) {
					data, err := c.pg.TileMVT(ctx, int(t.Z), int(t.X), int(t.Y))
					if i < len(sample) {
						sample[i] = data // each index is served by one worker
					}
					return tileResult{bytes: len(data)}, err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			// Untimed: features and gzip of a sample of the tiles, and
			// citytwin's CPU on exactly the tiles PostGIS served.
			var feats, ctFeats, gzBytes, n int
			var gzTime time.Duration
			for i, data := range sample {
				if data == nil {
					continue
				}
				feats += countFeatures(b, data)
				res, err := encodeTile(ctx, cold)(i, list[i])
				if err != nil {
					b.Fatal(err)
				}
				ctFeats += res.features
				t0 := time.Now()
				gz := gzip1(data)
				gzTime += time.Since(t0)
				gzBytes += len(gz)
				n++
			}
			served := len(r.lat)
			sum.same = &run{}
			if err := sum.same.pass(list[:served], workers, 0, selfCPU, encodeTile(ctx, cold)); err != nil {
				b.Fatal(err)
			}
			reportRun(b, r)
			b.ReportMetric(float64(r.bytes)/float64(r.tiles), "B/tile")
			b.ReportMetric(float64(served), "tiles")
			sum.pg = r
			if n > 0 {
				sum.pgFeat = float64(feats) / float64(n)
				sum.ctFeat = float64(ctFeats) / float64(n)
				sum.pgGzB = float64(gzBytes) / float64(n)
				sum.pgGzipMs = float64(gzTime) / float64(n) / float64(time.Millisecond)
				b.ReportMetric(sum.pgFeat, "feat/tile")
				b.ReportMetric(sum.pgGzB, "gzB/tile")
				b.ReportMetric(sum.pgGzipMs, "gzip-ms")
			}
			pgMs := meanMs(r.lat)
			if sum.cold != nil && len(sum.cold.lat) >= served && served > 0 {
				sum.xCold = pgMs / meanMs(sum.cold.lat[:served])
				b.ReportMetric(sum.xCold, "x-cold")
			}
			if sum.warm != nil && len(sum.warm.lat) >= served && served > 0 {
				sum.xWarm = pgMs / meanMs(sum.warm.lat[:served])
				b.ReportMetric(sum.xWarm, "x-warm")
			}
			if pgTPS := r.tilesPerSecond(); pgTPS > 0 {
				sum.xTPS = sum.same.tilesPerSecond() / pgTPS
				b.ReportMetric(sum.xTPS, "x-tps")
			}
			if ct := sum.same.cpuMsPerTile(); ct > 0 {
				sum.xCPU = r.cpuMsPerTile() / ct
				b.ReportMetric(sum.xCPU, "x-cpu")
			}
		})
	}
	fmt.Fprint(os.Stdout, summaryTable(summary, workers, load0+" -> "+loadAvg()))
}

// reportRun reports the throughput, the latency percentiles, the CPU time
// and the features per tile of r.
func reportRun(b *testing.B, r *run) {
	b.ReportMetric(r.tilesPerSecond(), "tiles/s")
	b.ReportMetric(percentile(r.all, 0.50), "p50-ms")
	b.ReportMetric(percentile(r.all, 0.99), "p99-ms")
	if r.cpu > 0 {
		b.ReportMetric(r.cpuMsPerTile(), "cpu-ms/tile")
	}
	if r.features > 0 {
		b.ReportMetric(float64(r.features)/float64(r.tiles), "feat/tile")
	}
}

// gzip1 compresses data with gzip level 1, as citytwin does its tiles.
func gzip1(data []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

// countFeatures decodes an uncompressed MVT and counts its features.
func countFeatures(b *testing.B, data []byte) int {
	ls, err := mvt.Unmarshal(data)
	if err != nil {
		b.Fatalf("decode the PostGIS tile: %v", err)
	}
	n := 0
	for _, l := range ls {
		n += len(l.Features)
	}
	return n
}

// summaryTable formats the figures of every list side by side.
func summaryTable(rows []*listSummary, workers int, load string) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "\nBenchmarkTiles summary: layer \"parts\", %d concurrent requests, load average %s\n", workers, load)
	fmt.Fprintf(&sb, "latencies in ms; cpu = CPU ms per tile (citytwin: this process; PostGIS: postgres processes + this process)\n")
	fmt.Fprintf(&sb, "x = how many times citytwin cold beats PostGIS on the same tiles, by tiles/s, mean latency and CPU per tile; features = mean per tile of the first %d tiles;\n", pgSample)
	fmt.Fprintf(&sb, "KB = mean tile size, citytwin gzipped (level 1), PostGIS raw as ST_AsMVT returns it\n")
	fmt.Fprintf(&sb, "%-11s | %-32s | %-24s | %-40s | %-17s | %s\n",
		"list", "citytwin cold: t/s p50 p99 cpu", "warm: t/s p50 p99", "PostGIS: t/s p50 p99 cpu (tiles)", "x t/s  lat  cpu", "features ct pg | KB ct pg")
	for _, r := range rows {
		if r.cold == nil && r.warm == nil && r.pg == nil {
			continue // not selected by -bench
		}
		col := func(x *run, withCPU bool) string {
			if x == nil {
				return "-"
			}
			format := "%7.0f %7.2f %7.2f"
			if !withCPU {
				format = "%7.0f %7.4f %7.4f"
			}
			s := fmt.Sprintf(format, x.tilesPerSecond(), percentile(x.all, .5), percentile(x.all, .99))
			if withCPU {
				s += fmt.Sprintf(" %6.2f", x.cpuMsPerTile())
			}
			return s
		}
		pg := "-"
		var pgKB float64
		if r.pg != nil {
			pg = fmt.Sprintf("%s (%d)", col(r.pg, true), len(r.pg.lat))
			pgKB = float64(r.pg.bytes) / float64(max(r.pg.tiles, 1)) / 1024
		}
		var ctKB float64
		if r.cold != nil && r.cold.tiles > 0 {
			ctKB = float64(r.cold.bytes) / float64(r.cold.tiles) / 1024
		}
		fmt.Fprintf(&sb, "%-11s | %-32s | %-24s | %-40s | %5.1f %5.1f %5.1f | %6.0f %6.0f | %6.1f %6.1f\n",
			r.name, col(r.cold, true), col(r.warm, false), pg, r.xTPS, r.xCold, r.xCPU, r.ctFeat, r.pgFeat, ctKB, pgKB)
	}
	return sb.String()
}

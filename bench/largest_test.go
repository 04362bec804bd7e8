package bench_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"citytwin/parts"
	"citytwin/tiles"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// densestZ14 is the number of densest z14 tiles whose children are scanned
// at z15..z18.
const densestZ14 = 4

// tilesOver returns the tiles of zoom z that meet b.
func tilesOver(b orb.Bound, z maptile.Zoom) []maptile.Tile {
	nw := maptile.At(orb.Point{b.Min[0], b.Max[1]}, z)
	se := maptile.At(orb.Point{b.Max[0], b.Min[1]}, z)
	var out []maptile.Tile
	for y := nw.Y; y <= se.Y; y++ {
		for x := nw.X; x <= se.X; x++ {
			out = append(out, maptile.New(x, y, z))
		}
	}
	return out
}

// childrenAt returns the descendants of t at zoom z (z >= t.Z).
func childrenAt(t maptile.Tile, z maptile.Zoom) []maptile.Tile {
	d := uint32(z - t.Z)
	var out []maptile.Tile
	for y := t.Y << d; y < (t.Y+1)<<d; y++ {
		for x := t.X << d; x < (t.X+1)<<d; x++ {
			out = append(out, maptile.New(x, y, z))
		}
	}
	return out
}

// largest is the largest tile found at one zoom.
type largest struct {
	tile     maptile.Tile
	gzBytes  int
	features int
	scanned  int
	encode   time.Duration
}

// BenchmarkLargestTile encodes every tile over the city at z0..z14 and the
// z15..z18 tiles under the densestZ14 densest z14 tiles, with the cache
// disabled, and reports the largest gzipped "parts" tile at each zoom
// (zNN-KB), with the PostGIS ST_AsMVT size of the same tile from z12 up.
func BenchmarkLargestTile(b *testing.B) {
	c := getCity(b)
	ctx := context.Background()
	o := tiles.DefaultOptions()
	o.CacheBytes = -1
	m := tiles.New(c.reg, c.grids, o)
	if err := m.Build(ctx); err != nil {
		b.Fatal(err)
	}
	bounds := c.reg.Bounds()

	// The densest z14 tiles, by the number of parts they hold.
	z14 := tilesOver(bounds, 14)
	counts := make([]int, len(z14))
	for i, t := range z14 {
		err := c.reg.Scan(ctx, t.Bound(), parts.Filter{}, func(parts.Entry) bool { counts[i]++; return true })
		if err != nil {
			b.Fatal(err)
		}
	}
	var dense []maptile.Tile
	for range densestZ14 {
		best := -1
		for i := range z14 {
			if counts[i] >= 0 && (best < 0 || counts[i] > counts[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		dense = append(dense, z14[best])
		counts[best] = -1
	}
	candidates := make([][]maptile.Tile, 19)
	for z := range maptile.Zoom(19) {
		if z <= 14 {
			candidates[z] = tilesOver(bounds, z)
			continue
		}
		for _, t := range dense {
			candidates[z] = append(candidates[z], childrenAt(t, z)...)
		}
	}

	var best [19]largest
	for b.Loop() {
		for z, list := range candidates {
			best[z] = largest{scanned: len(list)}
			for _, t := range list {
				t0 := time.Now()
				tl, err := m.Encode(ctx, tiles.LayerParts, t, parts.Filter{})
				d := time.Since(t0)
				if err != nil {
					b.Fatal(err)
				}
				if len(tl.Data) > best[z].gzBytes {
					n := 0
					for _, v := range tl.Features {
						n += v
					}
					best[z] = largest{tile: t, gzBytes: len(tl.Data), features: n, scanned: len(list), encode: d}
				}
			}
		}
	}
	b.StopTimer()
	var sb strings.Builder
	fmt.Fprintf(&sb, "largest \"parts\" tile per zoom (citytwin gzipped; PostGIS ST_AsMVT raw and gzip -1 of the same tile from z12)\n")
	fmt.Fprintf(&sb, "%4s %-18s %8s %9s %8s %9s | %10s %10s %9s %9s\n", "zoom", "tile z/x/y", "tiles", "features", "gz KB", "encode ms", "pg feat", "pg KB", "pg gz KB", "pg ms")
	for z := range best {
		l := best[z]
		b.ReportMetric(float64(l.gzBytes)/1024, fmt.Sprintf("z%02d-KB", z))
		pg := ""
		if c.pg != nil && z >= 12 && l.gzBytes > 0 {
			t0 := time.Now()
			data, err := c.pg.TileMVT(ctx, int(l.tile.Z), int(l.tile.X), int(l.tile.Y))
			d := time.Since(t0)
			if err != nil {
				b.Fatal(err)
			}
			feats := countFeatures(b, data)
			pg = fmt.Sprintf("%10d %10.1f %9.1f %9.1f", feats, float64(len(data))/1024, float64(len(gzip1(data)))/1024, float64(d)/float64(time.Millisecond))
		}
		fmt.Fprintf(&sb, "%4d %-18s %8d %9d %8.1f %9.2f | %s\n", z, fmt.Sprintf("%d/%d/%d", l.tile.Z, l.tile.X, l.tile.Y),
			l.scanned, l.features, float64(l.gzBytes)/1024, float64(l.encode)/float64(time.Millisecond), pg)
	}
	fmt.Fprint(os.Stdout, "\n"+sb.String())
}

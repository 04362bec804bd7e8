package grid

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

// benchLattice is a city of 16,000 grids (128 x 125 cells of about
// 100 m, 25 grids a community).
func benchLattice(b *testing.B) (*lattice, *Index) {
	b.Helper()
	l := newLattice(b, 128, 125, 5, 5, 42)
	return l, l.index(b)
}

// BenchmarkLocate times Locate on random points inside the city and
// reports the median and 99th percentile of single calls.
func BenchmarkLocate(b *testing.B) {
	l, ix := benchLattice(b)
	rng := rand.New(rand.NewPCG(1, 2))
	pts := make([]orb.Point, 1<<14)
	for i := range pts {
		pts[i] = l.randomPoint(rng, -0.5) // keep clear of the jagged rim
	}
	lat := make([]time.Duration, 0, 1<<20)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		pt := pts[i&(len(pts)-1)]
		t0 := time.Now()
		_, err := ix.Locate(pt)
		d := time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		if len(lat) < cap(lat) {
			lat = append(lat, d)
		}
		i++
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(ix.Len()), "grids")
}

// BenchmarkSearch times Search over boxes of 1, 10 and 40 cells a side
// (about 100 m, 1 km, 4 km: a street block, a z15 and a z13 tile).
func BenchmarkSearch(b *testing.B) {
	l, ix := benchLattice(b)
	for _, cells := range []struct {
		name string
		n    float64
	}{{"100m", 1}, {"1km", 10}, {"4km", 40}} {
		b.Run(cells.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(3, 4))
			boxes := make([]orb.Bound, 1024)
			for i := range boxes {
				p := l.randomPoint(rng, 0)
				boxes[i] = orb.Bound{Min: p, Max: orb.Point{p[0] + cells.n*step, p[1] + cells.n*step}}
			}
			ctx := context.Background()
			found, i := 0, 0
			b.ReportAllocs()
			for b.Loop() {
				err := ix.Search(ctx, boxes[i%len(boxes)], func(Grid) bool { found++; return true })
				if err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(found)/float64(i), "grids/op")
		})
	}
}

// BenchmarkPut times loading 16,000 grids into an empty index.
func BenchmarkPut(b *testing.B) {
	l := newLattice(b, 128, 125, 5, 5, 42)
	b.ReportAllocs()
	for b.Loop() {
		ix := NewIndex()
		for _, g := range l.grids {
			if _, _, err := ix.Put(g); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(l.grids)), "grids/op")
}

// BenchmarkOutline times the outline of a district (about 2,500 grids),
// uncached.
func BenchmarkOutline(b *testing.B) {
	l, ix := benchLattice(b)
	d := l.codes[0][0].District()
	b.ReportAllocs()
	for b.Loop() {
		ix.invalidate(l.codes[0][0]) // drop the cache
		if _, err := ix.Outline(d); err != nil {
			b.Fatal(err)
		}
	}
}

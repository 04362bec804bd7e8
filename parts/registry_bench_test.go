package parts_test

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"citytwin/parts"

	"github.com/paulmach/orb"
)

// benchN is the number of components of the benchmarks: CITYTWIN_BENCH_N,
// default 2,000,000.
func benchN(b *testing.B) int {
	if s := os.Getenv("CITYTWIN_BENCH_N"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("CITYTWIN_BENCH_N=%q is not a positive number", s)
		}
		return n
	}
	return 2_000_000
}

// buildCity streams n generated parts into a builder.
func buildCity(tb testing.TB, n int) (*parts.Registry, []parts.Code) {
	cat := parts.DefaultCatalogue()
	g := newCityGen(1, cat)
	bl := parts.NewBuilder(cat, n)
	codes := make([]parts.Code, 0, n)
	for range n {
		p := g.next()
		if err := bl.Add(p); err != nil {
			tb.Fatal(err)
		}
		codes = append(codes, p.Code)
	}
	return bl.Build(), codes
}

var bench struct {
	once  sync.Once
	n     int
	reg   *parts.Registry
	codes []parts.Code
}

func benchCity(b *testing.B) (*parts.Registry, []parts.Code) {
	n := benchN(b)
	bench.once.Do(func() {
		bench.n = n
		bench.reg, bench.codes = buildCity(b, n)
	})
	return bench.reg, bench.codes
}

func p50(d []time.Duration) float64 {
	slices.Sort(d)
	return float64(d[len(d)/2].Nanoseconds())
}

func BenchmarkBuild(b *testing.B) {
	n := benchN(b)
	cat := parts.DefaultCatalogue()
	g := newCityGen(1, cat)
	ps := make([]parts.Part, n)
	for i := range ps {
		ps[i] = g.next()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		bl := parts.NewBuilder(cat, n)
		for _, p := range ps {
			if err := bl.Add(p); err != nil {
				b.Fatal(err)
			}
		}
		if r := bl.Build(); r.Len() != n {
			b.Fatalf("Len = %d, want %d", r.Len(), n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/part")
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func BenchmarkHeap(b *testing.B) {
	n := benchN(b)
	b.ReportAllocs()
	var perPart float64
	for b.Loop() {
		before := heapInUse()
		r, _ := buildCity(b, n)
		after := heapInUse()
		perPart = float64(after-before) / float64(n)
		runtime.KeepAlive(r)
	}
	b.ReportMetric(perPart, "B/part")
}

// BenchmarkGet looks up random codes among all N (cold caches: the code
// table and the records are far bigger than the CPU caches); Get/hot cycles
// through 1024 codes that stay in cache.
func BenchmarkGet(b *testing.B) {
	r, codes := benchCity(b)
	rng := rand.New(rand.NewPCG(2, 2))
	b.Run("random", func(b *testing.B) {
		// The random codes are drawn before the clock starts and read in
		// sequence, so the loop measures Get, not the generator or a cache
		// miss on the benchmark's own list of 2M codes.
		rnd := make([]parts.Code, 1<<16)
		for i := range rnd {
			rnd[i] = codes[rng.IntN(len(codes))]
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := r.Get(rnd[i&(len(rnd)-1)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("hot", func(b *testing.B) {
		hot := make([]parts.Code, 1024)
		for i := range hot {
			hot[i] = codes[rng.IntN(len(codes))]
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := r.Get(hot[i&1023]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// centreBox returns a box around p holding about want parts.
func centreBox(b *testing.B, r *parts.Registry, p orb.Point, want int) (dlon, dlat float64) {
	ctx := context.Background()
	dlon, dlat = 0.0005, 0.0005*0.86
	for range 40 {
		bb := orb.Bound{Min: orb.Point{p[0] - dlon, p[1] - dlat}, Max: orb.Point{p[0] + dlon, p[1] + dlat}}
		pg, err := r.Search(ctx, parts.Query{BBox: bb, Limit: 1})
		if err != nil {
			b.Fatal(err)
		}
		if pg.NumberMatched >= want {
			return
		}
		dlon *= 1.1
		dlat *= 1.1
	}
	return
}

func BenchmarkSearch1000(b *testing.B) {
	benchSearch1000(b, func(r *parts.Registry, ctx context.Context, q parts.Query) (int, error) {
		pg, err := r.Search(ctx, q)
		return len(pg.Parts), err
	})
}

// BenchmarkSearchViews1000 is BenchmarkSearch1000 with SearchViews into a
// reused buffer: the same boxes, the same pages, views instead of parts.
func BenchmarkSearchViews1000(b *testing.B) {
	var buf []parts.View
	benchSearch1000(b, func(r *parts.Registry, ctx context.Context, q parts.Query) (int, error) {
		pg, err := r.SearchViews(ctx, q, buf[:0])
		buf = pg.Views
		return len(pg.Views), err
	})
}

// benchSearch1000 times search over boxes of ~1,000 components a few
// hundred metres around the centre, reporting the p50 and the page size.
func benchSearch1000(b *testing.B, search func(r *parts.Registry, ctx context.Context, q parts.Query) (int, error)) {
	r, _ := benchCity(b)
	ctx := context.Background()
	dlon, dlat := centreBox(b, r, orb.Point{104.06, 30.66}, 1000)
	rng := rand.New(rand.NewPCG(3, 3))
	var durs []time.Duration
	got := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c := orb.Point{104.06 + (rng.Float64()-0.5)*0.004, 30.66 + (rng.Float64()-0.5)*0.004}
		bb := orb.Bound{Min: orb.Point{c[0] - dlon, c[1] - dlat}, Max: orb.Point{c[0] + dlon, c[1] + dlat}}
		t := time.Now()
		n, err := search(r, ctx, parts.Query{BBox: bb, Limit: 1000})
		durs = append(durs, time.Since(t))
		if err != nil {
			b.Fatal(err)
		}
		got += n
	}
	b.ReportMetric(p50(durs), "p50-ns")
	b.ReportMetric(float64(got)/float64(len(durs)), "parts/op")
}

func BenchmarkNearest10(b *testing.B) {
	r, _ := benchCity(b)
	ctx := context.Background()
	g := newCityGen(4, r.Catalogue())
	var durs []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		pt := g.point()
		t := time.Now()
		ns, err := r.Nearest(ctx, pt, 10, parts.Filter{}, 0)
		durs = append(durs, time.Since(t))
		if err != nil || len(ns) != 10 {
			b.Fatal(err, len(ns))
		}
	}
	b.ReportMetric(p50(durs), "p50-ns")
}

// BenchmarkScanTile scans a z15 tile (about 1 km) in the dense centre, as
// the tile layer does.
func BenchmarkScanTile(b *testing.B) {
	r, _ := benchCity(b)
	ctx := context.Background()
	tb := orb.Bound{Min: orb.Point{104.0537, 30.6547}, Max: orb.Point{104.0647, 30.6642}}
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		n = 0
		if err := r.Scan(ctx, tb, parts.Filter{}, func(e parts.Entry) bool { n++; return true }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n), "entries/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(max(n, 1)), "ns/entry")
}

// BenchmarkCount500m counts by class (no filter) over 500 m boxes drawn
// uniformly over the whole city, as GET /parts/counts?bbox= does: "new" is
// CountClasses, "ref" CountClassesRef (the count before r.cls and its box
// shortcut), and "ab" runs the two in turn on the same boxes, alternating
// which goes first, and reports their speed ratio, which the noise of a
// shared machine blurs less than two separate runs.
func BenchmarkCount500m(b *testing.B) {
	r, _ := benchCity(b)
	ctx := context.Background()
	const half = 250.0 // metres
	dlon, dlat := half/(111320*math.Cos(genCentre[1]*math.Pi/180)), half/110574.0
	rng := rand.New(rand.NewPCG(5, 5))
	boxes := make([]orb.Bound, 1024)
	for i := range boxes {
		c := orb.Point{
			genCentre[0] + (rng.Float64()*2-1)*(genHalfLon-dlon),
			genCentre[1] + (rng.Float64()*2-1)*(genHalfLat-dlat),
		}
		boxes[i] = orb.Bound{Min: orb.Point{c[0] - dlon, c[1] - dlat}, Max: orb.Point{c[0] + dlon, c[1] + dlat}}
	}
	type countFunc func(context.Context, orb.Bound, parts.Filter) ([]parts.ClassCount, error)
	count := func(b *testing.B, fn countFunc, bb orb.Bound) int {
		cs, err := fn(ctx, bb, parts.Filter{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, c := range cs {
			n += c.Count
		}
		return n
	}
	for _, impl := range []struct {
		name string
		fn   countFunc
	}{{"new", r.CountClasses}, {"ref", r.CountClassesRef}} {
		b.Run(impl.name, func(b *testing.B) {
			got, i := 0, 0
			b.ReportAllocs()
			for b.Loop() {
				got += count(b, impl.fn, boxes[i%len(boxes)])
				i++
			}
			b.ReportMetric(float64(got)/float64(i), "parts/op")
			b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "counts/s")
		})
	}
	b.Run("ab", func(b *testing.B) {
		var tNew, tRef time.Duration
		i := 0
		for b.Loop() {
			first, second := boxes[i%len(boxes)], boxes[(i+len(boxes)/2)%len(boxes)]
			fns := [2]countFunc{r.CountClasses, r.CountClassesRef}
			ts := [2]*time.Duration{&tNew, &tRef}
			if i%2 == 1 {
				fns[0], fns[1], ts[0], ts[1] = fns[1], fns[0], ts[1], ts[0]
			}
			t0 := time.Now()
			count(b, fns[0], first)
			t1 := time.Now()
			count(b, fns[1], second)
			*ts[0] += t1.Sub(t0)
			*ts[1] += time.Since(t1)
			i++
		}
		b.ReportMetric(float64(tNew.Nanoseconds())/float64(i), "new-ns/op")
		b.ReportMetric(float64(tRef.Nanoseconds())/float64(i), "ref-ns/op")
		b.ReportMetric(float64(tRef)/float64(tNew), "speedup")
	})
}

package gpkg

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"citytwin/parts"

	"github.com/paulmach/orb"
)

// syntheticParts returns n simple point parts in code order.
func syntheticParts(tb testing.TB, n int) []parts.Part {
	tb.Helper()
	classes := []parts.Class{101, 102, 103, 118, 305, 402}
	owners := []string{"water", "drainage", "drainage", "lighting", "sanitation", "landscape"}
	ps := make([]parts.Part, n)
	for i := range ps {
		k := i % len(classes)
		c, err := parts.NewCode(320508+uint32(i/6_000_000), classes[k], uint32(i/len(classes)%999_999+1))
		if err != nil {
			tb.Fatal(err)
		}
		ps[i] = parts.Part{
			Code: c, Class: classes[k], Name: "部件", Supervisor: parts.DeptCityMgmt, Owner: owners[k],
			Maintainer: owners[k], Grid: "320508001001" + strconv.Itoa(10+i%90), State: parts.State(i % 4),
			Surveyed: time.Date(2020, 1, 1+i%365, 0, 0, 0, 0, time.UTC), Source: parts.Surveyed, Version: 1,
			Geometry: orb.Point{120.5 + float64(i%1000)*1e-4, 31.2 + float64(i/1000%1000)*1e-4},
		}
	}
	return ps
}

// benchN is the number of parts of the benchmarks: env CITYTWIN_BENCH_N,
// default 2,000,000.
func benchN(b *testing.B) int {
	if s := os.Getenv("CITYTWIN_BENCH_N"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("CITYTWIN_BENCH_N=%q is not a positive integer", s)
		}
		return n
	}
	return 2_000_000
}

func writeParts(b *testing.B, path string, ps []parts.Part) {
	w, err := Create(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < len(ps); i += 10_000 {
		if err := w.AddParts(ps[i:min(i+10_000, len(ps))]); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkWrite(b *testing.B) {
	n := benchN(b)
	ps := syntheticParts(b, n)
	path := filepath.Join(b.TempDir(), "bench.gpkg")
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		writeParts(b, path, ps)
	}
	reportCPU(b, cpu, n)
	perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(perOp/float64(n), "ns/part")
	b.ReportMetric(float64(n)/(perOp/1e9), "parts/s")
	if st, err := os.Stat(path); err == nil {
		b.ReportMetric(float64(st.Size())/float64(n), "B/part")
	}
}

func BenchmarkLoad(b *testing.B) {
	n := benchN(b)
	path := filepath.Join(b.TempDir(), "bench.gpkg")
	writeParts(b, path, syntheticParts(b, n))
	s, err := Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		got := 0
		if err := s.LoadParts(context.Background(), func(p parts.Part) error { got++; return nil }); err != nil {
			b.Fatal(err)
		}
		if got != n {
			b.Fatalf("loaded %d parts, want %d", got, n)
		}
	}
	reportCPU(b, cpu, n)
	perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(perOp/float64(n), "ns/part")
	b.ReportMetric(float64(n)/(perOp/1e9), "parts/s")
}

// reportCPU reports the CPU time (all threads, GC included) per part since
// cpu0: on a shared machine it is steadier than the wall time.
func reportCPU(b *testing.B, cpu0 int64, n int) {
	if cpu0 == 0 {
		return
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/float64(n), "cpu-ns/part")
}

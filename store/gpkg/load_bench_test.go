package gpkg

import (
	"context"
	"os"
	"testing"

	"citytwin/parts"
)

// BenchmarkLoadFile loads the parts of the GeoPackage file named by env
// CITYTWIN_BENCH_GPKG (a city made by citytwin gen; skipped when unset),
// as a start does, without building the registry. Open a copy: the
// benchmark holds the file's lock while it runs.
func BenchmarkLoadFile(b *testing.B) {
	path := os.Getenv("CITYTWIN_BENCH_GPKG")
	if path == "" {
		b.Skip("CITYTWIN_BENCH_GPKG is not set")
	}
	s, err := Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	cpu := cpuTime()
	n := 0
	for b.Loop() {
		n = 0
		if err := s.LoadParts(context.Background(), func(p parts.Part) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu, n)
	perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(perOp/float64(max(n, 1)), "ns/part")
}

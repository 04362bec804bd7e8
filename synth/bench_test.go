package synth

import (
	"context"
	"os"
	"strconv"
	"testing"

	"citytwin/grid"
	"citytwin/parts"
)

// discard is a Sink that drops everything.
type discard struct{}

func (discard) AddGrids([]grid.Grid) error         { return nil }
func (discard) AddDivisions([]grid.Division) error { return nil }
func (discard) AddParts([]parts.Part) error        { return nil }

// BenchmarkGenerate generates the default city (2,000,000 parts, or
// CITYTWIN_BENCH_N) into a discarding sink.
func BenchmarkGenerate(b *testing.B) {
	o := DefaultOptions()
	if s := os.Getenv("CITYTWIN_BENCH_N"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("CITYTWIN_BENCH_N=%q: %v", s, err)
		}
		o.Components = n
	}
	cat := parts.DefaultCatalogue()
	b.ReportAllocs()
	for b.Loop() {
		if err := Generate(context.Background(), o, cat, discard{}, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(o.Components), "ns/part")
}

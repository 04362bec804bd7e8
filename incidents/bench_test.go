package incidents

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"citytwin/grid"
	"citytwin/parts"
	"citytwin/synth"

	"github.com/paulmach/orb"
)

// memCity is a synth.Sink that builds the indexes in memory.
type memCity struct {
	b      *parts.Builder
	grids  *grid.Index
	points []parts.Part // a sample of point parts, for the reports
	n      int
}

func (m *memCity) AddGrids(gs []grid.Grid) error {
	for _, g := range gs {
		if _, _, err := m.grids.Put(g); err != nil {
			return err
		}
	}
	return nil
}

func (m *memCity) AddDivisions([]grid.Division) error { return nil }

func (m *memCity) AddParts(ps []parts.Part) error {
	for _, p := range ps {
		if err := m.b.Add(p); err != nil {
			return err
		}
		if _, ok := p.Geometry.(orb.Point); ok && !p.Retired && m.n%50 == 0 {
			m.points = append(m.points, p)
		}
		m.n++
	}
	return nil
}

var (
	benchOnce  sync.Once
	benchCity  *memCity
	benchReg   *parts.Registry
	benchError error
)

// benchSetup generates a city of CITYTWIN_BENCH_N components (default
// 200,000; scripts/bench.sh sets 2,000,000) once per test binary, with a
// grid per 125 components and the default density (40 km across at 2M).
func benchSetup(b *testing.B) (*memCity, *parts.Registry) {
	benchOnce.Do(func() {
		n := 200_000
		if s := os.Getenv("CITYTWIN_BENCH_N"); s != "" {
			v, err := strconv.Atoi(s)
			if err != nil || v < 1000 {
				benchError = fmt.Errorf("CITYTWIN_BENCH_N=%q is not a number >= 1000", s)
				return
			}
			n = v
		}
		cat := parts.DefaultCatalogue()
		m := &memCity{b: parts.NewBuilder(cat, n), grids: grid.NewIndex()}
		o := synth.DefaultOptions()
		o.Components, o.Grids = n, max(n/125, 100)
		o.SizeKm = max(4, 40*math.Sqrt(float64(n)/2_000_000))
		if benchError = synth.Generate(context.Background(), o, cat, m, nil); benchError == nil {
			benchCity, benchReg = m, m.b.Build()
		}
	})
	if benchError != nil {
		b.Fatal(benchError)
	}
	return benchCity, benchReg
}

// BenchmarkRoute routes reports on the generated city of benchSetup: a point report of a component class a few metres from
// a component (nearest-component), a component code (component-owner),
// and an event (class-table / street-office).
func BenchmarkRoute(b *testing.B) {
	m, reg := benchSetup(b)
	r := &Router{Parts: reg, Grids: m.grids, Table: NewMemTable(DefaultResponsibilities(DefaultEvents())...)}
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	samples := m.points
	for _, bc := range []struct {
		name string
		make func(p *parts.Part) Case
		rule string
	}{
		{"point", func(p *parts.Part) Case {
			pt := p.Geometry.(orb.Point)
			return Case{Type: TypeComponent, Class: p.Class.String(), Location: orb.Point{pt[0] + 3*metre, pt[1] + 2*metre}}
		}, RuleNearestComponent},
		{"code", func(p *parts.Part) Case { return Case{Type: TypeComponent, Code: p.Code} }, ""},
		{"event", func(p *parts.Part) Case {
			return Case{Type: TypeEvent, Class: "0505", Location: p.Geometry.(orb.Point)}
		}, RuleClassTable},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			misses := 0
			start := time.Now()
			n := 0
			for b.Loop() {
				p := &samples[rng.IntN(len(samples))]
				c := bc.make(p)
				rt, _, err := r.Route(ctx, &c)
				if err != nil {
					b.Fatal(err)
				}
				if bc.rule != "" && rt.Rule != bc.rule {
					misses++
				}
				n++
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/float64(n), "us/route")
			if misses*100 > n {
				b.Fatalf("%d of %d routed by another rule than %s", misses, n, bc.rule)
			}
		})
	}
}

package tiles

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"unsafe"

	"citytwin/parts"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// indexCity returns a registry of a small dense synthetic city, with a
// line long enough for the index's big list.
func indexCity(t *testing.T, n int) *parts.Registry {
	t.Helper()
	b := parts.NewBuilder(nil, n+1)
	err := Synthetic{N: n, Seed: 5, Center: fixCenter, SizeKm: 6}.Each(nil, func(p parts.Part) bool {
		if err := b.Add(p); err != nil {
			t.Fatal(err)
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	code, _ := parts.NewCode(510105, 208, 999999)
	long := parts.Part{Code: code, Class: 208, Owner: parts.DeptBridge, Geometry: orb.LineString{
		{fixCenter[0] - 0.03, fixCenter[1] - 0.02}, {fixCenter[0] + 0.03, fixCenter[1] + 0.025}}}
	if err := b.Add(long); err != nil {
		t.Fatal(err)
	}
	return b.Build()
}

// noIndex returns a built map that never reads its index: the reference.
func noIndex(t *testing.T, ps PartSource, o Options) *Map {
	t.Helper()
	m := New(ps, nil, o)
	if err := m.Build(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.ix.mu.Lock()
	m.ix.built = false
	m.ix.mu.Unlock()
	return m
}

// compareIndexed encodes every thinned tile over the city with and without
// the index and fails on the first difference.
func compareIndexed(t *testing.T, got, want *Map, filters map[string]parts.Filter) {
	t.Helper()
	ctx := context.Background()
	for z := maptile.Zoom(got.o.ThinZoom); z < maptile.Zoom(got.o.DetailZoom); z++ {
		lo := maptile.At(orb.Point{fixCenter[0] - 0.04, fixCenter[1] + 0.03}, z)
		hi := maptile.At(orb.Point{fixCenter[0] + 0.04, fixCenter[1] - 0.03}, z)
		for x := lo.X; x <= hi.X; x++ {
			for y := lo.Y; y <= hi.Y; y++ {
				tl := maptile.New(x, y, z)
				for name, f := range filters {
					a, err := got.Encode(ctx, LayerParts, tl, f)
					if err != nil {
						t.Fatal(err)
					}
					b, err := want.Encode(ctx, LayerParts, tl, f)
					if err != nil {
						t.Fatal(err)
					}
					if a.ETag != b.ETag {
						t.Fatalf("%d/%d/%d %s: indexed tile (%v) differs from the scanned one (%v)", z, x, y, name, a.Features, b.Features)
					}
				}
			}
		}
	}
}

var indexFilters = map[string]parts.Filter{
	"none":          {},
	"classes":       {Classes: []parts.Class{101, 118, 211, 405, 208}},
	"majors":        {Majors: []int{2, 4}},
	"states":        {States: []parts.State{parts.Damaged, parts.Occupied}},
	"owner":         {Owner: parts.DeptDrainage},
	"unknown owner": {Owner: "nobody"},
	"mixed":         {Majors: []int{1}, States: []parts.State{parts.Intact}, Owner: parts.DeptWater},
}

// TestIndexMatchesScan: thinned tiles read from the index are byte for byte
// those scanned from the source, with every filter the index answers,
// with the budget sampling and the feature cap in play, and after adds,
// moves, state changes and retirements.
func TestIndexMatchesScan(t *testing.T) {
	reg := indexCity(t, 30_000)
	for _, o := range []Options{{CacheBytes: -1}, {CacheBytes: -1, MaxFeatures: 300}} {
		t.Run(fmt.Sprintf("max%d", o.MaxFeatures), func(t *testing.T) {
			m := New(reg, nil, o)
			if err := m.Build(context.Background()); err != nil {
				t.Fatal(err)
			}
			if m.ix.nPts == 0 || m.ix.nShapes == 0 || len(m.ix.big) != 1 {
				t.Fatalf("index holds %d points, %d shapes, %d big shapes; want some, some, 1", m.ix.nPts, m.ix.nShapes, len(m.ix.big))
			}
			compareIndexed(t, m, noIndex(t, reg, o), indexFilters)
		})
	}
	t.Run("changes", func(t *testing.T) {
		reg := indexCity(t, 5_000)
		o := Options{CacheBytes: -1, MaxFeatures: 400}
		m := New(reg, nil, o)
		if err := m.Build(context.Background()); err != nil {
			t.Fatal(err)
		}
		ref := noIndex(t, reg, o)
		var all []parts.Part
		reg.Each(func(p parts.Part) bool {
			all = append(all, p)
			return true
		})
		rng := rand.New(rand.NewPCG(1, 2))
		change := func(old, new *parts.Part) {
			if new != nil {
				reg.Put(*new)
			}
			m.PartChanged(old, new)
			ref.PartChanged(old, new)
		}
		for i := 0; i < 300; i++ {
			p := all[rng.IntN(len(all))]
			if p.Retired {
				continue
			}
			next := p
			switch i % 4 {
			case 0: // move
				d := orb.Point{(rng.Float64()*2 - 1) * 0.02, (rng.Float64()*2 - 1) * 0.02}
				switch g := p.Geometry.(type) {
				case orb.Point:
					next.Geometry = orb.Point{g[0] + d[0], g[1] + d[1]}
				case orb.LineString:
					ls := make(orb.LineString, len(g))
					for j, q := range g {
						ls[j] = orb.Point{q[0] + d[0], q[1] + d[1]}
					}
					next.Geometry = ls
				}
			case 1: // state
				next.State = parts.State((int(p.State) + 1) % 4)
			case 2: // retire
				next.Retired = true
			case 3: // add a copy elsewhere
				code, err := parts.NewCode(510108, p.Class, uint32(900000+i))
				if err != nil {
					t.Fatal(err)
				}
				next.Code = code
				if pt, ok := p.Geometry.(orb.Point); ok {
					next.Geometry = orb.Point{pt[0] + 0.001, pt[1] - 0.001}
				}
				change(nil, &next)
				all = append(all, next)
				continue
			}
			change(&p, &next)
			for j := range all {
				if all[j].Code == p.Code {
					all[j] = next
				}
			}
		}
		compareIndexed(t, m, ref, map[string]parts.Filter{"none": {}, "states": indexFilters["states"]})
	})
}

// TestIndexReplaysChangesDuringBuild: a change that lands while Build scans
// the source ends up in the index whether or not the scan saw it.
func TestIndexReplaysChangesDuringBuild(t *testing.T) {
	reg := indexCity(t, 2_000)
	var p parts.Part
	reg.Each(func(q parts.Part) bool {
		if _, ok := q.Geometry.(orb.Point); ok && q.Class == 101 {
			p = q
			return false
		}
		return true
	})
	next := p
	next.Geometry = orb.Point{fixCenter[0] + 0.01, fixCenter[1] + 0.01}
	for _, seen := range []bool{false, true} {
		t.Run(fmt.Sprintf("seen=%v", seen), func(t *testing.T) {
			src := &hookSource{PartSource: reg}
			m := New(src, nil, Options{CacheBytes: -1})
			src.during = func() {
				if seen {
					reg.Put(next)
				}
				m.PartChanged(&p, &next)
			}
			if err := m.Build(context.Background()); err != nil {
				t.Fatal(err)
			}
			reg.Put(next)
			defer reg.Put(p)
			compareIndexed(t, m, noIndex(t, reg, Options{CacheBytes: -1}), map[string]parts.Filter{"none": {}})
			if m.ix.nPts != countPoints(m.ix) {
				t.Errorf("index counts %d points, holds %d", m.ix.nPts, countPoints(m.ix))
			}
		})
	}
}

func countPoints(ix *index) int {
	n := 0
	for _, l := range ix.pts {
		n += len(l)
	}
	return n
}

// hookSource calls during before its first scan.
type hookSource struct {
	PartSource
	during func()
	done   bool
}

func (h *hookSource) Scan(ctx context.Context, b orb.Bound, f parts.Filter, fn func(e parts.Entry) bool) error {
	if !h.done {
		h.done = true
		h.during()
	}
	return h.PartSource.Scan(ctx, b, f, fn)
}

// TestPointRecSize: the class kept beside the code fits in the record's
// padding (the index holds one record per point component).
func TestPointRecSize(t *testing.T) {
	if n := unsafe.Sizeof(pointRec{}); n != 32 {
		t.Errorf("pointRec is %d bytes, want 32", n)
	}
}

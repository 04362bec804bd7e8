package tiles

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"citytwin/parts"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// BenchmarkBuild builds the aggregates of the benchmark city
// (CITYTWIN_BENCH_N components; run with -benchtime=1x on a large city),
// chunk by chunk under a hold as the service does.
func BenchmarkBuild(b *testing.B) {
	reg := benchCity(b)
	ctx := context.Background()
	b.ReportAllocs()
	cpu0 := cpuTime()
	n := 0
	defer func() { b.ReportMetric(float64(cpuTime()-cpu0)/1e9/float64(n), "cpu-s/build") }()
	for b.Loop() {
		n++
		m := New(reg, nil, Options{CacheBytes: -1})
		var mu sync.Mutex
		chunks := 0
		var longest time.Duration
		m.SetHold(func(fn func()) {
			mu.Lock()
			defer mu.Unlock()
			t0 := time.Now()
			fn()
			chunks++
			longest = max(longest, time.Since(t0))
		})
		if err := m.Build(ctx); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(chunks), "chunks")
		b.ReportMetric(float64(longest)/1e6, "max-hold-ms")
	}
}

// writer applies changes to a registry and a map as the twin does: the
// registry first, then PartChanged, both under the hold.
type writer struct {
	mu  sync.Mutex
	reg *parts.Registry
	m   *Map
	rng *rand.Rand
	all []parts.Code
	n   uint32
}

func (w *writer) hold(fn func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fn()
}

// put writes next (old nil for an add) under the hold.
func (w *writer) put(next parts.Part) {
	w.hold(func() {
		var oldp *parts.Part
		if old, err := w.reg.Get(next.Code); err == nil {
			oldp = &old
		}
		next.Version++
		w.reg.Put(next)
		w.m.PartChanged(oldp, &next)
	})
}

// live returns a random live component.
func (w *writer) live() (parts.Part, bool) {
	for range 20 {
		p, err := w.reg.Get(w.all[w.rng.IntN(len(w.all))])
		if err == nil && p.Geometry != nil {
			return p, true
		}
	}
	return parts.Part{}, false
}

// frontier returns the west edge of the chunks not yet scanned.
func (m *Map) frontier() float64 {
	m.pyr.mu.Lock()
	defer m.pyr.mu.Unlock()
	if m.bld == nil {
		return 0
	}
	m.bld.mu.Lock()
	defer m.bld.mu.Unlock()
	return m.bld.west
}

// at returns a point at longitude lon in the city.
func (w *writer) at(lon float64) orb.Point {
	return orb.Point{lon, fixCenter[1] + (w.rng.Float64()*2-1)*0.025}
}

// changeAround makes changes on both sides of the longitude west: moves
// across it (points, lines), adds, retirements and state changes.
func (w *writer) changeAround(west float64) {
	side := func(scanned bool) float64 {
		d := 0.0001 + w.rng.Float64()*0.02
		if scanned {
			return west - d
		}
		return west + d
	}
	for i := range 4 {
		scanned := i%2 == 0
		if p, ok := w.live(); ok {
			if _, pt := p.Geometry.(orb.Point); pt {
				p.Geometry = w.at(side(scanned))
			} else {
				// a line across the frontier, its west end on one side
				a := w.at(side(true))
				p.Geometry = orb.LineString{a, {side(false), a[1] + 0.001}}
			}
			w.put(p)
		}
		w.n++
		code, _ := parts.NewCode(510199, 101, w.n)
		w.put(parts.Part{Code: code, Class: 101, State: parts.Intact, Owner: parts.DeptLighting, Geometry: w.at(side(scanned))})
		w.all = append(w.all, code)
		code, _ = parts.NewCode(510199, 208, w.n)
		a := w.at(side(true))
		w.put(parts.Part{Code: code, Class: 208, State: parts.Intact, Owner: parts.DeptBridge,
			Geometry: orb.LineString{a, {side(false), a[1] - 0.001}}})
		w.all = append(w.all, code)
		if p, ok := w.live(); ok {
			p.Retired = true
			w.put(p)
		}
		if p, ok := w.live(); ok {
			p.State = parts.State((int(p.State) + 1) % 3)
			w.put(p)
		}
	}
}

// pyramidDump returns the counts of every level of a pyramid.
func pyramidDump(p *pyramid) []map[uint64]cell {
	p.mu.RLock()
	defer p.mu.RUnlock()
	var out []map[uint64]cell
	for _, lv := range p.levels {
		d := make(map[uint64]cell, len(lv))
		for k, c := range lv {
			d[k] = cell{total: c.total, counts: slices.Clone(c.counts)}
		}
		out = append(out, d)
	}
	return out
}

// indexDump returns the content of an index by bucket.
func indexDump(ix *index) map[string][]string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out := make(map[string][]string)
	for k, list := range ix.pts {
		for _, r := range list {
			out[fmt.Sprint("p", k)] = append(out[fmt.Sprint("p", k)], fmt.Sprint(r.code, r.pt, ix.owners[r.owner], r.state))
		}
	}
	shape := func(s *shapeRec) string {
		return fmt.Sprint(s.code, s.geom, ix.owners[s.owner], s.state, s.x0, s.y0, s.bound, s.simple)
	}
	for k, list := range ix.shapes {
		for _, s := range list {
			out[fmt.Sprint("s", k)] = append(out[fmt.Sprint("s", k)], shape(s))
		}
	}
	for _, s := range ix.big {
		out["big"] = append(out["big"], shape(s))
	}
	for _, v := range out {
		slices.Sort(v)
	}
	out["n"] = []string{fmt.Sprint(ix.nPts, ix.nShapes, ix.built, ix.building, len(ix.pending))}
	return out
}

// TestBuildInterleavedWithWrites: a build whose chunks let writes through
// (adds, moves across chunks both ways, retirements, state changes,
// between chunks and from another writer) ends with the pyramid and index
// of a fresh build of the final state.
func TestBuildInterleavedWithWrites(t *testing.T) {
	reg := indexCity(t, 20_000)
	m := New(reg, nil, Options{CacheBytes: -1})
	w := &writer{reg: reg, m: m, rng: rand.New(rand.NewPCG(3, 4))}
	reg.Each(func(p parts.Part) bool {
		w.all = append(w.all, p.Code)
		return true
	})
	m.SetHold(w.hold)
	chunks := 0
	deriving := false
	m.buildHook = func(chunk int) {
		if chunk < 0 {
			deriving = true
			w.changeAround(fixCenter[0])
			return
		}
		chunks++
		if west := m.frontier(); !math.IsInf(west, 0) {
			w.changeAround(west)
		}
	}
	// another writer, racing the chunks (its own random source)
	stop := make(chan struct{})
	done := make(chan struct{})
	codes := slices.Clone(w.all)
	go func() {
		defer close(done)
		rng := rand.New(rand.NewPCG(5, 6))
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			w.hold(func() {
				p, err := reg.Get(codes[rng.IntN(len(codes))])
				if err != nil || p.Geometry == nil {
					return
				}
				old := p
				if pt, ok := p.Geometry.(orb.Point); ok {
					p.Geometry = orb.Point{pt[0] + (rng.Float64()*2-1)*0.01, pt[1]}
				} else {
					p.State = parts.State((int(p.State) + 1) % 3)
				}
				p.Version++
				reg.Put(p)
				m.PartChanged(&old, &p)
			})
			time.Sleep(50 * time.Microsecond)
		}
	}()
	if err := m.Build(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(stop)
	<-done
	if !deriving {
		t.Errorf("no changes while the levels were derived")
	}
	if chunks < 4 {
		t.Fatalf("the build ran in %d chunks, want several", chunks)
	}
	// changes after the build, on the built state
	w.m.buildHook = nil
	w.changeAround(fixCenter[0])
	fresh := New(reg, nil, Options{CacheBytes: -1})
	if err := fresh.Build(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, want := pyramidDump(m.pyr), pyramidDump(fresh.pyr)
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			n := 0
			for k, c := range want[i] {
				if g := got[i][k]; !reflect.DeepEqual(g, c) && n < 5 {
					t.Errorf("level %d cell %d/%d: got %+v, want %+v", int(m.pyr.minLevel)+i, k>>32, uint32(k), g, c)
					n++
				}
			}
			t.Errorf("level %d: %d cells, want %d", int(m.pyr.minLevel)+i, len(got[i]), len(want[i]))
		}
	}
	gi, wi := indexDump(m.ix), indexDump(fresh.ix)
	if !reflect.DeepEqual(gi, wi) {
		n := 0
		for k, v := range wi {
			if !reflect.DeepEqual(gi[k], v) && n < 5 {
				t.Errorf("index bucket %s: got %v, want %v", k, gi[k], v)
				n++
			}
		}
		for k, v := range gi {
			if _, ok := wi[k]; !ok && n < 10 {
				t.Errorf("index bucket %s: got %v, want none", k, v)
				n++
			}
		}
		t.Errorf("index: %d buckets, want %d", len(gi), len(wi))
	}
	t.Logf("%d chunks, %d components added", chunks, w.n*2)
}

// TestTilesDuringBuild: while the build is held between two chunks, tiles
// at z3, z10 and z13 (aggregated, scanned for an owner filter, thinned)
// answer without waiting, and equal the tiles of the built aggregates,
// also after a write during the build; the map's cached tiles still equal
// them once the build is done.
func TestTilesDuringBuild(t *testing.T) {
	reg := indexCity(t, 20_000)
	o := Options{MaxFeatures: 1000}
	m := New(reg, nil, o)
	w := &writer{reg: reg, m: m, rng: rand.New(rand.NewPCG(7, 8))}
	reg.Each(func(p parts.Part) bool {
		w.all = append(w.all, p.Code)
		return true
	})
	m.SetHold(w.hold)
	paused, resume := make(chan struct{}), make(chan struct{})
	m.buildHook = func(chunk int) {
		if chunk == 2 {
			close(paused)
			<-resume
		}
	}
	built := make(chan error, 1)
	go func() { built <- m.Build(context.Background()) }()
	<-paused
	type probe struct {
		tl maptile.Tile
		f  parts.Filter
	}
	var probes []probe
	for _, z := range []maptile.Zoom{3, 10, 13} {
		c := maptile.At(fixCenter, z)
		for _, f := range []parts.Filter{{}, {Classes: []parts.Class{101, 208}}, {Owner: parts.DeptBridge}, {States: []parts.State{parts.Damaged}}} {
			probes = append(probes, probe{c, f})
		}
		if z == 13 {
			probes = append(probes, probe{maptile.New(c.X+1, c.Y, z), parts.Filter{}}, probe{maptile.New(c.X, c.Y+1, z), parts.Filter{}})
		}
	}
	encodeAll := func(label string) []Tile {
		out := make([]Tile, len(probes))
		for i, p := range probes {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			start := time.Now()
			tile, err := m.Encode(ctx, LayerParts, p.tl, p.f)
			cancel()
			if err != nil {
				t.Fatalf("%s: %d/%d/%d %s: %v", label, p.tl.Z, p.tl.X, p.tl.Y, filterKey(p.f), err)
			}
			t.Logf("%s: %d/%d/%d %q: %v, %v", label, p.tl.Z, p.tl.X, p.tl.Y, filterKey(p.f), tile.Features, time.Since(start).Round(time.Microsecond))
			out[i] = tile
		}
		return out
	}
	check := func(label string, got []Tile) {
		t.Helper()
		ref := New(reg, nil, Options{MaxFeatures: o.MaxFeatures, CacheBytes: -1})
		if err := ref.Build(context.Background()); err != nil {
			t.Fatal(err)
		}
		thinned := false
		for i, p := range probes {
			want := mustEncode(t, ref, LayerParts, p.tl, p.f)
			if !reflect.DeepEqual(decode(t, got[i]), decode(t, want)) {
				t.Errorf("%s: %d/%d/%d %q: %v, want %v", label, p.tl.Z, p.tl.X, p.tl.Y, filterKey(p.f), got[i].Features, want.Features)
			}
			thinned = thinned || (p.tl.Z == 13 && got[i].Features[LayerPartsAgg] > 0)
		}
		if !thinned {
			t.Errorf("%s: no z13 tile thinned: the test does not cover thinning", label)
		}
	}
	during := encodeAll("during")
	if m.ready.Load() {
		t.Fatal("the aggregates are ready while the build is held")
	}
	check("during", during)
	// a write during the build drops the tiles it touches
	w.changeAround(fixCenter[0])
	check("during, after writes", encodeAll("during, after writes"))
	close(resume)
	if err := <-built; err != nil {
		t.Fatal(err)
	}
	if !m.ready.Load() {
		t.Fatal("not ready after Build")
	}
	check("after, cached", encodeAll("after"))
	w.changeAround(fixCenter[0] + 0.01)
	check("after, after writes", encodeAll("after writes"))
}

// TestThinSorter: the bucket sort by integer keys gives cmpThin's order.
func TestThinSorter(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var s thinSorter
	// Codes of one class whose hashes share their top 32 bits: the
	// integer keys tie on them and the sorter must order them by the
	// whole hash.
	var ties []parts.Code
	seen := map[uint64]parts.Code{}
	for serial := uint32(1); len(ties) < 6; serial++ {
		code, _ := parts.NewCode(510104, 101, serial)
		if c, ok := seen[hashCode(code)>>32]; ok {
			ties = append(ties, c, code)
		}
		seen[hashCode(code)>>32] = code
	}
	for _, n := range []int{0, 1, 2, 7, 600, 5000, 1<<thinPosBits + 1} {
		list := make([]pointRec, n)
		for i := range list {
			cl := parts.Class([]int{101, 102, 208, 9999}[rng.IntN(4)])
			code, _ := parts.NewCode(510104, cl, uint32(rng.IntN(1_000_000)))
			list[i] = newPointRec(code, orb.Point{float64(i), 0}, 0, 0)
		}
		if n >= 600 {
			for i, c := range ties {
				list[rng.IntN(n)] = newPointRec(c, orb.Point{float64(-i), 0}, 0, 0)
			}
		}
		want := slices.Clone(list)
		slices.SortStableFunc(want, func(a, b pointRec) int { return cmpThin(a.code, b.code) })
		s.sort(list)
		for i := range list {
			if list[i].code != want[i].code {
				t.Fatalf("n=%d: at %d got %s, want %s", n, i, list[i].code, want[i].code)
			}
		}
	}
}

// BenchmarkEncodeDuringBuild encodes tiles of the benchmark city at z3,
// z10 and z13 (its centre) as they are answered while the aggregates
// build: from the source.
func BenchmarkEncodeDuringBuild(b *testing.B) {
	reg := benchCity(b)
	ctx := context.Background()
	for _, z := range []maptile.Zoom{3, 10, 13} {
		b.Run(fmt.Sprintf("z%d", z), func(b *testing.B) {
			m := New(reg, nil, Options{CacheBytes: -1})
			m.SetHold(func(fn func()) { fn() }) // and no Build: every tile from the source
			tl := maptile.At(orb.Point{104.06, 30.66}, z)
			cpu0 := cpuTime()
			n := 0
			for b.Loop() {
				if _, err := m.Encode(ctx, LayerParts, tl, parts.Filter{}); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/1e6/float64(n), "cpu-ms/tile")
		})
	}
}

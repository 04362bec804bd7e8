package tiles

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"citytwin/grid"
	"citytwin/parts"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// cached tells whether an Encode is answered from the cache.
func cached(t *testing.T, m *Map, layer string, tl maptile.Tile, f parts.Filter) bool {
	t.Helper()
	before := m.Stats().Hits
	mustEncode(t, m, layer, tl, f)
	return m.Stats().Hits > before
}

// findFeature returns the tile coordinates of the feature with an id.
func findFeature(t *testing.T, tile Tile, layer string, id uint64) (orb.Geometry, bool) {
	t.Helper()
	l := layerNamed(decode(t, tile), layer)
	if l == nil {
		return nil, false
	}
	for _, ft := range l.Features {
		if uint64(ft.ID.(float64)) == id {
			return ft.Geometry, true
		}
	}
	return nil, false
}

func TestPartChangedDropsExactlyTheAffectedTiles(t *testing.T) {
	f := newFixture(t, Options{})
	// move the first point part by about 1.5 km towards the centre of its
	// z12 tile: another z18 tile, the same z12 tile
	var old parts.Part
	for _, p := range fixtureParts() {
		if _, ok := p.Geometry.(orb.Point); ok {
			old = p
			break
		}
	}
	oldPt := old.Geometry.(orb.Point)
	dx := 0.015
	if maptile.At(oldPt, 12).Center()[0] < oldPt[0] {
		dx = -dx
	}
	newPt := orb.Point{oldPt[0] + dx, oldPt[1]}
	tA18, tB18 := maptile.At(oldPt, 18), maptile.At(newPt, 18)
	tC18 := maptile.At(orb.Point{oldPt[0] - 0.01, oldPt[1] - 0.01}, 18) // unaffected
	t12 := maptile.At(oldPt, 12)
	if maptile.At(newPt, 12) != t12 || tA18 == tB18 {
		t.Fatalf("fixture: the move should stay in z12 tile %v and leave z18 tile %v", t12, tA18)
	}
	t14Far := maptile.At(orb.Point{oldPt[0] + 0.05, oldPt[1] + 0.05}, 14) // unaffected
	filters := []parts.Filter{{}, {Classes: []parts.Class{old.Class}}, {States: []parts.State{old.State}, Majors: []int{old.Class.Major()}}}
	type probe struct {
		layer string
		tile  maptile.Tile
	}
	affected := []probe{{LayerParts, tA18}, {LayerCity, tA18}, {LayerParts, tB18}, {LayerParts, t12}, {LayerCity, t12},
		{LayerParts, maptile.At(oldPt, 10)}, {LayerParts, maptile.At(oldPt, 0)}, {LayerParts, maptile.At(oldPt, 24)}}
	unaffected := []probe{{LayerParts, tC18}, {LayerGrids, tA18}, {LayerGrids, t12}, {LayerParts, t14Far}}
	for _, pr := range append(affected, unaffected...) {
		for _, flt := range filters {
			mustEncode(t, f.m, pr.layer, pr.tile, flt)
		}
	}
	before := f.m.Stats().Entries

	moved := old
	moved.Geometry = newPt
	moved.State = parts.Damaged
	moved.Version++
	f.reg.Put(moved) // the last step of the twin's write path
	dropped := f.m.PartChanged(&old, &moved)
	if want := len(affected) * len(filters); dropped != want {
		t.Errorf("PartChanged dropped %d tiles, want %d", dropped, want)
	}
	if got := f.m.Stats().Entries; got != before-dropped {
		t.Errorf("cache holds %d tiles, want %d", got, before-dropped)
	}
	for _, pr := range unaffected {
		for _, flt := range filters {
			if !cached(t, f.m, pr.layer, pr.tile, flt) {
				t.Errorf("%s %d/%d/%d %+v was dropped, want it kept", pr.layer, pr.tile.Z, pr.tile.X, pr.tile.Y, flt)
			}
		}
	}
	for _, pr := range affected {
		for _, flt := range filters {
			if cached(t, f.m, pr.layer, pr.tile, flt) {
				t.Errorf("%s %d/%d/%d %+v is still cached", pr.layer, pr.tile.Z, pr.tile.X, pr.tile.Y, flt)
			}
		}
	}
	// the part left A and appears in B, at its new place, with its new state
	if _, ok := findFeature(t, mustEncode(t, f.m, LayerParts, tA18, parts.Filter{}), LayerParts, uint64(old.Code)); ok {
		t.Errorf("the moved part is still in its old z18 tile")
	}
	g, ok := findFeature(t, mustEncode(t, f.m, LayerParts, tB18, parts.Filter{}), LayerParts, uint64(old.Code))
	if !ok {
		t.Fatalf("the moved part is not in its new z18 tile")
	}
	pr := newProjection(tB18, 64, 0)
	want := pr.xy(newPt)
	if p := g.(orb.Point); p[0] != float64(floor32(want[0])) || p[1] != float64(floor32(want[1])) {
		t.Errorf("moved part at %v, want %v", p, want)
	}
	if g, ok := findFeature(t, mustEncode(t, f.m, LayerParts, t12, parts.Filter{}), LayerParts, uint64(old.Code)); ok {
		p := g.(orb.Point)
		p12 := newProjection(t12, 64, 0)
		w := p12.xy(newPt)
		if p[0] != float64(floor32(w[0])) {
			t.Errorf("z12: moved part at %v, want %v", p, w)
		}
	}
	// the pyramid updated in place equals one built afresh
	fresh := New(f.reg, f.grids, Options{})
	for z := maptile.Zoom(0); z <= 14; z++ {
		for _, pt := range []orb.Point{oldPt, newPt} {
			tl := maptile.At(pt, z)
			a := mustEncode(t, f.m, LayerCity, tl, parts.Filter{})
			b := mustEncode(t, fresh, LayerCity, tl, parts.Filter{})
			if !bytes.Equal(gunzip(t, a.Data), gunzip(t, b.Data)) {
				t.Errorf("z%d: tile after the in-place update differs from a fresh build", z)
			}
		}
	}
}

func TestGridChangedDropsGridTiles(t *testing.T) {
	f := newFixture(t, Options{})
	g := fixtureGrids()[5]
	c := g.Geometry.Bound().Center()
	far := orb.Point{c[0] + 0.05, c[1]}
	probes := map[string]struct {
		layer   string
		tile    maptile.Tile
		dropped bool
	}{
		"grids z16":          {LayerGrids, maptile.At(c, 16), true},
		"city z16":           {LayerCity, maptile.At(c, 16), true},
		"outlines z10":       {LayerGrids, maptile.At(c, 10), true},
		"parts z16":          {LayerParts, maptile.At(c, 16), false},
		"grids z16 far away": {LayerGrids, maptile.At(far, 16), false},
	}
	for _, p := range probes {
		mustEncode(t, f.m, p.layer, p.tile, parts.Filter{})
	}
	renamed := g
	renamed.Name = "新名字"
	if _, _, err := f.grids.Put(renamed); err != nil {
		t.Fatal(err)
	}
	f.m.GridChanged(&g, &renamed)
	for name, p := range probes {
		if got := !cached(t, f.m, p.layer, p.tile, parts.Filter{}); got != p.dropped {
			t.Errorf("%s: dropped = %v, want %v", name, got, p.dropped)
		}
	}
	l := layerNamed(decode(t, mustEncode(t, f.m, LayerGrids, maptile.At(c, 16), parts.Filter{})), LayerGrids)
	found := false
	for _, ft := range l.Features {
		if ft.Properties["code"] == string(g.Code) {
			found = ft.Properties["name"] == "新名字"
		}
	}
	if !found {
		t.Errorf("the re-encoded tile does not carry the new grid name")
	}
	var nilGrid *grid.Grid
	if n := f.m.GridChanged(nilGrid, nil); n != 0 {
		t.Errorf("GridChanged(nil, nil) dropped %d", n)
	}
}

// gatedSource lets a test change the data between a scan and the caching
// of the tile made from it.
type gatedSource struct {
	PartSource
	first   atomic.Bool
	scanned chan struct{}
	proceed chan struct{}
}

func (g *gatedSource) Scan(ctx context.Context, b orb.Bound, f parts.Filter, fn func(e parts.Entry) bool) error {
	err := g.PartSource.Scan(ctx, b, f, fn)
	if g.first.CompareAndSwap(false, true) {
		close(g.scanned)
		<-g.proceed
	}
	return err
}

// TestRacingEncodeDoesNotResurrectStaleTile: an Encode that read the data
// before a change must not cache its (stale) tile after the change dropped
// the tile.
func TestRacingEncodeDoesNotResurrectStaleTile(t *testing.T) {
	f := newFixture(t, Options{})
	gs := &gatedSource{PartSource: f.reg, scanned: make(chan struct{}), proceed: make(chan struct{})}
	m := New(gs, f.grids, Options{})
	old := fixtureParts()[0]
	tl := maptile.At(old.Geometry.(orb.Point), 18)
	done := make(chan Tile)
	go func() {
		tile, err := m.Encode(context.Background(), LayerParts, tl, parts.Filter{})
		if err != nil {
			t.Error(err)
		}
		done <- tile
	}()
	<-gs.scanned
	moved := old
	moved.Geometry = orb.Point{old.Geometry.(orb.Point)[0] + 0.02, old.Geometry.(orb.Point)[1]}
	moved.Version++
	f.reg.Put(moved) // the last step of the twin's write path
	m.PartChanged(&old, &moved)
	// a caller after the change must not wait for the stale encoding
	after := mustEncode(t, m, LayerParts, tl, parts.Filter{})
	if _, ok := findFeature(t, after, LayerParts, uint64(old.Code)); ok {
		t.Errorf("a caller after the change got the tile from before it")
	}
	if s := m.Stats(); s.Shared != 0 {
		t.Errorf("a caller after the change joined the encoding from before it: %+v", s)
	}
	close(gs.proceed)
	stale := <-done
	if _, ok := findFeature(t, stale, LayerParts, uint64(old.Code)); !ok {
		t.Fatalf("test setup: the racing encode should have seen the old state")
	}
	if s := m.Stats(); s.StaleBlocks != 1 || s.Entries != 1 {
		t.Errorf("stats %+v: want the stale tile refused and the fresh one cached", s)
	}
	fresh := mustEncode(t, m, LayerParts, tl, parts.Filter{})
	if _, ok := findFeature(t, fresh, LayerParts, uint64(old.Code)); ok {
		t.Errorf("the stale tile came back from the cache")
	}
}

// TestConcurrentEncodeAndChange runs encoders against a writer that moves a
// part back and forth; at the end every cached tile must equal a fresh
// encoding (run with -race).
func TestConcurrentEncodeAndChange(t *testing.T) {
	f := newFixture(t, Options{})
	// The writer and the aggregates' build exclude each other as the
	// twin's write mutex makes them do (Twin.Exclusive).
	var wmu sync.Mutex
	f.m.SetHold(func(fn func()) {
		wmu.Lock()
		defer wmu.Unlock()
		fn()
	})
	ctx := context.Background()
	p := fixtureParts()[3]
	a := p.Geometry.(orb.Point)
	b := orb.Point{a[0] + 0.003, a[1] + 0.002}
	var tilesToProbe []maptile.Tile
	for z := maptile.Zoom(8); z <= 19; z++ {
		tilesToProbe = append(tilesToProbe, maptile.At(a, z), maptile.At(b, z))
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, tl := range tilesToProbe {
					if _, err := f.m.Encode(ctx, LayerCity, tl, parts.Filter{}); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	cur := p
	for i := 0; i < 60; i++ {
		next := cur
		if i%2 == 0 {
			next.Geometry = b
		} else {
			next.Geometry = a
		}
		next.Version++
		wmu.Lock()
		f.reg.Put(next) // the last step of the twin's write path
		f.m.PartChanged(&cur, &next)
		wmu.Unlock()
		cur = next
	}
	close(stop)
	wg.Wait()
	if err := f.m.Build(ctx); err != nil { // (waits for the one in the background)
		t.Fatal(err)
	}
	fresh := New(f.reg, f.grids, Options{})
	for _, tl := range tilesToProbe {
		got := mustEncode(t, f.m, LayerCity, tl, parts.Filter{})
		want := mustEncode(t, fresh, LayerCity, tl, parts.Filter{})
		if got.ETag != want.ETag {
			t.Errorf("%d/%d/%d: cached tile differs from a fresh encoding", tl.Z, tl.X, tl.Y)
		}
	}
}

// countingSource counts scans and holds each one until released.
type countingSource struct {
	PartSource
	scans   chan struct{}
	release chan struct{}
}

func (c *countingSource) Scan(ctx context.Context, b orb.Bound, f parts.Filter, fn func(e parts.Entry) bool) error {
	c.scans <- struct{}{}
	<-c.release
	return c.PartSource.Scan(ctx, b, f, fn)
}

// TestConcurrentMissesEncodeOnce: callers asking for the same uncached tile
// at once share one encoding.
func TestConcurrentMissesEncodeOnce(t *testing.T) {
	f := newFixture(t, Options{})
	cs := &countingSource{PartSource: f.reg, scans: make(chan struct{}, 16), release: make(chan struct{})}
	m := New(cs, nil, Options{})
	tl := maptile.At(fixCenter, 17)
	const callers = 6
	var wg sync.WaitGroup
	etags := make(chan string, callers)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tile, err := m.Encode(context.Background(), LayerParts, tl, parts.Filter{})
			if err != nil {
				t.Error(err)
			}
			etags <- tile.ETag
		}()
	}
	<-cs.scans // the first caller is scanning
	for m.Stats().Shared < callers-1 {
		time.Sleep(time.Millisecond)
	}
	close(cs.release)
	wg.Wait()
	close(etags)
	if n := len(cs.scans); n != 0 {
		t.Errorf("%d more scans, want the callers to share one", n)
	}
	first := ""
	for e := range etags {
		if first == "" {
			first = e
		}
		if e != first || e == "" {
			t.Errorf("callers got different tiles: %s and %s", first, e)
		}
	}
}

package tiles

import (
	"context"
	"testing"

	"citytwin/parts"

	"github.com/paulmach/orb/maptile"
)

// denseSource returns n synthetic components packed into the z14 tile
// around the fixture centre.
func denseSource(t testing.TB, n int) (*sliceSource, maptile.Tile) {
	t.Helper()
	t14 := maptile.At(fixCenter, 14)
	src := &sliceSource{entries: make([]parts.Entry, 0, n)}
	s := Synthetic{N: n, Seed: 3, Center: t14.Center(), SizeKm: 1.9}
	err := s.Each(nil, func(p parts.Part) bool {
		src.entries = append(src.entries, parts.Entry{Code: p.Code, Class: p.Class, State: p.State, Owner: p.Owner, Geometry: p.Geometry})
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return src, t14
}

const maxTileBytes = 500 << 10

// TestDenseTilesStaySmall packs 200,000 components into one z14 tile and
// checks that no tile from z0 to z14 over it exceeds 500 KB gzipped, and
// that the thinned ones (z12-z14) tell how many components they left out.
func TestDenseTilesStaySmall(t *testing.T) {
	if testing.Short() {
		t.Skip("dense fixture")
	}
	src, t14 := denseSource(t, 200_000)
	m := New(src, nil, Options{CacheBytes: -1})
	if err := m.Build(context.Background()); err != nil {
		t.Fatal(err)
	}
	for z := maptile.Zoom(0); z <= 14; z++ {
		tl := maptile.At(t14.Center(), z)
		tile := mustEncode(t, m, LayerParts, tl, parts.Filter{})
		t.Logf("z%-2d %7d bytes %v", z, len(tile.Data), tile.Features)
		if len(tile.Data) > maxTileBytes {
			t.Errorf("z%d tile is %d bytes gzipped, more than %d", z, len(tile.Data), maxTileBytes)
		}
		if z >= 12 {
			if n := tile.Features[LayerParts]; n == 0 || n > m.o.MaxFeatures+m.o.MaxFeatures/4 {
				t.Errorf("z%d tile holds %d components, want 1..%d", z, n, m.o.MaxFeatures+m.o.MaxFeatures/4)
			}
			// it tells how many it left out
			agg := layerNamed(decode(t, tile), LayerPartsAgg)
			if agg == nil || len(agg.Features) != 1 {
				t.Fatalf("z%d: a thinned tile without its one-feature %s layer", z, LayerPartsAgg)
			}
			props := agg.Features[0].Properties
			count, omitted := props.MustInt("count"), props.MustInt("omitted")
			if count < 100_000 || omitted < count-tile.Features[LayerParts] || omitted >= count {
				t.Errorf("z%d: count %d, omitted %d, with %d features", z, count, omitted, tile.Features[LayerParts])
			}
		}
	}
}

// TestThinningIsStableAndNested: the sample kept by thinning is the same on
// every encoding, and what z12 keeps, z13 keeps, and what z13 keeps, z14
// keeps.
func TestThinningIsStableAndNested(t *testing.T) {
	src, t14 := denseSource(t, 30_000)
	o := Options{MaxFeatures: 2000, CacheBytes: -1}
	m := New(src, nil, o)
	ids := func(z maptile.Zoom) map[uint64]bool {
		tile := mustEncode(t, m, LayerParts, maptile.At(t14.Center(), z), parts.Filter{})
		set := map[uint64]bool{}
		for _, ft := range layerNamed(decode(t, tile), LayerParts).Features {
			set[uint64(ft.ID.(float64))] = true
		}
		return set
	}
	prev := map[uint64]bool(nil)
	for z := maptile.Zoom(12); z <= 14; z++ {
		a, b := ids(z), ids(z)
		if len(a) != len(b) {
			t.Fatalf("z%d: two encodings keep %d and %d components", z, len(a), len(b))
		}
		for id := range a {
			if !b[id] {
				t.Fatalf("z%d: %d kept once, not twice", z, id)
			}
		}
		if len(a) > 2500 || len(a) < 500 {
			t.Errorf("z%d keeps %d components, want 500..2500 for a budget of 2000", z, len(a))
		}
		for id := range prev {
			// ids of the lower zoom inside this zoom's tile must be kept here
			if !a[id] && inTile(src, id, maptile.At(t14.Center(), z)) {
				t.Errorf("z%d keeps %d, z%d does not", z-1, id, z)
			}
		}
		prev = a
	}
}

func inTile(src *sliceSource, id uint64, tl maptile.Tile) bool {
	for _, e := range src.entries {
		if uint64(e.Code) == id {
			pt, _ := anchor(e.Geometry)
			return maptile.At(pt, tl.Z) == tl
		}
	}
	return false
}

package tiles

import (
	"context"
	"slices"
	"testing"

	"citytwin/parts"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
)

// densityCity returns a registry of a synthetic city whose z12-z14 tiles
// are, for a budget of 2,000, some sparse and some dense.
func densityCity(t *testing.T) *parts.Registry {
	t.Helper()
	const n = 60_000
	b := parts.NewBuilder(nil, n)
	err := Synthetic{N: n, Seed: 9, Center: fixCenter, SizeKm: 24}.Each(nil, func(p parts.Part) bool {
		if err := b.Add(p); err != nil {
			t.Fatal(err)
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.Build()
}

// searchCodes returns the codes the registry's search finds in a box, in
// code order.
func searchCodes(t *testing.T, reg *parts.Registry, b orb.Bound) []uint64 {
	t.Helper()
	var out []uint64
	q := parts.Query{BBox: b, Limit: parts.MaxLimit}
	for {
		page, err := reg.Search(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Parts {
			out = append(out, uint64(p.Code))
		}
		if page.Next == "" {
			return out
		}
		q.Cursor = page.Next
	}
}

// tileIDs returns the feature ids of a layer of a tile, sorted.
func tileIDs(t *testing.T, l *mvt.Layer) []uint64 {
	t.Helper()
	if l == nil {
		return nil
	}
	out := make([]uint64, 0, len(l.Features))
	for _, ft := range l.Features {
		out = append(out, uint64(ft.ID.(float64)))
	}
	slices.Sort(out)
	return out
}

// anchoredIn counts, by code, the registry's components anchored in a tile
// (the centre of their box in it), as the count pyramid files them.
func anchoredIn(reg *parts.Registry, tl maptile.Tile) map[uint64]bool {
	out := map[uint64]bool{}
	reg.Each(func(p parts.Part) bool {
		if pt, ok := anchor(p.Geometry); ok && maptile.At(pt, tl.Z) == tl {
			out[uint64(p.Code)] = true
		}
		return true
	})
	return out
}

// TestThinByDensity: at z12-z14 a tile with at most MaxFeatures components
// carries every one of them, whatever its class (all that the registry's
// search finds in the tile, nothing beyond the buffer), from the index and
// from a scan of the registry alike; a denser tile keeps at most a quarter
// over its budget, highest priorities first, and its "parts_agg" layer
// tells exactly how many of the components anchored in it were left out.
func TestThinByDensity(t *testing.T) {
	reg := densityCity(t)
	o := Options{MaxFeatures: 2000, CacheBytes: -1}
	indexed := New(reg, nil, o)
	if err := indexed.Build(context.Background()); err != nil {
		t.Fatal(err)
	}
	scanned := noIndex(t, reg, o)
	sparse, dense, lowPrio := 0, 0, 0
	for z := maptile.Zoom(12); z <= 14; z++ {
		lo := maptile.At(orb.Point{fixCenter[0] - 0.1, fixCenter[1] + 0.09}, z)
		hi := maptile.At(orb.Point{fixCenter[0] + 0.1, fixCenter[1] - 0.09}, z)
		for x := lo.X; x <= hi.X; x++ {
			for y := lo.Y; y <= hi.Y; y++ {
				tl := maptile.New(x, y, z)
				in := searchCodes(t, reg, tl.Bound())
				if len(in) == 0 {
					continue
				}
				tile := mustEncode(t, indexed, LayerParts, tl, parts.Filter{})
				if other := mustEncode(t, scanned, LayerParts, tl, parts.Filter{}); other.ETag != tile.ETag {
					t.Fatalf("%d/%d/%d: the indexed tile (%v) differs from the scanned one (%v)", z, x, y, tile.Features, other.Features)
				}
				ls := decode(t, tile)
				got := tileIDs(t, layerNamed(ls, LayerParts))
				anchored := anchoredIn(reg, tl)
				agg := layerNamed(ls, LayerPartsAgg)
				if len(anchored) <= o.MaxFeatures {
					sparse++
					if agg != nil {
						t.Errorf("%d/%d/%d: %d components, within budget, but the tile has a %s layer", z, x, y, len(anchored), LayerPartsAgg)
					}
					for _, c := range in {
						if _, ok := slices.BinarySearch(got, c); !ok {
							t.Fatalf("%d/%d/%d: %d components, within budget: %s (class %s) is missing",
								z, x, y, len(anchored), parts.Code(c), parts.Code(c).Class())
						}
						if indexed.priority(parts.Code(c).Class()) == 1 {
							lowPrio++
						}
					}
					buffered := searchCodes(t, reg, newProjection(tl, indexed.o.Buffer, 0).lonlat)
					for _, c := range got {
						if _, ok := slices.BinarySearch(buffered, c); !ok {
							t.Fatalf("%d/%d/%d: %s is not in the buffered tile", z, x, y, parts.Code(c))
						}
					}
					continue
				}
				dense++
				if len(got) > o.MaxFeatures+o.MaxFeatures/4 {
					t.Errorf("%d/%d/%d: %d features, more than %d", z, x, y, len(got), o.MaxFeatures+o.MaxFeatures/4)
				}
				if agg == nil || len(agg.Features) != 1 {
					t.Fatalf("%d/%d/%d: %d components, thinned to %d, and no one-feature %s layer", z, x, y, len(anchored), len(got), LayerPartsAgg)
				}
				props := agg.Features[0].Properties
				keptIn := 0
				for _, c := range got {
					if anchored[c] {
						keptIn++
					}
				}
				count, omitted := props.MustInt("count"), props.MustInt("omitted")
				if count != len(anchored) || omitted != count-keptIn || omitted == 0 {
					t.Errorf("%d/%d/%d: count %d omitted %d, want %d and %d", z, x, y, count, omitted, len(anchored), len(anchored)-keptIn)
				}
				sum := 0
				for k, v := range props {
					if len(k) == len("omitted_c0101") && k[:9] == "omitted_c" {
						sum += int(v.(float64))
					}
				}
				if sum != omitted {
					t.Errorf("%d/%d/%d: omitted by class adds up to %d, not %d", z, x, y, sum, omitted)
				}
			}
		}
	}
	t.Logf("%d sparse tiles (%d low-priority components in them), %d dense", sparse, lowPrio, dense)
	if sparse < 10 || dense < 3 || lowPrio == 0 {
		t.Errorf("%d sparse tiles with %d low-priority components, %d dense: the city does not test both", sparse, lowPrio, dense)
	}
}

// TestThinByDensityFiltered: a filter the count pyramid does not answer
// (owner) thins by the exact count of what passes it: within budget, every
// component that passes is in the tile.
func TestThinByDensityFiltered(t *testing.T) {
	reg := densityCity(t)
	o := Options{MaxFeatures: 2000, CacheBytes: -1}
	m := New(reg, nil, o)
	if err := m.Build(context.Background()); err != nil {
		t.Fatal(err)
	}
	f := parts.Filter{Owner: parts.DeptLandscape}
	checked := 0
	for z := maptile.Zoom(12); z <= 14; z++ {
		tl := maptile.At(fixCenter, z)
		all := anchoredIn(reg, tl)
		if len(all) <= o.MaxFeatures {
			continue // not dense without the filter
		}
		q := parts.Query{BBox: tl.Bound(), Filter: f, Limit: parts.MaxLimit}
		page, err := reg.Search(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if page.NumberMatched > o.MaxFeatures || page.Next != "" {
			continue
		}
		checked++
		got := tileIDs(t, layerNamed(decode(t, mustEncode(t, m, LayerParts, tl, f)), LayerParts))
		for _, p := range page.Parts {
			if _, ok := slices.BinarySearch(got, uint64(p.Code)); !ok {
				t.Fatalf("z%d: %d of %d components pass the owner filter, within budget: %s is missing", z, page.NumberMatched, len(all), p.Code)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no dense tile whose owner-filtered content is within budget")
	}
}

// TestCacheOff: CacheBytes -1 (what serve --tile-cache-mb 0 asks) turns the
// cache off: two requests of a tile both encode it; 0 takes the default.
func TestCacheOff(t *testing.T) {
	if got := (Options{CacheBytes: -1}).withDefaults().CacheBytes; got != -1 {
		t.Errorf("CacheBytes -1 became %d", got)
	}
	if got := (Options{}).withDefaults().CacheBytes; got != DefaultOptions().CacheBytes {
		t.Errorf("CacheBytes 0 became %d, want the default", got)
	}
	for _, tc := range []struct {
		bytes   int64
		encodes int
	}{{-1, 2}, {0, 1}} {
		f := newFixture(t, Options{CacheBytes: tc.bytes})
		encodes := 0
		f.m.beforeEncode = func(string, maptile.Tile) { encodes++ }
		tl := maptile.At(fixCenter, 16)
		a := mustEncode(t, f.m, LayerCity, tl, parts.Filter{})
		b := mustEncode(t, f.m, LayerCity, tl, parts.Filter{})
		if a.ETag != b.ETag {
			t.Errorf("CacheBytes %d: two requests gave different tiles", tc.bytes)
		}
		st := f.m.Stats()
		if encodes != tc.encodes || st.Misses != uint64(tc.encodes) || st.Hits != uint64(2-tc.encodes) {
			t.Errorf("CacheBytes %d: %d encodings, %d misses, %d hits; want %d encodings", tc.bytes, encodes, st.Misses, st.Hits, tc.encodes)
		}
		if tc.bytes < 0 && (st.Entries != 0 || st.Bytes != 0) {
			t.Errorf("CacheBytes %d: the cache holds %d tiles (%d bytes)", tc.bytes, st.Entries, st.Bytes)
		}
	}
}

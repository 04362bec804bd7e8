package tiles

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"citytwin/parts"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

func TestCacheIsBoundedLRU(t *testing.T) {
	const limit = 12 << 10
	f := newFixture(t, Options{CacheBytes: limit})
	var tiles []maptile.Tile
	for z := maptile.Zoom(12); z <= 20; z++ {
		tiles = append(tiles, maptile.At(fixCenter, z))
	}
	for _, tl := range tiles {
		mustEncode(t, f.m, LayerCity, tl, parts.Filter{})
		mustEncode(t, f.m, LayerCity, tiles[len(tiles)-1], parts.Filter{}) // keep the last one hot
	}
	s := f.m.Stats()
	if s.Bytes > limit {
		t.Errorf("cache holds %d bytes, limit %d", s.Bytes, limit)
	}
	if s.Evictions == 0 {
		t.Errorf("no evictions with a %d byte cache: %+v", limit, s)
	}
	if !cached(t, f.m, LayerCity, tiles[len(tiles)-1], parts.Filter{}) {
		t.Errorf("the most recently used tile was evicted")
	}
	if cached(t, f.m, LayerCity, tiles[0], parts.Filter{}) {
		t.Errorf("the least recently used big tile is still cached")
	}
	if s.Hits == 0 || s.Misses == 0 {
		t.Errorf("stats %+v count no hits or no misses", s)
	}

	off := newFixture(t, Options{CacheBytes: -1})
	mustEncode(t, off.m, LayerParts, tiles[0], parts.Filter{})
	if cached(t, off.m, LayerParts, tiles[0], parts.Filter{}) || off.m.Stats().Entries != 0 {
		t.Errorf("a disabled cache cached a tile")
	}
}

func TestFilterKeyIsCanonical(t *testing.T) {
	day := time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("CST", 8*3600))
	cases := map[string]struct {
		a, b parts.Filter
		same bool
	}{
		"zero and empty lists": {parts.Filter{}, parts.Filter{Classes: []parts.Class{}, States: []parts.State{}}, true},
		"class order":          {parts.Filter{Classes: []parts.Class{118, 101}}, parts.Filter{Classes: []parts.Class{101, 118, 101}}, true},
		"states differ":        {parts.Filter{States: []parts.State{0}}, parts.Filter{States: []parts.State{1}}, false},
		"same instant":         {parts.Filter{ChangedSince: day}, parts.Filter{ChangedSince: day.UTC()}, true},
		"owner vs dept":        {parts.Filter{Owner: "water"}, parts.Filter{Dept: "water"}, false},
		"majors":               {parts.Filter{Majors: []int{2, 1}}, parts.Filter{Majors: []int{1, 2}}, true},
		"class vs major":       {parts.Filter{Classes: []parts.Class{101}}, parts.Filter{Majors: []int{101}}, false},
		"quoted owner":         {parts.Filter{Owner: `a;o="b"`}, parts.Filter{Owner: "a", Dept: "b"}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := filterKey(tc.a) == filterKey(tc.b); got != tc.same {
				t.Errorf("keys %q and %q: same = %v, want %v", filterKey(tc.a), filterKey(tc.b), got, tc.same)
			}
		})
	}
}

func TestTileJSON(t *testing.T) {
	f := newFixture(t, Options{})
	url := "https://example.org/tiles/city/{z}/{x}/{y}.mvt"
	cases := map[string]struct {
		layer  string
		layers []string
	}{
		"parts":   {LayerParts, []string{LayerPartsAgg, LayerParts}},
		"grids":   {LayerGrids, []string{LayerDivisions, LayerGrids}},
		"city":    {LayerCity, []string{LayerPartsAgg, LayerParts, LayerDivisions, LayerGrids}},
		"unknown": {"roads", nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tj := f.m.TileJSON(tc.layer, url)
			if tj.TileJSON != "3.0.0" || tj.MinZoom != 0 || tj.MaxZoom != 22 || len(tj.Tiles) != 1 || tj.Tiles[0] != url {
				t.Errorf("header %+v", tj)
			}
			var ids []string
			for _, vl := range tj.VectorLayers {
				ids = append(ids, vl.ID)
				if len(vl.Fields) == 0 {
					t.Errorf("layer %s has no fields", vl.ID)
				}
			}
			if strings.Join(ids, ",") != strings.Join(tc.layers, ",") {
				t.Errorf("vector layers %v, want %v", ids, tc.layers)
			}
			b := orb.Bound{Min: orb.Point{tj.Bounds[0], tj.Bounds[1]}, Max: orb.Point{tj.Bounds[2], tj.Bounds[3]}}
			if !b.Contains(fixCenter) || b.Max[0]-b.Min[0] > 0.1 {
				t.Errorf("bounds %v do not fit the fixture around %v", tj.Bounds, fixCenter)
			}
			js, err := json.Marshal(tj)
			if err != nil || !strings.Contains(string(js), `"vector_layers":[`) || !strings.Contains(string(js), `"tilejson":"3.0.0"`) {
				t.Errorf("json %s, %v", js, err)
			}
		})
	}
	for _, vl := range f.m.TileJSON(LayerParts, url).VectorLayers {
		if vl.ID == LayerParts {
			for _, k := range []string{"code", "class", "state", "owner"} {
				if _, ok := vl.Fields[k]; !ok {
					t.Errorf("parts layer lacks field %s", k)
				}
			}
		}
	}
}

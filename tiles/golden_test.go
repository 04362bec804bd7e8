package tiles

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"citytwin/parts"

	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
)

var update = flag.Bool("update", false, "rewrite the golden tiles in testdata/tiles")

const goldenDir = "../testdata/tiles"

type goldenCase struct {
	layer  string
	tile   maptile.Tile
	filter parts.Filter
	opts   Options
}

func goldenCases() map[string]goldenCase {
	at := func(z maptile.Zoom) maptile.Tile { return maptile.At(fixCenter, z) }
	return map[string]goldenCase{
		"parts_z18":          {layer: LayerParts, tile: at(18)},
		"parts_z16":          {layer: LayerParts, tile: at(16)},
		"parts_z16_filtered": {layer: LayerParts, tile: at(16), filter: parts.Filter{Classes: []parts.Class{118, 405}, States: []parts.State{parts.Intact, parts.Occupied}}},
		"parts_z13_thinned":  {layer: LayerParts, tile: at(13), opts: Options{MaxFeatures: 40}},
		"parts_z10_agg":      {layer: LayerParts, tile: at(10)},
		"grids_z16":          {layer: LayerGrids, tile: at(16)},
		"grids_z10_outlines": {layer: LayerGrids, tile: at(10)},
		"city_z17":           {layer: LayerCity, tile: at(17)},
	}
}

// goldenLayer is the JSON twin of one decoded layer, in tile coordinates.
type goldenLayer struct {
	Name     string                     `json:"name"`
	Version  uint32                     `json:"version"`
	Extent   uint32                     `json:"extent"`
	Features *geojson.FeatureCollection `json:"features"`
}

func twin(t *testing.T, raw []byte) []byte {
	t.Helper()
	ls, err := mvt.Unmarshal(raw)
	if err != nil {
		t.Fatalf("mvt.Unmarshal: %v", err)
	}
	out := make([]goldenLayer, 0, len(ls))
	for _, l := range ls {
		fc := geojson.NewFeatureCollection()
		fc.Features = l.Features
		out = append(out, goldenLayer{Name: l.Name, Version: l.Version, Extent: l.Extent, Features: fc})
	}
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		t.Fatalf("marshal twin: %v", err)
	}
	return append(b, '\n')
}

func TestGolden(t *testing.T) {
	for name, tc := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, tc.opts)
			tile := mustEncode(t, f.m, tc.layer, tc.tile, tc.filter)
			raw := gunzip(t, tile.Data)
			js := twin(t, raw)
			mvtPath := filepath.Join(goldenDir, name+".mvt")
			jsonPath := filepath.Join(goldenDir, name+".json")
			if *update {
				if err := os.WriteFile(mvtPath, raw, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(jsonPath, js, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(mvtPath)
			if err != nil {
				t.Fatalf("%v (run go test ./tiles -run TestGolden -update)", err)
			}
			wantJSON, err := os.ReadFile(jsonPath)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(js, wantJSON) {
				t.Errorf("decoded tile differs from %s:\n%s", jsonPath, js)
			}
			if !bytes.Equal(raw, want) {
				t.Errorf("tile bytes differ from %s (%d vs %d bytes)", mvtPath, len(raw), len(want))
			}
			n := 0
			for _, c := range tile.Features {
				n += c
			}
			if n == 0 {
				t.Errorf("golden tile %s has no features", name)
			}
		})
	}
}

// TestStableMarshalling encodes every golden case twice, each time with a
// fresh map and sources, and expects the same bytes and ETag.
func TestStableMarshalling(t *testing.T) {
	for name, tc := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			a := mustEncode(t, newFixture(t, tc.opts).m, tc.layer, tc.tile, tc.filter)
			b := mustEncode(t, newFixture(t, tc.opts).m, tc.layer, tc.tile, tc.filter)
			if !bytes.Equal(a.Data, b.Data) || a.ETag != b.ETag {
				t.Errorf("two encodings differ: %d bytes %s vs %d bytes %s", len(a.Data), a.ETag, len(b.Data), b.ETag)
			}
			if len(a.ETag) != 34 || a.ETag[0] != '"' {
				t.Errorf("ETag %s is not a quoted 32-hex-digit strong tag", a.ETag)
			}
		})
	}
}

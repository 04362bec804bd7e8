package ingest

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"citytwin/parts"

	"github.com/paulmach/orb"
)

// TestOSMMonaco reads the Monaco extract of ../shared/data with the
// shipped tag rules.
func TestOSMMonaco(t *testing.T) {
	path := filepath.Join(dataDir(), "monaco-latest.osm.pbf")
	f, err := os.Open(path)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("real data not available in CI: %v", err)
		}
		t.Skipf("no Monaco extract: %v", err)
	}
	defer f.Close()
	if got, _ := DetectFormat(path, nil); got != OSM {
		t.Fatalf("DetectFormat = %q, want osm", got)
	}
	rd, err := NewReader(f, OSM, Mapping{County: 320508}, nil)
	if err != nil {
		t.Fatal(err)
	}
	byClass := map[parts.Class]int{}
	kinds := map[string]int{}
	ids := map[string]bool{}
	for {
		p, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *RowError
		if errors.As(err, &re) {
			t.Logf("skipped: %v", re)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		byClass[p.Class]++
		kinds[p.Geometry.GeoJSONType()]++
		if ids[p.SourceID] {
			t.Fatalf("source id %s twice", p.SourceID)
		}
		ids[p.SourceID] = true
		if b := p.Geometry.Bound(); b.Min[0] < 7.3 || b.Max[0] > 7.6 || b.Min[1] < 43.6 || b.Max[1] > 43.9 {
			t.Fatalf("%s (%s) at %v: outside Monaco", p.Code, p.SourceID, b)
		}
	}
	t.Logf("classes %v, geometries %v, elements %d", byClass, kinds, rd.src.(*osmSource).elements)
	// The extract's README counts 96 benches, 94 bus stops, 40 waste
	// baskets and 17 street lamps among its nodes (ways add some).
	for c, min := range map[parts.Class]int{407: 96, 203: 94, 305: 40, 118: 17, 402: 400, 214: 15} {
		if byClass[c] < min {
			t.Errorf("class %s: %d components, want at least %d", c, byClass[c], min)
		}
	}
	if rd.src.(*osmSource).elements < 46000 {
		t.Errorf("read %d elements, the extract has 46,444 nodes", rd.src.(*osmSource).elements)
	}
}

func TestOSMRules(t *testing.T) {
	rs := DefaultOSMRules()
	for tags, want := range map[string]parts.Class{
		"highway=street_lamp":                           118,
		"emergency=fire_hydrant":                        113,
		"amenity=bench":                                 407,
		"highway=bus_stop":                              203,
		"man_made=manhole":                              114,
		"man_made=manhole+manhole=drain":                103,
		"man_made=manhole+manhole=sewer":                102,
		"amenity=waste_basket+name=x":                   305,
		"amenity=shelter+shelter_type=public_transport": 203,
	} {
		m := map[string]string{}
		for _, kv := range splitTags(tags) {
			m[kv[0]] = kv[1]
		}
		if got, ok := classOf(rs, m); !ok || got != want {
			t.Errorf("%s: class %v %v, want %v", tags, got, ok, want)
		}
	}
	if _, ok := classOf(rs, map[string]string{"amenity": "shelter"}); ok {
		t.Error("amenity=shelter alone mapped to a class")
	}
	if _, err := ParseOSMRules("highway=street_lamp 99x"); err == nil {
		t.Error("a bad class parsed")
	}
}

func splitTags(s string) [][2]string {
	r, _ := ParseOSMRules(s + " 0101")
	return r[0].Tags
}

func TestOSMWayGeometry(t *testing.T) {
	s := newOSMSource(nil, nil, parts.DefaultCatalogue())
	for i, p := range []orb.Point{{7.4, 43.7}, {7.41, 43.7}, {7.41, 43.71}, {7.4, 43.7}} {
		s.nodes[int64(i+1)] = p
	}
	closed := osmElement{way: true, id: 9, refs: []int64{1, 2, 3, 4}}
	if g, err := s.wayGeometry(closed, 203); err != nil || g.GeoJSONType() != "Polygon" {
		t.Errorf("bus shelter outline: %v %v, want a Polygon", g, err)
	}
	if g, err := s.wayGeometry(closed, 407); err != nil || g.GeoJSONType() != "LineString" {
		t.Errorf("closed bench: %v %v, want a LineString", g, err)
	}
	if g, err := s.wayGeometry(closed, 118); err != nil || g.GeoJSONType() != "Point" {
		t.Errorf("lamp way: %v %v, want a Point", g, err)
	}
	if _, err := s.wayGeometry(osmElement{way: true, refs: []int64{1, 77}}, 407); err == nil {
		t.Error("a way with a missing node gave a geometry")
	}
}

package api

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citytwin/parts"
)

// stdFeature is what encoding/json writes for f, without HTML escaping.
func stdFeature(t *testing.T, f partFeature) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(f); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// TestFastGeoJSONMatchesEncodingJSON holds the hand-written encoder to the
// bytes encoding/json writes, over awkward strings, numbers and geometries.
func TestFastGeoJSONMatchesEncodingJSON(t *testing.T) {
	strs := []string{"", "上水井盖", `quote " and \ back`, "tab\tnew\nline\r", "\x00\x1f\x7f", "bad utf8 \xff\xfe",
		"line sep \u2028 para \u2029", "<html>&amp;", "emoji 🚰"}
	geoms := []orb.Geometry{
		orb.Point{104.06, 30.66}, orb.Point{-0.000001, 1e-7}, orb.Point{180, -90}, orb.Point{0, 0},
		orb.LineString{{104.1, 30.1}, {104.123456789012, 30.987654321}},
		orb.Polygon{{{1, 1}, {2, 1}, {2, 2}, {1, 1}}, {{1.2, 1.2}, {1.5, 1.2}, {1.5, 1.5}, {1.2, 1.2}}},
		nil,
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func() string { return strs[rng.IntN(len(strs))] }
	for i := 0; i < 500; i++ {
		code := parts.Code(5101040101000000 + uint64(rng.IntN(999999)+1))
		p := parts.Part{Code: code, Class: 101, Name: pick(), Supervisor: pick(), Owner: pick(), Maintainer: pick(),
			Grid: pick(), State: parts.State(rng.IntN(4)), Retired: rng.IntN(2) == 0, Source: parts.Source(rng.IntN(4)),
			Photo: pick(), Note: pick(), SourceName: pick(), SourceID: pick(), Material: pick(), Label: pick(), Version: rng.Uint64N(1 << 40),
			Geometry: geoms[rng.IntN(len(geoms))]}
		if rng.IntN(2) == 0 {
			p.Surveyed = time.Date(2015+rng.IntN(10), 3, 4, 0, 0, 0, 0, time.UTC)
		}
		who := Principal{Role: RolePublic}
		if rng.IntN(2) == 0 {
			who.Role = RoleAdmin
		}
		f := featureOfPart(&p, who)
		if rng.IntN(3) == 0 {
			d := rng.Float64() * 1e4
			f.Properties.Distance = &d
		}
		got := appendPartFeature(nil, &f)
		want := stdFeature(t, f)
		if !bytes.Equal(got, want) {
			t.Fatalf("case %d:\n got %s\nwant %s", i, got, want)
		}
	}
	// A whole page, through the collection encoder, is valid JSON that
	// decodes to what encoding/json's output decodes to.
	n := 3
	fc := newCollection([]partFeature{featureOfPart(&parts.Part{Code: 5101040101000001, Name: "a", Geometry: orb.Point{1, 2}}, Principal{})})
	fc.NumberMatched = &n
	fc.Links = []link{{Href: "http://x/parts?cursor=a&b", Rel: "next", Type: mediaGeoJSON}}
	fc.Missing = []string{"5101040101000009"}
	got, err := marshalPartCollection(fc)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(fc)
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("fast collection is not JSON: %v\n%s", err, got)
	}
	_ = json.Unmarshal(want, &w)
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("collections differ:\n got %s\nwant %s", gb, wb)
	}
}

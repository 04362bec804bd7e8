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

// randomPart draws a component with awkward strings, dates, classes and
// geometries.
func randomPart(rng *rand.Rand) parts.Part {
	strs := []string{"", "上水井盖", `quote " and \ back`, "tab\tnew\nline\r", "\x00\x1f\x7f", "bad utf8 \xff\xfe",
		"line sep \u2028 para \u2029", "<html>&amp;", "emoji 🚰", "a>b", "plain"}
	geoms := []orb.Geometry{
		orb.Point{104.06, 30.66}, orb.Point{-0.000001, 1e-7}, orb.Point{180, -90}, orb.Point{0, 0},
		orb.Point{104.01167803777841, 30.710197229526777},
		orb.LineString{{104.1, 30.1}, {104.123456789012, 30.987654321}},
		orb.Polygon{{{1, 1}, {2, 1}, {2, 2}, {1, 1}}, {{1.2, 1.2}, {1.5, 1.2}, {1.5, 1.5}, {1.2, 1.2}}},
		nil,
	}
	pick := func() string { return strs[rng.IntN(len(strs))] }
	code := parts.Code(rng.Uint64N(1e17)) // beyond 16 digits too
	classes := []parts.Class{0, 7, 101, 118, 602, 9999, 10000, 65535}
	p := parts.Part{Code: code, Class: classes[rng.IntN(len(classes))], Name: pick(), Supervisor: pick(), Owner: pick(),
		Maintainer: pick(), Grid: pick(), State: parts.State(rng.IntN(6)), Retired: rng.IntN(2) == 0,
		Source: parts.Source(rng.IntN(6)), Photo: pick(), Note: pick(), SourceName: pick(), SourceID: pick(),
		Material: pick(), Label: pick(), Version: rng.Uint64(), Geometry: geoms[rng.IntN(len(geoms))]}
	if rng.IntN(2) == 0 {
		p.Surveyed = time.Date(1990+rng.IntN(40), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), 0, 0, 0, time.FixedZone("x", 3600*(rng.IntN(25)-12)))
	}
	if rng.IntN(2) == 0 {
		p.Changed = time.Date(2020+rng.IntN(6), 3, 4, 0, 0, 0, 0, time.UTC)
	}
	return p
}

// TestAppendPartMatches holds appendPart to what the API wrote before:
// encoding/json's Marshal of featureOfPart for one component (HTML
// escaped), appendPartFeature for the features of a collection.
func TestAppendPartMatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	roles := []Principal{{Role: RolePublic}, {Role: RoleAdmin}, {Role: RoleInspector}, {Role: RoleDepartment, Dept: "water"}}
	for i := 0; i < 3000; i++ {
		p := randomPart(rng)
		who := roles[rng.IntN(len(roles))]
		f := featureOfPart(&p, who)
		want, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendPart(nil, &p, who, nil, true); !bytes.Equal(got, want) {
			t.Fatalf("case %d, one component:\n got %s\nwant %s", i, got, want)
		}
		var dist *float64
		if rng.IntN(2) == 0 {
			d := rng.Float64() * 1e4
			if rng.IntN(10) == 0 {
				d = 0
			}
			dist = &d
			f.Properties.Distance = &d
		}
		if got, want := appendPart([]byte("x"), &p, who, dist, false), appendPartFeature([]byte("x"), &f); !bytes.Equal(got, want) {
			t.Fatalf("case %d, in a collection:\n got %s\nwant %s", i, got, want)
		}
	}
}

// TestAppendNearestMatches holds the nearest answer to the collection
// encoder's bytes.
func TestAppendNearestMatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	now := time.Date(2026, 12, 2, 11, 30, 5, 999, time.FixedZone("CST", 8*3600))
	for n := 0; n < 30; n++ {
		ns := make([]parts.Neighbor, n)
		fs := make([]partFeature, n)
		who := Principal{Role: RolePublic}
		if n%2 == 1 {
			who.Role = RoleAdmin
		}
		for i := range ns {
			ns[i] = parts.Neighbor{Part: randomPart(rng), Distance: rng.Float64() * 500}
			fs[i] = featureOfPart(&ns[i].Part, who)
			d := ns[i].Distance
			fs[i].Properties.Distance = &d
		}
		fc := newCollection(fs)
		fc.TimeStamp = now.UTC().Format(time.RFC3339)
		want, err := marshalPartCollection(fc)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendNearest(nil, ns, who, now); !bytes.Equal(got, want) {
			t.Fatalf("%d neighbours:\n got %s\nwant %s", n, got, want)
		}
	}
}

// TestAppendPageMatches holds the bbox page to the collection encoder's
// bytes over featureOfPart, with numberMatched and links.
func TestAppendPageMatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	now := time.Date(2026, 12, 2, 16, 40, 59, 5e8, time.FixedZone("CST", 8*3600))
	roles := []Principal{{Role: RolePublic}, {Role: RoleAdmin}, {Role: RoleDepartment, Dept: "water"}}
	for n := 0; n < 40; n++ {
		page := parts.Page{Parts: make([]parts.Part, n), NumberMatched: n + rng.IntN(1000)}
		who := roles[n%len(roles)]
		fs := make([]partFeature, n)
		for i := range page.Parts {
			page.Parts[i] = randomPart(rng)
			fs[i] = featureOfPart(&page.Parts[i], who)
		}
		links := []link{{Href: "https://example.test/parts?bbox=1,2,3,4&limit=10", Rel: "self", Type: mediaGeoJSON}}
		if n%2 == 0 {
			links = append(links, link{Href: "https://example.test/parts?cursor=a<b&c", Rel: "next", Type: mediaGeoJSON})
		}
		fc := newCollection(fs)
		m := page.NumberMatched
		fc.NumberMatched = &m
		fc.TimeStamp = now.UTC().Format(time.RFC3339)
		fc.Links = links
		want, err := marshalPartCollection(fc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendPage([]byte{}, &page, who, links, now)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%d parts:\n got %s\nwant %s", n, got, want)
		}
	}
}

// TestAppendCountsDocMatches holds the counts encoder to encoding/json.
func TestAppendCountsDocMatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	strs := []string{"", "上水井盖", "a<b&c>", `q"\`, "0101", "\x01", "bad \xff"}
	pick := func() string { return strs[rng.IntN(len(strs))] }
	for i := 0; i < 2000; i++ {
		d := countsDoc{By: pick(), Grid: pick(), Total: rng.IntN(1e6)}
		if rng.IntN(2) == 0 {
			d.BBox = []float64{rng.Float64()*360 - 180, rng.Float64()*180 - 90, 1e-7, 104.084027}
		}
		for j := rng.IntN(5); j > 0; j-- {
			d.Counts = append(d.Counts, classCount{Class: pick(), Major: pick(), Name: pick(), Count: rng.IntN(5000)})
		}
		if d.Counts == nil {
			d.Counts = []classCount{}
		}
		want, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendCountsDoc(nil, &d); !bytes.Equal(got, want) {
			t.Fatalf("case %d:\n got %s\nwant %s", i, got, want)
		}
	}
	for c := parts.Class(0); c < 10010; c += 7 {
		if got := string(appendClassDigits(nil, c)); got != c.String() {
			t.Fatalf("class %d: %q, want %q", c, got, c.String())
		}
	}
}

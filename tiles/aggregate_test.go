package tiles

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"citytwin/parts"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// bruteCount counts the fixture parts whose anchor lies in tile tl and
// that pass f.
func bruteCount(ps []parts.Part, tl maptile.Tile, f parts.Filter) (total int, byClass map[string]int, byMajor map[string]int) {
	byClass, byMajor = map[string]int{}, map[string]int{}
	n := float64(uint64(1) << tl.Z)
	for i := range ps {
		p := &ps[i]
		if !f.Match(p) {
			continue
		}
		pt, _ := anchor(p.Geometry)
		if uint32(worldX(pt[0])*n) != tl.X || uint32(worldY(pt[1])*n) != tl.Y {
			continue
		}
		total++
		byClass["c"+p.Class.String()]++
		byMajor[fmt.Sprintf("m%02d", p.Class.Major())]++
	}
	return
}

func TestAggregateMatchesBruteForce(t *testing.T) {
	f := newFixture(t, Options{})
	ps := fixtureParts()
	filters := map[string]parts.Filter{
		"none":          {},
		"classes":       {Classes: []parts.Class{118, 402}},
		"majors":        {Majors: []int{1}},
		"states":        {States: []parts.State{parts.Damaged, parts.Missing}},
		"class+state":   {Classes: []parts.Class{101}, States: []parts.State{parts.Intact}},
		"owner (scan)":  {Owner: "lighting"},
		"changed since": {ChangedSince: fixDay.AddDate(0, 0, -1)},
		"grid prefix":   {GridPrefix: "510104001001"},
	}
	for fname, flt := range filters {
		for _, z := range []maptile.Zoom{0, 5, 9, 11} {
			t.Run(fmt.Sprintf("%s z%d", fname, z), func(t *testing.T) {
				tl := maptile.At(fixCenter, z)
				tile := mustEncode(t, f.m, LayerParts, tl, flt)
				want, wantClass, wantMajor := bruteCount(ps, tl, flt)
				got := 0
				gotClass, gotMajor := map[string]int{}, map[string]int{}
				if l := layerNamed(decode(t, tile), LayerPartsAgg); l != nil {
					for _, ft := range l.Features {
						c := int(ft.Properties["count"].(float64))
						got += c
						sum := 0
						for k, v := range ft.Properties {
							switch k[0] {
							case 'c':
								if k != "count" {
									gotClass[k] += int(v.(float64))
									sum += int(v.(float64))
								}
							case 'm':
								gotMajor[k] += int(v.(float64))
							}
						}
						if sum != c {
							t.Errorf("cell %v: classes sum to %d, count is %d", ft.ID, sum, c)
						}
						if _, ok := ft.Geometry.(orb.Point); !ok {
							t.Errorf("aggregate feature is a %T, want a point", ft.Geometry)
						}
					}
				}
				if got != want {
					t.Errorf("aggregate counts %d parts, brute force %d", got, want)
				}
				if fmt.Sprint(gotClass) != fmt.Sprint(wantClass) || fmt.Sprint(gotMajor) != fmt.Sprint(wantMajor) {
					t.Errorf("per class %v per major %v, want %v %v", gotClass, gotMajor, wantClass, wantMajor)
				}
			})
		}
	}
}

// TestAggregateDoesNotScan: once built, low-zoom tiles read the pyramid
// and thinned tiles the index, not the source; detail tiles and filters
// the index does not answer scan it.
func TestAggregateDoesNotScan(t *testing.T) {
	src := &sliceSource{}
	for _, p := range fixtureParts() {
		src.entries = append(src.entries, parts.Entry{Code: p.Code, Class: p.Class, State: p.State, Owner: p.Owner, Geometry: p.Geometry})
	}
	m := New(src, nil, Options{})
	if err := m.Build(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := src.scans.Load(); n != 1 {
		t.Fatalf("Build scanned %d times, want 1", n)
	}
	for z := maptile.Zoom(0); z < 12; z++ {
		mustEncode(t, m, LayerParts, maptile.At(fixCenter, z), parts.Filter{Classes: []parts.Class{101}})
	}
	if n := src.scans.Load(); n != 1 {
		t.Errorf("aggregate tiles scanned the source %d times", n-1)
	}
	mustEncode(t, m, LayerParts, maptile.At(fixCenter, 13), parts.Filter{})
	if n := src.scans.Load(); n != 1 {
		t.Errorf("a thinned tile scanned the source %d times, want 0 (the index)", n-1)
	}
	mustEncode(t, m, LayerParts, maptile.At(fixCenter, 13), parts.Filter{Dept: parts.DeptWater})
	if n := src.scans.Load(); n != 2 {
		t.Errorf("a thinned tile with a dept filter scanned %d times, want once", n-1)
	}
	mustEncode(t, m, LayerParts, maptile.At(fixCenter, 15), parts.Filter{})
	if n := src.scans.Load(); n != 3 {
		t.Errorf("a detail tile scanned %d times, want once", n-2)
	}
}

func TestFixtureGridPrefixIsMeaningful(t *testing.T) {
	n := 0
	for _, p := range fixtureParts() {
		if len(p.Grid) == 14 && p.Grid[:12] == "510104001001" {
			n++
		}
	}
	if n == 0 || n == len(fixtureParts()) {
		t.Fatalf("%d of %d fixture parts in community 001: the grid prefix filter would test nothing", n, len(fixtureParts()))
	}
}

func TestSortByCode(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := map[string]struct {
		n, counties int
	}{
		"empty":                {0, 1},
		"short":                {100, 3},
		"radix":                {5000, 5},
		"more than 8 counties": {3000, 12},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			seen := map[parts.Code]bool{}
			var items []partItem
			for len(items) < tc.n {
				c, err := parts.NewCode(uint32(510100+rng.IntN(tc.counties)), parts.Class(101+rng.IntN(30)), uint32(1+rng.IntN(999999)))
				if err != nil || seen[c] {
					continue
				}
				seen[c] = true
				items = append(items, partItem{code: c})
			}
			var scratch []uint64
			keys := sortByCode(items, nil, &scratch)
			if len(keys) != len(items) {
				t.Fatalf("%d keys for %d items", len(keys), len(items))
			}
			for i := 1; i < len(keys); i++ {
				if items[keys[i-1]&idxMask].code >= items[keys[i]&idxMask].code {
					t.Fatalf("position %d: %s before %s", i, items[keys[i-1]&idxMask].code, items[keys[i]&idxMask].code)
				}
			}
		})
	}
}

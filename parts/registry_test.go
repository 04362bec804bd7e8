package parts_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"citytwin/parts"
	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// smallCity builds a registry of n generated parts and returns it with the
// parts (by code) for brute-force checks.
func smallCity(t *testing.T, n int) (*parts.Registry, map[parts.Code]parts.Part) {
	t.Helper()
	cat := parts.DefaultCatalogue()
	g := newCityGen(7, cat)
	b := parts.NewBuilder(cat, n)
	all := map[parts.Code]parts.Part{}
	for range n {
		p := g.next()
		if err := b.Add(p); err != nil {
			t.Fatal(err)
		}
		p.Version = 1
		all[p.Code] = p
	}
	return b.Build(), all
}

// brute returns the sorted codes of live parts passing f and hit.
func brute(all map[parts.Code]parts.Part, f parts.Filter, hit func(g orb.Geometry) bool) []parts.Code {
	var out []parts.Code
	for c, p := range all {
		if !p.Retired && f.Match(&p) && hit(p.Geometry) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

func codesOf(ps []parts.Part) []parts.Code {
	out := make([]parts.Code, len(ps))
	for i := range ps {
		out[i] = ps[i].Code
	}
	return out
}

// randomBox returns a box in the generated city, from tiny to 5 km.
func randomBox(rng *rand.Rand) orb.Bound {
	c := orb.Point{104.06 + (rng.Float64()-0.5)*0.4, 30.66 + (rng.Float64()-0.5)*0.35}
	w := rng.Float64() * 0.05
	h := rng.Float64() * 0.05
	if rng.IntN(10) == 0 {
		w, h = 0, 0
	}
	return orb.Bound{Min: c, Max: orb.Point{c[0] + w, c[1] + h}}
}

var testFilters = []struct {
	name string
	f    parts.Filter
}{
	{"none", parts.Filter{}},
	{"classes", parts.Filter{Classes: []parts.Class{101, 118, 211, 405}}},
	{"majors", parts.Filter{Majors: []int{2, 4}}},
	{"owner", parts.Filter{Owner: parts.DeptDrainage}},
	{"dept", parts.Filter{Dept: parts.DeptCityMgmt}},
	{"dept maintainer", parts.Filter{Dept: "lighting-maint"}},
	{"unknown owner", parts.Filter{Owner: "nobody"}},
	{"states", parts.Filter{States: []parts.State{parts.Damaged, parts.Missing}}},
	{"grid prefix", parts.Filter{GridPrefix: "510104"}},
	{"changed since", parts.Filter{ChangedSince: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)}},
	{"combined", parts.Filter{Majors: []int{1}, States: []parts.State{parts.Intact}, GridPrefix: "510105"}},
}

func TestSearchAgainstBruteForce(t *testing.T) {
	r, all := smallCity(t, 5000)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tf := range testFilters {
		t.Run(tf.name, func(t *testing.T) {
			for range 40 {
				b := randomBox(rng)
				want := brute(all, tf.f, func(g orb.Geometry) bool { return spatial.Intersects(g, b) })
				pg, err := r.Search(ctx, parts.Query{BBox: b, Filter: tf.f, Limit: parts.MaxLimit})
				if err != nil {
					t.Fatal(err)
				}
				if got := codesOf(pg.Parts); !slices.Equal(got, want) {
					t.Fatalf("Search(%v): %d parts, brute force %d", b, len(got), len(want))
				}
				if pg.NumberMatched != len(want) || pg.Next != "" {
					t.Fatalf("NumberMatched %d Next %q, want %d and no next", pg.NumberMatched, pg.Next, len(want))
				}
				counts, err := r.CountByClass(ctx, b, tf.f)
				if err != nil {
					t.Fatal(err)
				}
				total := 0
				wantCounts := map[parts.Class]int{}
				for _, c := range want {
					wantCounts[c.Class()]++
				}
				for cl, n := range counts {
					total += n
					if n != wantCounts[cl] {
						t.Fatalf("CountByClass[%s] = %d, want %d", cl, n, wantCounts[cl])
					}
				}
				if total != len(want) {
					t.Fatalf("CountByClass total %d, want %d", total, len(want))
				}
				var scanned []parts.Code
				if err := r.Scan(ctx, b, tf.f, func(e parts.Entry) bool {
					p := all[e.Code]
					if e.Class != p.Class || e.Owner != p.Owner || e.State != p.State || !geomEqual(e.Geometry, p.Geometry) {
						t.Fatalf("Scan entry %+v does not match part %+v", e, p)
					}
					scanned = append(scanned, e.Code)
					return true
				}); err != nil {
					t.Fatal(err)
				}
				slices.Sort(scanned)
				if !slices.Equal(scanned, want) {
					t.Fatalf("Scan(%v): %d parts, want %d", b, len(scanned), len(want))
				}
			}
		})
	}
}

func geomEqual(a, b orb.Geometry) bool {
	return orb.Equal(a, b)
}

func TestWithinAgainstBruteForce(t *testing.T) {
	r, all := smallCity(t, 5000)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	for range 30 {
		b := randomBox(rng)
		b.Max = orb.Point{b.Min[0] + 0.03, b.Min[1] + 0.03}
		c := b.Center()
		// A triangle-ish shell with a hole in the middle.
		area := orb.Polygon{
			{b.Min, {b.Max[0], b.Min[1]}, {c[0], b.Max[1]}, b.Min},
			{{c[0] - 0.003, c[1] - 0.006}, {c[0] + 0.003, c[1] - 0.006}, {c[0] + 0.003, c[1] - 0.002}, {c[0] - 0.003, c[1] - 0.002}, {c[0] - 0.003, c[1] - 0.006}},
		}
		for _, ar := range []orb.Geometry{area, orb.MultiPolygon{area, b.ToPolygon()}} {
			for _, tf := range testFilters[:4] {
				want := brute(all, tf.f, func(g orb.Geometry) bool { return spatial.IntersectsArea(g, ar) })
				var got []parts.Code
				cursor := ""
				for {
					pg, err := r.Within(ctx, ar, tf.f, 37, cursor)
					if err != nil {
						t.Fatal(err)
					}
					if pg.NumberMatched != len(want) {
						t.Fatalf("NumberMatched %d, want %d", pg.NumberMatched, len(want))
					}
					got = append(got, codesOf(pg.Parts)...)
					if cursor = pg.Next; cursor == "" {
						break
					}
				}
				if !slices.Equal(got, want) {
					t.Fatalf("Within (%s): %d parts, want %d", tf.name, len(got), len(want))
				}
			}
		}
	}
}

func TestNearestAgainstBruteForce(t *testing.T) {
	r, all := smallCity(t, 3000)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tf := range testFilters {
		t.Run(tf.name, func(t *testing.T) {
			for range 30 {
				pt := randomBox(rng).Min
				if rng.IntN(5) == 0 { // far away: the tree walk serves it
					pt = orb.Point{104.06 + (rng.Float64()-0.5)*4, 30.66 + (rng.Float64()-0.5)*4}
				}
				k := 1 + rng.IntN(30)
				maxDist := 0.0
				if rng.IntN(3) == 0 {
					maxDist = rng.Float64() * 2000
				}
				if rng.IntN(10) == 0 {
					k = 300
				}
				type nd struct {
					c parts.Code
					d float64
				}
				var want []nd
				for c, p := range all {
					if d := spatial.Distance(pt, p.Geometry); tf.f.Match(&p) && (maxDist == 0 || d <= maxDist) {
						want = append(want, nd{c, d})
					}
				}
				slices.SortFunc(want, func(a, b nd) int {
					if a.d != b.d {
						if a.d < b.d {
							return -1
						}
						return 1
					}
					return int(a.c>>1) - int(b.c>>1)
				})
				want = want[:min(k, len(want))]
				got, err := r.Nearest(ctx, pt, k, tf.f, maxDist)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(want) {
					t.Fatalf("Nearest k=%d: %d results, want %d", k, len(got), len(want))
				}
				for i := range got {
					if got[i].Part.Code != want[i].c || got[i].Distance != want[i].d {
						t.Fatalf("Nearest #%d = %s at %v, want %s at %v", i, got[i].Part.Code, got[i].Distance, want[i].c, want[i].d)
					}
				}
			}
		})
	}
}

func TestPagingWhileWriting(t *testing.T) {
	r, all := smallCity(t, 4000)
	ctx := context.Background()
	b := orb.Bound{Min: orb.Point{104.0, 30.6}, Max: orb.Point{104.12, 30.72}}
	initial := brute(all, parts.Filter{}, func(g orb.Geometry) bool { return spatial.Intersects(g, b) })
	if len(initial) < 500 {
		t.Fatalf("test box holds only %d parts", len(initial))
	}
	rng := rand.New(rand.NewPCG(8, 9))
	g := newCityGen(99, r.Catalogue())
	retired := map[parts.Code]bool{}
	seen := map[parts.Code]bool{}
	var order []parts.Code
	cursor := ""
	for pages := 0; ; pages++ {
		pg, err := r.Search(ctx, parts.Query{BBox: b, Limit: 50, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pg.Parts {
			if seen[p.Code] {
				t.Fatalf("part %s returned twice", p.Code)
			}
			seen[p.Code] = true
			order = append(order, p.Code)
		}
		if cursor = pg.Next; cursor == "" {
			break
		}
		// Between pages: retire two random parts, add two new ones.
		for range 2 {
			c := initial[rng.IntN(len(initial))]
			if !retired[c] {
				retirePart(t, r, c)
				retired[c] = true
			}
			p := g.next()
			p.Code += 500000 // serials away from the first generator's
			addPart(t, r, p)
		}
	}
	if !slices.IsSorted(order) {
		t.Fatal("pages are not in code order")
	}
	// Every part present throughout is returned exactly once.
	for _, c := range initial {
		if !retired[c] && !seen[c] {
			t.Fatalf("part %s present throughout was never returned", c)
		}
	}
}

func TestSearchEdgeCases(t *testing.T) {
	r := parts.NewRegistry(nil)
	ctx := context.Background()
	mk := func(code string, g orb.Geometry) parts.Part {
		c, err := parts.ParseCode(code)
		if err != nil {
			t.Fatal(err)
		}
		return parts.Part{Code: c, Geometry: g}
	}
	add := func(p parts.Part) {
		addPart(t, r, p)
	}
	add(mk("5101040101000001", orb.Point{104, 30}))                                                   // on the box's min corner
	add(mk("5101040101000002", orb.Point{104.01, 30.005}))                                            // on the max edge
	add(mk("5101040211000001", orb.LineString{{103.9, 30.004}, {104.1, 30.004}}))                     // crosses, no vertex inside
	add(mk("5101040405000001", orb.Polygon{{{103, 29}, {105, 29}, {105, 31}, {103, 31}, {103, 29}}})) // holds the whole box
	add(mk("5101040211000002", orb.LineString{{103.9, 30.02}, {103.95, 30.05}}))                      // box overlaps, geometry misses
	add(mk("5101040101000003", orb.Point{104.02, 30.001}))                                            // outside
	box := orb.Bound{Min: orb.Point{104, 30}, Max: orb.Point{104.01, 30.005}}
	tests := []struct {
		name string
		b    orb.Bound
		want []string
	}{
		{"edges, crossing line, holding polygon", box, []string{"5101040101000001", "5101040101000002", "5101040211000001", "5101040405000001"}},
		{"zero-area box on a point", orb.Bound{Min: orb.Point{104, 30}, Max: orb.Point{104, 30}}, []string{"5101040101000001", "5101040405000001"}},
		{"zero-area box on the line", orb.Bound{Min: orb.Point{104.05, 30.004}, Max: orb.Point{104.05, 30.004}}, []string{"5101040211000001", "5101040405000001"}},
		{"empty", orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{1, 1}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pg, err := r.Search(ctx, parts.Query{BBox: tt.b})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range pg.Parts {
				got = append(got, p.Code.String())
			}
			if !slices.Equal(got, tt.want) || pg.NumberMatched != len(tt.want) || pg.Next != "" {
				t.Errorf("Search = %v (matched %d, next %q), want %v", got, pg.NumberMatched, pg.Next, tt.want)
			}
		})
	}
	// k larger than the data.
	ns, err := r.Nearest(ctx, orb.Point{104, 30}, 1000, parts.Filter{}, 0)
	if err != nil || len(ns) != 6 {
		t.Fatalf("Nearest k=1000 on 6 parts: %d, %v", len(ns), err)
	}
	if ns[0].Distance != 0 || ns[1].Distance != 0 {
		t.Errorf("point on the corner and polygon holding it should be at 0 m: %v %v", ns[0].Distance, ns[1].Distance)
	}
	// Empty registry.
	empty := parts.NewRegistry(nil)
	if ns, err := empty.Nearest(ctx, orb.Point{104, 30}, 5, parts.Filter{}, 0); err != nil || len(ns) != 0 {
		t.Errorf("Nearest on empty registry = %v, %v", ns, err)
	}
	if pg, err := empty.Search(ctx, parts.Query{BBox: box}); err != nil || len(pg.Parts) != 0 || pg.Next != "" {
		t.Errorf("Search on empty registry = %+v, %v", pg, err)
	}
}

func TestQueryValidation(t *testing.T) {
	r, _ := smallCity(t, 300)
	ctx := context.Background()
	okBox := orb.Bound{Min: orb.Point{104, 30.6}, Max: orb.Point{104.1, 30.7}}
	pg, err := r.Search(ctx, parts.Query{BBox: okBox, Limit: 5})
	if err != nil || pg.Next == "" {
		t.Fatalf("setup: %v %q", err, pg.Next)
	}
	otherCursor := pg.Next
	tests := []struct {
		name  string
		run   func() error
		field string
	}{
		{"limit negative", func() error { _, err := r.Search(ctx, parts.Query{BBox: okBox, Limit: -1}); return err }, "limit"},
		{"limit too big", func() error { _, err := r.Search(ctx, parts.Query{BBox: okBox, Limit: 10001}); return err }, "limit"},
		{"bbox inverted", func() error {
			_, err := r.Search(ctx, parts.Query{BBox: orb.Bound{Min: orb.Point{2, 2}, Max: orb.Point{1, 1}}})
			return err
		}, "bbox"},
		{"bbox out of range", func() error {
			_, err := r.Search(ctx, parts.Query{BBox: orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{181, 1}}})
			return err
		}, "bbox"},
		{"cursor garbage", func() error { _, err := r.Search(ctx, parts.Query{BBox: okBox, Cursor: "garbage"}); return err }, "cursor"},
		{"cursor of another bbox", func() error {
			_, err := r.Search(ctx, parts.Query{BBox: orb.Bound{Min: orb.Point{104, 30.6}, Max: orb.Point{104.1, 30.71}}, Cursor: otherCursor})
			return err
		}, "cursor"},
		{"cursor of another filter", func() error {
			_, err := r.Search(ctx, parts.Query{BBox: okBox, Filter: parts.Filter{Majors: []int{1}}, Cursor: otherCursor})
			return err
		}, "cursor"},
		{"cursor of a search used in within", func() error { _, err := r.Within(ctx, okBox.ToPolygon(), parts.Filter{}, 5, otherCursor); return err }, "cursor"},
		{"k zero", func() error { _, err := r.Nearest(ctx, orb.Point{104, 30}, 0, parts.Filter{}, 0); return err }, "k"},
		{"k too big", func() error { _, err := r.Nearest(ctx, orb.Point{104, 30}, 1001, parts.Filter{}, 0); return err }, "k"},
		{"max dist negative", func() error { _, err := r.Nearest(ctx, orb.Point{104, 30}, 1, parts.Filter{}, -1); return err }, "max_dist"},
		{"within a point", func() error { _, err := r.Within(ctx, orb.Point{1, 1}, parts.Filter{}, 0, ""); return err }, "area"},
		{"within an open ring", func() error {
			_, err := r.Within(ctx, orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 1}}}, parts.Filter{}, 0, "")
			return err
		}, "area"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			var fe *parts.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || !errors.Is(err, parts.ErrInvalidQuery) {
				t.Fatalf("err = %v, want a FieldError on %q wrapping ErrInvalidQuery", err, tt.field)
			}
		})
	}
	// The same cursor works for its own query.
	if _, err := r.Search(ctx, parts.Query{BBox: okBox, Limit: 5, Cursor: otherCursor}); err != nil {
		t.Fatalf("own cursor rejected: %v", err)
	}
	// Cancelled context.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.Search(cctx, parts.Query{BBox: orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}}); !errors.Is(err, context.Canceled) {
		t.Errorf("Search with cancelled ctx: %v", err)
	}
}

// TestPagingMixedRanks pages through boxes of a city built by a Builder (its
// codes are ranked) with parts added afterwards (unranked, sorted by code),
// against brute force.
func TestPagingMixedRanks(t *testing.T) {
	cat := parts.DefaultCatalogue()
	g := newCityGen(11, cat)
	b := parts.NewBuilder(cat, 3000)
	all := map[parts.Code]parts.Part{}
	for range 3000 {
		p := g.next()
		if err := b.Add(p); err != nil {
			t.Fatal(err)
		}
		all[p.Code] = p
	}
	r := b.Build()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		name  string
		added int
		limit int
	}{
		{"built only", 0, 37},
		{"added", 300, 37},
		{"added big pages", 0, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range tc.added {
				p := g.next()
				addPart(t, r, p)
				all[p.Code] = p
			}
			for i := range 21 {
				box := randomBox(rng)
				if i == 0 { // the whole city: more hits than a page keeps
					box = orb.Bound{Min: orb.Point{103, 29}, Max: orb.Point{105, 32}}
				}
				want := brute(all, parts.Filter{}, func(g orb.Geometry) bool { return spatial.Intersects(g, box) })
				var got []parts.Code
				cur := ""
				for {
					pg, err := r.Search(ctx, parts.Query{BBox: box, Limit: tc.limit, Cursor: cur})
					if err != nil {
						t.Fatal(err)
					}
					if pg.NumberMatched != len(want) {
						t.Fatalf("NumberMatched = %d, want %d", pg.NumberMatched, len(want))
					}
					got = append(got, codesOf(pg.Parts)...)
					if cur = pg.Next; cur == "" {
						break
					}
				}
				if !slices.Equal(got, want) {
					t.Fatalf("paged Search(%v): %d parts, brute force %d", box, len(got), len(want))
				}
			}
		})
	}
}

// TestNearestTiesAmongMany: with many more parts at the same distance than
// k, Nearest (which skips parts by their box once it holds k) still gives
// the ties by code, and the nearer parts first.
func TestNearestTiesAmongMany(t *testing.T) {
	cat := parts.DefaultCatalogue()
	g := newCityGen(11, cat)
	b := parts.NewBuilder(cat, 400)
	pt := orb.Point{104.06, 30.66}
	var ties, near []parts.Code
	for i := range 400 {
		p := g.next()
		switch {
		case i%4 == 0: // on a ring of about 50 m around pt, all at one spot
			p.Geometry = orb.Point{pt[0] + 0.0005, pt[1]}
			ties = append(ties, p.Code)
		case i%50 == 1: // nearer than the ring
			p.Geometry = orb.Point{pt[0], pt[1] + 0.0001}
			near = append(near, p.Code)
		default: // further away
			p.Geometry = orb.Point{pt[0] + 0.001 + float64(i)*1e-6, pt[1] + 0.001}
		}
		if err := b.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	r := b.Build()
	slices.Sort(ties)
	slices.Sort(near)
	const k = 20
	got, err := r.Nearest(context.Background(), pt, k, parts.Filter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := append(slices.Clone(near), ties[:k-len(near)]...)
	if len(got) != k {
		t.Fatalf("%d results, want %d", len(got), k)
	}
	for i, n := range got {
		if n.Part.Code != want[i] {
			t.Fatalf("#%d = %s at %.3f m, want %s", i, n.Part.Code, n.Distance, want[i])
		}
	}
}

package parts_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"citytwin/parts"
	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// viewCity builds a registry of n generated parts (seed 21), then puts
// added more parts (their codes have no rank: the unranked sort), and
// returns it with every part by code.
func viewCity(t *testing.T, n, added int) (*parts.Registry, map[parts.Code]parts.Part) {
	t.Helper()
	cat := parts.DefaultCatalogue()
	g := newCityGen(21, cat)
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
	r := b.Build()
	for range added {
		p := addPart(t, r, g.next())
		all[p.Code] = p
	}
	return r, all
}

// checkViews checks that the views are the parts, field by field.
func checkViews(t *testing.T, vs []parts.View, ps []parts.Part) {
	t.Helper()
	if len(vs) != len(ps) {
		t.Fatalf("%d views, %d parts", len(vs), len(ps))
	}
	for i := range vs {
		v, p := vs[i], &ps[i]
		if v.Code() != p.Code || v.Class() != p.Class || v.State() != p.State || v.Version() != p.Version {
			t.Fatalf("view %d: %s %s %s v%d, part %s %s %s v%d", i, v.Code(), v.Class(), v.State(), v.Version(), p.Code, p.Class, p.State, p.Version)
		}
		if !geomEqual(v.Geometry(), p.Geometry) || v.Bound() != spatial.Bound(p.Geometry) {
			t.Fatalf("view %d (%s): geometry %v, part %v", i, v.Code(), v.Geometry(), p.Geometry)
		}
		pt, ok := v.Point()
		if want, isPt := p.Geometry.(orb.Point); ok != isPt || (ok && pt != want) {
			t.Fatalf("view %d (%s): Point() = %v, %v for a %s", i, v.Code(), pt, ok, p.Geometry.GeoJSONType())
		}
	}
}

// viewBoxes returns random boxes in the generated city (tiny to 5 km, and
// zero-area ones), a box over the whole city (several stripes), and an
// empty corner of the world.
func viewBoxes(rng *rand.Rand, n int) []orb.Bound {
	bs := []orb.Bound{
		{Min: orb.Point{103, 29}, Max: orb.Point{105, 32}},
		{Min: orb.Point{-10, -10}, Max: orb.Point{-9, -9}},
	}
	for range n {
		bs = append(bs, randomBox(rng))
	}
	return bs
}

// TestSearchViewsMatchesSearch pages SearchViews and Search side by side
// over random boxes, filters and limits, ranked and unranked codes, one
// stripe and several: the same pages, the same counts and cursors, each
// cursor accepted by the other, and views that are the parts. The first
// page is also checked against brute force.
func TestSearchViewsMatchesSearch(t *testing.T) {
	r, all := viewCity(t, 12000, 300)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(8, 9))
	limits := []int{0, 1, 7, 100, 1000, 2500, parts.MaxLimit}
	var buf []parts.View
	for _, tf := range testFilters {
		t.Run(tf.name, func(t *testing.T) {
			for bi, b := range viewBoxes(rng, 6) {
				var want []parts.Code
				if bi%2 == 0 {
					want = brute(all, tf.f, func(g orb.Geometry) bool { return spatial.Intersects(g, b) })
				}
				limit := limits[rng.IntN(len(limits))]
				if bi == 0 {
					limit = 1000 // the whole city: more hits than a page keeps
				}
				q := parts.Query{BBox: b, Filter: tf.f, Limit: limit}
				for page := 0; page < 4; page++ {
					pg, err := r.Search(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					vp, err := r.SearchViews(ctx, q, buf[:0])
					if err != nil {
						t.Fatal(err)
					}
					buf = vp.Views
					if vp.NumberMatched != pg.NumberMatched || vp.Next != pg.Next {
						t.Fatalf("%v page %d: views matched %d next %q, parts %d %q", b, page, vp.NumberMatched, vp.Next, pg.NumberMatched, pg.Next)
					}
					checkViews(t, vp.Views, pg.Parts)
					if page == 0 && bi%2 == 0 {
						if vp.NumberMatched != len(want) {
							t.Fatalf("%v: NumberMatched %d, brute force %d", b, vp.NumberMatched, len(want))
						}
						lim := pick(limit == 0, parts.DefaultLimit, limit)
						if got := codesOf(pg.Parts); !slices.Equal(got, want[:min(lim, len(want))]) {
							t.Fatalf("%v: first page of %d, brute force %d", b, len(got), min(lim, len(want)))
						}
					}
					if vp.Next == "" {
						break
					}
					q.Cursor = vp.Next
				}
			}
		})
	}
}

// pick returns a if c, else b.
func pick[T any](c bool, a, b T) T {
	if c {
		return a
	}
	return b
}

// TestSearchViewsPagesAll pages through every result with SearchViews
// alone and compares with brute force.
func TestSearchViewsPagesAll(t *testing.T) {
	r, all := viewCity(t, 12000, 300)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(10, 11))
	for _, limit := range []int{13, 400, 5000} {
		for i, b := range viewBoxes(rng, 6) {
			if i == 0 && limit < 400 {
				continue // a thousand pages of the whole city
			}
			want := brute(all, parts.Filter{}, func(g orb.Geometry) bool { return spatial.Intersects(g, b) })
			var got []parts.Code
			q := parts.Query{BBox: b, Limit: limit}
			for {
				vp, err := r.SearchViews(ctx, q, nil)
				if err != nil {
					t.Fatal(err)
				}
				if vp.NumberMatched != len(want) {
					t.Fatalf("NumberMatched %d, want %d", vp.NumberMatched, len(want))
				}
				for _, v := range vp.Views {
					got = append(got, v.Code())
				}
				if q.Cursor = vp.Next; q.Cursor == "" {
					break
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("paged SearchViews(%v, limit %d): %d parts, brute force %d", b, limit, len(got), len(want))
			}
		}
	}
}

// TestWithinViewsMatchesWithin compares WithinViews with Within.
func TestWithinViewsMatchesWithin(t *testing.T) {
	r, _ := viewCity(t, 12000, 200)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(12, 13))
	for range 10 {
		b := randomBox(rng)
		b.Max = orb.Point{b.Min[0] + 0.03 + rng.Float64()*0.2, b.Min[1] + 0.03 + rng.Float64()*0.2}
		c := b.Center()
		area := orb.Polygon{
			{b.Min, {b.Max[0], b.Min[1]}, {c[0], b.Max[1]}, b.Min},
			{{c[0] - 0.003, c[1] - 0.006}, {c[0] + 0.003, c[1] - 0.006}, {c[0] + 0.003, c[1] - 0.002}, {c[0] - 0.003, c[1] - 0.002}, {c[0] - 0.003, c[1] - 0.006}},
		}
		for _, tf := range testFilters[:5] {
			cursor := ""
			for range 3 {
				pg, err := r.Within(ctx, area, tf.f, 250, cursor)
				if err != nil {
					t.Fatal(err)
				}
				vp, err := r.WithinViews(ctx, area, tf.f, 250, cursor, nil)
				if err != nil {
					t.Fatal(err)
				}
				if vp.NumberMatched != pg.NumberMatched || vp.Next != pg.Next {
					t.Fatalf("views matched %d next %q, parts %d %q", vp.NumberMatched, vp.Next, pg.NumberMatched, pg.Next)
				}
				checkViews(t, vp.Views, pg.Parts)
				if cursor = vp.Next; cursor == "" {
					break
				}
			}
		}
	}
	if _, err := r.WithinViews(ctx, orb.Point{1, 1}, parts.Filter{}, 0, "", nil); err == nil {
		t.Fatal("WithinViews of a point: no error")
	}
}

// TestSearchViewsErrors checks that SearchViews fails as Search does and
// hands dst back.
func TestSearchViewsErrors(t *testing.T) {
	r, _ := viewCity(t, 2000, 0)
	ctx := context.Background()
	okBox := orb.Bound{Min: orb.Point{104, 30.6}, Max: orb.Point{104.1, 30.7}}
	dst := make([]parts.View, 0, 8)
	for _, q := range []parts.Query{
		{BBox: okBox, Limit: -1},
		{BBox: okBox, Limit: parts.MaxLimit + 1},
		{BBox: orb.Bound{Min: orb.Point{2, 2}, Max: orb.Point{1, 1}}},
		{BBox: okBox, Cursor: "garbage"},
	} {
		_, perr := r.Search(ctx, q)
		vp, verr := r.SearchViews(ctx, q, dst)
		if perr == nil || verr == nil || perr.Error() != verr.Error() {
			t.Fatalf("%+v: Search error %v, SearchViews error %v", q, perr, verr)
		}
		if len(vp.Views) != 0 || cap(vp.Views) != cap(dst) {
			t.Fatalf("%+v: Views %d/%d, want dst back", q, len(vp.Views), cap(vp.Views))
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.SearchViews(cctx, parts.Query{BBox: okBox}, nil); err == nil {
		t.Fatal("SearchViews with a cancelled context: no error")
	}
	// A filter on a string the registry has never seen matches nothing.
	vp, err := r.SearchViews(ctx, parts.Query{BBox: okBox, Filter: parts.Filter{Owner: "nobody"}}, dst)
	if err != nil || len(vp.Views) != 0 || vp.NumberMatched != 0 || vp.Next != "" {
		t.Fatalf("unknown owner: %d views, matched %d, next %q, %v", len(vp.Views), vp.NumberMatched, vp.Next, err)
	}
}

// TestSearchViewsAppends checks that the views are appended to dst and
// that a reused buffer makes a page cost a few small allocations (the
// query's), not one per part.
func TestSearchViewsAppends(t *testing.T) {
	r, _ := viewCity(t, 20000, 0)
	ctx := context.Background()
	b := orb.Bound{Min: orb.Point{104.05, 30.65}, Max: orb.Point{104.07, 30.67}}
	q := parts.Query{BBox: b, Limit: 500}
	first, err := r.SearchViews(ctx, q, nil)
	if err != nil || len(first.Views) < 100 {
		t.Fatalf("%d views, %v", len(first.Views), err)
	}
	head := first.Views[:2:2]
	vp, err := r.SearchViews(ctx, q, head)
	if err != nil {
		t.Fatal(err)
	}
	if len(vp.Views) != 2+len(first.Views) || vp.Views[0] != first.Views[0] || vp.Views[1] != first.Views[1] {
		t.Fatalf("%d views, want the 2 of dst then %d", len(vp.Views), len(first.Views))
	}
	if !slices.Equal(vp.Views[2:], first.Views) {
		t.Fatal("the appended views differ from the page")
	}
	buf := make([]parts.View, 0, parts.MaxLimit)
	allocs := testing.AllocsPerRun(20, func() {
		vp, err := r.SearchViews(ctx, q, buf[:0])
		if err != nil || len(vp.Views) != len(first.Views) || &vp.Views[0] != &buf[:1][0] {
			t.Fatalf("%d views in another buffer, %v", len(vp.Views), err)
		}
	})
	if allocs > 8 {
		t.Fatalf("SearchViews into a reused buffer: %v allocations, want a few", allocs)
	}
}

// TestViewPart checks Part and AppendParts, and what they report of a part
// written since its view was taken.
func TestViewPart(t *testing.T) {
	r, _ := viewCity(t, 3000, 0)
	ctx := context.Background()
	b := orb.Bound{Min: orb.Point{103, 29}, Max: orb.Point{105, 32}}
	vp, err := r.SearchViews(ctx, parts.Query{BBox: b, Limit: 50}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := r.Search(ctx, parts.Query{BBox: b, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	// The whole city in one page: more hits than are sorted under the lock.
	all, err := r.SearchViews(ctx, parts.Query{BBox: b, Limit: parts.MaxLimit}, nil)
	if err != nil {
		t.Fatal(err)
	}
	allParts, err := r.Search(ctx, parts.Query{BBox: b, Limit: parts.MaxLimit})
	if err != nil || len(allParts.Parts) != 3000 {
		t.Fatalf("%d parts, %v", len(allParts.Parts), err)
	}
	checkViews(t, all.Views, allParts.Parts)
	ps := r.AppendParts(nil, vp.Views)
	if len(ps) != len(pg.Parts) {
		t.Fatalf("AppendParts: %d parts, Search %d", len(ps), len(pg.Parts))
	}
	for i := range ps {
		if fmt.Sprint(ps[i]) != fmt.Sprint(pg.Parts[i]) {
			t.Fatalf("AppendParts[%d] = %+v, Search %+v", i, ps[i], pg.Parts[i])
		}
		p, current := vp.Views[i].Part()
		if !current || fmt.Sprint(p) != fmt.Sprint(pg.Parts[i]) {
			t.Fatalf("Part() = %+v, %v; want %+v, true", p, current, pg.Parts[i])
		}
	}
	// AppendParts appends, and a reused buffer costs nothing.
	if ps2 := r.AppendParts(ps[:1], vp.Views[1:3]); len(ps2) != 3 || ps2[1].Code != vp.Views[1].Code() {
		t.Fatalf("AppendParts onto 1 part: %d parts", len(ps2))
	}
	if n := testing.AllocsPerRun(10, func() { ps = r.AppendParts(ps[:0], vp.Views) }); n != 0 {
		t.Fatalf("AppendParts into a reused buffer: %v allocations", n)
	}

	// A write since the view: Part and AppendParts give the new version.
	v := vp.Views[0]
	moved := pg.Parts[0]
	moved.Geometry = orb.Point{104.3, 30.3}
	moved.Version++
	r.Put(moved)
	p, current := v.Part()
	if current || p.Version != moved.Version || !geomEqual(p.Geometry, moved.Geometry) {
		t.Fatalf("after a move: Part() = v%d %v, %v; want v%d, false", p.Version, p.Geometry, current, moved.Version)
	}
	if got := r.AppendParts(nil, vp.Views[:1]); got[0].Version != moved.Version {
		t.Fatalf("AppendParts after a move: v%d", got[0].Version)
	}
	// The view itself keeps what it saw.
	if v.Version() != pg.Parts[0].Version || !geomEqual(v.Geometry(), pg.Parts[0].Geometry) {
		t.Fatalf("the view changed: v%d %v", v.Version(), v.Geometry())
	}
	// A rewrite of the same version with another geometry is seen too.
	w := vp.Views[1]
	same := pg.Parts[1]
	same.Geometry = orb.Point{104.31, 30.31}
	r.Put(same)
	if _, current := w.Part(); current {
		t.Fatal("Part() after a new geometry at the same version: current")
	}
	// Retired.
	u := vp.Views[2]
	ret := pg.Parts[2]
	ret.Retired, ret.Version = true, ret.Version+1
	r.Put(ret)
	if p, current := u.Part(); current || !p.Retired {
		t.Fatalf("after retiring: Retired %v, current %v", p.Retired, current)
	}
	if p, current := (parts.View{}).Part(); current || p.Code != 0 {
		t.Fatalf("zero View: Part() = %v, %v", p.Code, current)
	}
	if (parts.View{}).Bound() != (orb.Bound{}) || (parts.View{}).Geometry() != nil {
		t.Fatal("zero View: a Bound or a Geometry")
	}
	other, _ := viewCity(t, 10, 0)
	for _, vs := range [][]parts.View{{{}}, vp.Views[:1]} {
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("AppendParts of a view from elsewhere did not panic")
				}
			}()
			other.AppendParts(nil, vs)
		}()
	}
}

// TestSearchViewsBigShapes searches among lines and polygons of many
// vertices, whose exact tests run outside the lock, and among enough
// middling ones to use up a stripe's budget of tests under the lock.
func TestSearchViewsBigShapes(t *testing.T) {
	cat := parts.DefaultCatalogue()
	g := newCityGen(31, cat)
	rng := rand.New(rand.NewPCG(31, 32))
	bl := parts.NewBuilder(cat, 6000)
	all := map[parts.Code]parts.Part{}
	for range 6000 {
		p := g.next()
		switch geo := p.Geometry.(type) {
		case orb.LineString:
			p.Geometry = wiggle(rng, geo[0], 20+rng.IntN(200))
		case orb.Polygon:
			n := 30 + rng.IntN(200)
			ring := make(orb.Ring, 0, n+1)
			c := geo[0][0]
			for i := range n {
				a := 2 * math.Pi * float64(i) / float64(n)
				rad := (40 + rng.Float64()*40) * degPerM
				ring = append(ring, orb.Point{c[0] + rad*math.Cos(a), c[1] + rad*math.Sin(a)})
			}
			p.Geometry = orb.Polygon{append(ring, ring[0])}
		}
		if err := bl.Add(p); err != nil {
			t.Fatal(err)
		}
		p.Version = 1
		all[p.Code] = p
	}
	r := bl.Build()
	// Put does not validate: a multipolygon is tested outside the lock.
	var mp parts.Part
	for _, p := range all {
		if _, ok := p.Geometry.(orb.Polygon); ok {
			mp = p
			break
		}
	}
	mp.Geometry = orb.MultiPolygon{mp.Geometry.(orb.Polygon)}
	mp.Version++
	r.Put(mp)
	all[mp.Code] = mp
	ctx := context.Background()
	for _, b := range append(viewBoxes(rng, 30), spatial.Bound(mp.Geometry)) {
		want := brute(all, parts.Filter{}, func(g orb.Geometry) bool { return spatial.Intersects(g, b) })
		q := parts.Query{BBox: b, Limit: parts.MaxLimit}
		vp, err := r.SearchViews(ctx, q, nil)
		if err != nil {
			t.Fatal(err)
		}
		pg, err := r.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		checkViews(t, vp.Views, pg.Parts)
		if got := codesOf(pg.Parts); !slices.Equal(got, want) || vp.NumberMatched != len(want) {
			t.Fatalf("%v: %d parts (matched %d), brute force %d", b, len(got), vp.NumberMatched, len(want))
		}
	}
}

// wiggle returns a line of n vertices from p.
func wiggle(rng *rand.Rand, p orb.Point, n int) orb.LineString {
	l := make(orb.LineString, 0, n)
	a := rng.Float64() * 2 * math.Pi
	for range n {
		l = append(l, p)
		a += (rng.Float64() - 0.5) * 0.8
		step := (5 + rng.Float64()*10) * degPerM
		p = orb.Point{p[0] + math.Cos(a)*step, p[1] + math.Sin(a)*step}
	}
	return l
}

// TestSearchViewsConsistentWhileWriting searches while a writer moves
// parts and changes their state at every version: the point and the state
// of a version are functions of its code and version, so a view whose
// fields come from two writes (a torn read) shows. It runs under -race in
// CI. The boxes cover one stripe and several.
func TestSearchViewsConsistentWhileWriting(t *testing.T) {
	const n = 20000
	at := func(c parts.Code, version uint64) (orb.Point, parts.State) {
		k := float64(uint64(c) % 997)
		return orb.Point{104 + k*1e-4 + float64(version%13)*1e-6, 30.6 + float64(uint64(c)%991)*1e-4 + float64(version%7)*1e-6}, parts.State(version % 4)
	}
	cat := parts.DefaultCatalogue()
	bl := parts.NewBuilder(cat, n)
	var codes []parts.Code
	for i := range n {
		c, err := parts.NewCode(510104, 101, uint32(i+1))
		if err != nil {
			t.Fatal(err)
		}
		pt, st := at(c, 1)
		if err := bl.Add(parts.Part{Code: c, Version: 1, State: st, Geometry: pt}); err != nil {
			t.Fatal(err)
		}
		codes = append(codes, c)
	}
	r := bl.Build()
	ctx := context.Background()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(5, 6))
		for {
			select {
			case <-stop:
				return
			default:
			}
			p, err := r.Get(codes[rng.IntN(len(codes))])
			if err != nil {
				t.Error(err)
				return
			}
			p.Version++
			pt, st := at(p.Code, p.Version)
			p.Geometry, p.State = pt, st
			r.Put(p)
		}
	}()
	check := func(vs []parts.View) {
		for _, v := range vs {
			pt, st := at(v.Code(), v.Version())
			if got, _ := v.Point(); got != pt || v.State() != st {
				t.Errorf("view %s v%d: %v %s, want %v %s", v.Code(), v.Version(), got, v.State(), pt, st)
				return
			}
		}
	}
	var buf []parts.View
	boxes := []orb.Bound{
		{Min: orb.Point{104.01, 30.61}, Max: orb.Point{104.02, 30.62}},
		{Min: orb.Point{103.9, 30.5}, Max: orb.Point{104.2, 30.8}},
	}
	for i := range 30 {
		b := boxes[i%len(boxes)]
		vp, err := r.SearchViews(ctx, parts.Query{BBox: b, Limit: 2000}, buf[:0])
		if err != nil {
			t.Fatal(err)
		}
		buf = vp.Views
		check(vp.Views)
		if !slices.IsSortedFunc(vp.Views, func(a, b parts.View) int { return int(a.Code()) - int(b.Code()) }) {
			t.Fatal("views not in code order")
		}
		pg, err := r.Search(ctx, parts.Query{BBox: b, Limit: 2000})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pg.Parts {
			if pt, st := at(p.Code, p.Version); p.Geometry != pt || p.State != st {
				t.Fatalf("part %s v%d: %v %s, want %v %s", p.Code, p.Version, p.Geometry, p.State, pt, st)
			}
		}
	}
	close(stop)
	wg.Wait()
}

package parts_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"citytwin/parts"

	"github.com/paulmach/orb"
)

func testPart(t *testing.T, code string) parts.Part {
	t.Helper()
	c, err := parts.ParseCode(code)
	if err != nil {
		t.Fatal(err)
	}
	return parts.Part{
		Code: c, Name: "人民南路上水井盖", Supervisor: parts.DeptCityMgmt, Owner: parts.DeptWater, Maintainer: "water-maint",
		Grid: "51010400100101", State: parts.Damaged, Surveyed: time.Date(2018, 3, 4, 0, 0, 0, 0, time.UTC),
		Changed: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC), Source: parts.Sketched, Photo: "p.jpg", Note: "n",
		Material: "铸铁", Label: "", Geometry: orb.Point{104.06, 30.66},
	}
}

func TestRegistryLifecycle(t *testing.T) {
	r := parts.NewRegistry(nil)
	ctx := context.Background()
	p := testPart(t, "5101040101000001")
	p.Version = 1
	if _, existed := r.Put(p); existed {
		t.Fatal("Put of a new code reports a part it replaced")
	}
	back, err := r.Get(p.Code)
	p.Version, p.Class = 1, 101
	if err != nil || !orb.Equal(back.Geometry, p.Geometry) {
		t.Fatalf("Get = %+v, %v", back, err)
	}
	back.Geometry = p.Geometry
	if back != p {
		t.Fatalf("Get round trip:\n got %+v\nwant %+v", back, p)
	}
	if _, err := r.Get(p.Code + 1); !errors.Is(err, parts.ErrNotFound) {
		t.Fatalf("Get unknown err = %v", err)
	}
	// A change: Put replaces the part and returns the one it replaced.
	p.State = parts.Intact
	p.Geometry = orb.Point{104.07, 30.67}
	p.Version = 2
	if prev, existed := r.Put(p); !existed || prev.Version != 1 || prev.State != parts.Damaged {
		t.Fatalf("Put replaced %+v, %v", prev, existed)
	}
	// The index follows the move.
	old := orb.Bound{Min: orb.Point{104.06, 30.66}, Max: orb.Point{104.06, 30.66}}
	if pg, _ := r.Search(ctx, parts.Query{BBox: old}); len(pg.Parts) != 0 {
		t.Fatalf("part still found at its old place")
	}
	if pg, _ := r.Search(ctx, parts.Query{BBox: orb.Bound{Min: orb.Point{104.07, 30.67}, Max: orb.Point{104.07, 30.67}}}); len(pg.Parts) != 1 || pg.Parts[0].State != parts.Intact {
		t.Fatalf("part not found at its new place: %+v", pg)
	}
	// Retire.
	if ret := retirePart(t, r, p.Code); !ret.Retired || ret.Version != 3 {
		t.Fatalf("retired %+v", ret)
	}
	if r.Len() != 0 {
		t.Fatalf("Len after retire = %d", r.Len())
	}
	g, err := r.Get(p.Code)
	if !errors.Is(err, parts.ErrRetired) || g.Code != p.Code || !g.Retired {
		t.Fatalf("Get retired = %+v, %v", g, err)
	}
	if pg, _ := r.Search(ctx, parts.Query{BBox: orb.Bound{Min: orb.Point{104, 30}, Max: orb.Point{105, 31}}}); len(pg.Parts) != 0 {
		t.Fatalf("retired part found by Search")
	}
	// Put brings it back, keeping the given version.
	p.Version = 42
	p.Retired = false
	prev, existed := r.Put(p)
	if !existed || !prev.Retired || prev.Version != 3 {
		t.Fatalf("Put returned %+v, %v", prev, existed)
	}
	if g, err := r.Get(p.Code); err != nil || g.Version != 42 || r.Len() != 1 {
		t.Fatalf("after Put: %+v, %v, Len %d", g, err, r.Len())
	}
	// Each sees every part, retired included.
	addPart(t, r, testPart(t, "5101040101000002"))
	retirePart(t, r, p.Code)
	n := 0
	r.Each(func(parts.Part) bool { n++; return true })
	if n != 2 {
		t.Fatalf("Each saw %d parts, want 2", n)
	}
}

func TestRegistryShapesAndBounds(t *testing.T) {
	r := parts.NewRegistry(nil)
	line := testPart(t, "5101040211000001")
	line.Geometry = orb.LineString{{104, 30}, {104.1, 30.1}}
	poly := testPart(t, "5101040405000001")
	poly.Geometry = orb.Polygon{{{104.2, 30.2}, {104.3, 30.2}, {104.3, 30.3}, {104.2, 30.2}}}
	for _, p := range []parts.Part{line, poly} {
		addPart(t, r, p)
	}
	b := r.Bounds()
	if b.Min[0] > 104 || b.Min[1] > 30 || b.Max[0] < 104.3 || b.Max[1] < 30.3 || b.Max[0] > 104.30001 {
		t.Fatalf("Bounds = %v", b)
	}
	// Update a shape in place.
	line.Geometry = orb.LineString{{105, 31}, {105.1, 31.1}}
	updatePart(t, r, line)
	g, _ := r.Get(line.Code)
	if !orb.Equal(g.Geometry, line.Geometry) {
		t.Fatalf("updated line = %v", g.Geometry)
	}
	ns, err := r.Nearest(context.Background(), orb.Point{105.05, 31.05}, 1, parts.Filter{}, 10)
	if err != nil || len(ns) != 1 || ns[0].Part.Code != line.Code || ns[0].Distance > 1 {
		t.Fatalf("Nearest on the line = %+v, %v", ns, err)
	}
}

func TestBuilder(t *testing.T) {
	b := parts.NewBuilder(nil, 0)
	p := testPart(t, "5101040101000001")
	if err := b.Add(p); err != nil {
		t.Fatal(err)
	}
	if err := b.Add(p); !errors.Is(err, parts.ErrExists) {
		t.Fatalf("duplicate Add err = %v", err)
	}
	bad := testPart(t, "5101040101000002")
	bad.Class = 102
	if err := b.Add(bad); !errors.Is(err, parts.ErrInvalid) {
		t.Fatalf("class mismatch err = %v", err)
	}
	unknown := testPart(t, "5101049901000001")
	if err := b.Add(unknown); !errors.Is(err, parts.ErrUnknownClass) {
		t.Fatalf("unknown class err = %v", err)
	}
	r := b.Build()
	if r.Len() != 1 {
		t.Fatalf("Len = %d", r.Len())
	}
	if g, err := r.Get(p.Code); err != nil || g.Version != 1 {
		t.Fatalf("Get = %+v, %v", g, err)
	}
}

// TestConcurrentReadersAndWriter runs under -race in CI.
func TestConcurrentReadersAndWriter(t *testing.T) {
	r, all := smallCity(t, 2000)
	ctx := context.Background()
	var codes []parts.Code
	for c := range all {
		codes = append(codes, c)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; ; j++ {
				select {
				case <-stop:
					return
				default:
				}
				b := orb.Bound{Min: orb.Point{104.0, 30.6}, Max: orb.Point{104.1, 30.7}}
				switch (i + j) % 3 {
				case 0:
					if _, err := r.Search(ctx, parts.Query{BBox: b, Limit: 50}); err != nil {
						t.Error(err)
						return
					}
				case 1:
					if _, err := r.Nearest(ctx, b.Center(), 5, parts.Filter{}, 0); err != nil {
						t.Error(err)
						return
					}
				default:
					_, _ = r.Get(codes[j%len(codes)])
					_ = r.Scan(ctx, b, parts.Filter{}, func(parts.Entry) bool { return true })
				}
			}
		}()
	}
	g := newCityGen(1234, r.Catalogue())
	for i := range 300 {
		p := g.next()
		p.Code += 700000
		p.Name = "新增" + p.Name
		addPart(t, r, p)
		if i%3 == 0 {
			retirePart(t, r, codes[i])
		}
	}
	close(stop)
	wg.Wait()
	if want := 2000 + 300 - 100; r.Len() != want {
		t.Fatalf("Len = %d, want %d", r.Len(), want)
	}
}

func TestScanAllocatesLittle(t *testing.T) {
	r, _ := smallCity(t, 5000)
	ctx := context.Background()
	b := orb.Bound{Min: orb.Point{103.8, 30.4}, Max: orb.Point{104.3, 30.9}}
	n := 0
	allocs := testing.AllocsPerRun(5, func() {
		n = 0
		_ = r.Scan(ctx, b, parts.Filter{}, func(e parts.Entry) bool { n++; return true })
	})
	if n < 4000 {
		t.Fatalf("Scan saw only %d parts", n)
	}
	if limit := 5.0; allocs > limit { // none per part
		t.Fatalf("Scan of %d parts made %v allocations, want at most %v", n, allocs, limit)
	}
	// Early stop.
	n = 0
	_ = r.Scan(ctx, b, parts.Filter{}, func(e parts.Entry) bool { n++; return n < 10 })
	if n != 10 {
		t.Fatalf("Scan did not stop at 10: %d", n)
	}
}

func TestCallerMutatingGeometryDoesNotCorruptIndex(t *testing.T) {
	r := parts.NewRegistry(nil)
	ctx := context.Background()
	p := testPart(t, "5101040211000001")
	line := orb.LineString{{104, 30}, {104.1, 30.1}}
	p.Geometry = line
	addPart(t, r, p)
	line[0] = orb.Point{50, 10} // the caller reuses its slice
	p.Geometry = orb.LineString{{104.2, 30.2}, {104.3, 30.3}}
	updatePart(t, r, p)
	world := orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}
	pg, err := r.Search(ctx, parts.Query{BBox: world})
	if err != nil || len(pg.Parts) != 1 || pg.NumberMatched != 1 {
		t.Fatalf("Search after update = %d parts (matched %d), %v; want exactly 1", len(pg.Parts), pg.NumberMatched, err)
	}
	if pg, _ := r.Search(ctx, parts.Query{BBox: orb.Bound{Min: orb.Point{104, 30}, Max: orb.Point{104.01, 30.01}}}); len(pg.Parts) != 0 {
		t.Fatal("part still found at its old place")
	}
}

// TestReturnedPointsAreSnapshots checks that the points shared with the
// registry never change under a caller: moving a part, retiring it, or
// turning its point into a line and back leaves earlier results alone.
func TestReturnedPointsAreSnapshots(t *testing.T) {
	b := parts.NewBuilder(nil, 2)
	p := testPart(t, "5101040101000001")
	q := testPart(t, "5101040101000002")
	q.Geometry = orb.Point{104.5, 30.5}
	for _, x := range []parts.Part{p, q} {
		if err := b.Add(x); err != nil {
			t.Fatal(err)
		}
	}
	r := b.Build()
	ctx := context.Background()
	before, err := r.Get(p.Code)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := r.Search(ctx, parts.Query{BBox: orb.Bound{Min: orb.Point{104, 30}, Max: orb.Point{105, 31}}})
	if err != nil || len(pg.Parts) != 2 {
		t.Fatalf("Search = %+v, %v", pg, err)
	}
	var seen []parts.Entry
	if err := r.Scan(ctx, orb.Bound{Min: orb.Point{104, 30}, Max: orb.Point{105, 31}}, parts.Filter{}, func(e parts.Entry) bool {
		seen = append(seen, e)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	moves := []orb.Point{{104.1, 30.1}, {104.2, 30.2}}
	for _, to := range moves {
		p.Geometry = to
		updatePart(t, r, p)
		if g, _ := r.Get(p.Code); g.Geometry != to {
			t.Fatalf("after the move Get = %v, want %v", g.Geometry, to)
		}
	}
	retirePart(t, r, q.Code)
	if g, err := r.Get(q.Code); !errors.Is(err, parts.ErrRetired) || g.Geometry != q.Geometry {
		t.Fatalf("retired Get = %v, %v", g.Geometry, err)
	}
	if before.Geometry != (orb.Point{104.06, 30.66}) {
		t.Fatalf("an earlier Get moved to %v", before.Geometry)
	}
	for _, x := range pg.Parts {
		want := orb.Point{104.06, 30.66}
		if x.Code == q.Code {
			want = orb.Point{104.5, 30.5}
		}
		if x.Geometry != want {
			t.Fatalf("an earlier Search result %s moved to %v", x.Code, x.Geometry)
		}
	}
	for _, e := range seen {
		if e.Code == p.Code && e.Geometry != (orb.Point{104.06, 30.66}) {
			t.Fatalf("an earlier Scan entry moved to %v", e.Geometry)
		}
	}
	// The index follows the moves: the old place is empty.
	pg, err = r.Search(ctx, parts.Query{BBox: orb.Bound{Min: orb.Point{104.05, 30.65}, Max: orb.Point{104.07, 30.67}}})
	if err != nil || len(pg.Parts) != 0 {
		t.Fatalf("Search at the old place = %+v, %v", pg, err)
	}
	pg, err = r.Search(ctx, parts.Query{BBox: orb.Bound{Min: orb.Point{104.19, 30.19}, Max: orb.Point{104.21, 30.21}}})
	if err != nil || len(pg.Parts) != 1 || pg.Parts[0].Code != p.Code {
		t.Fatalf("Search at the new place = %+v, %v", pg, err)
	}
}

// TestBuiltShapesAreSnapshots checks the lines and polygons a Builder packs
// together: they read back equal, a caller appending to one does not reach
// its neighbours, and writes leave earlier results alone.
func TestBuiltShapesAreSnapshots(t *testing.T) {
	b := parts.NewBuilder(nil, 3)
	line := testPart(t, "5101040211000001")
	line.Geometry = orb.LineString{{104, 30}, {104.1, 30.1}}
	line2 := testPart(t, "5101040211000002")
	line2.Geometry = orb.LineString{{104.2, 30}, {104.3, 30.1}, {104.4, 30}}
	poly := testPart(t, "5101040405000001")
	poly.Geometry = orb.Polygon{{{104.2, 30.2}, {104.3, 30.2}, {104.3, 30.3}, {104.2, 30.2}}}
	for _, p := range []parts.Part{line, line2, poly} {
		if err := b.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	r := b.Build()
	got := map[parts.Code]orb.Geometry{}
	for _, p := range []parts.Part{line, line2, poly} {
		g, err := r.Get(p.Code)
		if err != nil || !orb.Equal(g.Geometry, p.Geometry) {
			t.Fatalf("Get(%s) = %v, %v, want %v", p.Code, g.Geometry, err, p.Geometry)
		}
		got[p.Code] = g.Geometry
	}
	// Appending to a returned line must not write into the next shape.
	l := got[line.Code].(orb.LineString)
	_ = append(l, orb.Point{0, 0})
	ring := got[poly.Code].(orb.Polygon)[0]
	_ = append(ring, orb.Point{0, 0})
	for _, p := range []parts.Part{line, line2, poly} {
		if g, _ := r.Get(p.Code); !orb.Equal(g.Geometry, p.Geometry) {
			t.Fatalf("after an append by a caller Get(%s) = %v, want %v", p.Code, g.Geometry, p.Geometry)
		}
	}
	// Writes replace shapes without touching what was returned.
	moved := line
	moved.Geometry = orb.LineString{{105, 31}, {105.1, 31.1}}
	updatePart(t, r, moved)
	retirePart(t, r, poly.Code)
	if !orb.Equal(got[line.Code], line.Geometry) || !orb.Equal(got[poly.Code], poly.Geometry) {
		t.Fatalf("earlier results changed: %v %v", got[line.Code], got[poly.Code])
	}
	if g, _ := r.Get(line.Code); !orb.Equal(g.Geometry, moved.Geometry) {
		t.Fatalf("moved line = %v", g.Geometry)
	}
	pg, err := r.Search(context.Background(), parts.Query{BBox: orb.Bound{Min: orb.Point{103.9, 29.9}, Max: orb.Point{104.45, 30.35}}})
	if err != nil || len(pg.Parts) != 1 || pg.Parts[0].Code != line2.Code {
		t.Fatalf("Search after the writes = %+v, %v", pg, err)
	}
}

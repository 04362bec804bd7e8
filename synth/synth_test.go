package synth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"citytwin/grid"
	"citytwin/parts"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// memSink collects every record in memory.
type memSink struct {
	grids     []grid.Grid
	divisions []grid.Division
	parts     []parts.Part
	failParts error // returned by AddParts when set
}

func (s *memSink) AddGrids(gs []grid.Grid) error { s.grids = append(s.grids, gs...); return nil }
func (s *memSink) AddDivisions(ds []grid.Division) error {
	s.divisions = append(s.divisions, ds...)
	return nil
}
func (s *memSink) AddParts(ps []parts.Part) error {
	if s.failParts != nil {
		return s.failParts
	}
	s.parts = append(s.parts, ps...)
	return nil
}

func smallOptions(seed int64) Options {
	o := DefaultOptions()
	o.Components, o.Grids, o.Seed = 20_000, 400, seed
	return o
}

func generate(t *testing.T, o Options) *memSink {
	t.Helper()
	s := &memSink{}
	if err := Generate(context.Background(), o, parts.DefaultCatalogue(), s, nil); err != nil {
		t.Fatalf("Generate(%+v): %v", o, err)
	}
	return s
}

func TestDeterministic(t *testing.T) {
	a := generate(t, smallOptions(7))
	b := generate(t, smallOptions(7))
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two runs with the same seed differ")
	}
	c := generate(t, smallOptions(8))
	if reflect.DeepEqual(a.parts, c.parts) || reflect.DeepEqual(a.grids, c.grids) {
		t.Fatal("a different seed gives the same parts or grids")
	}
}

func TestCounts(t *testing.T) {
	cases := map[string]struct{ n, m int }{
		"small city":               {20_000, 400},
		"grids not a square":       {3_000, 401},
		"prime number of grids":    {3_000, 397},
		"more grids than parts":    {500, 1_000},
		"tiny":                     {10, 7},
		"one of each":              {1, 1},
		"three grids":              {100, 3},
		"many triangles (127*125)": {2_000, 127*125 + 3},
		"nine districts":           {2_000, 11_000},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o := DefaultOptions()
			o.Components, o.Grids, o.Seed = tc.n, tc.m, 3
			s := generate(t, o)
			if len(s.parts) != tc.n || len(s.grids) != tc.m {
				t.Fatalf("got %d parts and %d grids, want %d and %d", len(s.parts), len(s.grids), tc.n, tc.m)
			}
			checkGrids(t, o, s)
			checkParts(t, s)
		})
	}
}

// checkGrids checks codes, the hierarchy and the tiling of the square.
func checkGrids(t *testing.T, o Options, s *memSink) {
	t.Helper()
	divs := map[string]grid.Division{}
	for _, d := range s.divisions {
		if _, dup := divs[d.Code]; dup {
			t.Fatalf("division %s twice", d.Code)
		}
		divs[d.Code] = d
		want := map[grid.Level]string{grid.District: "区", grid.Street: "街道", grid.Community: "社区"}[d.Level]
		if grid.LevelOf(d.Code) != d.Level || !strings.HasSuffix(d.Name, want) {
			t.Fatalf("division %+v: bad level or name", d)
		}
	}
	perCommunity := map[string]int{}
	area := 0.0
	for i, g := range s.grids {
		if _, err := grid.ParseCode(string(g.Code)); err != nil {
			t.Fatal(err)
		}
		if i > 0 && s.grids[i-1].Code >= g.Code {
			t.Fatalf("grids not in strict code order: %s then %s", s.grids[i-1].Code, g.Code)
		}
		for _, p := range []string{g.Code.District(), g.Code.Street(), g.Code.Community()} {
			if _, ok := divs[p]; !ok {
				t.Fatalf("grid %s: no division %s", g.Code, p)
			}
		}
		if g.Dept != "street-"+g.Code.Street() {
			t.Fatalf("grid %s: dept %q", g.Code, g.Dept)
		}
		perCommunity[g.Code.Community()]++
		r := g.Geometry[0]
		if len(r) < 4 || r[0] != r[len(r)-1] {
			t.Fatalf("grid %s: ring not closed: %v", g.Code, r)
		}
		for k := 0; k+1 < len(r); k++ { // convex and counter-clockwise
			a, b, c := r[k], r[k+1], r[(k+2)%(len(r)-1)]
			if (b[0]-a[0])*(c[1]-b[1])-(b[1]-a[1])*(c[0]-b[0]) <= 0 {
				t.Fatalf("grid %s is not convex and counter-clockwise at vertex %d", g.Code, k+1)
			}
		}
		area += planar.Area(g.Geometry)
	}
	for c, n := range perCommunity {
		if n > 99 {
			t.Fatalf("community %s holds %d grids", c, n)
		}
	}
	nd := 0
	for _, d := range s.divisions {
		if d.Level == grid.District {
			nd++
		}
	}
	if want := districtCount(o.Grids); nd != want {
		t.Fatalf("%d districts, want %d", nd, want)
	}
	f := newFrame(o)
	sq := (f.maxLon - f.minLon) * (f.maxLat - f.minLat)
	if math.Abs(area-sq)/sq > 1e-9 {
		t.Fatalf("grid areas sum to %v, the square is %v", area, sq)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	bounds := make([]orb.Bound, len(s.grids))
	for i, g := range s.grids {
		bounds[i] = g.Geometry.Bound()
	}
	for i := 0; i < 2000; i++ {
		p := orb.Point{f.minLon + rng.Float64()*(f.maxLon-f.minLon), f.minLat + rng.Float64()*(f.maxLat-f.minLat)}
		n := 0
		for j, g := range s.grids {
			if bounds[j].Contains(p) && planar.PolygonContains(g.Geometry, p) {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("point %v is in %d grids", p, n)
		}
	}
}

// checkParts validates every part, its code and the grid holding it.
func checkParts(t *testing.T, s *memSink) {
	t.Helper()
	cat := parts.DefaultCatalogue()
	codes := make(map[parts.Code]bool, len(s.parts))
	grids := map[string]bool{}
	for _, g := range s.grids {
		grids[string(g.Code)] = true
	}
	lo := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	hi := time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
	for _, p := range s.parts {
		if err := p.Validate(cat); err != nil {
			t.Fatalf("part %s: %v", p.Code, err)
		}
		if codes[p.Code] {
			t.Fatalf("code %s twice", p.Code)
		}
		codes[p.Code] = true
		if !grids[p.Grid] {
			t.Fatalf("part %s: unknown grid %q", p.Code, p.Grid)
		}
		if got, want := fmt.Sprintf("%06d", p.Code.County()), grid.Code(p.Grid).District(); got != want {
			t.Fatalf("part %s: county %s but grid %s is in district %s", p.Code, got, p.Grid, want)
		}
		ci, _ := cat.Lookup(p.Class)
		wantOwner := ci.Owner
		if ci.Owner == parts.DeptStreet {
			wantOwner = "street-" + grid.Code(p.Grid).Street()
		}
		if p.Owner != wantOwner || p.Supervisor != ci.Super || p.Maintainer == "" || p.Name != ci.Name || p.Version != 1 {
			t.Fatalf("part %s: owner %q super %q maint %q name %q version %d", p.Code, p.Owner, p.Supervisor, p.Maintainer, p.Name, p.Version)
		}
		if p.Surveyed.Before(lo) || p.Changed.Before(p.Surveyed) || p.Changed.After(hi) {
			t.Fatalf("part %s: surveyed %v changed %v", p.Code, p.Surveyed, p.Changed)
		}
		switch g := p.Geometry.(type) {
		case orb.LineString:
			if g[0] == g[len(g)-1] {
				t.Fatalf("line %s starts where it ends: %v", p.Code, g)
			}
		case orb.Polygon:
			if a := signedArea(g[0]); a <= 0 {
				t.Fatalf("polygon %s: signed area %v, want a counter-clockwise ring", p.Code, a)
			}
		}
		if p.Class == 203 && !strings.HasSuffix(p.Label, "站") {
			t.Fatalf("bus shelter %s: label %q", p.Code, p.Label)
		}
	}
}

// representative is the point, the first vertex of a line or of a polygon.
func representative(g orb.Geometry) orb.Point {
	switch v := g.(type) {
	case orb.Point:
		return v
	case orb.LineString:
		return v[0]
	case orb.Polygon:
		return v[0][0]
	}
	panic(fmt.Sprintf("unexpected geometry %T", g))
}

func TestPartGridHoldsIt(t *testing.T) {
	s := generate(t, smallOptions(11))
	onEdge := 0
	bounds := make([]orb.Bound, len(s.grids))
	for i, g := range s.grids {
		bounds[i] = g.Geometry.Bound()
	}
	for _, p := range s.parts {
		rp := representative(p.Geometry)
		var in []string
		for j, g := range s.grids { // brute force
			if bounds[j].Contains(rp) && planar.PolygonContains(g.Geometry, rp) {
				in = append(in, string(g.Code))
			}
		}
		if len(in) == 0 {
			t.Fatalf("part %s at %v is in no grid", p.Code, rp)
		}
		if len(in) > 1 {
			onEdge++
		}
		if want := slices.Min(in); p.Grid != want {
			t.Fatalf("part %s at %v: grid %s, want %s (the smallest of %v)", p.Code, rp, p.Grid, want, in)
		}
	}
	t.Logf("%d parts on a shared edge", onEdge)
}

func TestDenseCentre(t *testing.T) {
	o := smallOptions(5)
	s := generate(t, o)
	f := newFrame(o)
	qLon, qLat := (f.maxLon-f.minLon)/4, (f.maxLat-f.minLat)/4
	in := 0
	for _, p := range s.parts {
		rp := representative(p.Geometry)
		if math.Abs(rp[0]-f.cLon) < qLon && math.Abs(rp[1]-f.cLat) < qLat {
			in++
		}
	}
	if share := float64(in) / float64(len(s.parts)); share < 0.45 {
		t.Fatalf("the centre quarter of the area holds %.2f of the parts, want > 0.45", share)
	} else {
		t.Logf("centre quarter holds %.2f of the parts", share)
	}
}

func TestClassMix(t *testing.T) {
	s := generate(t, smallOptions(9))
	count := map[parts.Class]int{}
	var kinds [3]int
	for _, p := range s.parts {
		count[p.Class]++
		switch p.Geometry.(type) {
		case orb.Point:
			kinds[parts.Point]++
		case orb.LineString:
			kinds[parts.Line]++
		case orb.Polygon:
			kinds[parts.Polygon]++
		}
	}
	classes := make([]parts.Class, 0, len(count))
	for c := range count {
		classes = append(classes, c)
	}
	sort.Slice(classes, func(i, j int) bool {
		if count[classes[i]] != count[classes[j]] {
			return count[classes[i]] > count[classes[j]]
		}
		return classes[i] < classes[j]
	})
	top := classes[:3]
	if !slices.Contains(top, 101) && !slices.Contains(top, 118) {
		t.Fatalf("top classes %v hold neither 0101 nor 0118", top)
	}
	n := float64(len(s.parts))
	if l := float64(kinds[parts.Line]) / n; l < 0.02 || l > 0.04 {
		t.Fatalf("lines are %.3f of the parts, want about 0.03", l)
	}
	if pg := float64(kinds[parts.Polygon]) / n; pg < 0.005 || pg > 0.015 {
		t.Fatalf("polygons are %.3f of the parts, want about 0.01", pg)
	}
	intact := 0
	for _, p := range s.parts {
		if p.State == parts.Intact {
			intact++
		}
	}
	if float64(intact)/n < 0.85 {
		t.Fatalf("only %d of %d parts are intact", intact, len(s.parts))
	}
	for _, c := range []parts.Class{211, 405, 201, 602} {
		if count[c] == 0 {
			t.Fatalf("no part of class %s", c)
		}
	}
}

// TestContiguous checks that every district, street and community is a
// connected set of grids, neighbours sharing an edge.
func TestContiguous(t *testing.T) {
	o := smallOptions(4)
	o.Components, o.Grids = 100, 2_000
	s := generate(t, o)
	type edge [2]orb.Point
	key := func(a, b orb.Point) edge {
		if a[0] < b[0] || a[0] == b[0] && a[1] < b[1] {
			return edge{a, b}
		}
		return edge{b, a}
	}
	byEdge := map[edge][]int{}
	for i, g := range s.grids {
		r := g.Geometry[0]
		for k := 0; k+1 < len(r); k++ {
			byEdge[key(r[k], r[k+1])] = append(byEdge[key(r[k], r[k+1])], i)
		}
	}
	for _, n := range []int{6, 9, 12} {
		parent := make([]int, len(s.grids))
		for i := range parent {
			parent[i] = i
		}
		var find func(int) int
		find = func(i int) int {
			if parent[i] != i {
				parent[i] = find(parent[i])
			}
			return parent[i]
		}
		for _, gs := range byEdge {
			if len(gs) > 2 {
				t.Fatalf("an edge is shared by %d grids", len(gs))
			}
			if len(gs) == 2 && string(s.grids[gs[0]].Code[:n]) == string(s.grids[gs[1]].Code[:n]) {
				parent[find(gs[0])] = find(gs[1])
			}
		}
		roots := map[string]int{}
		for i, g := range s.grids {
			p := string(g.Code[:n])
			if r, ok := roots[p]; ok && r != find(i) {
				t.Fatalf("division %s is not contiguous", p)
			}
			roots[p] = find(i)
		}
	}
}

func TestHierarchySizes(t *testing.T) {
	o := DefaultOptions()
	o.Components = 10
	s := generate(t, o)
	levels := map[grid.Level]int{}
	for _, d := range s.divisions {
		levels[d.Level]++
	}
	if levels[grid.District] != 11 || levels[grid.Street] < 100 || levels[grid.Community] < 500 {
		t.Fatalf("default city has %v divisions per level", levels)
	}
	t.Logf("default city: %d districts, %d streets, %d communities, %d grids",
		levels[grid.District], levels[grid.Street], levels[grid.Community], len(s.grids))
}

func TestProgressAndOrder(t *testing.T) {
	o := smallOptions(2)
	o.Components = 25_000
	var calls [][2]int
	s := &memSink{}
	err := Generate(context.Background(), o, parts.DefaultCatalogue(), s, func(done, total int) {
		calls = append(calls, [2]int{done, total})
	})
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]int{{10_000, 25_000}, {20_000, 25_000}, {25_000, 25_000}}
	if !reflect.DeepEqual(calls, want) {
		t.Fatalf("progress calls %v, want %v", calls, want)
	}
	// Spatial order: consecutive parts are mostly close together.
	f := newFrame(o)
	far := 0
	for i := 1; i < len(s.parts); i++ {
		a, b := representative(s.parts[i-1].Geometry), representative(s.parts[i].Geometry)
		if math.Hypot((a[0]-b[0])*f.mLon, (a[1]-b[1])*f.mLat) > 2000 {
			far++
		}
	}
	if far > len(s.parts)/100 {
		t.Fatalf("%d of %d consecutive parts are more than 2 km apart: not in spatial order", far, len(s.parts))
	}
}

func TestGenerateErrors(t *testing.T) {
	cat := parts.DefaultCatalogue()
	o := smallOptions(1)
	o.Components = 30_000
	sinkErr := errors.New("disk full")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := map[string]struct {
		ctx  context.Context
		o    Options
		cat  *parts.Catalogue
		sink Sink
		want error
	}{
		"bad options":   {context.Background(), Options{}, cat, &memSink{}, ErrInvalidOptions},
		"no catalogue":  {context.Background(), o, nil, &memSink{}, ErrInvalidOptions},
		"empty catalog": {context.Background(), o, &parts.Catalogue{}, &memSink{}, ErrInvalidOptions},
		"no sink":       {context.Background(), o, cat, nil, ErrInvalidOptions},
		"sink fails":    {context.Background(), o, cat, &memSink{failParts: sinkErr}, sinkErr},
		"cancelled":     {cancelled, o, cat, &memSink{}, context.Canceled},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := Generate(tc.ctx, tc.o, tc.cat, tc.sink, nil)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestCancelMidway(t *testing.T) {
	o := smallOptions(1)
	o.Components = 50_000
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &memSink{}
	err := Generate(ctx, o, parts.DefaultCatalogue(), s, func(done, total int) {
		if done >= 20_000 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || len(s.parts) >= o.Components {
		t.Fatalf("got %v after %d parts, want context.Canceled before the end", err, len(s.parts))
	}
}

func TestValidate(t *testing.T) {
	mod := func(f func(*Options)) Options { o := DefaultOptions(); f(&o); return o }
	cases := map[string]struct {
		o     Options
		field string // "" when valid
	}{
		"default":            {DefaultOptions(), ""},
		"more grids":         {mod(func(o *Options) { o.Components, o.Grids = 10, 100 }), ""},
		"zero components":    {mod(func(o *Options) { o.Components = 0 }), "Components"},
		"negative grids":     {mod(func(o *Options) { o.Grids = -1 }), "Grids"},
		"too many grids":     {mod(func(o *Options) { o.Grids = 1_000_001 }), "Grids"},
		"too many parts":     {mod(func(o *Options) { o.Components = 50_000_001 }), "Components"},
		"parts for 1 grid":   {mod(func(o *Options) { o.Components, o.Grids = 40_000_000, 1 }), "Components"},
		"zero size":          {mod(func(o *Options) { o.SizeKm = 0 }), "SizeKm"},
		"NaN size":           {mod(func(o *Options) { o.SizeKm = math.NaN() }), "SizeKm"},
		"huge size":          {mod(func(o *Options) { o.SizeKm = 5000 }), "SizeKm"},
		"tiny cells":         {mod(func(o *Options) { o.SizeKm, o.Grids = 0.5, 1_000_000 }), "Grids"},
		"centre off earth":   {mod(func(o *Options) { o.Center = orb.Point{200, 30} }), "Center"},
		"centre at the pole": {mod(func(o *Options) { o.Center = orb.Point{0, 89} }), "Center"},
		"over antimeridian":  {mod(func(o *Options) { o.Center = orb.Point{179.9, 0} }), "SizeKm"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := tc.o.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var oe *OptionError
			if !errors.Is(err, ErrInvalidOptions) || !errors.As(err, &oe) || oe.Field != tc.field {
				t.Fatalf("got %v, want an *OptionError on %s", err, tc.field)
			}
		})
	}
}

func TestLatticeDims(t *testing.T) {
	for m := 1; m <= 3000; m++ {
		rows, cols, rem := latticeDims(m)
		if rows < 1 || rem < 0 || rem >= cols || rows*cols+rem != m {
			t.Fatalf("latticeDims(%d) = %d, %d, %d", m, rows, cols, rem)
		}
		if m >= 100 && (float64(cols)/float64(rows) > 1.6 || rows > cols) {
			t.Fatalf("latticeDims(%d) = %d x %d: cells far from square", m, rows, cols)
		}
	}
}

func TestHilbert(t *testing.T) {
	// The first 4^k distances cover the 2^k x 2^k block at the origin,
	// each once, and consecutive distances are neighbouring cells.
	const k = 5
	const n = 1 << k
	at := make([][2]uint32, n*n)
	seen := make([]bool, n*n)
	for x := uint32(0); x < n; x++ {
		for y := uint32(0); y < n; y++ {
			d := hilbert(x, y)
			if d >= n*n || seen[d] {
				t.Fatalf("hilbert(%d, %d) = %d: outside the block or repeated", x, y, d)
			}
			seen[d] = true
			at[d] = [2]uint32{x, y}
		}
	}
	for d := 1; d < n*n; d++ {
		a, b := at[d-1], at[d]
		if dist := absDiff(a[0], b[0]) + absDiff(a[1], b[1]); dist != 1 {
			t.Fatalf("distances %d and %d are cells %v and %v, not neighbours", d-1, d, a, b)
		}
	}
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// TestMatchesGridIndex checks every part's grid against grid.Index.Locate,
// the lookup the registry uses.
func TestMatchesGridIndex(t *testing.T) {
	s := generate(t, smallOptions(12))
	ix := grid.NewIndex()
	for _, g := range s.grids {
		if _, _, err := ix.Put(g); err != nil {
			t.Fatalf("grid %s: %v", g.Code, err)
		}
	}
	for _, p := range s.parts {
		g, err := ix.Locate(representative(p.Geometry))
		if err != nil {
			t.Fatalf("part %s: %v", p.Code, err)
		}
		if string(g.Code) != p.Grid {
			t.Fatalf("part %s: grid %s, the index says %s", p.Code, p.Grid, g.Code)
		}
	}
}

// TestLocateOnEdges puts points exactly on lattice vertices and on the
// shared diagonal of split cells, where the rule decides, and compares
// with grid.Index.Locate.
func TestLocateOnEdges(t *testing.T) {
	o := smallOptions(3)
	o.Components, o.Grids = 10, 397 // 397 = 19*20 + 17: 17 split cells
	s := &memSink{}
	g := &generator{o: o, frame: newFrame(o)}
	g.rng = rand.New(rand.NewPCG(1, 1))
	g.names = &namer{rng: g.rng}
	g.dens = newDensity(g.frame.half, g.rng)
	g.lat = newLattice(o.Grids, &g.frame, g.rng)
	var err error
	if g.city, err = newCity(g.lat, &g.frame, g.dens, g.names); err != nil {
		t.Fatal(err)
	}
	if err := g.emitHierarchy(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	ix := grid.NewIndex()
	for _, gr := range s.grids {
		if _, _, err := ix.Put(gr); err != nil {
			t.Fatal(err)
		}
	}
	var pts []orb.Point
	for i := 0; i <= g.lat.rows; i++ {
		for j := 0; j <= g.lat.cols; j++ {
			pts = append(pts, g.lat.vertex(i, j))
		}
	}
	for cell, split := range g.lat.split {
		if split {
			r, c := cell/g.lat.cols, cell%g.lat.cols
			a, b := g.lat.vertex(r, c), g.lat.vertex(r+1, c+1)
			pts = append(pts, orb.Point{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2})
		}
	}
	for _, p := range pts {
		want, err := ix.Locate(p)
		if err != nil {
			t.Fatalf("index: %v", err)
		}
		if got := g.city.grids[g.lat.locate(p)].code; got != want.Code {
			t.Fatalf("point %v: locate says %s, the index %s", p, got, want.Code)
		}
	}
}

func signedArea(r orb.Ring) float64 {
	a := 0.0
	for i := 0; i+1 < len(r); i++ {
		a += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return a / 2
}

func TestCustomCatalogue(t *testing.T) {
	cat := &parts.Catalogue{}
	cat.Add(parts.ClassInfo{Class: 101, Name: "上水井盖", Kind: parts.Point, Owner: parts.DeptWater, Weight: 3})
	cat.Add(parts.ClassInfo{Class: 298, Name: "其它", Kind: parts.Line, Weight: 1})
	cat.Add(parts.ClassInfo{Class: 199, Name: "未用", Kind: parts.Point}) // weight 0: never drawn
	o := smallOptions(1)
	o.Components = 5_000
	s := &memSink{}
	if err := Generate(context.Background(), o, cat, s, nil); err != nil {
		t.Fatal(err)
	}
	count := map[parts.Class]int{}
	for _, p := range s.parts {
		if err := p.Validate(cat); err != nil {
			t.Fatalf("part %s: %v", p.Code, err)
		}
		count[p.Class]++
		if p.Class == 298 && p.Owner != "street-"+grid.Code(p.Grid).Street() {
			t.Fatalf("street-owned part %s has owner %q", p.Code, p.Owner)
		}
	}
	if count[199] != 0 || count[298] == 0 || count[101] < 4_500 {
		t.Fatalf("class counts %v", count)
	}
}

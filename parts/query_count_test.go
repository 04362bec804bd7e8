package parts_test

import (
	"context"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"citytwin/parts"
	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// TestCountClassesAgainstBruteForce checks CountClasses (and
// CountClassesRef, the count before its shortcuts) against a brute-force
// count over a model of the parts, after a build, after a mix of adds,
// moves, changes of geometry kind, retirements and attribute changes, after
// a reload of the whole registry through a Builder, and after more writes.
// The boxes include some whose edges lie on or a hair beside a point's or a
// vertex's coordinates, where the float32 boxes of the R-tree and the exact
// tests disagree, and one over the whole city (several stripes).
func TestCountClassesAgainstBruteForce(t *testing.T) {
	cat := parts.DefaultCatalogue()
	g := newCityGen(11, cat)
	rng := rand.New(rand.NewPCG(11, 12))
	const n = 20000
	bl := parts.NewBuilder(cat, n)
	model := map[parts.Code]parts.Part{}
	for range n {
		p := g.next()
		if err := bl.Add(p); err != nil {
			t.Fatal(err)
		}
		p.Version = 1
		model[p.Code] = p
	}
	r := bl.Build()
	checkCounts(t, "built", r, model, rng)

	writeMix(t, r, model, g, rng)
	checkCounts(t, "after writes", r, model, rng)

	// Reload: every part through a new Builder, in a shuffled order. Parts
	// that a Builder refuses (no geometry, a geometry their class does not
	// accept: Put does not validate) are left out.
	var ps []parts.Part
	r.Each(func(p parts.Part) bool { ps = append(ps, p); return true })
	rng.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
	bl = parts.NewBuilder(cat, len(ps))
	for _, p := range ps {
		if err := bl.Add(p); err != nil {
			delete(model, p.Code)
		}
	}
	r = bl.Build()
	checkCounts(t, "reloaded", r, model, rng)

	writeMix(t, r, model, g, rng)
	checkCounts(t, "reloaded, after writes", r, model, rng)
}

// writeMix applies a few thousand random writes to r and to the model:
// Put and PutAll of new parts, moves, changes of geometry kind (to lines,
// polygons, multipolygons and none), retirements and revivals, changes of
// owner and state.
func writeMix(t *testing.T, r *parts.Registry, model map[parts.Code]parts.Part, g *cityGen, rng *rand.Rand) {
	t.Helper()
	codes := slices.Sorted(maps.Keys(model))
	var batch []parts.Part
	for i := range 3000 {
		var p parts.Part
		if rng.IntN(5) == 0 {
			p = g.next()
			codes = append(codes, p.Code)
		} else {
			p = model[codes[rng.IntN(len(codes))]]
			switch rng.IntN(10) {
			case 0, 1, 2: // move (or turn into) a point
				p.Geometry = g.point()
			case 3: // a line or a polygon, somewhere else
				k := parts.Line
				if rng.IntN(2) == 0 {
					k = parts.Polygon
				}
				p.Geometry = g.geometry(k, g.point())
			case 4: // two squares far apart: not connected
				a, b := g.point(), g.point()
				p.Geometry = orb.MultiPolygon{square(a, 50), square(b, 80)}
			case 5:
				p.Geometry = nil
			case 6:
				p.Retired = !p.Retired
			case 7:
				p.Owner = parts.DeptDrainage
			case 8:
				p.State = parts.State(rng.IntN(4))
			case 9: // shift a shape a little, or a point
				p.Geometry = shift(p.Geometry, (rng.Float64()-0.5)*0.002, (rng.Float64()-0.5)*0.002)
			}
		}
		p.Version++
		model[p.Code] = p
		if i%4 == 0 {
			batch = append(batch, p)
			if len(batch) == 8 {
				r.PutAll(batch)
				batch = batch[:0]
			}
			continue
		}
		r.Put(p)
	}
	r.PutAll(batch)
}

func square(c orb.Point, metres float64) orb.Polygon {
	d := metres * degPerM
	return orb.Polygon{{c, {c[0] + d, c[1]}, {c[0] + d, c[1] + d}, {c[0], c[1] + d}, c}}
}

// shift returns a copy of g moved by dx, dy.
func shift(g orb.Geometry, dx, dy float64) orb.Geometry {
	if g == nil {
		return nil
	}
	g = orb.Clone(g)
	switch g := g.(type) {
	case orb.Point:
		return orb.Point{g[0] + dx, g[1] + dy}
	case orb.LineString:
		for i := range g {
			g[i][0], g[i][1] = g[i][0]+dx, g[i][1]+dy
		}
	case orb.Polygon:
		for _, rg := range g {
			for i := range rg {
				rg[i][0], rg[i][1] = rg[i][0]+dx, rg[i][1]+dy
			}
		}
	case orb.MultiPolygon:
		for _, pg := range g {
			for _, rg := range pg {
				for i := range rg {
					rg[i][0], rg[i][1] = rg[i][0]+dx, rg[i][1]+dy
				}
			}
		}
	}
	return g
}

// countFilters are the filters of checkCounts: none (the fast path) and a
// few that need the records.
var countFilters = []parts.Filter{
	{},
	{Classes: []parts.Class{101, 118, 211, 405}},
	{Owner: parts.DeptDrainage},
	{States: []parts.State{parts.Damaged, parts.Missing}},
	{Majors: []int{1}, States: []parts.State{parts.Intact}, GridPrefix: "510105"},
}

// checkCounts compares CountClasses and CountClassesRef with a brute-force
// count over the model for a few hundred boxes and the filters.
func checkCounts(t *testing.T, stage string, r *parts.Registry, model map[parts.Code]parts.Part, rng *rand.Rand) {
	t.Helper()
	ctx := context.Background()
	live := make([]parts.Part, 0, len(model))
	for _, c := range slices.Sorted(maps.Keys(model)) {
		if p := model[c]; !p.Retired && p.Geometry != nil {
			live = append(live, p)
		}
	}
	boxes := []orb.Bound{{Min: orb.Point{103.7, 30.4}, Max: orb.Point{104.4, 30.9}}}
	for range 300 {
		boxes = append(boxes, countBox(rng, live[rng.IntN(len(live))].Geometry))
	}
	for i, b := range boxes {
		for j, f := range countFilters {
			if j > 0 && i%4 != 0 {
				continue
			}
			want := map[parts.Class]int{}
			for k := range live {
				if p := &live[k]; f.Match(p) && spatial.Intersects(p.Geometry, b) {
					want[p.Code.Class()]++
				}
			}
			got, err := r.CountClasses(ctx, b, f)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := r.CountClassesRef(ctx, b, f)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, ref) {
				t.Fatalf("%s: box %v filter %+v: CountClasses %v, CountClassesRef %v", stage, b, f, got, ref)
			}
			if len(got) != len(want) {
				t.Fatalf("%s: box %v filter %+v: %d classes, brute force %d", stage, b, f, len(got), len(want))
			}
			for _, c := range got {
				if want[c.Class] != c.Count {
					t.Fatalf("%s: box %v filter %+v: class %s counted %d, brute force %d", stage, b, f, c.Class, c.Count, want[c.Class])
				}
			}
		}
	}
}

// countBox returns a box near the geometry g: around it (50-1000 m), or
// with an edge on one of its coordinates, or a float64 step beside it, or
// of zero width or height there.
func countBox(rng *rand.Rand, g orb.Geometry) orb.Bound {
	var v orb.Point
	switch g := g.(type) {
	case orb.Point:
		v = g
	case orb.LineString:
		v = g[rng.IntN(len(g))]
	case orb.Polygon:
		v = g[0][rng.IntN(len(g[0]))]
	default:
		v = g.Bound().Center()
	}
	w := (50 + rng.Float64()*950) * degPerM
	h := (50 + rng.Float64()*950) * degPerM
	b := orb.Bound{Min: orb.Point{v[0] - w*rng.Float64(), v[1] - h*rng.Float64()}}
	b.Max = orb.Point{b.Min[0] + w, b.Min[1] + h}
	axis := rng.IntN(2)
	x := v[axis]
	switch rng.IntN(3) {
	case 1:
		x = math.Nextafter(x, math.Inf(1))
	case 2:
		x = math.Nextafter(x, math.Inf(-1))
	}
	switch rng.IntN(6) {
	case 0: // around
	case 1:
		b.Min[axis] = x
	case 2:
		b.Max[axis] = x
	case 3: // zero width or height
		b.Min[axis], b.Max[axis] = x, x
	case 4: // thin: under a float32 step
		b.Min[axis], b.Max[axis] = x, x+1e-6*rng.Float64()
	case 5: // both edges on coordinates
		b.Min[axis] = x
		b.Max[1-axis] = v[1-axis]
	}
	if b.Min[axis] > b.Max[axis] {
		b.Min[axis], b.Max[axis] = b.Max[axis], b.Min[axis]
	}
	return b
}

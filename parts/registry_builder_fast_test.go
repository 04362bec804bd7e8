package parts

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paulmach/orb"
)

// TestBuilderValidMatchesValidate checks the quick validation of Add
// against Part.Validate: whatever it accepts, Validate accepts, and it
// accepts the ordinary valid parts.
func TestBuilderValidMatchesValidate(t *testing.T) {
	cat := DefaultCatalogue()
	b := NewBuilder(cat, 0)
	classes := cat.All()
	rng := rand.New(rand.NewPCG(3, 4))
	ring := orb.Ring{{104, 30}, {104.001, 30}, {104.001, 30.001}, {104, 30}}
	geoms := []orb.Geometry{
		nil, orb.Point{104, 30}, orb.Point{181, 30}, orb.Point{104, -91}, orb.Point{math.NaN(), 30},
		orb.LineString{{104, 30}, {104.001, 30.001}}, orb.LineString{{104, 30}}, orb.LineString{{104, 30}, {200, 30}},
		orb.Polygon{ring}, orb.Polygon{}, orb.Polygon{ring[:3]}, orb.Polygon{{{104, 30}, {104.001, 30}, {104.001, 30.001}, {104, 30.002}}},
		orb.MultiPoint{{104, 30}},
	}
	accepted := 0
	for range 20000 {
		ci := classes[rng.IntN(len(classes))]
		county := []uint32{510104, 109999, 830000, 110000, 829999}[rng.IntN(5)]
		serial := uint32(rng.IntN(3))
		p := Part{
			Code:     Code(uint64(county)*1e10 + uint64(ci.Class)*1e6 + uint64(serial)),
			State:    State(rng.IntN(5)),
			Geometry: geoms[rng.IntN(len(geoms))],
		}
		switch rng.IntN(4) {
		case 0:
			p.Class = ci.Class
		case 1:
			p.Class = Class(rng.IntN(10000))
		}
		if rng.IntN(50) == 0 {
			p.Code = Code(uint64(county)*1e10 + uint64(rng.IntN(10000))*1e6 + 7) // unknown or bad class
		}
		q := p
		fast := b.check(&q)
		if fast && q.Class == 0 {
			q.Class = q.Code.Class() // as Validate sets it
		}
		err := p.Validate(cat)
		if fast && err != nil {
			t.Fatalf("%+v: valid says yes, Validate says %v", p, err)
		}
		if fast && q.Class != p.Class {
			t.Fatalf("%+v: valid set class %s, Validate %s", p, q.Class, p.Class)
		}
		if err == nil {
			if !fast {
				t.Fatalf("%+v: a valid part took the slow path", p)
			}
			accepted++
		}
	}
	if accepted < 500 {
		t.Fatalf("only %d valid parts generated", accepted)
	}
}

// TestAddAll checks that AddAll adds like Add and stops at the first
// refused part.
func TestAddAll(t *testing.T) {
	ps := genParts(t, 3000)
	b := NewBuilder(nil, len(ps))
	k, err := b.AddAll(ps[:2000])
	if err != nil || k != 2000 {
		t.Fatalf("AddAll = %d, %v", k, err)
	}
	bad := slices.Clone(ps[2000:2100])
	bad[50] = ps[10] // already added
	k, err = b.AddAll(bad)
	if k != 50 || !errors.Is(err, ErrExists) {
		t.Fatalf("AddAll with a duplicate at 50 = %d, %v", k, err)
	}
	if k, err = b.AddAll(ps[2050:]); err != nil || k != 950 {
		t.Fatalf("AddAll = %d, %v", k, err)
	}
	r := b.Build()
	one := NewBuilder(nil, 0)
	for _, p := range ps {
		if err := one.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	want := one.Build()
	if r.Len() != want.Len() {
		t.Fatalf("Len %d, want %d", r.Len(), want.Len())
	}
	for _, p := range ps {
		got, err1 := r.Get(p.Code)
		exp, err2 := want.Get(p.Code)
		if (err1 == nil) != (err2 == nil) || got.Code != exp.Code || got.Name != exp.Name || got.Owner != exp.Owner ||
			!orb.Equal(got.Geometry, exp.Geometry) {
			t.Fatalf("%s: %+v %v, want %+v %v", p.Code, got, err1, exp, err2)
		}
	}
}

// TestBuildSearchMatchesInsert checks that a built registry (packed
// R-tree, moved records) answers box searches like a registry filled by
// Put, part by part.
func TestBuildSearchMatchesInsert(t *testing.T) {
	ps := genParts(t, 20000)
	b := NewBuilder(nil, len(ps))
	put := NewRegistry(nil)
	for _, p := range ps {
		if err := b.Add(p); err != nil {
			t.Fatal(err)
		}
		if p.Version == 0 {
			p.Version = 1
		}
		put.Put(p)
	}
	built := b.Build()
	all := put.Bounds()
	if built.Bounds() != all || built.Len() != put.Len() {
		t.Fatalf("Bounds %v Len %d, want %v %d", built.Bounds(), built.Len(), all, put.Len())
	}
	rng := rand.New(rand.NewPCG(5, 6))
	codes := func(r *Registry, q orb.Bound) []Code {
		var out []Code
		if err := r.Scan(context.Background(), q, Filter{}, func(e Entry) bool {
			out = append(out, e.Code)
			return true
		}); err != nil {
			t.Fatal(err)
		}
		slices.Sort(out)
		return out
	}
	for range 200 {
		w, h := all.Max[0]-all.Min[0], all.Max[1]-all.Min[1]
		c := orb.Point{all.Min[0] + rng.Float64()*w, all.Min[1] + rng.Float64()*h}
		q := orb.Bound{Min: c, Max: orb.Point{c[0] + rng.Float64()*w/10, c[1] + rng.Float64()*h/10}}
		if got, want := codes(built, q), codes(put, q); !slices.Equal(got, want) {
			t.Fatalf("Scan(%v): %d parts, want %d", q, len(got), len(want))
		}
	}
}

// TestRankManyPrefixes checks rank when the codes have more county and
// class prefixes than the packed sort takes.
func TestRankManyPrefixes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	recs := make([]record, 10000)
	for i := range recs {
		recs[i].code = uint64(110000+rng.IntN(700000))*1e10 + uint64(101+rng.IntN(9000))*1e6 + uint64(1+i)
	}
	if rankPacked(slices.Clone(recs)) {
		t.Fatal("rankPacked took 10000 prefixes")
	}
	rank(recs, nil)
	byOrd := slices.Clone(recs)
	slices.SortFunc(byOrd, func(a, b record) int { return int(a.ord) - int(b.ord) })
	for i := range byOrd {
		if byOrd[i].ord != uint32(i+1) || (i > 0 && byOrd[i-1].code >= byOrd[i].code) {
			t.Fatalf("record %d: ord %d code %d out of code order", i, byOrd[i].ord, byOrd[i].code)
		}
	}
}

// genParts returns n valid parts of random classes around Chengdu, in
// random code order, with a few strings that repeat.
func genParts(t *testing.T, n int) []Part {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(n), 11))
	classes := DefaultCatalogue().All()
	names := []string{"井盖", "路灯", "消防栓", "公交站", ""}
	ps := make([]Part, n)
	for i := range ps {
		ci := classes[rng.IntN(len(classes))]
		c, err := NewCode(510104+uint32(rng.IntN(3)), ci.Class, uint32(i+1))
		if err != nil {
			t.Fatal(err)
		}
		o := orb.Point{104 + rng.Float64()*0.2, 30.5 + rng.Float64()*0.2}
		var g orb.Geometry = o
		switch ci.Kind {
		case Line:
			g = orb.LineString{o, {o[0] + 0.001, o[1] + rng.Float64()*0.001}}
		case Polygon:
			g = orb.Polygon{{o, {o[0] + 0.001, o[1]}, {o[0] + 0.001, o[1] + 0.001}, o}}
		}
		ps[i] = Part{Code: c, Name: names[rng.IntN(len(names))], Owner: names[rng.IntN(len(names))],
			Grid: "51010400100" + string(rune('0'+i%10)), Geometry: g, Retired: rng.IntN(20) == 0}
	}
	rng.Shuffle(n, func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
	return ps
}

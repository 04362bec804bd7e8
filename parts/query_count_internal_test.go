package parts

import (
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

// TestClsInStep checks that r.cls matches the records, entry by entry,
// after every kind of write: Builder adds and Build's reordering, Put and
// PutAll of new codes, moves, changes of geometry kind (point, line,
// polygon, multipolygon, an empty line, none), retirements, and a reload.
func TestClsInStep(t *testing.T) {
	cat := DefaultCatalogue()
	classes := cat.All()
	rng := rand.New(rand.NewPCG(21, 22))
	serial := uint32(0)
	newCode := func() Code {
		serial++
		c, err := NewCode(510104, classes[rng.IntN(len(classes))].Class, serial)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	pt := func() orb.Point { return orb.Point{104 + rng.Float64()*0.1, 30.6 + rng.Float64()*0.1} }
	valid := func(c Code) orb.Geometry {
		ci, _ := cat.Lookup(c.Class())
		p := pt()
		switch ci.Kind {
		case Line:
			return orb.LineString{p, {p[0] + 0.001, p[1] + 0.0005}}
		case Polygon:
			return orb.Polygon{{p, {p[0] + 0.001, p[1]}, {p[0] + 0.001, p[1] + 0.001}, p}}
		}
		return p
	}
	check := func(stage string, r *Registry) {
		t.Helper()
		if len(r.cls) != len(r.recs) {
			t.Fatalf("%s: %d cls entries for %d records", stage, len(r.cls), len(r.recs))
		}
		for i := range r.recs {
			rec := &r.recs[i]
			if want := clsOf(rec, r.geometry(rec)); r.cls[i] != want {
				t.Fatalf("%s: cls[%d] = %#x, want %#x (code %d, flags %b)", stage, i, r.cls[i], want, rec.code, rec.flags)
			}
		}
	}

	b := NewBuilder(cat, 0)
	var codes []Code
	for range 2000 {
		c := newCode()
		if err := b.Add(Part{Code: c, Geometry: valid(c), Retired: rng.IntN(20) == 0}); err != nil {
			t.Fatal(err)
		}
		codes = append(codes, c)
	}
	check("added", b.r)
	r := b.Build()
	check("built", r)

	odd := func() orb.Geometry {
		switch rng.IntN(8) {
		case 0:
			return nil
		case 1:
			return orb.LineString{}
		case 2:
			return orb.MultiPolygon{{{pt(), pt(), pt(), {104, 30.6}}}}
		case 3:
			return orb.Polygon{{pt(), pt(), pt(), {104, 30.6}}}
		case 4:
			return orb.LineString{pt(), pt(), pt()}
		}
		return pt()
	}
	write := func(r *Registry) {
		var batch []Part
		for i := range 3000 {
			var p Part
			if rng.IntN(5) == 0 {
				c := newCode()
				codes = append(codes, c)
				p = Part{Code: c, Geometry: odd()}
			} else {
				old, err := r.Get(codes[rng.IntN(len(codes))])
				if err != nil && old.Code == 0 {
					continue // left out of a reload
				}
				p = old
				if rng.IntN(4) == 0 {
					p.Retired = !p.Retired
				} else {
					p.Geometry = odd()
				}
			}
			if i%3 == 0 {
				batch = append(batch, p)
				continue
			}
			r.Put(p)
			if i%100 == 0 {
				check("writing", r)
			}
		}
		r.PutAll(batch)
		check("written", r)
	}
	write(r)

	// Reload what a Builder takes, shuffled.
	var ps []Part
	r.Each(func(p Part) bool { ps = append(ps, p); return true })
	rng.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
	b = NewBuilder(cat, len(ps))
	for _, p := range ps {
		_ = b.Add(p) // those it refuses are left out
	}
	r = b.Build()
	check("reloaded", r)
	write(r)
}

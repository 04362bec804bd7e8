package parts

import (
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/paulmach/orb"
)

// TestRank checks that ords follow the codes, for records already in code
// order (the fast path) and shuffled.
func TestRank(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n       int
		shuffle bool
	}{
		{"empty", 0, false},
		{"in order", 3000, false},
		{"shuffled small", 50, true},
		{"shuffled", 3000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, 9))
			recs := make([]record, tc.n)
			code := uint64(5101040101000001)
			for i := range recs {
				code += 1 + uint64(rng.IntN(1e6))
				recs[i].code = code
			}
			if tc.shuffle {
				rng.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
			}
			rank(recs, nil)
			byOrd := slices.Clone(recs)
			slices.SortFunc(byOrd, func(a, b record) int { return int(a.ord) - int(b.ord) })
			for i := range byOrd {
				if byOrd[i].ord != uint32(i+1) || (i > 0 && byOrd[i-1].code >= byOrd[i].code) {
					t.Fatalf("record %d: ord %d code %d out of code order", i, byOrd[i].ord, byOrd[i].code)
				}
			}
		})
	}
}

// TestOrdSurvivesWrites checks that updating and retiring a built part keep
// its ord, and that a part added after Build has none.
func TestOrdSurvivesWrites(t *testing.T) {
	b := NewBuilder(nil, 2)
	var codes []Code
	for _, s := range []uint32{2, 1} {
		c, err := NewCode(510104, 101, s)
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, c)
		if err := b.Add(Part{Code: c, Name: "n", Geometry: orb.Point{104, 30}}); err != nil {
			t.Fatal(err)
		}
	}
	r := b.Build()
	ordOf := func(c Code) uint32 {
		idx, ok := r.codes.find(r.recs, uint64(c))
		if !ok {
			t.Fatalf("%s not found", c)
		}
		return r.recs[idx].ord
	}
	if ordOf(codes[1]) != 1 || ordOf(codes[0]) != 2 {
		t.Fatalf("ords after Build = %d, %d, want 2, 1", ordOf(codes[0]), ordOf(codes[1]))
	}
	p, _ := r.Get(codes[0])
	p.Name, p.Geometry = "m", orb.Point{104.1, 30.1}
	p.Version++
	r.Put(p)
	q, _ := r.Get(codes[1])
	q.Retired, q.Version = true, q.Version+1
	r.Put(q)
	if ordOf(codes[1]) != 1 || ordOf(codes[0]) != 2 {
		t.Fatalf("ords after writes = %d, %d, want 2, 1", ordOf(codes[0]), ordOf(codes[1]))
	}
	c3, _ := NewCode(510104, 101, 3)
	r.Put(Part{Code: c3, Version: 1, Geometry: orb.Point{104, 30}})
	if ordOf(c3) != 0 {
		t.Fatalf("ord of a part added after Build = %d, want 0", ordOf(c3))
	}
}

// TestPermute: permute puts every element where keys say, whether it
// copies (a small array) or follows the cycles in place (an array of
// permuteInPlace bytes without spare capacity).
func TestPermute(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 2, 1000, int(permuteInPlace / 8)} {
		order := rng.Perm(n)
		keys := make([]uint64, n)
		for i, old := range order {
			keys[i] = uint64(rng.Uint32())<<32 | uint64(old)
		}
		big := make([]uint64, n)
		small := make([]uint16, n)
		for i := range big {
			big[i], small[i] = uint64(i)*7+1, uint16(i*3)
		}
		gotBig, gotSmall := permute(big, keys), permute(small, keys)
		if n == int(permuteInPlace/8) && unsafe.SliceData(gotBig) != unsafe.SliceData(big) {
			t.Errorf("n=%d: a %d MB array without spare capacity was copied, not moved in place", n, permuteInPlace>>20)
		}
		for i, old := range order {
			if gotBig[i] != uint64(old)*7+1 || gotSmall[i] != uint16(old*3) {
				t.Fatalf("n=%d: position %d holds %d, %d; want the element of %d", n, i, gotBig[i], gotSmall[i], old)
			}
		}
	}
}

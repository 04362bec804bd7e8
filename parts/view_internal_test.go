package parts

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

// TestQueryHashIsFNV checks that queryHash is 64-bit FNV-1a of the bytes
// that the hash/fnv version of it wrote, so cursors stay valid across the
// change.
func TestQueryHashIsFNV(t *testing.T) {
	ref := fnv.New64a()
	u64 := func(v uint64) {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], v)
		ref.Write(b[:])
	}
	str := func(s string) { u64(uint64(len(s))); ref.Write([]byte(s)) }
	f := Filter{
		Classes:      []Class{405, 101, 101},
		Majors:       []int{4, -1, 1},
		Owner:        "排水",
		Dept:         "lighting",
		States:       []State{Missing, Intact},
		GridPrefix:   "510104",
		ChangedSince: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC),
	}
	b := orb.Bound{Min: orb.Point{104.01, 30.6}, Max: orb.Point{104.2, 30.7}}
	q := newQueryHash("bbox")
	q.geometry(b)
	q.filter(f)
	str("bbox")
	str("B")
	for _, v := range []float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]} {
		u64(math.Float64bits(v))
	}
	for _, set := range [][]uint64{{101, 405}, {uint64(1<<64 - 1), 1, 4}} {
		u64(uint64(len(set)))
		for _, v := range set {
			u64(v)
		}
	}
	str("排水")
	str("lighting")
	u64(2)
	u64(uint64(Intact))
	u64(uint64(Missing))
	str("510104")
	u64(uint64(int64(toDay(f.ChangedSince))))
	if got, want := q.sum(), ref.Sum64(); got != want {
		t.Fatalf("queryHash = %x, hash/fnv %x", got, want)
	}
	if n := testing.AllocsPerRun(10, func() {
		h := newQueryHash("bbox")
		h.geometry(b)
		h.filter(Filter{Owner: "x"})
		_ = h.sum()
	}); n != 0 {
		t.Fatalf("hashing a query: %v allocations", n)
	}
}

// TestPageHits feeds hits through every path of pageHits (before the
// cursor, past the bound, trimming, past buf) and compares the page with a
// sort of all the hits.
func TestPageHits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, tc := range []struct {
		n, limit int
		after    uint64
		unranked bool
	}{
		{0, 10, 0, false},
		{5, 10, 0, false},
		{1000, 1000, 0, false},
		{1500, 1000, 0, false},
		{pageBuf + 1, 1000, 0, false},
		{5000, 1000, 0, false},
		{5000, 1000, 0, true},
		{20000, 1, 0, false},
		{20000, 37, 5101040000000000 + 1_000_000*4001, false},
		{30000, MaxLimit, 0, false},
		{30000, MaxLimit, 0, true},
	} {
		var ph pageHits
		ph.init(tc.limit, tc.after)
		var all []hit
		for i, o := range rng.Perm(tc.n) {
			ord := uint32(o + 1)
			if tc.unranked && i%10 == 0 {
				ord = 0
			}
			h := hit{code: 5101040000000000 + uint64(o)*4001, idx: uint32(i), ord: ord}
			ph.add(h.code, h.idx, h.ord)
			if h.code > tc.after {
				all = append(all, h)
			}
		}
		slices.SortFunc(all, compareHits)
		want := all[:min(len(all), tc.limit)]
		var keys [4 << packBits]uint32
		hits, order := ph.finish(keys[:])
		var got []hit
		if order != nil {
			for _, i := range order {
				got = append(got, hits[i])
			}
		} else {
			got = hits
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%+v: page of %d differs from the %d smallest", tc, len(got), len(want))
		}
		if ph.matched != tc.n || ph.rest != len(all) {
			t.Fatalf("%+v: matched %d rest %d, want %d %d", tc, ph.matched, ph.rest, tc.n, len(all))
		}
	}
}

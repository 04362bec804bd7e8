package parts

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortPage compares the radix sorts with a comparison sort, ranked and
// not, across the sizes where the code paths change.
func TestSortPage(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, tc := range []struct {
		name     string
		n        int
		ordRange uint32 // 0: the full uint32 range, too wide for a 32-bit key
		ranked   bool
	}{
		{"empty", 0, 100, true},
		{"one", 1, 100, true},
		{"small ranked", 50, 1000, true},
		{"page ranked", 1000, 2_000_000, true},
		{"page ranked narrow", 1000, 1500, true},
		{"over 1024 ranked", 3024, 2_000_000, true},
		{"wide ords fall back", 1000, 0, true},
		{"unranked", 1000, 2_000_000, false},
		{"big unranked", 5000, 2_000_000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits := make([]hit, tc.n)
			seen := map[uint32]bool{}
			for i := range hits {
				var o uint32
				for o == 0 || seen[o] {
					if tc.ordRange == 0 {
						o = rng.Uint32()
					} else {
						o = 1 + rng.Uint32N(tc.ordRange)
					}
				}
				seen[o] = true
				// Codes in the order of the ords, with gaps and county jumps.
				code := 5101040000000000 + uint64(o)*7919 + uint64(o>>20)*10_000_000_000
				hits[i] = hit{code: code, idx: uint32(i), ord: o}
			}
			want := slices.Clone(hits)
			slices.SortFunc(want, compareHits)
			sortPage(hits, nil, tc.ranked)
			if !slices.Equal(hits, want) {
				t.Fatalf("sortPage differs from a comparison sort")
			}
		})
	}
}

// TestRankOrder checks the order of rankOrder against a comparison sort,
// and that it declines hits without an ord and ords too wide for its keys.
func TestRankOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	for _, n := range []int{0, 1, 2, 100, 1000, 2048, 2049, 5000} {
		hits := make([]hit, n)
		for i, o := range rng.Perm(n) {
			hits[i] = hit{code: 5101040000000000 + uint64(o)*7919, idx: uint32(i), ord: uint32(1 + o*(1+n%3))}
		}
		var scratch [4 << packBits]uint32
		order, ok := rankOrder(hits, scratch[:])
		if !ok || len(order) != n {
			t.Fatalf("n=%d: ok %v, %d positions", n, ok, len(order))
		}
		for i := 1; i < n; i++ {
			if hits[order[i-1]].code >= hits[order[i]].code {
				t.Fatalf("n=%d: out of order at %d", n, i)
			}
		}
		if n > 1 {
			hits[n/2].ord = 0
			if _, ok := rankOrder(hits, scratch[:]); ok {
				t.Fatalf("n=%d: ranked a hit without an ord", n)
			}
			hits[n/2].ord = 1<<32 - 1
			if _, ok := rankOrder(hits, scratch[:]); ok {
				t.Fatalf("n=%d: ranked ords 32 bits apart", n)
			}
		}
	}
}

// BenchmarkSortPage sorts a page of 1,000 hits over 2 million parts: by ord
// (ranked, the parts of a Build) and by code.
func BenchmarkSortPage(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	src := make([]hit, 1000)
	for i := range src {
		o := rng.Uint32N(2_000_000) + 1
		src[i] = hit{code: 5101040000000000 + uint64(o)*4001 + uint64(o>>20)*10_000_000_000, idx: uint32(i), ord: o}
	}
	h := make([]hit, len(src))
	b.Run("order", func(b *testing.B) {
		var scratch [4 << packBits]uint32
		b.ReportAllocs()
		for b.Loop() {
			rankOrder(src, scratch[:])
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(src)), "ns/hit")
	})
	for _, ranked := range []bool{true, false} {
		name := map[bool]string{true: "ranked", false: "codes"}[ranked]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				copy(h, src)
				sortPage(h, nil, ranked)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(h)), "ns/hit")
		})
	}
}

package spatial

import (
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/paulmach/orb"
)

// packItem is an item of the packer tests.
type packItem struct {
	b orb.Bound
	v uint32
}

// randomItems returns n points and small boxes around Chengdu in Hilbert
// order, numbered in that order.
func randomItems(rng *rand.Rand, n int) []packItem {
	all := orb.Bound{Min: orb.Point{103.9, 30.5}, Max: orb.Point{104.2, 30.8}}
	items := make([]packItem, n)
	for i := range items {
		p := orb.Point{all.Min[0] + rng.Float64()*(all.Max[0]-all.Min[0]), all.Min[1] + rng.Float64()*(all.Max[1]-all.Min[1])}
		b := orb.Bound{Min: p, Max: p}
		if rng.IntN(10) == 0 {
			b.Max = orb.Point{p[0] + rng.Float64()*0.002, p[1] + rng.Float64()*0.002}
		}
		items[i].b = b
	}
	sort.SliceStable(items, func(i, j int) bool {
		return Hilbert(items[i].b.Center(), all) < Hilbert(items[j].b.Center(), all)
	})
	for i := range items {
		items[i].v = uint32(i)
	}
	return items
}

// sameAnswers checks that a and b answer random box searches and nearest
// walks with the same items.
func sameAnswers(t *testing.T, rng *rand.Rand, a, b *Index[uint32], boxes map[uint32]orb.Bound) {
	t.Helper()
	if a.Len() != b.Len() || a.Bound() != b.Bound() {
		t.Fatalf("Len %d, %d; Bound %v, %v", a.Len(), b.Len(), a.Bound(), b.Bound())
	}
	collect := func(ix *Index[uint32], q orb.Bound) []uint32 {
		var out []uint32
		ix.Search(q, func(v uint32) bool { out = append(out, v); return true })
		slices.Sort(out)
		return out
	}
	for range 300 {
		c := orb.Point{103.85 + rng.Float64()*0.4, 30.45 + rng.Float64()*0.4}
		w := rng.Float64() * 0.05
		q := orb.Bound{Min: c, Max: orb.Point{c[0] + w, c[1] + w*rng.Float64()}}
		if got, want := collect(a, q), collect(b, q); !slices.Equal(got, want) {
			t.Fatalf("Search(%v): %d items, want %d", q, len(got), len(want))
		}
	}
	var all []uint32
	a.Scan(func(v uint32) bool { all = append(all, v); return true })
	slices.Sort(all)
	if want := collect(b, orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}); !slices.Equal(all, want) {
		t.Fatalf("Scan: %d items, want %d", len(all), len(want))
	}
	for range 20 {
		o := orb.Point{103.9 + rng.Float64()*0.3, 30.5 + rng.Float64()*0.3}
		m := NewMetric(o)
		near := func(ix *Index[uint32]) []float64 {
			var ds []float64
			ix.Nearby(o, func(v uint32) float64 { return m.Distance(boxes[v]) }, func(_ uint32, d float64) bool {
				ds = append(ds, d)
				return len(ds) < 50
			})
			return ds
		}
		if got, want := near(a), near(b); !slices.Equal(got, want) {
			t.Fatalf("Nearby(%v): %v, want %v", o, got, want)
		}
	}
}

// TestPacker checks that a packed index answers like one built by Insert,
// before and after more inserts and deletes, and that a copy stays apart.
func TestPacker(t *testing.T) {
	for _, n := range []int{0, 1, 2, 63, 64, 65, 4096, 4097, 20000} {
		rng := rand.New(rand.NewPCG(uint64(n), 7))
		items := randomItems(rng, n)
		boxes := make(map[uint32]orb.Bound, n)
		var packed, inserted Index[uint32]
		pk := packed.Packer(n)
		for _, it := range items {
			boxes[it.v] = it.b
			lo, hi := Box32(it.b)
			pk.Add(lo, hi, it.v)
			inserted.Insert(it.b, it.v)
		}
		if n > 0 && !pk.fast {
			t.Fatalf("n=%d: the packer fell back to Insert: rtree's layout no longer matches the mirror types", n)
		}
		pk.Done()
		sameAnswers(t, rng, &packed, &inserted, boxes)

		snap := packed.Copy()
		// Writes on the packed tree: delete a third, move some, add new.
		for _, it := range items {
			switch rng.IntN(3) {
			case 0:
				packed.Delete(it.b, it.v)
				inserted.Delete(it.b, it.v)
				delete(boxes, it.v)
			case 1:
				if rng.IntN(4) == 0 {
					packed.Delete(it.b, it.v)
					inserted.Delete(it.b, it.v)
					nb := randomItems(rng, 1)[0].b
					packed.Insert(nb, it.v)
					inserted.Insert(nb, it.v)
					boxes[it.v] = nb
				}
			}
		}
		for i, it := range randomItems(rng, n/4+1) {
			v := uint32(n + i)
			packed.Insert(it.b, v)
			inserted.Insert(it.b, v)
			boxes[v] = it.b
		}
		sameAnswers(t, rng, &packed, &inserted, boxes)
		if snap.Len() != n {
			t.Fatalf("n=%d: the copy taken before the writes has %d items", n, snap.Len())
		}
	}
}

package parts

import (
	"cmp"
	"slices"
	"testing"

	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// TestBuildOrder checks the order a Builder leaves a big registry in (its
// keys computed in two halves at once): the parts sorted stably by the
// Hilbert key of their box centre over the bound of all, and the parts in
// the R-tree those that are not retired.
func TestBuildOrder(t *testing.T) {
	n := 2*parallelKeys + 1000
	ps := genParts(t, n) // a few retired: left out of the tree
	b := NewBuilder(nil, n)
	if _, err := b.AddAll(ps); err != nil {
		t.Fatal(err)
	}
	var all orb.Bound
	first := true
	for _, p := range ps {
		if p.Geometry == nil {
			continue
		}
		if bd := spatial.Bound(p.Geometry); first {
			all, first = bd, false
		} else {
			all = all.Union(bd)
		}
	}
	type kc struct {
		key  uint64
		code Code
	}
	want := make([]kc, n)
	inTree := 0
	for i, p := range ps {
		var c orb.Point
		if p.Geometry != nil {
			c = spatial.Bound(p.Geometry).Center()
			if !p.Retired {
				inTree++
			}
		}
		want[i] = kc{spatial.Hilbert(c, all), p.Code}
	}
	slices.SortStableFunc(want, func(a, b kc) int { return cmp.Compare(a.key, b.key) })
	reg := b.Build()
	i := 0
	reg.Each(func(p Part) bool {
		if p.Code != want[i].code {
			t.Fatalf("part %d is %s, want %s", i, p.Code, want[i].code)
		}
		i++
		return true
	})
	if i != n {
		t.Fatalf("%d parts, want %d", i, n)
	}
	if got := reg.tree.Len(); got != inTree {
		t.Errorf("%d parts in the R-tree, want %d", got, inTree)
	}
}

package parts

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestClassTally counts random classes, few and many (past tallySpill,
// into the map), against a plain array, in class order.
func TestClassTally(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, distinct := range []int{0, 1, 5, 64, tallySpill - 1, tallySpill, tallySpill + 1, 300, 10000} {
		var want [10000]int
		classes := rng.Perm(10000)[:distinct]
		tally := new(classTally)
		for i := 0; i < 20*distinct; i++ {
			c := uint16(classes[rng.IntN(len(classes))])
			tally.add(c)
			want[c]++
		}
		got := tally.sorted()
		if !slices.IsSortedFunc(got, func(a, b ClassCount) int { return int(a.Class) - int(b.Class) }) {
			t.Fatalf("%d classes: not in class order", distinct)
		}
		n := 0
		for c, w := range want {
			if w == 0 {
				continue
			}
			if n >= len(got) || got[n] != (ClassCount{Class(c), w}) {
				t.Fatalf("%d classes: row %d is %v, want class %d count %d", distinct, n, got[min(n, len(got)-1)], c, w)
			}
			n++
		}
		if n != len(got) {
			t.Fatalf("%d classes: %d rows, want %d", distinct, len(got), n)
		}
	}
}

package spatial

import (
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/paulmach/orb"
)

// TestPackerHints packs with size hints below, at and above the number of
// items: the leaves come from blocks of memory (one for the hint, then
// smaller ones), each shown to Advise once before it is written, and the
// tree answers like one built by Insert whatever the hint.
func TestPackerHints(t *testing.T) {
	const n = 10000
	for _, hint := range []int{0, 1, 100, n / 2, n, 3 * n} {
		rng := rand.New(rand.NewPCG(uint64(hint), 11))
		items := randomItems(rng, n)
		boxes := make(map[uint32]orb.Bound, n)
		var packed, inserted Index[uint32]
		pk := packed.Packer(hint)
		var blocks []uintptr
		var size uintptr
		pk.Advise = func(p unsafe.Pointer, sz uintptr) {
			for i := uintptr(0); i < sz; i++ {
				if *(*byte)(unsafe.Add(p, i)) != 0 {
					t.Fatalf("hint %d: a block shown to Advise is written already", hint)
				}
			}
			blocks = append(blocks, uintptr(p))
			size += sz
		}
		for _, it := range items {
			boxes[it.v] = it.b
			lo, hi := Box32(it.b)
			pk.Add(lo, hi, it.v)
			inserted.Insert(it.b, it.v)
		}
		pk.Done()
		leaves := (n + packMax - 1) / packMax
		if len(blocks) == 0 || size < uintptr(leaves-1)*unsafe.Sizeof(leafMirror[uint32]{}) {
			t.Errorf("hint %d: %d blocks of %d bytes in all for %d leaves", hint, len(blocks), size, leaves)
		}
		if hint >= n && len(blocks) != 1 {
			t.Errorf("hint %d: %d blocks, want 1", hint, len(blocks))
		}
		sameAnswers(t, rng, &packed, &inserted, boxes)
		// Writes after the packing work on leaves cut from blocks.
		for _, it := range items[:n/3] {
			packed.Delete(it.b, it.v)
			inserted.Delete(it.b, it.v)
			delete(boxes, it.v)
		}
		for i, it := range randomItems(rng, n/5) {
			v := uint32(n + i)
			packed.Insert(it.b, v)
			inserted.Insert(it.b, v)
			boxes[v] = it.b
		}
		sameAnswers(t, rng, &packed, &inserted, boxes)
	}
}

package gpkg

import (
	"fmt"
	"testing"
	"unsafe"
)

// TestInterner checks that the interner gives back each value it is
// handed, the one string of its map for the values there, whatever its
// recent entries hold (values of every length, colliding or not).
func TestInterner(t *testing.T) {
	in := interner{max: 100}
	var vals []string
	for i := range 3000 {
		vals = append(vals, fmt.Sprintf("%0*d", i%40, i), fmt.Sprintf("street-%09d", i%500), string(rune('a'+i%26)))
	}
	for round := range 3 {
		for _, v := range vals {
			got := in.get([]byte(v))
			if got != v {
				t.Fatalf("round %d: get(%q) = %q", round, v, got)
			}
			if s, ok := in.m[v]; ok && unsafe.StringData(s) != unsafe.StringData(got) {
				t.Fatalf("round %d: get(%q) gave another string than the map's", round, v)
			}
		}
	}
	if got := in.get(nil); got != "" {
		t.Errorf("get(nil) = %q", got)
	}
	if len(in.m) != in.max {
		t.Errorf("%d values in the map, want its max %d", len(in.m), in.max)
	}
}

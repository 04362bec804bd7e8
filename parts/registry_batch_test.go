package parts_test

import (
	"errors"
	"testing"

	"citytwin/parts"

	"github.com/paulmach/orb"
)

func TestPutAllGetAll(t *testing.T) {
	r := parts.NewRegistry(nil)
	a, b := testPart(t, "5101040101000001"), testPart(t, "5101040101000002")
	a.Version, b.Version = 1, 1
	b.Geometry = orb.Point{104.07, 30.67}
	r.PutAll([]parts.Part{a, b})
	if r.Len() != 2 {
		t.Fatalf("Len %d after PutAll of 2", r.Len())
	}
	// A batch that moves a, retires b and names a code twice: the last wins.
	a2, b2 := a, b
	a2.Version, a2.Geometry = 2, orb.Point{104.08, 30.68}
	a3 := a2
	a3.Version, a3.Name = 3, "改名"
	b2.Version, b2.Retired = 2, true
	r.PutAll([]parts.Part{a2, b2, a3})
	unknown := testPart(t, "5101040101000003").Code
	ps, errs := r.GetAll([]parts.Code{a.Code, b.Code, unknown})
	if errs[0] != nil || ps[0].Version != 3 || ps[0].Name != "改名" {
		t.Errorf("a: %+v %v, want version 3 renamed", ps[0], errs[0])
	}
	if !errors.Is(errs[1], parts.ErrRetired) || ps[1].Version != 2 {
		t.Errorf("b: %+v %v, want retired at version 2", ps[1], errs[1])
	}
	if !errors.Is(errs[2], parts.ErrNotFound) {
		t.Errorf("unknown: %v, want ErrNotFound", errs[2])
	}
	if r.Len() != 1 {
		t.Errorf("Len %d, want 1 live", r.Len())
	}
	if got := r.Bounds(); !got.Contains(orb.Point{104.08, 30.68}) || got.Contains(orb.Point{104.06, 30.66}) {
		t.Errorf("bounds %v: want the moved point only", got)
	}
}

package twin_test

import (
	"context"
	"errors"
	"testing"

	"github.com/paulmach/orb"

	"citytwin/grid"
	"citytwin/parts"
	"citytwin/twin"
)

func TestApplyExternal(t *testing.T) {
	tw, _ := open(t, city(t))
	ctx := context.Background()
	var changes []twin.Change
	tw.OnChange(func(c twin.Change) { changes = append(changes, c) })

	var some []parts.Part
	tw.Parts().Each(func(p parts.Part) bool {
		if !p.Retired {
			some = append(some, p)
		}
		return len(some) < 3
	})
	newer := some[0]
	newer.Version++
	newer.Name = "edited elsewhere"
	older := some[1]
	older.Name = "stale"
	added := newPart(t, tw, RepresentativeOf(some[2]), 99001)
	added.Version = 1
	bad := newPart(t, tw, RepresentativeOf(some[2]), 99002)
	bad.Version = 1
	bad.Geometry = orb.LineString{{104, 30}, {104.001, 30}} // a cover is a point

	res := tw.ApplyExternal(ctx, twin.External{
		Parts:        []parts.Part{newer, older, added, bad},
		DeletedParts: []parts.Code{some[2].Code},
	})
	if res.Applied != 3 || res.Skipped != 1 || res.Rejected != 1 {
		t.Fatalf("ApplyExternal = %+v, want 3 applied (newer, added, deleted), 1 skipped (same version), 1 rejected", res)
	}
	if got, _ := tw.Parts().Get(newer.Code); got.Name != "edited elsewhere" || got.Version != newer.Version {
		t.Errorf("newer version not applied: %+v", got)
	}
	if got, _ := tw.Parts().Get(older.Code); got.Name == "stale" {
		t.Errorf("a row at the version memory holds replaced it")
	}
	if got, err := tw.Parts().Get(added.Code); err != nil || got.Grid == "" {
		t.Errorf("added part: %+v, %v; want it located in a grid", got, err)
	}
	if _, err := tw.Parts().Get(some[2].Code); !errors.Is(err, parts.ErrRetired) {
		t.Errorf("deleted part: %v, want retired", err)
	}
	if _, err := tw.Parts().Get(bad.Code); !errors.Is(err, parts.ErrNotFound) {
		t.Errorf("invalid part reached memory: %v", err)
	}
	if len(changes) != 3 {
		t.Fatalf("%d changes emitted, want 3", len(changes))
	}
	if changes[0].Op != twin.OpModify || changes[0].OldPart == nil || changes[0].OldPart.Name == "edited elsewhere" {
		t.Errorf("first change %+v, want the modify with the old part", changes[0])
	}
	if changes[2].Op != twin.OpRetire {
		t.Errorf("delete emitted %s, want retire", changes[2].Op)
	}

	// A row inserted again under the deleted code comes back.
	again := some[2]
	again.Version = 1
	if res := tw.ApplyExternal(ctx, twin.External{Parts: []parts.Part{again}}); res.Applied != 1 {
		t.Fatalf("re-insert after delete: %+v", res)
	}
	if _, err := tw.Parts().Get(again.Code); err != nil {
		t.Errorf("re-inserted part: %v", err)
	}

	// Grids: a newer version replaces, a delete removes.
	var g grid.Grid
	tw.Grids().Each(func(x grid.Grid) bool { g = x; return false })
	g2 := g
	g2.Version++
	g2.Name = "renamed elsewhere"
	if res := tw.ApplyExternal(ctx, twin.External{Grids: []grid.Grid{g2}}); res.Applied != 1 {
		t.Fatalf("grid update: %+v", res)
	}
	if got, _ := tw.Grids().Get(g.Code); got.Name != "renamed elsewhere" {
		t.Errorf("grid not renamed: %+v", got)
	}
	if res := tw.ApplyExternal(ctx, twin.External{DeletedGrids: []grid.Code{g.Code}}); res.Applied != 1 {
		t.Fatalf("grid delete: %+v", res)
	}
	if _, err := tw.Grids().Get(g.Code); !errors.Is(err, grid.ErrNotFound) {
		t.Errorf("deleted grid: %v", err)
	}
}

// RepresentativeOf is a point near p (its representative point).
func RepresentativeOf(p parts.Part) orb.Point { return twin.RepresentativePoint(p.Geometry) }

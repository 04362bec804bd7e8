package twin_test

import (
	"context"
	"testing"

	"citytwin/grid"
	"citytwin/parts"
	"citytwin/twin"
)

// TestGridChangesRelocate: removing a grid leaves its components outside
// every grid, adding it back adopts them again, each through the write
// path as modify records (a new version and a change emitted).
func TestGridChangesRelocate(t *testing.T) {
	ctx := context.Background()
	path := city(t)
	tw, _ := open(t, path)
	var g grid.Grid
	var inside []parts.Part
	tw.Grids().Each(func(x grid.Grid) bool {
		var ps []parts.Part
		tw.Parts().Each(func(p parts.Part) bool {
			if p.Grid == string(x.Code) && !p.Retired {
				ps = append(ps, p)
			}
			return true
		})
		if len(ps) > 0 {
			g, inside = x, ps
			return false
		}
		return true
	})
	if len(inside) == 0 {
		t.Fatal("no grid with components")
	}
	var changed int
	tw.OnChange(func(c twin.Change) {
		if c.IsPart() && c.Op == twin.OpModify {
			changed++
		}
	})
	if _, err := tw.RemoveGrid(ctx, g.Code, 0); err != nil {
		t.Fatal(err)
	}
	for _, p := range inside {
		got, err := tw.Parts().Get(p.Code)
		if err != nil || got.Grid != "" || got.Version != p.Version+1 {
			t.Fatalf("%s after its grid was removed: grid %q version %d (was %d), %v", p.Code, got.Grid, got.Version, p.Version, err)
		}
	}
	if changed != len(inside) {
		t.Fatalf("%d modify records emitted, want %d", changed, len(inside))
	}
	g.Version = 0
	if _, err := tw.AddGrid(ctx, g); err != nil {
		t.Fatal(err)
	}
	for _, p := range inside {
		if got, _ := tw.Parts().Get(p.Code); got.Grid != string(g.Code) || got.Version != p.Version+2 {
			t.Fatalf("%s after its grid came back: grid %q version %d", p.Code, got.Grid, got.Version)
		}
	}
	// ImportGrids of the same grid again: unchanged, nothing re-located.
	res, err := tw.ImportGrids(ctx, []grid.Grid{g}, true)
	if err != nil || res.Unchanged != 1 || len(res.Relocated) != 0 {
		t.Fatalf("re-import: %+v %v", res, err)
	}
	// The store has the re-located grid codes too.
	tw2, _ := open(t, path)
	if got, _ := tw2.Parts().Get(inside[0].Code); got.Grid != string(g.Code) {
		t.Fatalf("reloaded %s in grid %q", inside[0].Code, got.Grid)
	}
}

package twin_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"citytwin/grid"
	"citytwin/parts"
	"citytwin/store/gpkg"
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

// partsRefusing is a GeoPackage store whose component writes fail while
// refuse is set: a store that takes a grid write, then refuses the
// re-location that follows it.
type partsRefusing struct {
	*gpkg.Store
	refuse atomic.Bool
}

func (s *partsRefusing) PutParts(ctx context.Context, ps []parts.Part) error {
	if s.refuse.Load() {
		return errors.New("refused")
	}
	return s.Store.PutParts(ctx, ps)
}

// TestGridWriteStandsWhenRelocationFails: a grid removal that is stored
// answers success even when the re-location of its components fails; the
// re-location stays pending and the next Sweep does it.
func TestGridWriteStandsWhenRelocationFails(t *testing.T) {
	ctx := context.Background()
	gst, err := gpkg.Open(ctx, city(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gst.Close() })
	st := &partsRefusing{Store: gst}
	tw, err := twin.Open(ctx, st, twin.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	var g grid.Grid
	var inside []parts.Part
	tw.Grids().Each(func(x grid.Grid) bool {
		tw.Parts().Each(func(p parts.Part) bool {
			if p.Grid == string(x.Code) && !p.Retired {
				inside = append(inside, p)
			}
			return true
		})
		g = x
		return len(inside) == 0
	})
	if len(inside) == 0 {
		t.Fatal("no grid with components")
	}
	st.refuse.Store(true)
	if _, err := tw.RemoveGrid(ctx, g.Code, 0); err != nil {
		t.Fatalf("a stored grid removal answered %v", err)
	}
	if _, err := tw.Grids().Get(g.Code); err == nil {
		t.Fatal("the removed grid is still in the index")
	}
	if n := tw.RelocationsPending(); n != 1 {
		t.Fatalf("%d relocations pending, want 1", n)
	}
	if got, _ := tw.Parts().Get(inside[0].Code); got.Grid != string(g.Code) {
		t.Fatalf("a refused re-location changed %s to grid %q", got.Code, got.Grid)
	}
	if err := tw.Sweep(ctx); err == nil {
		t.Fatal("Sweep with the store still refusing: no error")
	}
	st.refuse.Store(false)
	if err := tw.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if n := tw.RelocationsPending(); n != 0 {
		t.Fatalf("%d relocations pending after a good Sweep", n)
	}
	for _, p := range inside {
		if got, err := tw.Parts().Get(p.Code); err != nil || got.Grid != "" || got.Version != p.Version+1 {
			t.Fatalf("%s after the retried re-location: grid %q version %d (was %d), %v", p.Code, got.Grid, got.Version, p.Version, err)
		}
	}
}

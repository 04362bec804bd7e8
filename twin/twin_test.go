package twin_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citytwin/grid"
	"citytwin/internal/testcity"
	"citytwin/parts"
	"citytwin/store/gpkg"
	"citytwin/twin"
)

var fixedNow = func() time.Time { return time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) }

// city writes a small synthetic city to a GeoPackage and returns its path.
func city(t *testing.T) string { return testcity.File(t, 3000, 100, 11) }

// open loads path into a twin with a fixed clock.
func open(t *testing.T, path string) (*twin.Twin, *gpkg.Store) {
	t.Helper()
	st, err := gpkg.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tw, err := twin.Open(context.Background(), st, twin.Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	return tw, st
}

// newPart returns a valid new water cover at pt, with a code not in tw.
func newPart(t *testing.T, tw *twin.Twin, pt orb.Point, serial uint32) parts.Part {
	t.Helper()
	c, err := parts.NewCode(510104, 101, serial)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Parts().Get(c); !errors.Is(err, parts.ErrNotFound) {
		t.Fatalf("code %s already used: %v", c, err)
	}
	return parts.Part{Code: c, Class: 101, Name: "上水井盖", Owner: parts.DeptWater, Supervisor: parts.DeptCityMgmt, Geometry: pt}
}

func TestOpenLoadsEverything(t *testing.T) {
	var stages []string
	path := city(t)
	st, err := gpkg.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tw, err := twin.Open(context.Background(), st, twin.Options{Progress: func(stage string, done, total int) {
		stages = append(stages, stage)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if tw.Parts().Len() != 3000 || tw.Grids().Len() != 100 {
		t.Fatalf("loaded %d parts and %d grids, want 3000 and 100", tw.Parts().Len(), tw.Grids().Len())
	}
	if !slices.Contains(stages, "grids") || !slices.Contains(stages, "parts") || !slices.Contains(stages, "index") ||
		stages[len(stages)-1] != "cases" {
		t.Errorf("progress stages %v, want grids, parts, index, then sensors and cases last", stages)
	}
	ds := tw.Grids().Divisions(grid.District, "")
	if len(ds) == 0 || ds[0].Name == "" {
		t.Errorf("districts not loaded with names: %+v", ds)
	}
}

func TestWritePathPersistsAndApplies(t *testing.T) {
	ctx := context.Background()
	path := city(t)
	tw, _ := open(t, path)
	var changes []twin.Change
	tw.OnChange(func(c twin.Change) { changes = append(changes, c) })

	centre := tw.Grids().Bounds().Center()
	p := newPart(t, tw, centre, 990001)
	added, err := tw.AddPart(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	g, err := tw.Grids().Locate(centre)
	if err != nil {
		t.Fatal(err)
	}
	if added.Version != 1 || added.Grid != string(g.Code) || !added.Changed.Equal(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("added %+v: want version 1, grid %s, changed 2026-11-23", added, g.Code)
	}
	if _, err := tw.AddPart(ctx, p); !errors.Is(err, parts.ErrExists) {
		t.Errorf("second add: %v, want ErrExists", err)
	}

	// Move it into another grid: version 2, grid relocated.
	far := tw.Grids().Bounds().Min
	far = orb.Point{far[0] + 0.0001, far[1] + 0.0001}
	moved, err := tw.UpdatePart(ctx, p.Code, 1, func(q *parts.Part) error {
		q.Geometry = far
		q.State = parts.Damaged
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	g2, _ := tw.Grids().Locate(far)
	if moved.Version != 2 || moved.Grid != string(g2.Code) || moved.Grid == added.Grid || moved.State != parts.Damaged {
		t.Errorf("moved %+v: want version 2, grid %s", moved, g2.Code)
	}
	if _, err := tw.UpdatePart(ctx, p.Code, 1, func(q *parts.Part) error { return nil }); !errors.Is(err, parts.ErrVersionMismatch) {
		t.Errorf("stale If-Match: %v, want ErrVersionMismatch", err)
	}
	if _, err := tw.UpdatePart(ctx, p.Code, 0, func(q *parts.Part) error {
		q.Code++
		return nil
	}); !errors.Is(err, parts.ErrInvalid) {
		t.Errorf("code change: %v, want ErrInvalid", err)
	}
	retired, err := tw.RetirePart(ctx, p.Code, 2)
	if err != nil || !retired.Retired || retired.Version != 3 {
		t.Fatalf("retire: %+v %v", retired, err)
	}
	if _, err := tw.Parts().Get(p.Code); !errors.Is(err, parts.ErrRetired) {
		t.Errorf("get retired: %v, want ErrRetired", err)
	}
	if _, err := tw.RetirePart(ctx, p.Code, 0); !errors.Is(err, parts.ErrRetired) {
		t.Errorf("retire twice: %v, want ErrRetired", err)
	}
	if len(changes) != 3 || changes[0].OldPart != nil || changes[1].OldPart == nil ||
		changes[1].OldPart.Geometry != orb.Geometry(centre) || changes[2].Op != twin.OpRetire {
		t.Errorf("changes emitted: %+v", changes)
	}

	// Everything is in the store: a fresh twin sees the retired part.
	tw2, _ := open(t, path)
	got, err := tw2.Parts().Get(p.Code)
	if !errors.Is(err, parts.ErrRetired) || got.Version != 3 || got.Geometry != orb.Geometry(far) {
		t.Errorf("reloaded: %+v %v", got, err)
	}
	if tw2.Parts().Len() != 3000 {
		t.Errorf("reloaded %d live parts, want 3000", tw2.Parts().Len())
	}
}

func TestApplyPartsIsAtomic(t *testing.T) {
	ctx := context.Background()
	path := city(t)
	tw, _ := open(t, path)
	centre := tw.Grids().Bounds().Center()
	good := newPart(t, tw, centre, 990002)
	bad := newPart(t, tw, centre, 990003)
	bad.Geometry = orb.LineString{centre, {centre[0] + 0.001, centre[1]}} // a cover is a point
	_, err := tw.ApplyParts(ctx, []twin.PartChange{{Op: twin.OpAdd, Part: good}, {Op: twin.OpAdd, Part: bad}})
	var re *twin.RecordError
	if !errors.As(err, &re) || re.Index != 1 || !errors.Is(err, parts.ErrInvalid) {
		t.Fatalf("batch with a bad record: %v, want RecordError index 1 wrapping ErrInvalid", err)
	}
	if _, err := tw.Parts().Get(good.Code); !errors.Is(err, parts.ErrNotFound) {
		t.Errorf("the good record of a failed batch was applied: %v", err)
	}
	if _, err := tw.ApplyParts(ctx, []twin.PartChange{{Op: "rename", Part: good}, {Op: twin.OpAdd, Part: good}}); !errors.Is(err, twin.ErrInvalidChange) {
		t.Errorf("unknown op: %v, want ErrInvalidChange", err)
	}
	// A batch may add then modify the same code.
	mod := good
	mod.State = parts.Occupied
	out, err := tw.ApplyParts(ctx, []twin.PartChange{{Op: twin.OpAdd, Part: good}, {Op: twin.OpModify, Part: mod, IfVersion: 1}})
	if err != nil || out[1].Version != 2 || out[1].State != parts.Occupied {
		t.Fatalf("add then modify: %+v %v", out, err)
	}
	tw2, _ := open(t, path)
	if p, err := tw2.Parts().Get(good.Code); err != nil || p.Version != 2 || p.State != parts.Occupied {
		t.Errorf("reloaded %+v %v", p, err)
	}
}

// TestStoreFailureChangesNothing closes the real store under the twin: the
// write must fail with ErrStore and leave memory and listeners untouched.
func TestStoreFailureChangesNothing(t *testing.T) {
	ctx := context.Background()
	tw, st := open(t, city(t))
	emitted := 0
	tw.OnChange(func(twin.Change) { emitted++ })
	var victim parts.Part
	tw.Parts().Each(func(p parts.Part) bool { victim = p; return false })
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := tw.UpdatePart(ctx, victim.Code, 0, func(p *parts.Part) error {
		p.State = parts.Missing
		return nil
	})
	if !errors.Is(err, twin.ErrStore) {
		t.Fatalf("write to a closed store: %v, want ErrStore", err)
	}
	p := newPart(t, tw, tw.Grids().Bounds().Center(), 990004)
	if _, err := tw.AddPart(ctx, p); !errors.Is(err, twin.ErrStore) {
		t.Fatalf("add to a closed store: %v, want ErrStore", err)
	}
	got, _ := tw.Parts().Get(victim.Code)
	if got.State != victim.State || got.Version != victim.Version {
		t.Errorf("memory changed after a failed write: %+v, was %+v", got, victim)
	}
	if _, err := tw.Parts().Get(p.Code); !errors.Is(err, parts.ErrNotFound) {
		t.Errorf("failed add is visible: %v", err)
	}
	if emitted != 0 {
		t.Errorf("%d changes emitted for failed writes", emitted)
	}
}

// TestConcurrentUpdatesOneWins: writers racing with the same If-Match get
// exactly one success.
func TestConcurrentUpdatesOneWins(t *testing.T) {
	tw, _ := open(t, city(t))
	var victim parts.Part
	tw.Parts().Each(func(p parts.Part) bool { victim = p; return false })
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, conflict := 0, 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := tw.UpdatePart(context.Background(), victim.Code, victim.Version, func(p *parts.Part) error {
				p.Note = "race"
				return nil
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, parts.ErrVersionMismatch):
				conflict++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok != 1 || conflict != 7 {
		t.Errorf("%d succeeded and %d conflicted, want 1 and 7", ok, conflict)
	}
}

func TestGridWrites(t *testing.T) {
	ctx := context.Background()
	path := city(t)
	tw, _ := open(t, path)
	var g grid.Grid
	tw.Grids().Each(func(x grid.Grid) bool { g = x; return false })
	if _, err := tw.AddGrid(ctx, g); !errors.Is(err, grid.ErrExists) {
		t.Errorf("add existing grid: %v, want ErrExists", err)
	}
	up, err := tw.UpdateGrid(ctx, g.Code, g.Version, func(x *grid.Grid) error {
		x.Name = "改名网格"
		return nil
	})
	if err != nil || up.Version != g.Version+1 {
		t.Fatalf("update grid: %+v %v", up, err)
	}
	if _, err := tw.UpdateGrid(ctx, g.Code, g.Version, func(*grid.Grid) error { return nil }); !errors.Is(err, grid.ErrVersionMismatch) {
		t.Errorf("stale grid update: %v", err)
	}
	if _, err := tw.UpdateGrid(ctx, g.Code, 0, func(x *grid.Grid) error {
		x.Geometry = orb.Polygon{{{0, 0}, {1, 1}, {0, 0}}}
		return nil
	}); !errors.Is(err, grid.ErrInvalid) {
		t.Errorf("invalid grid geometry: %v, want ErrInvalid", err)
	}
	if _, err := tw.RemoveGrid(ctx, g.Code, 0); err != nil {
		t.Fatal(err)
	}
	tw2, _ := open(t, path)
	if _, err := tw2.Grids().Get(g.Code); !errors.Is(err, grid.ErrNotFound) {
		t.Errorf("removed grid reloaded: %v", err)
	}
	if tw2.Grids().Len() != 99 {
		t.Errorf("reloaded %d grids, want 99", tw2.Grids().Len())
	}
}

package gpkg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"citytwin/grid"
	"citytwin/parts"
)

// TestConditionalWrites checks that writes are conditional on the version
// the writer read, for parts and grids, and that a failed batch writes
// nothing. The sample parts are stored at versions 3, 1 and 7.
func TestConditionalWrites(t *testing.T) {
	s := openT(t, writeSample(t))
	ctx := context.Background()
	ps := sampleParts(t)
	var ce *ConflictError

	dup := ps[1]
	if err := s.PutParts(ctx, []parts.Part{dup}); !errors.Is(err, parts.ErrExists) || !errors.As(err, &ce) || ce.Key != dup.Code.String() {
		t.Fatalf("insert of an existing code = %v, want a *ConflictError wrapping parts.ErrExists", err)
	}
	stale := ps[0]
	stale.Version = 3 // read at 2, stored at 3
	err := s.PutParts(ctx, []parts.Part{stale})
	if !errors.Is(err, parts.ErrVersionMismatch) || !errors.As(err, &ce) || ce.Stored != 3 {
		t.Fatalf("stale update = %v, want a *ConflictError wrapping parts.ErrVersionMismatch with Stored 3", err)
	}
	gone := ps[0]
	gone.Code, gone.Version = mustCode(t, "3205080101000077"), 4
	if err := s.PutParts(ctx, []parts.Part{gone}); !errors.Is(err, parts.ErrVersionMismatch) {
		t.Fatalf("update of a missing part = %v, want parts.ErrVersionMismatch", err)
	}
	before := loadParts(t, s)
	ok1 := ps[2]
	ok1.Name, ok1.Version = "batch", 8
	ok2 := ps[0]
	ok2.Code, ok2.Version = mustCode(t, "3205080101000078"), 1
	if err := s.PutParts(ctx, []parts.Part{ok1, ok2, stale}); !errors.Is(err, parts.ErrVersionMismatch) {
		t.Fatalf("batch with a stale record = %v, want parts.ErrVersionMismatch", err)
	}
	if after := loadParts(t, s); !reflect.DeepEqual(after, before) {
		t.Fatalf("a failed batch changed the file")
	}
	nw := ok2
	nw2 := nw
	nw2.Name, nw2.Version = "modified in the same batch", 2
	if err := s.PutParts(ctx, []parts.Part{nw, nw2}); err != nil {
		t.Fatalf("add then modify in one batch: %v", err)
	}

	gs := sampleGrids(t) // stored at 1 and 2
	if err := s.PutGrids(ctx, gs[:1]); !errors.Is(err, grid.ErrExists) {
		t.Fatalf("grid insert of an existing code = %v, want grid.ErrExists", err)
	}
	g := gs[1]
	g.Name = "stale"
	if err := s.PutGrids(ctx, []grid.Grid{g}); !errors.Is(err, grid.ErrVersionMismatch) {
		t.Fatalf("stale grid update = %v, want grid.ErrVersionMismatch", err)
	}
	g.Version = 3
	if err := s.PutGrids(ctx, []grid.Grid{g}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGrid(ctx, g.Code, 2); !errors.Is(err, grid.ErrVersionMismatch) {
		t.Fatalf("stale grid delete = %v, want grid.ErrVersionMismatch", err)
	}
}

// TestTwoWritersOneWins has two goroutines write the same part from the
// same version at once, 100 times: exactly one wins.
func TestTwoWritersOneWins(t *testing.T) {
	s := openT(t, writeSample(t))
	ctx := context.Background()
	p := sampleParts(t)[1] // at 1
	for i := range 100 {
		from := p.Version
		pa, pb := p, p
		pa.Name, pa.Version = fmt.Sprintf("a%d", i), from+1
		pb.Name, pb.Version = fmt.Sprintf("b%d", i), from+1
		var ea, eb error
		var wg sync.WaitGroup
		wg.Go(func() { ea = s.PutParts(ctx, []parts.Part{pa}) })
		wg.Go(func() { eb = s.PutParts(ctx, []parts.Part{pb}) })
		wg.Wait()
		want := pa
		switch {
		case ea == nil && errors.Is(eb, parts.ErrVersionMismatch):
		case eb == nil && errors.Is(ea, parts.ErrVersionMismatch):
			want = pb
		default:
			t.Fatalf("round %d: a %v, b %v; want exactly one nil and one version mismatch", i, ea, eb)
		}
		got := loadParts(t, s)[p.Code]
		if got.Name != want.Name || got.Version != from+1 {
			t.Fatalf("round %d: the file holds %q at %d, want %q at %d", i, got.Name, got.Version, want.Name, from+1)
		}
		p = got
	}
}

// TestEditorUpdateBumpsVersion edits a part the way QGIS or sqlite3 do (an
// UPDATE that leaves version alone) beside an open Store: the version is
// bumped, so a write from the version read before the edit is refused
// rather than overwriting it.
func TestEditorUpdateBumpsVersion(t *testing.T) {
	path := writeSample(t)
	s := openT(t, path)
	ctx := context.Background()
	db, err := sql.Open("sqlite", fileURI(path, "mode=rw&_pragma=busy_timeout(10000)"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p := sampleParts(t)[2] // at 7
	if _, err := db.Exec(`UPDATE parts SET label = 'by QGIS', version = version WHERE code = ?`, p.Code.String()); err != nil {
		t.Fatal(err)
	}
	got := loadParts(t, s)[p.Code]
	if got.Label != "by QGIS" || got.Version != 8 {
		t.Fatalf("after the editor's UPDATE: label %q version %d, want by QGIS at 8", got.Label, got.Version)
	}
	p.Version = 8 // read at 7, before the edit
	if err := s.PutParts(ctx, []parts.Part{p}); !errors.Is(err, parts.ErrVersionMismatch) {
		t.Fatalf("write from before the edit = %v, want parts.ErrVersionMismatch", err)
	}
	p.Version = 9
	if err := s.PutParts(ctx, []parts.Part{p}); err != nil {
		t.Fatal(err)
	}
	if got := loadParts(t, s)[p.Code]; got.Version != 9 {
		t.Fatalf("citytwin's own update was bumped again: version %d, want 9", got.Version)
	}
}

package gpkg

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"citytwin/parts"
)

// TestLoadPartBatches checks that LoadPartBatches gives the parts that
// LoadParts gives, in the same order, batch after batch, and that a
// caller that copies them (as the registry's builder does) keeps them
// intact when the batches' memory is reused.
func TestLoadPartBatches(t *testing.T) {
	path := filepath.Join(t.TempDir(), "batches.gpkg")
	w, err := Create(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	// Points, and the sample's lines, polygons, parts without geometry
	// and rare fields.
	sample := sampleParts(t)
	inSample := map[parts.Code]bool{}
	for _, p := range sample {
		inSample[p.Code] = true
	}
	var ps []parts.Part
	for _, p := range syntheticParts(t, 5000) {
		if !inSample[p.Code] {
			ps = append(ps, p)
		}
	}
	ps = append(ps, sample...)
	if err := w.AddParts(ps); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	s := openT(t, path)
	var want []parts.Part
	if err := s.LoadParts(context.Background(), func(p parts.Part) error {
		want = append(want, p)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(want) != len(ps) {
		t.Fatalf("LoadParts gave %d parts, want %d", len(want), len(ps))
	}
	var got []parts.Part
	batches := 0
	if err := s.LoadPartBatches(context.Background(), func(b []parts.Part) error {
		if len(b) == 0 {
			t.Error("an empty batch")
		}
		batches++
		got = append(got, b...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if batches < 2 {
		t.Errorf("%d batches: want several", batches)
	}
	// The copies share points with batches since reused: compare a
	// builder's copy instead, and the fields that are not shared.
	b := parts.NewBuilder(nil, 0)
	if err := s.LoadPartBatches(context.Background(), func(ps []parts.Part) error {
		_, err := b.AddAll(ps)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	built := map[parts.Code]parts.Part{}
	b.Build().Each(func(p parts.Part) bool { // retired parts too
		built[p.Code] = p
		return true
	})
	if len(built) != len(want) {
		t.Fatalf("built %d parts, want %d", len(built), len(want))
	}
	for i := range want {
		if p := built[want[i].Code]; !reflect.DeepEqual(p, want[i]) {
			t.Fatalf("part %d after LoadPartBatches and Build:\n got %+v\nwant %+v", i, p, want[i])
		}
		g, w := got[i], want[i]
		g.Geometry, w.Geometry = nil, nil
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("part %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	stop := errors.New("stop")
	if err := s.LoadPartBatches(context.Background(), func([]parts.Part) error { return stop }); err != stop {
		t.Errorf("LoadPartBatches did not return fn's error: %v", err)
	}
}

// TestLoadPartBatchesDamaged checks that a batch stops before a row that
// does not decode, and the row's error follows.
func TestLoadPartBatchesDamaged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "damaged.gpkg")
	w, err := Create(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	ps := syntheticParts(t, 3000)
	if err := w.AddParts(ps); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	s := openT(t, path) // registers the spatial functions that the triggers call
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE parts SET state = 'broken' WHERE fid = 2500`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	n := 0
	err = s.LoadPartBatches(context.Background(), func(b []parts.Part) error {
		for i := range b {
			if b[i].Code != ps[n+i].Code {
				t.Fatalf("part %d is %s, want %s", n+i, b[i].Code, ps[n+i].Code)
			}
		}
		n += len(b)
		return nil
	})
	var re *RowError
	if !errors.As(err, &re) || re.Field != "state" || !errors.Is(err, parts.ErrInvalid) {
		t.Errorf("LoadPartBatches error %v, want a *RowError for the state", err)
	}
	if n != 2499 {
		t.Errorf("%d parts before the damaged row, want 2499", n)
	}
}

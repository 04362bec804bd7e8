package postgis_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	"citytwin/grid"
	"citytwin/parts"
	"citytwin/store/postgis"
	"citytwin/twin"

	"github.com/paulmach/orb"
)

// The store is a persistence backend of the twin.
var _ twin.Store = (*postgis.Store)(nil)

func TestTwinStore(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	c := city(t, 500)
	for i := range c.parts {
		c.parts[i].Version = 1 // new parts: inserts
	}
	c.parts[1].Photo, c.parts[1].Note = "photos/1.jpg", "备注"

	// PutParts in two batches, the second replacing a part of the first.
	if err := s.PutParts(ctx, c.parts[:300]); err != nil {
		t.Fatal(err)
	}
	changed := c.parts[10]
	changed.State, changed.Owner, changed.Version = parts.Damaged, "新权属单位", 2
	changed.Geometry = orb.Point{104.061, 30.661}
	c.parts[10] = changed
	if err := s.PutParts(ctx, append([]parts.Part{changed}, c.parts[300:]...)); err != nil {
		t.Fatal(err)
	}
	// A batch with a bad part writes nothing.
	bad := []parts.Part{c.parts[0], c.parts[1]}
	bad[0].State = parts.Missing
	bad[1].Geometry = nil
	var re *postgis.RecordError
	if err := s.PutParts(ctx, bad); !errors.As(err, &re) {
		t.Fatalf("PutParts with a part without geometry = %v, want a *RecordError", err)
	}
	if n, err := s.CountParts(ctx); err != nil || n != len(c.parts) {
		t.Fatalf("CountParts = %d, %v; want %d", n, err, len(c.parts))
	}
	got := map[parts.Code]parts.Part{}
	if err := s.LoadParts(ctx, func(p parts.Part) error { got[p.Code] = p; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(c.parts) {
		t.Fatalf("LoadParts gave %d parts, want %d", len(got), len(c.parts))
	}
	for _, want := range c.parts {
		if want.Class == 0 {
			want.Class = want.Code.Class()
		}
		if g := got[want.Code]; !reflect.DeepEqual(g, want) {
			t.Errorf("part %s:\n got %+v\nwant %+v", want.Code, g, want)
		}
	}
	// fn's error stops the load and comes back as it is.
	stop := errors.New("stop")
	calls := 0
	if err := s.LoadParts(ctx, func(parts.Part) error { calls++; return stop }); err != stop || calls != 1 {
		t.Fatalf("LoadParts with a failing fn = %v after %d calls, want stop after 1", err, calls)
	}

	// Grids: put, replace, load, delete.
	if err := s.PutGrids(ctx, c.grids); err != nil {
		t.Fatal(err)
	}
	g0 := c.grids[0]
	g0.Name, g0.Version = "改名网格", g0.Version+1
	if err := s.PutGrids(ctx, []grid.Grid{g0}); err != nil {
		t.Fatal(err)
	}
	grids := map[grid.Code]grid.Grid{}
	if err := s.LoadGrids(ctx, func(g grid.Grid) error { grids[g.Code] = g; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(grids) != len(c.grids) || !reflect.DeepEqual(grids[g0.Code], g0) {
		t.Fatalf("LoadGrids: %d grids, first %+v; want %d, %+v", len(grids), grids[g0.Code], len(c.grids), g0)
	}
	if err := s.DeleteGrid(ctx, g0.Code, g0.Version-1); !errors.Is(err, grid.ErrVersionMismatch) {
		t.Fatalf("DeleteGrid at the version before = %v, want grid.ErrVersionMismatch", err)
	}
	if err := s.DeleteGrid(ctx, g0.Code, g0.Version); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGrid(ctx, g0.Code, 0); !errors.Is(err, grid.ErrNotFound) {
		t.Fatalf("DeleteGrid of a deleted grid = %v, want grid.ErrNotFound", err)
	}

	// Divisions.
	n, err := s.CopyDivisions(ctx, slices.Values(c.divisions))
	if err != nil || n != int64(len(c.divisions)) || n == 0 {
		t.Fatalf("CopyDivisions = %d, %v; want %d", n, err, len(c.divisions))
	}
	var divs []grid.Division
	if err := s.LoadDivisions(ctx, func(d grid.Division) error { divs = append(divs, d); return nil }); err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(c.divisions)
	slices.SortFunc(want, func(a, b grid.Division) int {
		if a.Code < b.Code {
			return -1
		}
		if a.Code > b.Code {
			return 1
		}
		return 0
	})
	if !reflect.DeepEqual(divs, want) {
		t.Fatalf("LoadDivisions = %v, want %v", divs, want)
	}
}

// TestTwinOnPostGIS opens a twin over the store, writes through it and
// opens a second twin that must see the writes.
func TestTwinOnPostGIS(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	c := city(t, 300)
	if _, err := s.CopyDivisions(ctx, slices.Values(c.divisions)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CopyGrids(ctx, slices.Values(c.grids)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CopyParts(ctx, slices.Values(c.parts)); err != nil {
		t.Fatal(err)
	}
	tw, err := twin.Open(ctx, s, twin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	live := 0
	for _, p := range c.parts {
		if !p.Retired {
			live++
		}
	}
	if n := tw.Parts().Len(); n != live {
		t.Fatalf("twin holds %d live parts, want %d", n, live)
	}
	p := c.parts[1]
	up, err := tw.UpdatePart(ctx, p.Code, 0, func(q *parts.Part) error { q.State = parts.Occupied; return nil })
	if err != nil {
		t.Fatal(err)
	}
	again, err := twin.Open(ctx, s, twin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := again.Parts().Get(p.Code)
	if err != nil || got.State != parts.Occupied || got.Version != up.Version {
		t.Fatalf("after reopening: %+v, %v; want state 占用, version %d", got, err, up.Version)
	}
}

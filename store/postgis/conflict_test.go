package postgis_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"citytwin/grid"
	"citytwin/incidents"
	"citytwin/parts"
	"citytwin/sensors"
	"citytwin/store/postgis"
	"citytwin/twin"

	"github.com/paulmach/orb"
)

// TestConditionalWrites checks that writes are conditional on the version
// the writer read, for parts and grids, and that a failed batch writes
// nothing.
func TestConditionalWrites(t *testing.T) {
	s, conn := openTest(t)
	ctx := context.Background()
	c := city(t, 20)
	ps := c.parts[:4]
	for i := range ps {
		ps[i].Version = 1
	}
	if err := s.PutParts(ctx, ps); err != nil {
		t.Fatal(err)
	}
	var ce *postgis.ConflictError
	// An insert of a code that exists.
	dup := ps[1]
	if err := s.PutParts(ctx, []parts.Part{dup}); !errors.Is(err, parts.ErrExists) || !errors.As(err, &ce) || ce.Key != dup.Code.String() {
		t.Fatalf("insert of an existing code = %v, want a *ConflictError wrapping parts.ErrExists", err)
	}
	// An update from a stale version.
	p := ps[0]
	p.Name, p.Version = "v2", 2
	if err := s.PutParts(ctx, []parts.Part{p}); err != nil {
		t.Fatal(err)
	}
	stale := ps[0]
	stale.Name, stale.Version = "stale", 2 // read at 1, the database is at 2
	err := s.PutParts(ctx, []parts.Part{stale})
	if !errors.Is(err, parts.ErrVersionMismatch) || !errors.As(err, &ce) || ce.Stored != 2 {
		t.Fatalf("stale update = %v, want a *ConflictError wrapping parts.ErrVersionMismatch with Stored 2", err)
	}
	// An update of a part that is gone.
	gone := c.parts[10]
	gone.Version = 5
	if err := s.PutParts(ctx, []parts.Part{gone}); !errors.Is(err, parts.ErrVersionMismatch) {
		t.Fatalf("update of a missing part = %v, want parts.ErrVersionMismatch", err)
	}
	// A batch whose last record conflicts writes nothing.
	ok1, ok2 := ps[2], c.parts[11]
	ok1.Name, ok1.Version = "batch", 2
	ok2.Version = 1
	if err := s.PutParts(ctx, []parts.Part{ok1, ok2, stale}); !errors.Is(err, parts.ErrVersionMismatch) {
		t.Fatalf("batch with a stale record = %v, want parts.ErrVersionMismatch", err)
	}
	var name string
	var n int
	if err := conn.QueryRow(ctx, `SELECT coalesce(name, ''), (SELECT count(*) FROM parts) FROM parts WHERE code = $1`, ok1.Code.String()).Scan(&name, &n); err != nil {
		t.Fatal(err)
	}
	if name == "batch" || n != 4 {
		t.Fatalf("a failed batch left name %q and %d parts, want nothing written", name, n)
	}
	// An add and a modify of the same code in one batch.
	nw := c.parts[12]
	nw.Version = 1
	nw2 := nw
	nw2.Name, nw2.Version = "modified in the same batch", 2
	if err := s.PutParts(ctx, []parts.Part{nw, nw2}); err != nil {
		t.Fatalf("add then modify in one batch: %v", err)
	}

	// Grids.
	g := c.grids[0]
	g.Version = 1
	if err := s.PutGrids(ctx, []grid.Grid{g}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutGrids(ctx, []grid.Grid{g}); !errors.Is(err, grid.ErrExists) {
		t.Fatalf("grid insert of an existing code = %v, want grid.ErrExists", err)
	}
	g2 := g
	g2.Name, g2.Version = "v2", 2
	if err := s.PutGrids(ctx, []grid.Grid{g2}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutGrids(ctx, []grid.Grid{g2}); !errors.Is(err, grid.ErrVersionMismatch) {
		t.Fatalf("stale grid update = %v, want grid.ErrVersionMismatch", err)
	}
	if err := s.DeleteGrid(ctx, g.Code, 1); !errors.Is(err, grid.ErrVersionMismatch) {
		t.Fatalf("stale grid delete = %v, want grid.ErrVersionMismatch", err)
	}
}

// TestTwoWritersOneWins has two stores (two replicas) write the same part
// from the same version at once, 100 times: exactly one wins each time,
// the other gets parts.ErrVersionMismatch, and the database holds the
// winner.
func TestTwoWritersOneWins(t *testing.T) {
	u, _ := newSchema(t)
	a, b := openURL(t, u), openURL(t, u)
	ctx := context.Background()
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	p := city(t, 5).parts[0]
	p.Version = 1
	if err := a.PutParts(ctx, []parts.Part{p}); err != nil {
		t.Fatal(err)
	}
	wins := map[string]int{}
	for i := range 100 {
		from := p.Version
		pa, pb := p, p
		pa.Name, pa.Version = fmt.Sprintf("a%d", i), from+1
		pb.Name, pb.Version = fmt.Sprintf("b%d", i), from+1
		var wg sync.WaitGroup
		var ea, eb error
		start := make(chan struct{})
		wg.Go(func() { <-start; ea = a.PutParts(ctx, []parts.Part{pa}) })
		wg.Go(func() { <-start; eb = b.PutParts(ctx, []parts.Part{pb}) })
		close(start)
		wg.Wait()
		var winner parts.Part
		switch {
		case ea == nil && errors.Is(eb, parts.ErrVersionMismatch):
			winner = pa
			wins["a"]++
		case eb == nil && errors.Is(ea, parts.ErrVersionMismatch):
			winner = pb
			wins["b"]++
		default:
			t.Fatalf("round %d: a %v, b %v; want exactly one nil and one version mismatch", i, ea, eb)
		}
		var got []parts.Part
		if err := a.LoadParts(ctx, func(q parts.Part) error { got = append(got, q); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Name != winner.Name || got[0].Version != from+1 {
			t.Fatalf("round %d: the database holds %q at %d, want the winner %q at %d", i, got[0].Name, got[0].Version, winner.Name, from+1)
		}
		p = got[0]
	}
	t.Logf("wins: %v", wins)
}

// TestPsqlUpdateRacesWrite races a plain UPDATE (what psql, QGIS or an ETL
// job sends, without a version) with a conditional write from the version
// both read, 100 times. Whichever commits first, no edit is lost: the
// UPDATE always lands, and bumps the version (trigger); the write lands
// only when it came first, and is refused otherwise.
func TestPsqlUpdateRacesWrite(t *testing.T) {
	s, psql := openTest(t) // psql: a session of its own on the store's schema
	ctx := context.Background()
	p := city(t, 5).parts[0]
	p.Version = 1
	if err := s.PutParts(ctx, []parts.Part{p}); err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]int{}
	for i := range 100 {
		from := p.Version
		w := p
		w.Note, w.Version = fmt.Sprintf("citytwin %d", i), from+1
		label := fmt.Sprintf("psql %d", i)
		var wg sync.WaitGroup
		var ew, eu error
		start := make(chan struct{})
		wg.Go(func() { <-start; ew = s.PutParts(ctx, []parts.Part{w}) })
		wg.Go(func() {
			<-start
			_, eu = psql.Exec(ctx, `UPDATE parts SET label = $2 WHERE code = $1`, p.Code.String(), label)
		})
		close(start)
		wg.Wait()
		if eu != nil {
			t.Fatal(eu)
		}
		var got []parts.Part
		if err := s.LoadParts(ctx, func(q parts.Part) error { got = append(got, q); return nil }); err != nil {
			t.Fatal(err)
		}
		g := got[0]
		if g.Label != label {
			t.Fatalf("round %d: the psql UPDATE was lost: label %q, want %q", i, g.Label, label)
		}
		switch {
		case ew == nil:
			// The write came first; the UPDATE bumped the version after it.
			if g.Note != w.Note || g.Version != from+2 {
				t.Fatalf("round %d: write acknowledged, but the database holds note %q at %d, want %q at %d", i, g.Note, g.Version, w.Note, from+2)
			}
			outcomes["write first"]++
		case errors.Is(ew, parts.ErrVersionMismatch):
			// The UPDATE came first and bumped the version: the write lost.
			if g.Note == w.Note || g.Version != from+1 {
				t.Fatalf("round %d: write refused, but the database holds note %q at %d", i, g.Note, g.Version)
			}
			outcomes["update first"]++
		default:
			t.Fatalf("round %d: write error %v", i, ew)
		}
		p = g
	}
	t.Logf("outcomes: %v", outcomes)
}

// TestRecordPoints checks that sensors sit at their component's
// representative point and cases at their location.
func TestRecordPoints(t *testing.T) {
	s, conn := openTest(t)
	ctx := context.Background()
	p := city(t, 5).parts[0]
	p.Version = 1
	p.Geometry = orb.LineString{{104.01, 30.02}, {104.03, 30.04}}
	if err := s.PutParts(ctx, []parts.Part{p}); err != nil {
		t.Fatal(err)
	}
	sen := sensors.Sensor{ID: "strain-1", Kind: "bridge_strain", Code: p.Code, Version: 1}
	c := incidents.Case{ID: "C20261123-ABCDEFGHJK", Version: 1, State: "reported", Location: orb.Point{104.05, 30.06}}
	if err := s.Write(ctx, twin.Batch{
		Sensors: []twin.Versioned[sensors.Sensor]{{Value: sen}},
		Cases:   []twin.Versioned[incidents.Case]{{Value: c}},
	}); err != nil {
		t.Fatal(err)
	}
	var sp, cp string
	if err := conn.QueryRow(ctx, `SELECT ST_AsText(s.geom), ST_AsText(c.geom) FROM sensors s, cases c`).Scan(&sp, &cp); err != nil {
		t.Fatal(err)
	}
	if sp != "POINT(104.01 30.02)" || cp != "POINT(104.05 30.06)" {
		t.Errorf("sensor at %s, case at %s; want POINT(104.01 30.02) and POINT(104.05 30.06)", sp, cp)
	}
}

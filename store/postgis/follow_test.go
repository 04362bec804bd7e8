package postgis_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"citytwin/incidents"
	"citytwin/parts"
	"citytwin/sensors"
	"citytwin/store/postgis"
	"citytwin/twin"
)

// followCity copies a small city into a fresh schema, opens a follower and
// then a twin over it, as app.New does.
func followCity(t *testing.T, n int) (*postgis.Store, *pgx.Conn, *twin.Twin, *postgis.Follower, []parts.Part, string) {
	t.Helper()
	u, conn := newSchema(t)
	s := openURL(t, u)
	ctx := context.Background()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c := city(t, n)
	if _, err := s.CopyDivisions(ctx, slices.Values(c.divisions)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CopyGrids(ctx, slices.Values(c.grids)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CopyParts(ctx, slices.Values(c.parts)); err != nil {
		t.Fatal(err)
	}
	ref := &twinRef{}
	f, err := s.NewFollower(ctx, ref, postgis.FollowOptions{Batch: 50})
	if err != nil {
		t.Fatal(err)
	}
	tw, err := twin.Open(ctx, s, twin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ref.t = tw
	var live []parts.Part
	for _, p := range c.parts {
		if !p.Retired {
			live = append(live, p)
		}
	}
	return s, conn, tw, f, live, u
}

type twinRef struct{ t *twin.Twin }

func (r *twinRef) ApplyExternal(ctx context.Context, e twin.External) twin.ExternalResult {
	return r.t.ApplyExternal(ctx, e)
}

// syncAll reads the log until it is caught up.
func syncAll(t *testing.T, f *postgis.Follower) {
	t.Helper()
	for {
		full, err := f.Sync(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !full {
			return
		}
	}
}

func TestFollowerAppliesSQLEdits(t *testing.T) {
	s, conn, tw, f, live, _ := followCity(t, 300)
	ctx := context.Background()
	start := f.Status()
	if start.Position == 0 || start.Lag != 0 {
		t.Fatalf("start status %+v: want the position of the copy's log rows, no lag", start)
	}
	// An UPDATE by hand: the trigger bumps the version.
	if _, err := conn.Exec(ctx, `UPDATE parts SET name = 'psql' WHERE code = $1`, live[0].Code.String()); err != nil {
		t.Fatal(err)
	}
	// An INSERT by hand, without a grid: located in memory.
	np := live[1]
	np.Code = mustCode(t, np.Code, 99001)
	if _, err := conn.Exec(ctx, `INSERT INTO parts (code, class, name, state, geom)
SELECT $1, class, 'inserted', state, geom FROM parts WHERE code = $2`, np.Code.String(), live[1].Code.String()); err != nil {
		t.Fatal(err)
	}
	// A DELETE by hand.
	if _, err := conn.Exec(ctx, `DELETE FROM parts WHERE code = $1`, live[2].Code.String()); err != nil {
		t.Fatal(err)
	}
	// A write of this replica: skipped by the follower (same version).
	if _, err := tw.UpdatePart(ctx, live[3].Code, 0, func(p *parts.Part) error { p.Note = "own"; return nil }); err != nil {
		t.Fatal(err)
	}
	syncAll(t, f)
	if p, _ := tw.Parts().Get(live[0].Code); p.Name != "psql" || p.Version != live[0].Version+1 {
		t.Errorf("UPDATE not applied: %+v", p)
	}
	if p, err := tw.Parts().Get(np.Code); err != nil || p.Name != "inserted" || p.Grid == "" {
		t.Errorf("INSERT not applied: %+v %v", p, err)
	}
	if _, err := tw.Parts().Get(live[2].Code); !errors.Is(err, parts.ErrRetired) {
		t.Errorf("DELETE not applied: %v", err)
	}
	st := f.Status()
	if st.Applied != 3 || st.Skipped != 1 || st.Lag != 0 || st.Position != st.Newest {
		t.Errorf("status %+v: want 3 applied, 1 skipped, no lag", st)
	}
	_ = s
}

func TestFollowerGapOfRunningTransaction(t *testing.T) {
	s, conn, tw, f, live, u := followCity(t, 200)
	ctx := context.Background()
	// T1 takes a seq and stays open while T2 commits a later one.
	t1, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := t1.Exec(ctx, `UPDATE parts SET name = 'slow' WHERE code = $1`, live[0].Code.String()); err != nil {
		t.Fatal(err)
	}
	c2, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close(ctx)
	if _, err := c2.Exec(ctx, `UPDATE parts SET name = 'fast' WHERE code = $1`, live[1].Code.String()); err != nil {
		t.Fatal(err)
	}
	syncAll(t, f)
	if st := f.Status(); st.Gaps != 1 {
		t.Fatalf("status %+v: want one gap (T1's seq)", st)
	}
	if p, _ := tw.Parts().Get(live[1].Code); p.Name != "fast" {
		t.Fatalf("T2 not applied: %+v", p)
	}
	if err := t1.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	syncAll(t, f)
	if p, _ := tw.Parts().Get(live[0].Code); p.Name != "slow" {
		t.Errorf("T1, committed after a later seq was applied, was missed: %+v", p)
	}
	if st := f.Status(); st.Gaps != 0 {
		t.Errorf("status %+v: the gap should be filled", st)
	}

	// A rolled-back transaction leaves a gap that dies.
	t3, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := t3.Exec(ctx, `UPDATE parts SET name = 'never' WHERE code = $1`, live[2].Code.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Exec(ctx, `UPDATE parts SET name = 'after' WHERE code = $1`, live[3].Code.String()); err != nil {
		t.Fatal(err)
	}
	syncAll(t, f)
	if err := t3.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	// One more read sees T3 ended (its xid below the snapshot's xmin) once
	// another transaction has begun since.
	if _, err := c2.Exec(ctx, `UPDATE parts SET name = 'later' WHERE code = $1`, live[4].Code.String()); err != nil {
		t.Fatal(err)
	}
	syncAll(t, f)
	syncAll(t, f)
	if st := f.Status(); st.Gaps != 0 || st.Lag != 0 {
		t.Errorf("status %+v: the rolled-back gap should be gone", st)
	}
	if p, _ := tw.Parts().Get(live[2].Code); p.Name == "never" {
		t.Errorf("a rolled-back change reached memory")
	}
	_ = s
}

func TestFollowerCatchesUpAndPrune(t *testing.T) {
	s, conn, tw, f, live, _ := followCity(t, 300)
	ctx := context.Background()
	// 250 edits (5 reads of 50) while the follower does not read.
	for i := range 250 {
		p := live[i%len(live)]
		if _, err := conn.Exec(ctx, `UPDATE parts SET note = $2 WHERE code = $1`, p.Code.String(), "n"+string(rune('a'+i%26))); err != nil {
			t.Fatal(err)
		}
	}
	if st := f.Status(); st.Applied != 0 {
		t.Fatalf("applied before reading: %+v", st)
	}
	syncAll(t, f)
	st := f.Status()
	if st.Lag != 0 || st.Applied == 0 {
		t.Fatalf("after catching up: %+v", st)
	}
	for _, p := range live[:10] {
		got, _ := tw.Parts().Get(p.Code)
		var stored int64
		if err := conn.QueryRow(ctx, `SELECT version FROM parts WHERE code = $1`, p.Code.String()).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if got.Version != uint64(stored) {
			t.Errorf("%s at version %d in memory, %d stored", p.Code, got.Version, stored)
		}
	}
	// Pruning everything: a follower at the end is not stale, nor is one
	// that reads after.
	n, ran, err := s.PruneChanges(ctx, time.Now().Add(time.Hour))
	if err != nil || !ran || n == 0 {
		t.Fatalf("PruneChanges = %d, %v, %v", n, ran, err)
	}
	syncAll(t, f)
	if st := f.Status(); st.Stale {
		t.Errorf("a follower at the end of the pruned log is stale: %+v", st)
	}
	// A follower behind the pruned seqs is stale.
	behind, err := s.NewFollower(ctx, &twinRef{t: tw}, postgis.FollowOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `UPDATE parts SET note = 'x' WHERE code = $1`, live[0].Code.String()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.PruneChanges(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	syncAll(t, behind)
	if st := behind.Status(); !st.Stale {
		t.Errorf("a follower behind the pruned log is not stale: %+v", st)
	}
}

// mustCode is code with another serial.
func mustCode(t *testing.T, c parts.Code, serial uint32) parts.Code {
	t.Helper()
	n, err := parts.NewCode(c.County(), c.Class(), serial)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestFollowerAppliesRecords: sensors, alarms, cases, departments, the
// responsibility table and the calendar written through replica A reach
// replica B through the log, and back; edits and deletes by hand too.
func TestFollowerAppliesRecords(t *testing.T) {
	s, conn, a, fa, live, _ := followCity(t, 300)
	ctx := context.Background()
	refB := &twinRef{}
	fb, err := s.NewFollower(ctx, refB, postgis.FollowOptions{Batch: 50})
	if err != nil {
		t.Fatal(err)
	}
	b, err := twin.Open(ctx, s, twin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	refB.t = b
	admin := incidents.Actor{Name: "admin", Role: incidents.RoleAdmin}

	// A sensor on A, on a component of a class its kind is made for.
	var sensor sensors.Sensor
	for _, p := range live {
		for _, k := range sensors.Kinds() {
			if sensor.ID == "" && slices.Contains(k.Classes, p.Class) && len(k.Rules) > 0 && k.Rules[0].Above != nil {
				sensor = sensors.Sensor{ID: "rec-1", Kind: k.Kind, Code: p.Code, Rules: k.Rules[:1]}
			}
		}
	}
	if sensor.ID == "" {
		t.Fatal("no component takes a sensor with an above threshold")
	}
	if _, err := a.PutSensors(ctx, []sensors.Sensor{sensor}, nil, admin); err != nil {
		t.Fatal(err)
	}
	high := *sensor.Rules[0].Above + 100
	if r := a.NewIngester().Ingest(ctx, []sensors.Reading{{Sensor: sensor.ID, Value: high, Time: time.Now()}}); r.Raised != 1 || r.Err != nil {
		t.Fatalf("raise on A: %+v", r)
	}
	var cs []incidents.Case
	a.Cases().All(func(c incidents.Case) bool { cs = append(cs, c); return true })
	if len(cs) != 1 {
		t.Fatalf("%d cases on A, want 1", len(cs))
	}
	dept, err := a.PutDepartment(ctx, incidents.Department{Code: "510104-FEED", Name: "feed"}, 0, admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.PutResponsibility(ctx, incidents.Responsibility{District: "*", Type: incidents.TypeEvent, Class: "0505", Dept: dept.Code}, admin); err != nil {
		t.Fatal(err)
	}
	cal := incidents.DefaultCalendar()
	cal.Holidays = []string{"2026-12-31"}
	if _, err := a.SetCalendar(ctx, cal, admin); err != nil {
		t.Fatal(err)
	}

	syncAll(t, fb)
	if got, _, ok := b.Sensors().Get(sensor.ID); !ok || got.Code != sensor.Code {
		t.Fatalf("sensor on B: %+v %v", got, ok)
	}
	if open := b.Sensors().Alarms(sensor.ID); len(open) != 1 {
		t.Fatalf("open alarms on B: %+v", open)
	}
	k, err := b.Cases().Get(cs[0].ID)
	if err != nil || k.Version != cs[0].Version {
		t.Fatalf("case on B: %+v %v", k, err)
	}
	if _, err := b.Departments().Get(dept.Code); err != nil {
		t.Fatal(err)
	}
	if r, ok := b.Responsibilities().Get("*", incidents.ClassKey(incidents.TypeEvent, "0505")); !ok || r.Dept != dept.Code {
		t.Fatalf("responsibility on B: %+v %v", r, ok)
	}
	if got := b.Calendar(); !slices.Equal(got.Holidays, cal.Holidays) {
		t.Fatalf("calendar on B: %+v", got)
	}

	// B acts on A's case; A hears of it.
	acted, err := b.Act(ctx, k.ID, incidents.ActionAccept, "on my way", "", k.Version, incidents.Actor{Name: "w", Role: incidents.RoleDepartment, Dept: k.Dept})
	if err != nil {
		t.Fatalf("act on B: %v", err)
	}
	syncAll(t, fa)
	if got, _ := a.Cases().Get(k.ID); got.Version != acted.Version || got.State != acted.State {
		t.Fatalf("case on A after B acted: %s v%d, want %s v%d", got.State, got.Version, acted.State, acted.Version)
	}

	// By hand: a case's body edited (its version bumped), a sensor deleted.
	if _, err := conn.Exec(ctx, `UPDATE cases SET body = jsonb_set(body, '{description}', '"by psql"') WHERE id = $1`, string(k.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `DELETE FROM sensors WHERE id = $1`, string(sensor.ID)); err != nil {
		t.Fatal(err)
	}
	syncAll(t, fb)
	if got, _ := b.Cases().Get(k.ID); got.Description != "by psql" || got.Version != acted.Version+1 {
		t.Errorf("case on B after a psql UPDATE: %q v%d", got.Description, got.Version)
	}
	if _, _, ok := b.Sensors().Get(sensor.ID); ok {
		t.Error("a sensor deleted by hand is still on B")
	}
	if st := fb.Status(); st.Lag != 0 || st.Rejected != 0 {
		t.Errorf("B's feed: %+v", st)
	}
}

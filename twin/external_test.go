package twin_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citytwin/grid"
	"citytwin/incidents"
	"citytwin/parts"
	"citytwin/sensors"
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

// TestApplyExternalRecords: what replica A writes of sensors, alarms,
// cases, departments, the responsibility table and the calendar reaches
// replica B (the same city in another store) through ApplyExternalRecords,
// newer versions only, with the changes emitted.
func TestApplyExternalRecords(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	a, _ := openAt(t, city(t), c)
	b, _ := openAt(t, city(t), c)
	var changes []twin.Change
	b.OnChange(func(ch twin.Change) { changes = append(changes, ch) })

	cover := firstOf(t, a, 111)
	ss, err := a.PutSensors(ctx, []sensors.Sensor{gasSensor("g1", cover.Code)}, nil, admin)
	if err != nil {
		t.Fatal(err)
	}
	in := a.NewIngester()
	c.t = c.t.Add(time.Second)
	if r := in.Ingest(ctx, []sensors.Reading{{Sensor: "g1", Value: 40, Time: c.t}}); r.Raised != 1 {
		t.Fatalf("raise on A: %+v", r)
	}
	alarm, _ := a.Sensors().Alarm(sensors.AlarmID("g1", 0))
	var cases []incidents.Case
	a.Cases().All(func(x incidents.Case) bool { cases = append(cases, x); return true })
	if len(cases) != 1 {
		t.Fatalf("%d cases on A, want 1", len(cases))
	}
	dept, err := a.PutDepartment(ctx, incidents.Department{Code: "510104-RELAY", Name: "relay test"}, 0, admin)
	if err != nil {
		t.Fatal(err)
	}
	row, err := a.PutResponsibility(ctx, incidents.Responsibility{District: "*", Type: incidents.TypeEvent, Class: "0505", Dept: dept.Code}, admin)
	if err != nil {
		t.Fatal(err)
	}
	cal := incidents.DefaultCalendar()
	cal.Holidays = append(cal.Holidays, "2026-12-24")

	recs := twin.ExternalRecords{
		Sensors: ss, Alarms: []sensors.Alarm{alarm}, Cases: cases,
		Departments: []incidents.Department{dept}, Responsibilities: []incidents.Responsibility{row},
		Calendar: &cal,
	}
	res := b.ApplyExternalRecords(ctx, recs)
	if res.Applied != 6 || res.Skipped != 0 || res.Rejected != 0 {
		t.Fatalf("first apply = %+v, want 6 applied", res)
	}
	if s, _, ok := b.Sensors().Get("g1"); !ok || s.Version != ss[0].Version || s.Code != cover.Code {
		t.Errorf("sensor on B: %+v, %v", s, ok)
	}
	if _, ok := b.SensorAt("g1"); !ok {
		t.Error("sensor not placed on B")
	}
	if open := b.Sensors().Alarms("g1"); len(open) != 1 || open[0].Raised != alarm.Raised {
		t.Errorf("open alarms on B: %+v", open)
	}
	if got, err := b.Cases().Get(cases[0].ID); err != nil || got.Version != cases[0].Version {
		t.Errorf("case on B: %+v, %v", got, err)
	}
	if _, ok := b.Cases().ByProblem(cases[0].Problem); !ok {
		t.Error("the case's problem is unknown on B: B's alarms would open a second case")
	}
	if _, err := b.Departments().Get(dept.Code); err != nil {
		t.Error(err)
	}
	if got, ok := b.Responsibilities().Get("*", incidents.ClassKey(incidents.TypeEvent, "0505")); !ok || got.Dept != dept.Code {
		t.Errorf("responsibility on B: %+v, %v", got, ok)
	}
	if got := b.Calendar(); len(got.Holidays) != len(cal.Holidays) {
		t.Errorf("calendar on B: %+v", got)
	}
	kinds := map[string]int{}
	for _, ch := range changes {
		switch {
		case ch.IsSensor() && ch.Op == twin.OpAdd:
			kinds["sensor"]++
		case ch.Alarm != nil && ch.Op == twin.OpAdd:
			kinds["raised"]++
		case ch.IsCase() && ch.Op == twin.OpAdd:
			kinds["case"]++
		}
	}
	if kinds["sensor"] != 1 || kinds["raised"] != 1 || kinds["case"] != 1 || len(changes) != 3 {
		t.Errorf("changes on B: %v of %d, want one sensor, one raised alarm, one case", kinds, len(changes))
	}

	// The same records again (B's own echo, or a second read): skipped.
	if res := b.ApplyExternalRecords(ctx, recs); res.Applied != 0 || res.Skipped != 6 {
		t.Fatalf("second apply = %+v, want 6 skipped", res)
	}

	// A clears the alarm and acts on the case; B takes both, and a case
	// at an older version changes nothing.
	c.t = c.t.Add(time.Second)
	if r := in.Ingest(ctx, []sensors.Reading{{Sensor: "g1", Value: 1, Time: c.t}}); r.Cleared != 1 {
		t.Fatalf("clear on A: %+v", r)
	}
	cleared, _ := a.Sensors().Alarm(sensors.AlarmID("g1", 0))
	acted, err := a.Act(ctx, cases[0].ID, incidents.ActionAccept, "on it", "", 0, incidents.Actor{Name: "w", Role: incidents.RoleDepartment, Dept: cases[0].Dept})
	if err != nil {
		t.Fatal(err)
	}
	changes = nil
	res = b.ApplyExternalRecords(ctx, twin.ExternalRecords{Alarms: []sensors.Alarm{alarm, cleared}, Cases: []incidents.Case{cases[0], acted}})
	if res.Applied != 2 || res.Skipped != 2 {
		t.Fatalf("clear and act = %+v, want 2 applied, 2 skipped", res)
	}
	if open := b.Sensors().Alarms("g1"); len(open) != 0 {
		t.Errorf("alarm still open on B: %+v", open)
	}
	if got, _ := b.Cases().Get(acted.ID); got.State != acted.State || got.Version != acted.Version {
		t.Errorf("case on B %s v%d, want %s v%d", got.State, got.Version, acted.State, acted.Version)
	}
	if len(changes) != 2 || changes[0].Alarm == nil || changes[0].Op != twin.OpRetire || changes[1].OldCase == nil {
		t.Errorf("changes %+v, want the alarm's clear and the case's modify", changes)
	}

	// Deletions: a record deleted at the version memory holds leaves it;
	// one memory holds at a newer version stays.
	res = b.ApplyExternalRecords(ctx, twin.ExternalRecords{
		DeletedSensors:          []twin.Versioned[sensors.ID]{{Value: "g1", Prev: ss[0].Version}},
		DeletedDepartments:      []twin.Versioned[string]{{Value: dept.Code, Prev: dept.Version - 1}},
		DeletedResponsibilities: []twin.Versioned[incidents.Responsibility]{{Value: row, Prev: row.Version}},
	})
	if res.Applied != 2 || res.Skipped != 1 {
		t.Fatalf("deletions = %+v, want 2 applied, 1 skipped", res)
	}
	if _, _, ok := b.Sensors().Get("g1"); ok {
		t.Error("deleted sensor still on B")
	}
	if _, ok := b.SensorAt("g1"); ok {
		t.Error("deleted sensor still placed on B")
	}
	if _, err := b.Departments().Get(dept.Code); err != nil {
		t.Error("a department at a newer version than the deleted one was dropped")
	}
	if _, ok := b.Responsibilities().Get("*", incidents.ClassKey(incidents.TypeEvent, "0505")); ok {
		t.Error("deleted responsibility still on B")
	}

	// Invalid rows are rejected, the others applied.
	bad := ss[0]
	bad.Version = 9
	bad.Kind = "no such kind"
	res = b.ApplyExternalRecords(ctx, twin.ExternalRecords{Sensors: []sensors.Sensor{bad}, Departments: []incidents.Department{{Code: "", Version: 5}}})
	if res.Rejected != 2 || len(res.Errors) != 2 {
		t.Fatalf("invalid records = %+v, want 2 rejected", res)
	}
}

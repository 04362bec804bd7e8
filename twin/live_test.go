package twin_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"citytwin/incidents"
	"citytwin/parts"
	"citytwin/sensors"
	"citytwin/store/gpkg"
	"citytwin/twin"
)

var admin = incidents.Actor{Name: "t-admin", Role: incidents.RoleAdmin}

// clock is a settable clock for the twin.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// openAt loads path into a twin whose clock is c.
func openAt(t *testing.T, path string, c *clock) (*twin.Twin, *gpkg.Store) {
	t.Helper()
	st, err := gpkg.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	tw, err := twin.Open(context.Background(), st, twin.Options{Now: c.now})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	return tw, st
}

// firstOf returns a live component of class.
func firstOf(t *testing.T, tw *twin.Twin, class parts.Class) parts.Part {
	t.Helper()
	var found parts.Part
	tw.Parts().Each(func(p parts.Part) bool {
		if p.Class == class && !p.Retired {
			found = p
			return false
		}
		return true
	})
	if found.Code == 0 {
		t.Fatalf("no component of class %s", class)
	}
	return found
}

func gasSensor(id sensors.ID, code parts.Code) sensors.Sensor {
	above, clear := 25.0, 20.0
	return sensors.Sensor{ID: id, Kind: sensors.Kind("cover_gas"), Code: code,
		Rules: []sensors.Rule{{Kind: sensors.RuleKind("threshold"), Above: &above, ClearBelow: &clear}}}
}

// TestAlarmOpensOneCase follows a gas sensor through the write path: a
// crossing raises one alarm and opens one dispatched case routed to the
// cover's owner with an outbox row; repeats add neither; the clear is
// recorded on the case; everything is there after a reopen.
func TestAlarmOpensOneCase(t *testing.T) {
	path := city(t)
	c := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	tw, st := openAt(t, path, c)
	ctx := context.Background()
	cover := firstOf(t, tw, 111)
	if _, err := tw.PutSensors(ctx, []sensors.Sensor{gasSensor("g1", cover.Code)}, nil, admin); err != nil {
		t.Fatal(err)
	}
	var events []twin.Change
	tw.OnChange(func(ch twin.Change) { events = append(events, ch) })
	in := tw.NewIngester()
	read := func(v float64) twin.IngestResult {
		c.t = c.t.Add(time.Second)
		return in.Ingest(ctx, []sensors.Reading{{Sensor: "g1", Value: v, Time: c.t}})
	}
	if r := read(3); r.Accepted != 1 || r.Raised != 0 {
		t.Fatalf("a normal reading: %+v", r)
	}
	if r := read(40); r.Raised != 1 || r.Err != nil {
		t.Fatalf("the crossing: %+v", r)
	}
	for i := range 10 {
		if r := read(41 + float64(i)); r.Raised != 0 || r.Err != nil {
			t.Fatalf("repeat %d raised again: %+v", i, r)
		}
	}
	alarms := tw.Sensors().Alarms("g1")
	if len(alarms) != 1 || alarms[0].Count != 11 || alarms[0].Peak != 50 {
		t.Fatalf("open alarms %+v, want one with count 11 and peak 50", alarms)
	}
	var cases []incidents.Case
	tw.Cases().All(func(x incidents.Case) bool { cases = append(cases, x); return true })
	if len(cases) != 1 {
		t.Fatalf("%d cases, want 1", len(cases))
	}
	k := cases[0]
	if k.Route.Rule != "component-owner" || k.Dept != cover.Owner || k.Code != cover.Code ||
		k.State != incidents.StateDispatched || k.Source != incidents.SourceSensor || k.Due.IsZero() {
		t.Fatalf("case %+v: want dispatched to %s by component-owner with a deadline", k, cover.Owner)
	}
	due, err := st.DueNotifications(ctx, c.t, 10)
	if err != nil || len(due) != 1 || due[0].Case != k.ID || due[0].Target != "citytwin/dispatch/"+cover.Owner {
		t.Fatalf("outbox %+v (%v), want one MQTT notification of %s", due, err, k.ID)
	}
	if r := read(22); r.Cleared != 0 {
		t.Fatalf("inside the hysteresis band cleared: %+v", r)
	}
	if r := read(10); r.Cleared != 1 || r.Err != nil {
		t.Fatalf("below clearBelow: %+v", r)
	}
	if len(tw.Sensors().Alarms("g1")) != 0 {
		t.Fatal("alarm still open after the clear")
	}
	raised, cleared, caseChanges := 0, 0, 0
	for _, ch := range events {
		switch {
		case ch.Alarm != nil && ch.Op == twin.OpAdd:
			raised++
		case ch.Alarm != nil && ch.Op == twin.OpRetire:
			cleared++
		case ch.IsCase():
			caseChanges++
		}
	}
	if raised != 1 || cleared != 1 || caseChanges != 2 {
		t.Errorf("changes: %d raised, %d cleared, %d case changes; want 1, 1, 2", raised, cleared, caseChanges)
	}
	// A second crossing adds to the open case, it opens no other.
	if r := read(60); r.Raised != 1 {
		t.Fatalf("second crossing: %+v", r)
	}
	if n := tw.Cases().Len(); n != 1 {
		t.Fatalf("%d cases after a second alarm on the same component, want 1", n)
	}
	if err := tw.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	st.Close()

	// After a restart: the open alarm is open, the case is there, the
	// last reading is known.
	tw2, st2 := openAt(t, path, c)
	defer st2.Close()
	if a := tw2.Sensors().Alarms("g1"); len(a) != 1 || a[0].State != sensors.AlarmOpen {
		t.Fatalf("after reopen, open alarms %+v", a)
	}
	got, err := tw2.Cases().Get(k.ID)
	if err != nil || got.State != incidents.StateDispatched || len(got.Alarms) == 0 {
		t.Fatalf("after reopen, case %+v (%v)", got, err)
	}
	if _, status, ok := tw2.Sensors().Get("g1"); !ok || status.Value != 60 {
		t.Fatalf("after reopen, status %+v", status)
	}
}

// TestSensorRights: a department binds sensors only to components it owns
// or maintains; an inspector binds none; a retired component takes none.
func TestSensorRights(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	tw, st := openAt(t, city(t), c)
	defer st.Close()
	ctx := context.Background()
	cover := firstOf(t, tw, 111)
	for name, tc := range map[string]struct {
		actor incidents.Actor
		ok    bool
	}{
		"owner":       {incidents.Actor{Role: incidents.RoleDepartment, Dept: cover.Owner}, true},
		"other dept":  {incidents.Actor{Role: incidents.RoleDepartment, Dept: "nobody"}, false},
		"inspector":   {incidents.Actor{Role: incidents.RoleInspector}, false},
		"the public":  {incidents.Actor{Role: incidents.RolePublic}, false},
		"admin again": {admin, true},
	} {
		_, err := tw.PutSensors(ctx, []sensors.Sensor{gasSensor(sensors.ID("r-"+name[:3]), cover.Code)}, nil, tc.actor)
		if tc.ok != (err == nil) {
			t.Errorf("%s: %v", name, err)
		}
		if !tc.ok && !errors.Is(err, incidents.ErrNotAllowed) {
			t.Errorf("%s: %v does not wrap ErrNotAllowed", name, err)
		}
	}
	// Stale versions and unknown components.
	if _, err := tw.PutSensors(ctx, []sensors.Sensor{gasSensor("r-own", cover.Code)}, []uint64{7}, admin); !errors.Is(err, sensors.ErrVersionMismatch) {
		t.Errorf("stale version: %v", err)
	}
	if _, err := tw.PutSensors(ctx, []sensors.Sensor{gasSensor("r-x", 5101040111999999)}, nil, admin); !errors.Is(err, parts.ErrNotFound) {
		t.Errorf("unknown component: %v", err)
	}
	// All or nothing: a bad second record stores neither.
	_, err := tw.PutSensors(ctx, []sensors.Sensor{gasSensor("r-a", cover.Code), gasSensor("r-b", 5101040111999999)}, nil, admin)
	if err == nil {
		t.Fatal("a batch with a bad record was accepted")
	}
	if _, _, ok := tw.Sensors().Get("r-a"); ok {
		t.Error("the good record of a failed batch was stored")
	}
	// Retiring the component marks the open alarm retired.
	in := tw.NewIngester()
	c.t = c.t.Add(time.Second)
	in.Ingest(ctx, []sensors.Reading{{Sensor: "r-own", Value: 80, Time: c.t}})
	if _, err := tw.RetirePart(ctx, cover.Code, 0); err != nil {
		t.Fatal(err)
	}
	a := tw.Sensors().Alarms("r-own")
	if len(a) != 1 || !a[0].Retired {
		t.Fatalf("alarm on a retired component: %+v", a)
	}
}

// TestReportRoutesAndMerges: a hotline report by point near a component
// of its class goes to the component's owner (nearest-component) and stays
// reported; a second report nearby merges into it; the workflow then runs
// with the roles' rights.
func TestReportRoutesAndMerges(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	tw, st := openAt(t, city(t), c)
	defer st.Close()
	ctx := context.Background()
	lamp := firstOf(t, tw, 118)
	pt := twin.RepresentativePoint(lamp.Geometry)
	pt[0] += 0.00003 // ~3 m east
	r := incidents.Report{Type: incidents.TypeComponent, Class: "0118", Location: &pt, Description: "lamp out",
		Source: incidents.SourceHotline, Reporter: incidents.Reporter{Name: "citizen"}}
	k, merged, err := tw.Report(ctx, r, incidents.Actor{Role: incidents.RolePublic})
	if err != nil || merged {
		t.Fatal(err, merged)
	}
	if k.State != incidents.StateReported || k.Route.Rule != "nearest-component" || k.Code != lamp.Code || k.Dept != lamp.Owner {
		t.Fatalf("case %+v", k)
	}
	if k.Route.Evidence.Distance == nil || *k.Route.Evidence.Distance > 15 {
		t.Fatalf("evidence %+v", k.Route.Evidence)
	}
	c.t = c.t.Add(time.Minute)
	r.Reporter.Name = "another citizen"
	m, merged, err := tw.Report(ctx, r, incidents.Actor{Role: incidents.RolePublic})
	if err != nil || !merged || m.ID != k.ID || len(m.Reporters) != 2 {
		t.Fatalf("second report: merged %v, %+v, %v", merged, m, err)
	}
	op := incidents.Actor{Name: "op", Role: incidents.RoleOperator}
	dept := incidents.Actor{Name: "d", Role: incidents.RoleDepartment, Dept: lamp.Owner}
	steps := []struct {
		a     incidents.Action
		actor incidents.Actor
		note  string
		want  incidents.State
	}{
		{incidents.ActionRegister, op, "", incidents.StateRegistered},
		{incidents.ActionDispatch, op, "", incidents.StateDispatched},
		{incidents.ActionAccept, dept, "", incidents.StateInProgress},
		{incidents.ActionReport, dept, "replaced the bulb", incidents.StateHandled},
		{incidents.ActionVerify, op, "", incidents.StateVerified},
		{incidents.ActionClose, op, "", incidents.StateClosed},
	}
	cur := m
	for _, s := range steps {
		c.t = c.t.Add(time.Hour)
		if _, err := tw.Act(ctx, cur.ID, s.a, s.note, "", cur.Version+5, s.actor); !errors.Is(err, incidents.ErrVersionMismatch) {
			t.Fatalf("%s with a stale version: %v", s.a, err)
		}
		next, err := tw.Act(ctx, cur.ID, s.a, s.note, "", cur.Version, s.actor)
		if err != nil || next.State != s.want {
			t.Fatalf("%s: %v, state %s", s.a, err, next.State)
		}
		cur = next
	}
	if cur.Closed.IsZero() || cur.Due.IsZero() {
		t.Fatalf("closed case without its times: %+v", cur)
	}
	if _, err := tw.Act(ctx, cur.ID, incidents.ActionDispatch, "", "", 0, op); !errors.Is(err, incidents.ErrBadTransition) {
		t.Fatalf("dispatch of a closed case: %v", err)
	}
}

// TestRebindFailsWhole: a batch that would clear a sensor's alarms by
// changing its rules but fails on a later record leaves the alarm as it
// was (open, and cleared by the next low reading); a batch that succeeds
// clears it.
func TestRebindFailsWhole(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	tw, st := openAt(t, city(t), c)
	defer st.Close()
	ctx := context.Background()
	cover := firstOf(t, tw, 111)
	if _, err := tw.PutSensors(ctx, []sensors.Sensor{gasSensor("g1", cover.Code)}, nil, admin); err != nil {
		t.Fatal(err)
	}
	in := tw.NewIngester()
	read := func(v float64) twin.IngestResult {
		c.t = c.t.Add(time.Second)
		return in.Ingest(ctx, []sensors.Reading{{Sensor: "g1", Value: v, Time: c.t}})
	}
	if r := read(40); r.Raised != 1 {
		t.Fatalf("crossing: %+v", r)
	}
	stricter := gasSensor("g1", cover.Code)
	above := 30.0
	stricter.Rules[0].Above = &above
	if _, err := tw.PutSensors(ctx, []sensors.Sensor{stricter, gasSensor("g2", 5101040111999999)}, nil, admin); err == nil {
		t.Fatal("a batch with an unknown component was accepted")
	}
	if a := tw.Sensors().Alarms("g1"); len(a) != 1 {
		t.Fatalf("after the failed batch: %+v, want the alarm still open", a)
	}
	if r := read(10); r.Cleared != 1 {
		t.Fatalf("the alarm no longer clears after a failed batch: %+v", r)
	}
	if r := read(40); r.Raised != 1 {
		t.Fatalf("second crossing: %+v", r)
	}
	if _, err := tw.PutSensors(ctx, []sensors.Sensor{stricter}, nil, admin); err != nil {
		t.Fatal(err)
	}
	if a := tw.Sensors().Alarms("g1"); len(a) != 0 {
		t.Fatalf("after new rules: %+v, want the old rule's alarm cleared", a)
	}
}

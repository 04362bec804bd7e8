// Package storetest is the contract test suite of citytwin's stores: Run
// checks a store against what twin expects of persistence (twin.Store
// and twin.Records), so that store/gpkg and store/postgis keep the same
// promises. Each store's tests call Run with a function that opens a new,
// empty, migrated store.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citytwin/grid"
	"citytwin/incidents"
	"citytwin/parts"
	"citytwin/sensors"
	"citytwin/twin"
)

// Store is what the suite tests: the twin's persistence of components and
// grids, and of its records.
type Store interface {
	twin.Store
	twin.Records
}

// Run runs the suite; open returns a new, empty store, closed at the end
// of the test that opened it.
func Run(t *testing.T, open func(t *testing.T) Store) {
	for name, fn := range map[string]func(*testing.T, Store){
		"parts conditional":  partsConditional,
		"parts atomic":       partsAtomic,
		"grids conditional":  gridsConditional,
		"records round trip": recordsRoundTrip,
		"records conflicts":  recordsConflicts,
		"notifications":      notifications,
	} {
		t.Run(name, func(t *testing.T) { fn(t, open(t)) })
	}
}

// t0 is the suite's clock: times are in UTC and whole milliseconds.
var t0 = time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)

func code(t *testing.T, serial uint32) parts.Code {
	t.Helper()
	c, err := parts.NewCode(510104, 101, serial)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// part is a new water cover at pt (version 1: an insert).
func part(t *testing.T, serial uint32, pt orb.Point) parts.Part {
	return parts.Part{Code: code(t, serial), Class: 101, Name: fmt.Sprintf("上水井盖 %d", serial), Owner: parts.DeptWater,
		Supervisor: parts.DeptCityMgmt, State: parts.Intact, Source: parts.Surveyed, Surveyed: t0.Truncate(24 * time.Hour),
		Version: 1, Geometry: pt}
}

func loadParts(t *testing.T, s Store) map[parts.Code]parts.Part {
	t.Helper()
	out := map[parts.Code]parts.Part{}
	if err := s.LoadParts(context.Background(), func(p parts.Part) error { out[p.Code] = p; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func partsConditional(t *testing.T, s Store) {
	ctx := context.Background()
	a, b := part(t, 1, orb.Point{104.06, 30.66}), part(t, 2, orb.Point{104.07, 30.67})
	if err := s.PutParts(ctx, []parts.Part{a, b}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutParts(ctx, []parts.Part{a}); !errors.Is(err, parts.ErrExists) || !errors.Is(err, twin.ErrConflict) {
		t.Fatalf("insert of an existing code = %v, want parts.ErrExists and twin.ErrConflict", err)
	}
	a2 := a
	a2.Name, a2.Version = "v2", 2
	if err := s.PutParts(ctx, []parts.Part{a2}); err != nil {
		t.Fatal(err)
	}
	stale := a
	stale.Name, stale.Version = "stale", 2
	if err := s.PutParts(ctx, []parts.Part{stale}); !errors.Is(err, parts.ErrVersionMismatch) {
		t.Fatalf("update from a stale version = %v, want parts.ErrVersionMismatch", err)
	}
	gone := part(t, 3, orb.Point{104.08, 30.68})
	gone.Version = 4
	if err := s.PutParts(ctx, []parts.Part{gone}); !errors.Is(err, parts.ErrVersionMismatch) {
		t.Fatalf("update of a missing part = %v, want parts.ErrVersionMismatch", err)
	}
	// Retiring is an update like any other.
	a3 := a2
	a3.Retired, a3.Version = true, 3
	if err := s.PutParts(ctx, []parts.Part{a3}); err != nil {
		t.Fatal(err)
	}
	got := loadParts(t, s)
	if len(got) != 2 || !reflect.DeepEqual(got[a.Code], a3) || !reflect.DeepEqual(got[b.Code], b) {
		t.Fatalf("stored parts:\n%+v\nwant\n%+v\n%+v", got, a3, b)
	}
}

func partsAtomic(t *testing.T, s Store) {
	ctx := context.Background()
	a := part(t, 1, orb.Point{104.06, 30.66})
	if err := s.PutParts(ctx, []parts.Part{a}); err != nil {
		t.Fatal(err)
	}
	fresh := part(t, 2, orb.Point{104.07, 30.67})
	upd := a
	upd.Name, upd.Version = "changed", 2
	stale := a
	stale.Version = 5
	if err := s.PutParts(ctx, []parts.Part{fresh, upd, stale}); !errors.Is(err, parts.ErrVersionMismatch) {
		t.Fatalf("batch with a stale record = %v, want parts.ErrVersionMismatch", err)
	}
	if got := loadParts(t, s); len(got) != 1 || !reflect.DeepEqual(got[a.Code], a) {
		t.Fatalf("a failed batch wrote: %+v", got)
	}
	// Add and modify the same code in one batch.
	again := fresh
	again.Name, again.Version = "modified", 2
	if err := s.PutParts(ctx, []parts.Part{fresh, again}); err != nil {
		t.Fatal(err)
	}
	if got := loadParts(t, s)[fresh.Code]; got.Name != "modified" || got.Version != 2 {
		t.Fatalf("add then modify: %+v", got)
	}
}

func gridsConditional(t *testing.T, s Store) {
	ctx := context.Background()
	c, err := grid.ParseCode("51010400100101")
	if err != nil {
		t.Fatal(err)
	}
	g := grid.Grid{Code: c, Name: "网格", Dept: "street-001", Version: 1,
		Geometry: orb.Polygon{{{104.0, 30.0}, {104.1, 30.0}, {104.1, 30.1}, {104.0, 30.1}, {104.0, 30.0}}}}
	if err := s.PutGrids(ctx, []grid.Grid{g}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutGrids(ctx, []grid.Grid{g}); !errors.Is(err, grid.ErrExists) {
		t.Fatalf("grid insert of an existing code = %v, want grid.ErrExists", err)
	}
	g2 := g
	g2.Name, g2.Version = "改名", 2
	if err := s.PutGrids(ctx, []grid.Grid{g2}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutGrids(ctx, []grid.Grid{g2}); !errors.Is(err, grid.ErrVersionMismatch) {
		t.Fatalf("stale grid update = %v, want grid.ErrVersionMismatch", err)
	}
	var got []grid.Grid
	if err := s.LoadGrids(ctx, func(g grid.Grid) error { got = append(got, g); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0], g2) {
		t.Fatalf("stored grids %+v, want %+v", got, g2)
	}
	if err := s.DeleteGrid(ctx, c, 1); !errors.Is(err, grid.ErrVersionMismatch) {
		t.Fatalf("stale grid delete = %v, want grid.ErrVersionMismatch", err)
	}
	if err := s.DeleteGrid(ctx, c, 2); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGrid(ctx, c, 0); !errors.Is(err, grid.ErrNotFound) {
		t.Fatalf("delete of a deleted grid = %v, want grid.ErrNotFound", err)
	}
}

// sample records.
func sensor(t *testing.T, id string, serial uint32) sensors.Sensor {
	above, clear := 25.0, 20.0
	return sensors.Sensor{ID: sensors.ID(id), Kind: "cover_tilt", Unit: "°", Code: code(t, serial), Version: 1, Updated: t0,
		Rules: []sensors.Rule{{Kind: "threshold", Above: &above, ClearBelow: &clear}}}
}

func kase(id string, pt orb.Point) incidents.Case {
	return incidents.Case{ID: incidents.ID(id), Version: 1, Source: "sensor", Type: "component", Class: "0101", Location: pt,
		Grid: "51010400100101", Dept: "water", State: "dispatched", Problem: "5101040101000001/cover_tilt",
		Reported: t0, Due: t0.Add(24 * time.Hour), Description: "井盖倾斜",
		Route:   incidents.Route{Rule: "component-owner"},
		History: []incidents.Entry{{Time: t0, Action: "register", To: "registered", Actor: incidents.Actor{Name: "system", Role: "operator"}}}}
}

// same compares two records by their JSON.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err1 := json.Marshal(got)
	w, err2 := json.Marshal(want)
	if err1 != nil || err2 != nil || string(g) != string(w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func recordsRoundTrip(t *testing.T, s Store) {
	ctx := context.Background()
	// The part the sensor is bound to.
	if err := s.PutParts(ctx, []parts.Part{part(t, 1, orb.Point{104.06, 30.66})}); err != nil {
		t.Fatal(err)
	}
	sen := sensor(t, "tilt-1", 1)
	open := sensors.Alarm{ID: sensors.AlarmID(sen.ID, 0), Sensor: sen.ID, Code: sen.Code, Kind: sen.Kind, RuleKind: "threshold",
		State: sensors.AlarmOpen, Raised: t0, Updated: t0.Add(time.Minute), Count: 3, Peak: 31.5, Value: 30, Reason: "value 31.5 above 25", Version: 1}
	old := open
	old.ID, old.Rule, old.State, old.Cleared = sensors.AlarmID(sen.ID, 1), 1, sensors.AlarmCleared, t0.Add(-48*time.Hour)
	recent := open
	recent.ID, recent.Rule, recent.State, recent.Cleared = sensors.AlarmID(sen.ID, 2), 2, sensors.AlarmCleared, t0.Add(-time.Hour)
	status := sensors.Status{Sensor: sen.ID, Value: 30, Time: t0.Add(time.Minute), Online: true, Readings: 42}
	c := kase("C20261123-ABCDEFGHJK", orb.Point{104.0601, 30.6602})
	dept := incidents.Department{Code: "water", Name: "水务局", Contact: "028-1234", Version: 1}
	resp := incidents.Responsibility{District: "510104", Type: "component", Class: "0101", Dept: "water", Version: 1}
	cal := incidents.DefaultCalendar()
	b := twin.Batch{
		Sensors:          []twin.Versioned[sensors.Sensor]{{Value: sen}},
		Alarms:           []sensors.Alarm{open, old, recent},
		Statuses:         []sensors.Status{status},
		Cases:            []twin.Versioned[incidents.Case]{{Value: c}},
		Departments:      []twin.Versioned[incidents.Department]{{Value: dept}},
		Responsibilities: []twin.Versioned[incidents.Responsibility]{{Value: resp}},
		Calendar:         &cal,
	}
	if err := s.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.LoadCalendar(ctx); err != nil || !ok {
		t.Fatalf("LoadCalendar: %v, %v", ok, err)
	}
	gotCal, _, _ := s.LoadCalendar(ctx)
	same(t, "calendar", gotCal, cal)

	var ss []sensors.Sensor
	var sts []sensors.Status
	if err := s.LoadSensors(ctx, func(x sensors.Sensor, st sensors.Status) error { ss = append(ss, x); sts = append(sts, st); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(ss) != 1 {
		t.Fatalf("LoadSensors gave %d sensors", len(ss))
	}
	same(t, "sensor", ss[0], sen)
	same(t, "status", sts[0], status)

	var as []sensors.Alarm
	if err := s.LoadAlarms(ctx, t0.Add(-24*time.Hour), func(a sensors.Alarm) error { as = append(as, a); return nil }); err != nil {
		t.Fatal(err)
	}
	same(t, "open alarms and those cleared since", as, []sensors.Alarm{open, recent})

	var cs []incidents.Case
	if err := s.LoadCases(ctx, func(c incidents.Case) error { cs = append(cs, c); return nil }); err != nil {
		t.Fatal(err)
	}
	same(t, "cases", cs, []incidents.Case{c})
	var ds []incidents.Department
	if err := s.LoadDepartments(ctx, func(d incidents.Department) error { ds = append(ds, d); return nil }); err != nil {
		t.Fatal(err)
	}
	same(t, "departments", ds, []incidents.Department{dept})
	var rs []incidents.Responsibility
	if err := s.LoadResponsibilities(ctx, func(r incidents.Responsibility) error { rs = append(rs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	same(t, "responsibilities", rs, []incidents.Responsibility{resp})

	// Updates from the versions read; an alarm never goes back.
	sen2 := sen
	sen2.Unit, sen2.Version = "deg", 2
	c2 := c
	c2.State, c2.Version, c2.Closed = "closed", 2, t0.Add(2*time.Hour)
	dept2 := dept
	dept2.Name, dept2.Version = "水务集团", 2
	older := open
	older.Count, older.Version = 1, 0
	b2 := twin.Batch{
		Sensors:                 []twin.Versioned[sensors.Sensor]{{Value: sen2, Prev: 1}},
		Cases:                   []twin.Versioned[incidents.Case]{{Value: c2, Prev: 1}},
		Departments:             []twin.Versioned[incidents.Department]{{Value: dept2, Prev: 1}},
		DeletedResponsibilities: []twin.Versioned[incidents.Responsibility]{{Value: resp, Prev: 1}},
		Alarms:                  []sensors.Alarm{older},
	}
	if err := s.Write(ctx, b2); err != nil {
		t.Fatal(err)
	}
	ss, cs, ds, rs, as = nil, nil, nil, nil, nil
	_ = s.LoadSensors(ctx, func(x sensors.Sensor, _ sensors.Status) error { ss = append(ss, x); return nil })
	_ = s.LoadCases(ctx, func(c incidents.Case) error { cs = append(cs, c); return nil })
	_ = s.LoadDepartments(ctx, func(d incidents.Department) error { ds = append(ds, d); return nil })
	_ = s.LoadResponsibilities(ctx, func(r incidents.Responsibility) error { rs = append(rs, r); return nil })
	_ = s.LoadAlarms(ctx, t0, func(a sensors.Alarm) error { as = append(as, a); return nil })
	same(t, "updated sensor", ss, []sensors.Sensor{sen2})
	same(t, "updated case", cs, []incidents.Case{c2})
	same(t, "updated department", ds, []incidents.Department{dept2})
	if len(rs) != 0 {
		t.Errorf("deleted responsibility still there: %+v", rs)
	}
	same(t, "alarm after an older write", as, []sensors.Alarm{open})

	// Deleting the sensor drops its status too.
	if err := s.Write(ctx, twin.Batch{DeletedSensors: []twin.Versioned[sensors.ID]{{Value: sen.ID, Prev: 2}}}); err != nil {
		t.Fatal(err)
	}
	n := 0
	_ = s.LoadSensors(ctx, func(sensors.Sensor, sensors.Status) error { n++; return nil })
	if n != 0 {
		t.Errorf("%d sensors after the delete", n)
	}
}

func recordsConflicts(t *testing.T, s Store) {
	ctx := context.Background()
	dept := incidents.Department{Code: "water", Name: "水务局", Version: 1}
	if err := s.Write(ctx, twin.Batch{Departments: []twin.Versioned[incidents.Department]{{Value: dept}}}); err != nil {
		t.Fatal(err)
	}
	c := kase("C20261123-ABCDEFGHJK", orb.Point{104.06, 30.66})
	other := incidents.Department{Code: "roads", Name: "交通局", Version: 1}
	type tcase struct {
		b twin.Batch
	}
	d2 := dept
	d2.Version = 2
	for name, tc := range map[string]tcase{
		"insert of an existing key":   {twin.Batch{Departments: []twin.Versioned[incidents.Department]{{Value: dept}}}},
		"update from a stale version": {twin.Batch{Departments: []twin.Versioned[incidents.Department]{{Value: d2, Prev: 7}}}},
		"update of a missing key":     {twin.Batch{Cases: []twin.Versioned[incidents.Case]{{Value: c, Prev: 1}}}},
		"delete from a stale version": {twin.Batch{DeletedDepartments: []twin.Versioned[string]{{Value: "water", Prev: 3}}}},
		"a good write then a conflict": {twin.Batch{
			Departments: []twin.Versioned[incidents.Department]{{Value: other}},
			Cases:       []twin.Versioned[incidents.Case]{{Value: c}, {Value: c}},
		}},
	} {
		t.Run(name, func(t *testing.T) {
			if err := s.Write(ctx, tc.b); !errors.Is(err, twin.ErrConflict) {
				t.Fatalf("Write = %v, want twin.ErrConflict", err)
			}
			var ds []incidents.Department
			_ = s.LoadDepartments(ctx, func(d incidents.Department) error { ds = append(ds, d); return nil })
			same(t, "departments after the conflict", ds, []incidents.Department{dept})
			n := 0
			_ = s.LoadCases(ctx, func(incidents.Case) error { n++; return nil })
			if n != 0 {
				t.Errorf("a failed batch left %d cases", n)
			}
		})
	}
}

func notifications(t *testing.T, s Store) {
	ctx := context.Background()
	mk := func(id string, next time.Time) incidents.Notification {
		return incidents.Notification{ID: id, Case: "C20261123-ABCDEFGHJK", Dept: "water", Channel: incidents.ChannelMQTT,
			Target: "citytwin/dispatch/water", Payload: []byte(`{"case":{}}`), Next: next, State: incidents.NotifyPending, Created: t0}
	}
	n1, n2, n3 := mk("c/1/mqtt", t0.Add(-time.Minute)), mk("c/1/webhook", t0.Add(-time.Hour)), mk("c/2/mqtt", t0.Add(time.Hour))
	if err := s.Write(ctx, twin.Batch{Notifications: []incidents.Notification{n1, n2, n3}}); err != nil {
		t.Fatal(err)
	}
	// Written again (a retried batch), it is kept as it is.
	if err := s.Write(ctx, twin.Batch{Notifications: []incidents.Notification{n1}}); err != nil {
		t.Fatal(err)
	}
	due, err := s.DueNotifications(ctx, t0, 10)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "due notifications", due, []incidents.Notification{n2, n1})
	if due, _ := s.DueNotifications(ctx, t0, 1); len(due) != 1 || due[0].ID != n2.ID {
		t.Errorf("DueNotifications with limit 1 = %+v, want %s", due, n2.ID)
	}
	n2.State, n2.Attempts = incidents.NotifyDelivered, 1
	n1.Attempts, n1.Next, n1.Error = 1, t0.Add(30*time.Second), "broker down"
	for _, n := range []incidents.Notification{n1, n2} {
		if err := s.MarkNotification(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	due, err = s.DueNotifications(ctx, t0, 10)
	if err != nil || len(due) != 0 {
		t.Fatalf("due after marking: %+v, %v; want none", due, err)
	}
	due, _ = s.DueNotifications(ctx, t0.Add(2*time.Hour), 10)
	same(t, "due two hours later", due, []incidents.Notification{n1, n3})
	if err := s.MarkNotification(ctx, mk("nope", t0)); !errors.Is(err, incidents.ErrNotFound) {
		t.Errorf("MarkNotification of an unknown one = %v, want incidents.ErrNotFound", err)
	}
}

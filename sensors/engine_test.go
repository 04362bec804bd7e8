package sensors_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"citytwin/parts"
	"citytwin/sensors"
)

// rig is an engine with a fake clock; readings are one minute apart.
type rig struct {
	t   *testing.T
	e   *sensors.Engine
	clk *clock
	out []sensors.Transition
}

func newRig(t *testing.T, ss ...sensors.Sensor) *rig {
	clk := newClock(t0)
	r := &rig{t: t, clk: clk, e: sensors.NewEngine(sensors.Options{Now: clk.Now})}
	for _, s := range ss {
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		r.e.Put(s)
	}
	return r
}

// read evaluates one reading a minute after the last and commits what it
// proposes; it returns the transitions.
func (r *rig) read(id sensors.ID, v float64) []sensors.Transition {
	r.t.Helper()
	r.clk.Advance(time.Minute)
	ts, err := r.e.Evaluate(sensors.Reading{Sensor: id, Value: v, Time: r.clk.Now()}, r.out[:0])
	if err != nil {
		r.t.Fatalf("Evaluate(%s, %v): %v", id, v, err)
	}
	r.e.Commit(ts)
	return ts
}

func types(ts []sensors.Transition) string {
	var s []string
	for _, t := range ts {
		s = append(s, fmt.Sprintf("%v#%d", t.Type, t.Alarm.Rule))
	}
	return strings.Join(s, ",")
}

func tilt(id sensors.ID, rules ...sensors.Rule) sensors.Sensor {
	return sensors.Sensor{ID: id, Kind: sensors.CoverTilt, Code: code1, Rules: rules}
}

var (
	above25   = sensors.Rule{Kind: sensors.Threshold, Above: f(25), ClearBelow: f(20)}
	below015  = sensors.Rule{Kind: sensors.Threshold, Below: f(0.15), ClearAbove: f(0.2)}
	band      = sensors.Rule{Kind: sensors.Threshold, Above: f(25), ClearBelow: f(20), Below: f(-25), ClearAbove: f(-20)}
	rate5     = sensors.Rule{Kind: sensors.Rate, Delta: 5, Window: sensors.Duration(5 * time.Minute)}
	silence10 = sensors.Rule{Kind: sensors.Silence, After: sensors.Duration(10 * time.Minute)}
)

func TestThreshold(t *testing.T) {
	tests := map[string]struct {
		rule   sensors.Rule
		values []float64
		want   []string // transitions per reading
	}{
		"in range":            {above25, []float64{1, 2, 25, 3}, []string{"", "", "", ""}},
		"crossing raises":     {above25, []float64{10, 31.2}, []string{"", "raised#0"}},
		"repeats update":      {above25, []float64{31, 40, 26}, []string{"raised#0", "updated#0", "updated#0"}},
		"hysteresis holds":    {above25, []float64{31, 22, 20, 25}, []string{"raised#0", "", "", ""}},
		"below clear clears":  {above25, []float64{31, 22, 19.9, 31}, []string{"raised#0", "", "cleared#0", "raised#0"}},
		"below threshold":     {below015, []float64{0.3, 0.1, 0.05, 0.18, 0.21}, []string{"", "raised#0", "updated#0", "", "cleared#0"}},
		"no clear level":      {sensors.Rule{Kind: sensors.Threshold, Above: f(25)}, []float64{26, 25, 24.9}, []string{"raised#0", "", "cleared#0"}},
		"band above":          {band, []float64{30, 0}, []string{"raised#0", "cleared#0"}},
		"band below":          {band, []float64{-30, -22, -19}, []string{"raised#0", "", "cleared#0"}},
		"band flip stays one": {band, []float64{30, -30, 0}, []string{"raised#0", "updated#0", "cleared#0"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, tilt("s1", tt.rule))
			for i, v := range tt.values {
				if got := types(r.read("s1", v)); got != tt.want[i] {
					t.Fatalf("reading %d (%v): %q, want %q", i, v, got, tt.want[i])
				}
			}
		})
	}
}

func TestThresholdOneAlarm(t *testing.T) {
	r := newRig(t, tilt("s1", above25, silence10))
	ts := r.read("s1", 31.2)
	if len(ts) != 1 || ts[0].Type != sensors.Raised {
		t.Fatalf("raise: %v", types(ts))
	}
	a := ts[0].Alarm
	if a.ID != "s1#0" || a.Sensor != "s1" || a.Code != code1 || a.Kind != sensors.CoverTilt || a.RuleKind != sensors.Threshold ||
		a.State != sensors.AlarmOpen || a.Count != 1 || a.Peak != 31.2 || a.Value != 31.2 || a.Reason != "value 31.2 above 25" ||
		!a.Raised.Equal(r.clk.Now()) || a.Version != 1 {
		t.Fatalf("raised alarm %+v", a)
	}
	for i, v := range []float64{40, 55.5, 30, 26, 27, 50, 45, 33, 29, 28} { // ten more
		ts := r.read("s1", v)
		if len(ts) != 1 || ts[0].Type != sensors.Updated || ts[0].Alarm.Count != i+2 {
			t.Fatalf("repeat %d: %v", i, ts)
		}
	}
	al := r.e.Alarms("s1")
	if len(al) != 1 || al[0].Count != 11 || al[0].Peak != 55.5 || al[0].Value != 28 || !al[0].Raised.Equal(a.Raised) ||
		!al[0].Updated.Equal(r.clk.Now()) || al[0].Version != 11 {
		t.Fatalf("after ten more: %+v", al)
	}
	r.read("s1", 21) // in the band
	if len(r.e.Alarms("s1")) != 1 {
		t.Fatal("cleared inside the hysteresis band")
	}
	ts = r.read("s1", 12)
	if len(ts) != 1 || ts[0].Type != sensors.Cleared || ts[0].Alarm.State != sensors.AlarmCleared || ts[0].Alarm.Count != 11 ||
		ts[0].Alarm.Reason != "value 12 below 20" || !ts[0].Alarm.Cleared.Equal(r.clk.Now()) {
		t.Fatalf("clear: %+v", ts)
	}
	if len(r.e.Alarms("s1")) != 0 {
		t.Fatal("still open after the clear")
	}
	if got, ok := r.e.Alarm("s1#0"); !ok || got.State != sensors.AlarmCleared || got.Version != 12 {
		t.Fatalf("Alarm(s1#0) = %+v, %v", got, ok)
	}
	// a new crossing is a new alarm with the same id and a higher version
	ts = r.read("s1", 26)
	if len(ts) != 1 || ts[0].Type != sensors.Raised || ts[0].Alarm.Count != 1 || ts[0].Alarm.Version != 13 {
		t.Fatalf("raise again: %+v", ts)
	}
	if st := statusOf(t, r.e, "s1"); st.Readings != 14 || st.Value != 26 || !st.Online {
		t.Fatalf("status %+v", st)
	}
}

func statusOf(t *testing.T, e *sensors.Engine, id sensors.ID) sensors.Status {
	t.Helper()
	_, st, ok := e.Get(id)
	if !ok {
		t.Fatalf("Get(%s) not found", id)
	}
	return st
}

func TestPending(t *testing.T) {
	r := newRig(t, tilt("s1", above25))
	ev := func(v float64) []sensors.Transition {
		r.clk.Advance(time.Minute)
		ts, err := r.e.Evaluate(sensors.Reading{Sensor: "s1", Value: v, Time: r.clk.Now()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	raise := ev(30)
	if types(raise) != "raised#0" {
		t.Fatalf("raise: %v", types(raise))
	}
	if len(r.e.Alarms("s1")) != 0 {
		t.Fatal("a proposed raise is open before Commit")
	}
	for range 3 { // repeats before Commit: no duplicate raise, no updates
		if ts := ev(35); len(ts) != 0 {
			t.Fatalf("before commit: %v", types(ts))
		}
	}
	r.e.Commit(raise)
	al := r.e.Alarms("s1")
	if len(al) != 1 || al[0].Count != 4 || al[0].Peak != 35 || al[0].Version != 1 {
		t.Fatalf("after commit: %+v", al)
	}
	r.e.Commit(raise) // twice: no effect
	clr := ev(1)
	if types(clr) != "cleared#0" || len(ev(2)) != 0 {
		t.Fatal("clear proposed twice")
	}
	if len(r.e.Alarms("s1")) != 1 {
		t.Fatal("a proposed clear is applied before Commit")
	}
	r.e.Abort(clr) // the write failed: the next reading proposes it again
	if types(ev(3)) != "cleared#0" {
		t.Fatal("clear not proposed again after Abort")
	}
	raise2 := ev(50) // clear pending: ignored
	if len(raise2) != 0 {
		t.Fatalf("while clearing: %v", types(raise2))
	}
	// an aborted raise is proposed again
	r2 := newRig(t, tilt("s2", above25))
	ts, _ := r2.e.Evaluate(sensors.Reading{Sensor: "s2", Value: 30, Time: t0.Add(time.Second)}, nil)
	r2.e.Abort(ts)
	ts, _ = r2.e.Evaluate(sensors.Reading{Sensor: "s2", Value: 31, Time: t0.Add(2 * time.Second)}, nil)
	if types(ts) != "raised#0" || ts[0].Alarm.Version != 1 {
		t.Fatalf("after abort: %+v", ts)
	}
}

func TestRate(t *testing.T) {
	r := newRig(t, tilt("s1", rate5))
	steps := []struct {
		v    float64
		want string
	}{
		{10, ""},          // no reference yet
		{12, ""},          // +2 in 1m
		{14, ""},          // +4 in 2m
		{16, "raised#0"},  // +6 in 3m
		{18, "updated#0"}, // +8 in 4m
		{18, "updated#0"}, // +8 in 5m (10 at t-5m)
		{18, "updated#0"}, // +6 in 5m (12)
		{18, "cleared#0"}, // +4 in 5m (14)
		{18, ""},          //
		{10, "raised#0"},  // -8
	}
	for i, s := range steps {
		if got := types(r.read("s1", s.v)); got != s.want {
			t.Fatalf("step %d (%v): %q, want %q", i, s.v, got, s.want)
		}
	}
	al := r.e.Alarms("s1")
	if len(al) != 1 || al[0].Peak != 8 || al[0].Reason != "changed by -8 in 5m, at least 5 within 5m" {
		t.Fatalf("rate alarm %+v", al)
	}
	rec := r.e.Recent("s1", nil)
	if len(rec) != 10 || rec[0].Value != 10 || rec[9].Value != 10 || !rec[9].Time.Equal(r.clk.Now()) {
		t.Fatalf("Recent = %v", rec)
	}
}

func TestWindowBounded(t *testing.T) {
	clk := newClock(t0)
	e := sensors.NewEngine(sensors.Options{Window: 4, Now: clk.Now})
	e.Put(tilt("s1", sensors.Rule{Kind: sensors.Rate, Delta: 5, Window: sensors.Duration(time.Hour)}))
	for i := range 10 {
		clk.Advance(time.Minute)
		e.Evaluate(sensors.Reading{Sensor: "s1", Value: float64(i), Time: clk.Now()}, nil)
	}
	rec := e.Recent("s1", nil)
	if len(rec) != 4 || rec[0].Value != 6 || rec[3].Value != 9 {
		t.Fatalf("Recent = %v", rec)
	}
	// the rate compares with the oldest kept reading: 6, not 0
	clk.Advance(time.Minute)
	ts, _ := e.Evaluate(sensors.Reading{Sensor: "s1", Value: 10, Time: clk.Now()}, nil)
	if len(ts) != 0 {
		t.Fatalf("rate beyond the window: %v", types(ts))
	}
}

func TestSilence(t *testing.T) {
	r := newRig(t, tilt("s1", silence10), tilt("s2", silence10), tilt("s3", above25))
	sweep := func() []sensors.Transition {
		ts := r.e.Sweep(r.clk.Now(), nil)
		r.e.Commit(ts)
		return ts
	}
	r.clk.Advance(9 * time.Minute)
	if ts := sweep(); len(ts) != 0 {
		t.Fatalf("silent for 9m: %v", types(ts))
	}
	r.read("s2", 1) // t0+10m
	ts := sweep()   // s1 never heard from since Put: counts from Put
	if len(ts) != 1 || ts[0].Type != sensors.Raised || ts[0].Alarm.Sensor != "s1" || ts[0].Alarm.RuleKind != sensors.Silence ||
		ts[0].Alarm.Reason != "no reading for 10m (after 10m)" {
		t.Fatalf("sweep at 10m: %+v", ts)
	}
	if st := statusOf(t, r.e, "s1"); st.Online {
		t.Fatal("silent sensor online")
	}
	r.clk.Advance(5 * time.Minute)
	if ts := sweep(); len(ts) != 0 {
		t.Fatalf("second sweep: %v", types(ts))
	}
	r.clk.Advance(5 * time.Minute)
	ts = sweep() // s2 silent 10m now
	if len(ts) != 1 || ts[0].Alarm.Sensor != "s2" {
		t.Fatalf("sweep at 20m: %+v", ts)
	}
	if a, _ := r.e.Alarm("s1#0"); a.Peak != 1200 {
		t.Fatalf("silence peak %v, want 1200 s", a.Peak)
	}
	ts = r.read("s1", 1) // a reading clears it
	if types(ts) != "cleared#0" || ts[0].Alarm.Reason != "reading received" {
		t.Fatalf("reading after silence: %+v", ts)
	}
	if st := statusOf(t, r.e, "s1"); !st.Online {
		t.Fatal("offline after a reading")
	}
}

func TestSilenceReadingWhileRaising(t *testing.T) {
	r := newRig(t, tilt("s1", silence10))
	r.clk.Advance(11 * time.Minute)
	raise := r.e.Sweep(r.clk.Now(), nil)
	r.read("s1", 1) // arrives while the raise is being persisted
	r.e.Commit(raise)
	ts := r.e.Sweep(r.clk.Now(), nil) // the sweep sees the reading and proposes the clear
	if types(ts) != "cleared#0" {
		t.Fatalf("sweep after a late reading: %v", types(ts))
	}
}

func TestSilenceAfterRestart(t *testing.T) {
	// the store says the sensor last reported two hours ago
	r := newRig(t, tilt("s1", silence10))
	r.e.RestoreStatus(sensors.Status{Sensor: "s1", Value: 3, Time: t0.Add(-2 * time.Hour), Online: true, Readings: 500})
	if ts := r.e.Sweep(r.clk.Now(), nil); len(ts) != 0 {
		t.Fatalf("silence raised at load: %v", types(ts))
	}
	r.clk.Advance(10 * time.Minute)
	if ts := r.e.Sweep(r.clk.Now(), nil); len(ts) != 1 {
		t.Fatalf("silence not raised 10m after load: %v", types(ts))
	}
	if st := statusOf(t, r.e, "s1"); st.Readings != 500 || st.Value != 3 {
		t.Fatalf("restored status %+v", st)
	}
}

func TestRestoreAlarm(t *testing.T) {
	r := newRig(t, tilt("s1", above25, silence10))
	open := sensors.Alarm{ID: "s1#0", Sensor: "s1", Code: code1, Kind: sensors.CoverTilt, Rule: 0, RuleKind: sensors.Threshold,
		State: sensors.AlarmOpen, Raised: t0.Add(-time.Hour), Updated: t0.Add(-time.Minute), Count: 7, Peak: 40, Value: 30, Reason: "value 31 above 25", Version: 9}
	r.e.RestoreAlarm(open)
	r.e.RestoreAlarm(sensors.Alarm{Sensor: "s1", Rule: 1, State: sensors.AlarmCleared}) // ignored
	r.e.RestoreAlarm(sensors.Alarm{Sensor: "s1", Rule: 5, State: sensors.AlarmOpen})    // no such rule
	r.e.RestoreAlarm(sensors.Alarm{Sensor: "zz", Rule: 0, State: sensors.AlarmOpen})    // no such sensor
	al := r.e.Alarms("s1")
	if len(al) != 1 || al[0] != open {
		t.Fatalf("restored %+v", al)
	}
	ts := r.read("s1", 45) // still open: an update, not a second alarm
	if types(ts) != "updated#0" || ts[0].Alarm.Count != 8 || ts[0].Alarm.Peak != 45 || ts[0].Alarm.Version != 10 {
		t.Fatalf("after restore: %+v", ts)
	}
	n := 0
	r.e.EachAlarm(func(a sensors.Alarm) bool { n++; return true })
	if n != 1 {
		t.Fatalf("EachAlarm saw %d", n)
	}
}

func TestRebind(t *testing.T) {
	code2 := parts.Code(3205080111000002)
	r := newRig(t, tilt("s1", above25, rate5), tilt("s2", above25))
	r.read("s1", 10)
	r.read("s1", 30) // raises threshold and rate
	if len(r.e.Alarms("s1")) != 2 {
		t.Fatal("setup")
	}
	ts := r.e.Rebind("s1", r.clk.Now())
	if types(ts) != "cleared#0,cleared#1" || !strings.Contains(ts[0].Alarm.Reason, "rebound") || ts[0].Alarm.Code != code1 {
		t.Fatalf("Rebind: %+v", ts)
	}
	if again := r.e.Rebind("s1", r.clk.Now()); len(again) != 0 {
		t.Fatalf("Rebind twice: %v", types(again))
	}
	s := tilt("s1", above25, rate5)
	s.Code, s.Version = code2, 2
	old, existed := r.e.Put(s)
	if !existed || old.Code != code1 {
		t.Fatalf("Put = %+v, %v", old, existed)
	}
	r.e.Commit(ts)
	if len(r.e.Alarms("s1")) != 0 {
		t.Fatal("alarms survive the rebind")
	}
	got, st, _ := r.e.Get("s1")
	if got.Code != code2 || got.Version != 2 || st.Readings != 0 || st.Online || !st.Time.IsZero() || len(r.e.Recent("s1", nil)) != 0 {
		t.Fatalf("after rebind: %+v %+v", got, st)
	}
	if ids := r.e.ByCode(code1); len(ids) != 1 || ids[0] != "s2" {
		t.Fatalf("ByCode(old) = %v", ids)
	}
	if ids := r.e.ByCode(code2); len(ids) != 1 || ids[0] != "s1" {
		t.Fatalf("ByCode(new) = %v", ids)
	}
	ts = r.read("s1", 31) // no rate reference after the reset; threshold raises on the new code
	if types(ts) != "raised#0" || ts[0].Alarm.Code != code2 {
		t.Fatalf("after rebind: %+v", ts)
	}
}

func TestPutRulesChanged(t *testing.T) {
	r := newRig(t, tilt("s1", above25, rate5))
	r.read("s1", 10)
	r.read("s1", 30)
	r.e.Put(tilt("s1", above25, sensors.Rule{Kind: sensors.Rate, Delta: 50, Window: sensors.Duration(time.Minute)}))
	al := r.e.Alarms("s1")
	if len(al) != 1 || al[0].Rule != 0 {
		t.Fatalf("alarms after a rule change: %+v", al)
	}
	if st := statusOf(t, r.e, "s1"); st.Readings != 2 {
		t.Fatal("a rule change reset the status")
	}
}

func TestRetired(t *testing.T) {
	code2 := parts.Code(3205080111000002)
	s3 := tilt("s3", above25)
	s3.Code = code2
	r := newRig(t, tilt("s1", above25), tilt("s2", above25, rate5), s3)
	r.read("s1", 30)
	r.read("s3", 30)
	ts := r.e.Retired(code1, r.clk.Now())
	if len(ts) != 1 || ts[0].Type != sensors.Updated || !ts[0].Alarm.Retired || ts[0].Alarm.Sensor != "s1" ||
		ts[0].Alarm.Reason != "value 30 above 25; component 3205080101000001 retired" {
		t.Fatalf("Retired: %+v", ts)
	}
	if a := r.e.Alarms("s1"); !a[0].Retired {
		t.Fatal("not applied")
	}
	if a := r.e.Alarms("s3"); a[0].Retired {
		t.Fatal("another component's alarm retired")
	}
	if ts := r.e.Retired(code1, r.clk.Now()); len(ts) != 0 {
		t.Fatalf("Retired twice: %v", types(ts))
	}
	ts = r.read("s2", 40) // a new alarm on the retired component says so
	if len(ts) != 1 || !ts[0].Alarm.Retired || !strings.HasSuffix(ts[0].Alarm.Reason, "retired") {
		t.Fatalf("alarm after retirement: %+v", ts)
	}
}

func TestBadReadings(t *testing.T) {
	r := newRig(t, tilt("s1", above25))
	r.read("s1", 1)
	last := r.clk.Now()
	now := r.clk.Now()
	tests := map[string]struct {
		rd   sensors.Reading
		want error
	}{
		"unknown":           {sensors.Reading{Sensor: "nope", Value: 1, Time: now}, sensors.ErrUnknownSensor},
		"NaN":               {sensors.Reading{Sensor: "s1", Value: math.NaN(), Time: now.Add(time.Second)}, sensors.ErrBadValue},
		"Inf":               {sensors.Reading{Sensor: "s1", Value: math.Inf(-1), Time: now.Add(time.Second)}, sensors.ErrBadValue},
		"future":            {sensors.Reading{Sensor: "s1", Value: 1, Time: now.Add(6 * time.Minute)}, sensors.ErrFuture},
		"old":               {sensors.Reading{Sensor: "s1", Value: 1, Time: now.Add(-25 * time.Hour)}, sensors.ErrTooOld},
		"zero time":         {sensors.Reading{Sensor: "s1", Value: 1}, sensors.ErrTooOld},
		"duplicate":         {sensors.Reading{Sensor: "s1", Value: 99, Time: last}, sensors.ErrDuplicate},
		"out of order":      {sensors.Reading{Sensor: "s1", Value: 99, Time: last.Add(-time.Second)}, sensors.ErrOutOfOrder},
		"slightly ahead ok": {sensors.Reading{Sensor: "s1", Value: 2, Time: now.Add(4 * time.Minute)}, nil},
	}
	for _, name := range []string{"unknown", "NaN", "Inf", "future", "old", "zero time", "duplicate", "out of order", "slightly ahead ok"} {
		tt := tests[name]
		ts, err := r.e.Evaluate(tt.rd, nil)
		if !errors.Is(err, tt.want) || err == nil != (tt.want == nil) || len(ts) != 0 {
			t.Errorf("%s: %v, %v; want %v", name, ts, err, tt.want)
		}
	}
	st := statusOf(t, r.e, "s1")
	if st.Readings != 2 || st.Value != 2 {
		t.Fatalf("a rejected reading changed the status: %+v", st)
	}
	c := r.e.Counts()
	want := sensors.Counts{Evaluated: 2, UnknownSensor: 1, BadValue: 2, Future: 1, TooOld: 2, Duplicate: 1, OutOfOrder: 1}
	if c != want {
		t.Fatalf("Counts = %+v, want %+v", c, want)
	}
}

func TestRegistry(t *testing.T) {
	code2 := parts.Code(3205080111000002)
	s2 := sensors.Sensor{ID: "g1", Kind: sensors.CoverGas, Code: code1, Updated: t0, Version: 1}
	r := newRig(t, tilt("s1", above25), s2)
	if r.e.Len() != 2 {
		t.Fatalf("Len = %d", r.e.Len())
	}
	got, _, ok := r.e.Get("g1")
	if !ok || got.Unit != "%LEL" || len(got.Rules) != 3 || !got.Updated.Equal(t0) || got.Version != 1 {
		t.Fatalf("Get = %+v", got)
	}
	*got.Rules[0].Above = 1 // a copy
	if again, _, _ := r.e.Get("g1"); *again.Rules[0].Above != 20 {
		t.Fatal("Get shares the rules")
	}
	if ids := r.e.ByCode(code1); len(ids) != 2 {
		t.Fatalf("ByCode = %v", ids)
	}
	if r.e.ByCode(code2) != nil {
		t.Fatal("ByCode of an unbound code")
	}
	n := 0
	r.e.Each(func(s sensors.Sensor, st sensors.Status) bool { n++; return false })
	if n != 1 {
		t.Fatalf("Each did not stop: %d", n)
	}
	if _, ok := r.e.Remove("s1"); !ok || r.e.Len() != 1 {
		t.Fatal("Remove")
	}
	if _, ok := r.e.Remove("s1"); ok {
		t.Fatal("Remove twice")
	}
	if ids := r.e.ByCode(code1); len(ids) != 1 || ids[0] != "g1" {
		t.Fatalf("ByCode after Remove = %v", ids)
	}
	if _, err := r.e.Evaluate(sensors.Reading{Sensor: "s1", Value: 1, Time: t0}, nil); !errors.Is(err, sensors.ErrUnknownSensor) {
		t.Fatalf("removed sensor: %v", err)
	}
	if _, ok := r.e.Alarm("bad"); ok {
		t.Fatal("Alarm(bad)")
	}
}

func TestEvaluateAllocs(t *testing.T) {
	r := newRig(t, tilt("s1", above25, rate5, silence10), tilt("s2", above25))
	r.read("s1", 1)
	r.read("s2", 30) // open
	out := make([]sensors.Transition, 0, 8)
	ns := t0.Add(time.Hour).UnixNano()
	r.clk.Advance(2 * time.Hour)
	for _, tc := range []struct {
		id sensors.ID
		v  float64
	}{{"s1", 2}, {"s2", 31}} {
		allocs := testing.AllocsPerRun(100, func() {
			ns += int64(time.Second)
			var err error
			out, err = r.e.Evaluate(sensors.Reading{Sensor: tc.id, Value: tc.v, Time: time.Unix(0, ns)}, out[:0])
			if err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("Evaluate(%s) allocates %v times", tc.id, allocs)
		}
	}
	if len(out) != 1 || out[0].Type != sensors.Updated {
		t.Fatalf("the open alarm was not updated: %v", types(out))
	}
}

// TestConcurrent runs evaluations, sweeps, commits and edits from several
// goroutines on shared and distinct sensors; run with -race.
func TestConcurrent(t *testing.T) {
	clk := newClock(t0)
	e := sensors.NewEngine(sensors.Options{Now: clk.Now})
	const n = 200
	for i := range n {
		s := tilt(sensors.ID(fmt.Sprintf("s%03d", i)), above25, rate5, silence10)
		e.Put(s)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out []sensors.Transition
			for i := range 2000 {
				id := sensors.ID(fmt.Sprintf("s%03d", (i*7+g)%n)) // shared
				if i%2 == 0 {
					id = sensors.ID(fmt.Sprintf("s%03d", g*50+i%50)) // own
				}
				v := float64(i % 40)
				ts := t0.Add(time.Duration(i*4+g) * time.Millisecond)
				var err error
				out, err = e.Evaluate(sensors.Reading{Sensor: id, Value: v, Time: ts}, out[:0])
				if err != nil && !errors.Is(err, sensors.ErrOutOfOrder) && !errors.Is(err, sensors.ErrDuplicate) {
					t.Error(err)
					return
				}
				e.Commit(out)
				if i%500 == 0 {
					e.Commit(e.Sweep(clk.Now(), nil))
					e.Alarms(id)
					e.EachAlarm(func(sensors.Alarm) bool { return true })
					e.Get(id)
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // an editor
		defer wg.Done()
		for i := range 100 {
			id := sensors.ID(fmt.Sprintf("s%03d", i))
			e.Commit(e.Rebind(id, clk.Now()))
			e.Put(tilt(id, above25, rate5, silence10))
			e.Retired(code1, clk.Now())
			clk.Advance(time.Second)
		}
	}()
	wg.Wait()
	if e.Len() != n {
		t.Fatalf("Len = %d", e.Len())
	}
	open := map[string]bool{}
	e.EachAlarm(func(a sensors.Alarm) bool {
		if open[a.ID] {
			t.Errorf("alarm %s open twice", a.ID)
		}
		open[a.ID] = true
		return true
	})
	c := e.Counts()
	if c.Evaluated+c.OutOfOrder+c.Duplicate != 8000 {
		t.Fatalf("Counts %+v do not add up to 8000", c)
	}
}

package sensors_test

import (
	"testing"
	"time"

	"citytwin/sensors"
)

// TestApply: an alarm stored by another replica replaces memory's only
// when newer (a later raise, the clear of the same raise, a higher
// version of the same state), and never a raise or clear awaiting Commit.
func TestApply(t *testing.T) {
	r := newRig(t, tilt("s1", above25))
	id := sensors.AlarmID("s1", 0)
	raisedAt := t0.Add(time.Hour)
	ext := sensors.Alarm{ID: id, Sensor: "s1", Code: code1, Kind: sensors.CoverTilt, Rule: 0, State: sensors.AlarmOpen,
		Raised: raisedAt, Updated: raisedAt, Count: 1, Peak: 30, Value: 30, Reason: "value 30 above 25", Version: 1}
	apply := func(a sensors.Alarm) sensors.ApplyResult {
		t.Helper()
		_, how := r.e.Apply(a)
		return how
	}
	if got := apply(ext); got != sensors.ApplyDone {
		t.Fatalf("new open alarm: %v", got)
	}
	if open := r.e.Alarms("s1"); len(open) != 1 || open[0].Version != 1 || !open[0].Raised.Equal(raisedAt) {
		t.Fatalf("open alarms %+v", open)
	}
	if got := apply(ext); got != sensors.ApplyOlder {
		t.Fatalf("the same alarm again: %v", got)
	}
	// Memory counts repeats ahead of the store: versions run ahead.
	r.clk.Advance(time.Hour)
	r.read("s1", 31)
	r.read("s1", 32)
	upd := ext
	upd.Version = 2
	upd.Count = 2
	if got := apply(upd); got != sensors.ApplyOlder {
		t.Fatalf("an update memory is past: %v", got)
	}
	// The clear of the same raise, at a lower version than memory's.
	clr := ext
	clr.State, clr.Cleared, clr.Version = sensors.AlarmCleared, raisedAt.Add(time.Minute), 2
	if got := apply(clr); got != sensors.ApplyDone {
		t.Fatalf("clear of the same raise: %v", got)
	}
	if open := r.e.Alarms("s1"); len(open) != 0 {
		t.Fatalf("still open after the clear: %+v", open)
	}
	if a, ok := r.e.Alarm(id); !ok || a.State != sensors.AlarmCleared {
		t.Fatalf("the cleared alarm: %+v, %v", a, ok)
	}
	if got := apply(ext); got != sensors.ApplyOlder {
		t.Fatalf("the open alarm after its clear: %v", got)
	}
	// A proposed raise is left alone; after Commit a later raise applies.
	r.clk.Advance(time.Minute)
	ts, err := r.e.Evaluate(sensors.Reading{Sensor: "s1", Value: 40, Time: r.clk.Now()}, nil)
	if err != nil || len(ts) != 1 {
		t.Fatalf("raise: %v %v", ts, err)
	}
	later := ext
	later.Raised, later.Updated, later.Version = r.clk.Now().Add(time.Minute), r.clk.Now().Add(time.Minute), 5
	if got := apply(later); got != sensors.ApplyPending {
		t.Fatalf("while a raise is proposed: %v", got)
	}
	r.e.Commit(ts)
	if got := apply(later); got != sensors.ApplyDone {
		t.Fatalf("a later raise after Commit: %v", got)
	}
	if open := r.e.Alarms("s1"); len(open) != 1 || open[0].Version != 5 {
		t.Fatalf("open alarms %+v", open)
	}
	// Unknown sensors and rules.
	unknown := ext
	unknown.Sensor = "nope"
	if got := apply(unknown); got != sensors.ApplyUnknown {
		t.Fatalf("unknown sensor: %v", got)
	}
	unknown = ext
	unknown.Rule = 3
	if got := apply(unknown); got != sensors.ApplyUnknown {
		t.Fatalf("unknown rule: %v", got)
	}
}

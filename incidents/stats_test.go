package incidents

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestEvaluateTianmen replays a month like DOMAIN.md's Tianmen example:
// 972 cases due, 911 closed (93.72 %), 737 closed on time (75.82 %), with
// deadlines set by a calendar whose National Day holiday moves some.
func TestEvaluateTianmen(t *testing.T) {
	cal := DefaultCalendar()
	cal.Holidays = []string{"2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05", "2026-10-06", "2026-10-07"}
	cal.Workdays = []string{"2026-09-27", "2026-10-10"}
	noHoliday := DefaultCalendar()
	from := time.Date(2026, 10, 1, 0, 0, 0, 0, chinaTime)
	to := from.AddDate(0, 1, 0)
	now := to.AddDate(0, 0, 10)
	classes := []string{"event:0102", "event:0104", "event:0505", "component:0101", "event:0699"}
	depts := []string{"sanitation", "chengguan", "water", "street-429006001"}

	var cases []Case
	moved := 0
	n := 0
	add := func(state State, closedAfterDue time.Duration, due bool) {
		n++
		key := classes[n%len(classes)]
		typ, class, _ := cutKey(key)
		reported := from.Add(time.Duration(n%(24*24)) * time.Hour)
		c := Case{
			ID: ID(fmt.Sprintf("C20261001-%010d", n)), Source: SourceInspector, Type: typ, Class: class,
			Dept: depts[n%len(depts)], Grid: fmt.Sprintf("42900600%d00101", 1+n%3), State: state, Reported: reported,
			Due: cal.Deadline(reported, key),
		}
		if !c.Due.Equal(noHoliday.Deadline(reported, key)) {
			moved++
		}
		if !due {
			c.Due = to.Add(time.Duration(n) * time.Minute) // due next month
		}
		if state == StateClosed {
			c.Closed = c.Due.Add(closedAfterDue)
		}
		cases = append(cases, c)
	}
	for range 736 {
		add(StateClosed, -time.Hour, true) // on time
	}
	add(StateClosed, 0, true) // closed exactly at the deadline: on time
	for range 911 - 737 {
		add(StateClosed, 26*time.Hour, true) // late
	}
	for range 972 - 911 - 5 {
		add(StateInProgress, 0, true)
	}
	for _, s := range []State{StateDispatched, StateSuspended, StateReturned, StateHandled, StateVerified} {
		add(s, 0, true)
	}
	// Not due: rejected or never registered, or due outside the month.
	add(StateRejected, 0, true)
	add(StateReported, 0, true)
	add(StateClosed, -time.Hour, false)
	add(StateInProgress, 0, false)
	// A case closed after now is not closed yet at now.
	add(StateClosed, 0, true)
	cases[len(cases)-1].Closed = now.Add(time.Hour)

	if moved == 0 {
		t.Fatal("no deadline was moved by the holiday")
	}
	rows, total, err := Evaluate(slices.Values(cases), from, to, ByNone, now)
	if err != nil {
		t.Fatal(err)
	}
	want := Row{Key: "total", Due: 973, Closed: 911, OnTime: 737}
	want.rates()
	if total != want || len(rows) != 0 {
		t.Fatalf("total %+v (rows %d), want %+v", total, len(rows), want)
	}
	// Without the case closed after now: exactly Tianmen's month.
	tianmen := slices.Clone(cases[:len(cases)-1])
	_, total, err = Evaluate(slices.Values(tianmen), from, to, ByNone, now)
	if err != nil {
		t.Fatal(err)
	}
	if total.Due != 972 || total.Closed != 911 || total.OnTime != 737 || total.ClosureRate != 93.72 || total.OnTimeRate != 75.82 {
		t.Fatalf("Tianmen: %+v, want 972 911 737 93.72 %% 75.82 %%", total)
	}

	for _, by := range []string{ByDept, ByStreet, ByGrid, ByClass} {
		rows, tot, err := Evaluate(slices.Values(tianmen), from, to, by, now)
		if err != nil {
			t.Fatal(err)
		}
		var sum Row
		for _, r := range rows {
			sum.Due, sum.Closed, sum.OnTime = sum.Due+r.Due, sum.Closed+r.Closed, sum.OnTime+r.OnTime
		}
		if sum.Due != tot.Due || sum.Closed != tot.Closed || sum.OnTime != tot.OnTime || len(rows) < 2 {
			t.Fatalf("by %s: rows sum to %+v, total %+v", by, sum, tot)
		}
		if !slices.IsSortedFunc(rows, func(a, b Row) int { return cmpString(a.Key, b.Key) }) {
			t.Fatalf("by %s: rows not sorted", by)
		}
		if by == ByStreet && len(rows[0].Key) != 9 {
			t.Fatalf("street key %q", rows[0].Key)
		}
	}

	if _, _, err := Evaluate(slices.Values(cases), from, to, "mood", now); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad by: %v", err)
	}
	if _, _, err := Evaluate(slices.Values(cases), to, from, ByDept, now); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad period: %v", err)
	}
	_, empty, _ := Evaluate(slices.Values([]Case(nil)), from, to, ByNone, now)
	if empty.ClosureRate != 0 || empty.OnTimeRate != 0 {
		t.Fatalf("rates of nothing: %+v", empty)
	}
}

func cutKey(key string) (Type, string, bool) {
	for i := range len(key) {
		if key[i] == ':' {
			return Type(key[:i]), key[i+1:], true
		}
	}
	return "", key, false
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestEvaluateBook(t *testing.T) {
	var b Book
	for i := range 10 {
		c := bookCase(i, StateClosed)
		c.Closed = c.Due
		b.Put(c)
	}
	_, total, err := Evaluate(b.All, t0, t0.Add(24*time.Hour), ByDept, t0.Add(48*time.Hour))
	if err != nil || total.Due != 10 || total.OnTime != 10 || total.OnTimeRate != 100 {
		t.Fatalf("%+v %v", total, err)
	}
}

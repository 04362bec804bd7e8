package api

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"citytwin/twin"
)

var chinaZone = time.FixedZone("CST", 8*3600)

// setHoliday adds day to the calendar's holidays through the API.
func setHoliday(t *testing.T, c *city, day string) map[string]any {
	t.Helper()
	cal := expect(t, c.do(t, req{path: "/calendar"}), http.StatusOK, mediaJSON)
	hs, _ := cal["holidays"].([]any)
	cal["holidays"] = append(hs, day)
	return expect(t, c.postJSON(t, http.MethodPut, "/calendar", "admin", cal, nil), http.StatusOK, mediaJSON)
}

func dueOf(t *testing.T, p map[string]any) time.Time {
	t.Helper()
	s, ok := p["due"].(string)
	if !ok {
		t.Fatalf("no due in %v", p)
	}
	d, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestCalendarHolidayMovesDeadline: illegal parking (event 0505) has one
// working hour; reported on Friday 17:00 it is due on Monday 09:00, or on
// Tuesday once Monday is a holiday.
func TestCalendarHolidayMovesDeadline(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 3, 13, 17, 0, 0, 0, chinaZone)}
	c := newCaseCity(t, func(o *twin.Options) { o.Now = clock.Now })
	report := func(lon float64) time.Time {
		p := c.report(t, "insp", map[string]any{"lon": lon, "lat": lat0 + 0.0005, "class": "0505", "type": "event"}, http.StatusCreated)
		return dueOf(t, p)
	}
	if got, want := report(lon0+0.0005), time.Date(2026, 3, 16, 9, 0, 0, 0, chinaZone); !got.Equal(want) {
		t.Fatalf("due %v, want %v", got, want)
	}
	problem(t, c.postJSON(t, http.MethodPut, "/calendar", "oper", map[string]any{}, nil), http.StatusForbidden)
	problem(t, c.postJSON(t, http.MethodPut, "/calendar", "", map[string]any{}, nil), http.StatusUnauthorized)
	problem(t, c.postJSON(t, http.MethodPut, "/calendar", "admin", map[string]any{"dayStart": "25:00"}, nil), http.StatusBadRequest)
	problem(t, c.postJSON(t, http.MethodPut, "/calendar", "admin", map[string]any{"weekdays": []int{1}}, nil), http.StatusBadRequest)
	cal := setHoliday(t, c, "2026-03-16")
	if !slices.Contains(anyStrings(cal["holidays"]), "2026-03-16") {
		t.Fatalf("calendar %v lacks the holiday", cal)
	}
	if got, want := report(lon0+0.0025), time.Date(2026, 3, 17, 9, 0, 0, 0, chinaZone); !got.Equal(want) {
		t.Fatalf("due %v with the holiday, want %v", got, want)
	}
}

// TestIncidentStatsTianmen replays a month like Tianmen's (DOMAIN.md: 972
// cases due, 911 closed, 737 of them on time) through the API on a
// controlled clock, and reads 93.72 % and 75.82 % from /incidents/stats.
func TestIncidentStatsTianmen(t *testing.T) {
	if testing.Short() {
		t.Skip("4,600 requests")
	}
	const due, closed, onTime = 972, 911, 737
	clock := &testClock{t: time.Date(2026, 2, 27, 9, 0, 0, 0, chinaZone)}
	c := newCaseCity(t, func(o *twin.Options) {
		o.Now = clock.Now
		o.Cases.MergeWindow = time.Nanosecond // every report is a case of its own
	})
	setHoliday(t, c, "2026-03-16")
	expect(t, c.postJSON(t, http.MethodPut, "/responsibilities/320508/event:0505", "admin", map[string]any{"dept": "chengguan"}, nil), http.StatusCreated, mediaJSON)
	var days []time.Time // the working days of March 2026 but the holiday
	for d := time.Date(2026, 3, 1, 0, 0, 0, 0, chinaZone); d.Month() == time.March; d = d.AddDate(0, 0, 1) {
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday && d.Day() != 16 {
			days = append(days, d)
		}
	}
	perDay := (due + len(days) - 1) / len(days)
	for i := range due {
		day, slot := days[i/perDay], i%perDay
		at := day.Add(9*time.Hour + time.Duration(slot)*8*time.Minute)
		clock.Set(at)
		g := i % 8 // spread over the grids
		lon, lat := lon0+0.0005+float64(g%4)*testCell, lat0+0.0005+float64(g/4)*testCell
		p := c.report(t, "insp", map[string]any{"lon": lon, "lat": lat, "class": "0505", "type": "event"}, http.StatusCreated)
		if p["state"] != "dispatched" || p["dept"] != "chengguan" {
			t.Fatalf("case %d: state %v dept %v", i, p["state"], p["dept"])
		}
		d := dueOf(t, p)
		if !d.Equal(at.Add(time.Hour)) {
			t.Fatalf("case %d reported %v is due %v, want an hour later", i, at, d)
		}
		if i >= closed {
			continue // still open at the end of the month
		}
		id, v := p["id"].(string), p["version"].(float64)
		closeAt := at.Add(30 * time.Minute)
		if i >= onTime {
			closeAt = d.Add(2 * time.Hour)
		}
		for _, s := range []struct{ token, action string }{{"chengguan", "accept"}, {"chengguan", "report"}, {"insp", "verify"}, {"oper", "close"}} {
			clock.Set(closeAt.Add(-time.Minute))
			if s.action == "close" {
				clock.Set(closeAt)
			}
			rec := c.act(t, id, s.token, v, map[string]any{"action": s.action, "note": "done"})
			if rec.Code != http.StatusOK {
				t.Fatalf("case %d %s: %d %s", i, s.action, rec.Code, rec.Body.String())
			}
			v = props(t, doc(t, rec))["version"].(float64)
		}
	}
	clock.Set(time.Date(2026, 4, 2, 10, 0, 0, 0, chinaZone))
	m := expect(t, c.do(t, req{path: "/incidents/stats?from=2026-03-01&to=2026-04-01&by=dept"}), http.StatusOK, mediaJSON)
	total := m["total"].(map[string]any)
	want := map[string]float64{"due": due, "closed": closed, "closedOnTime": onTime, "closureRate": 93.72, "onTimeRate": 75.82}
	for k, w := range want {
		if total[k] != w {
			t.Errorf("total %s = %v, want %v", k, total[k], w)
		}
	}
	rows := m["rows"].([]any)
	if len(rows) != 1 || rows[0].(map[string]any)["key"] != "chengguan" || rows[0].(map[string]any)["due"] != float64(due) {
		t.Errorf("rows by dept %v", rows)
	}
	byGrid := expect(t, c.do(t, req{path: "/incidents/stats?from=2026-03-01&to=2026-04-01&by=grid"}), http.StatusOK, mediaJSON)
	n := 0.0
	for _, r := range byGrid["rows"].([]any) {
		n += r.(map[string]any)["due"].(float64)
	}
	if len(byGrid["rows"].([]any)) != 8 || n != due {
		t.Errorf("by grid: %d rows, %v due", len(byGrid["rows"].([]any)), n)
	}
	// February has nothing due; bad parameters are 400.
	feb := expect(t, c.do(t, req{path: "/incidents/stats?from=2026-02-01&to=2026-03-01"}), http.StatusOK, mediaJSON)
	if feb["total"].(map[string]any)["due"] != 0.0 {
		t.Errorf("February: %v", feb["total"])
	}
	for _, q := range []string{"by=owner", "from=yesterday", "from=2026-04-01&to=2026-03-01", "colour=red"} {
		problem(t, c.do(t, req{path: fmt.Sprintf("/incidents/stats?%s", q)}), http.StatusBadRequest)
	}
}

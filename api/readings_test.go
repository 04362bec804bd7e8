package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// readingsAt builds a POST /readings body for sensor id: one object for
// one value, else an array, the i-th value at base + (from+i) seconds.
func readingsAt(id string, base time.Time, from int, values ...float64) string {
	var rs []string
	for i, v := range values {
		rs = append(rs, fmt.Sprintf(`{"sensor":%q,"value":%v,"time":%q}`, id, v, base.Add(time.Duration(from+i)*time.Second).Format(time.RFC3339)))
	}
	if len(rs) == 1 {
		return rs[0]
	}
	return "[" + strings.Join(rs, ",") + "]"
}

func postReadings(t *testing.T, c *city, token, body string) map[string]any {
	t.Helper()
	return expect(t, c.do(t, req{method: http.MethodPost, path: "/readings", token: token, body: body}), http.StatusAccepted, mediaJSON)
}

func alarmsOf(t *testing.T, c *city, query string) []map[string]any {
	t.Helper()
	return features(t, expect(t, c.do(t, req{path: "/alarms" + query}), http.StatusOK, mediaGeoJSON))
}

// TestAlarmLifecycle is the proof of the issue over HTTP: a reading above
// the threshold raises exactly one alarm, seen on /events at once; ten more
// make it count 11, still one; a reading below the clear level clears it;
// Last-Event-ID resumes after an event.
func TestAlarmLifecycle(t *testing.T) {
	c := newCity(t)
	needRecords(t, c)
	base := serveCity(t, c)
	putSensor(t, c, "tilt-1", "water", sensorBody(codeCover), http.StatusCreated)
	ch := openEvents(t, base, "?types=alarm.raised,alarm.cleared,alarm.updated", nil)
	t0 := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)

	sent := time.Now()
	ans := postReadings(t, c, "water", readingsAt("tilt-1", t0, 0, 30))
	if ans["accepted"] != 1.0 || ans["raised"] != 1.0 {
		t.Fatalf("first high reading: %v", ans)
	}
	raised, _ := waitEvent(t, ch, evAlarmRaised, 5*time.Second)
	t.Logf("alarm.raised reached /events %v after the POST was sent", raised.at.Sub(sent))
	rp := props(t, raised.json(t))
	if rp["sensor"] != "tilt-1" || rp["state"] != "open" || rp["count"] != 1.0 || rp["code"] != codeCover || rp["ruleKind"] != "threshold" {
		t.Errorf("alarm.raised data %v", rp)
	}
	if as := alarmsOf(t, c, "?state=open"); len(as) != 1 {
		t.Fatalf("%d open alarms, want 1", len(as))
	}

	ans = postReadings(t, c, "water", readingsAt("tilt-1", t0, 1, 31, 32, 33, 40, 35, 30, 29, 28, 27, 26))
	if ans["accepted"] != 10.0 || ans["raised"] != 0.0 {
		t.Errorf("ten more high readings: %v", ans)
	}
	as := alarmsOf(t, c, "?state=open")
	if len(as) != 1 {
		t.Fatalf("%d open alarms after ten more high readings, want 1", len(as))
	}
	ap := props(t, as[0])
	if ap["count"] != 11.0 || ap["peak"] != 40.0 || ap["value"] != 26.0 {
		t.Errorf("the alarm after 11 high readings: %v", ap)
	}
	sp := props(t, expect(t, c.do(t, req{path: "/sensors/tilt-1"}), http.StatusOK, mediaGeoJSON))
	if st := sp["state"].(map[string]any); st["value"] != 26.0 || st["readings"] != 11.0 || st["online"] != true {
		t.Errorf("sensor state %v", st)
	}
	if al := sp["alarms"].([]any); len(al) != 1 {
		t.Errorf("sensor open alarms %v", al)
	}
	if fc := expect(t, c.do(t, req{path: "/sensors?alarm=open"}), http.StatusOK, mediaGeoJSON); fc["numberMatched"] != 1.0 {
		t.Errorf("/sensors?alarm=open matched %v", fc["numberMatched"])
	}

	// 22 is under 25 but above clearBelow 20: still open (hysteresis).
	if ans = postReadings(t, c, "water", readingsAt("tilt-1", t0, 11, 22)); ans["cleared"] != 0.0 {
		t.Errorf("22 cleared the alarm: %v", ans)
	}
	if ans = postReadings(t, c, "water", readingsAt("tilt-1", t0, 12, 10)); ans["cleared"] != 1.0 {
		t.Errorf("10 did not clear the alarm: %v", ans)
	}
	cleared, skipped := waitEvent(t, ch, evAlarmCleared, 5*time.Second)
	if len(skipped) > 0 {
		t.Errorf("events between raised and cleared: %v (repeats must not be events)", skipped)
	}
	if cp := props(t, cleared.json(t)); cp["state"] != "cleared" || cp["id"] != rp["id"] || cp["cleared"] == nil {
		t.Errorf("alarm.cleared data %v", cp)
	}
	if as := alarmsOf(t, c, "?state=open"); len(as) != 0 {
		t.Errorf("%d open alarms after clearing", len(as))
	}
	if as := alarmsOf(t, c, "?state=cleared&kind=cover_tilt&code="+codeCover); len(as) != 1 {
		t.Errorf("%d cleared alarms, want 1", len(as))
	}

	// Resume after alarm.raised: only later events, the clear among them.
	resumed := openEvents(t, base, "", map[string]string{"Last-Event-ID": raised.id})
	m, before := waitEvent(t, resumed, evAlarmCleared, 5*time.Second)
	for _, e := range append(before, m) {
		if e.idNum(t) <= raised.idNum(t) || e.event == evReset {
			t.Errorf("resumed after %s, got %s %s", raised.id, e.event, e.id)
		}
	}
	if m.id != cleared.id {
		t.Errorf("resumed clear %s, live clear %s", m.id, cleared.id)
	}
	// The alarm opened a case for the cover's owner: public data only.
	for _, e := range before {
		if e.event == evIncidentCreated {
			cp := props(t, e.json(t))
			if cp["dept"] != "water" || cp["code"] != codeCover || cp["description"] != nil || cp["media"] != nil {
				t.Errorf("incident.created data %v", cp)
			}
		}
	}
	// The same with lastEventId and a type filter.
	resumed = openEvents(t, base, "?types=alarm.cleared&lastEventId="+raised.id, nil)
	if m := <-resumed; m.event != evAlarmCleared || m.id != cleared.id {
		t.Errorf("first event resumed with types=alarm.cleared: %s %s", m.event, m.id)
	}
	// An id older than the ring (here: of another run) is a reset first.
	resumed = openEvents(t, base, "", map[string]string{"Last-Event-ID": "1"})
	if m := <-resumed; m.event != evReset || m.id == "" {
		t.Errorf("first event after a lost id: %s %s", m.event, m.id)
	}
}

// TestReadingsRejected: bad readings are counted by reason, in the answer
// and in /metrics, and never fail the others.
func TestReadingsRejected(t *testing.T) {
	c := newCity(t)
	needRecords(t, c)
	putSensor(t, c, "tilt-1", "water", sensorBody(codeCover), http.StatusCreated)
	t0 := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	at := func(i int) string { return t0.Add(time.Duration(i) * time.Second).Format(time.RFC3339) }
	body := `[{"sensor":"tilt-1","value":"NaN"},` +
		`{"sensor":"nobody","value":1},` +
		`{"sensor":"tilt-1","value":3,"time":"` + at(1) + `"},` +
		`{"sensor":"tilt-1","value":4,"time":"` + at(1) + `"},` +
		`{"sensor":"tilt-1","value":null},` +
		`{"sensor":"tilt-1","value":5,"time":"2999-01-01T00:00:00Z"}]`
	ans := postReadings(t, c, "admin", body)
	rej := ans["rejected"].(map[string]any)
	if ans["accepted"] != 1.0 || rej["bad_value"] != 2.0 || rej["unknown_sensor"] != 1.0 || rej["duplicate"] != 1.0 || rej["future"] != 1.0 {
		t.Errorf("answer %v", ans)
	}
	ans = postReadings(t, c, "water", `{"sensor":"tilt-1","value":"NaN"}`)
	if ans["accepted"] != 0.0 || ans["rejected"].(map[string]any)["bad_value"] != 1.0 {
		t.Errorf("one NaN reading: %v", ans)
	}
	// The lighting department does not own the cover.
	ans = postReadings(t, c, "lighting", readingsAt("tilt-1", t0, 2, 50))
	if ans["accepted"] != 0.0 || ans["rejected"].(map[string]any)[reasonForbidden] != 1.0 {
		t.Errorf("another department's reading: %v", ans)
	}
	if as := alarmsOf(t, c, ""); len(as) != 0 {
		t.Errorf("refused readings raised %d alarms", len(as))
	}

	problem(t, c.do(t, req{method: http.MethodPost, path: "/readings", token: "admin", body: `{"sensor":`}), http.StatusBadRequest)
	problem(t, c.do(t, req{method: http.MethodPost, path: "/readings", token: "admin", body: `"hello"`}), http.StatusBadRequest)
	big := "[" + strings.Repeat(`{"sensor":"tilt-1","value":1},`, 40000) + `{"sensor":"tilt-1","value":1}]`
	problem(t, c.do(t, req{method: http.MethodPost, path: "/readings", token: "admin", body: big}), http.StatusRequestEntityTooLarge)

	metrics := c.do(t, req{path: "/metrics"}).Body.String()
	for _, want := range []string{
		`citytwin_readings_accepted_total{source="http"} 1`,
		`citytwin_readings_rejected_total{reason="bad_value",source="http"} 3`,
		`citytwin_readings_rejected_total{reason="unknown_sensor",source="http"} 1`,
		`citytwin_readings_rejected_total{reason="forbidden",source="http"} 1`,
		`citytwin_events_clients 0`,
		`citytwin_sensors_bound 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestAlarmOnRetiredComponent: retiring a component with an open alarm is
// an alarm.updated event, and the alarm says so.
func TestAlarmOnRetiredComponent(t *testing.T) {
	c := newCity(t)
	needRecords(t, c)
	ch := openEvents(t, serveCity(t, c), "?types=alarm.raised,alarm.updated", nil)
	putSensor(t, c, "tilt-1", "water", sensorBody(codeCover), http.StatusCreated)
	postReadings(t, c, "water", readingsAt("tilt-1", time.Now().UTC().Add(-time.Minute), 0, 30))
	waitEvent(t, ch, evAlarmRaised, 5*time.Second)
	expect(t, c.do(t, req{method: http.MethodDelete, path: "/parts/" + codeCover, token: "water"}), http.StatusOK, mediaGeoJSON)
	m, _ := waitEvent(t, ch, evAlarmUpdated, 5*time.Second)
	f := m.json(t)
	if p := props(t, f); p["retired"] != true || p["state"] != "open" || f["geometry"] == nil {
		t.Errorf("alarm.updated %v", f)
	}
	as := alarmsOf(t, c, "?state=open")
	if len(as) != 1 || props(t, as[0])["retired"] != true || as[0]["geometry"] == nil {
		t.Errorf("open alarms after the retirement %v", as)
	}
}

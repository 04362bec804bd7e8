package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// waitStatus polls GET path on s (as tok) until it answers want, for at
// most within; it returns the last answer.
func waitStatus(t *testing.T, s *replicaServer, path, tok string, want int, within time.Duration, ok func(answer) bool) answer {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		a, err := do("GET", s.base+path, tok, "", nil)
		if err == nil && a.status == want && (ok == nil || ok(a)) {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s GET %s: not %d within %v: %v %d %s", s.base, path, want, within, err, a.status, a.body)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// caseVersion is the version in a case's answer.
func caseVersion(t *testing.T, a answer) (string, uint64, string) {
	t.Helper()
	var f struct {
		Properties struct {
			ID      string `json:"id"`
			Version uint64 `json:"version"`
			State   string `json:"state"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(a.body, &f); err != nil {
		t.Fatalf("case: %v: %s", err, a.body)
	}
	return f.Properties.ID, f.Properties.Version, f.Properties.State
}

// TestReplicaRecordsCase: a case opened through replica A is visible on
// replica B within a second and B can act on it; A hears of the action.
func TestReplicaRecordsCase(t *testing.T) {
	u, conn, tok := pgCity(t)
	a, b := servePG(t, u, tok), servePG(t, u, tok)
	codes := someCodes(t, conn, 1)

	r, err := do("POST", a.base+"/incidents", tok, "", map[string]any{
		"code": codes[0], "description": "lid missing, reported on A", "source": "hotline",
	})
	if err != nil || r.status != 201 {
		t.Fatalf("POST /incidents on A: %v %d %s", err, r.status, r.body)
	}
	id, v, state := caseVersion(t, r)
	start := time.Now()
	seen := waitStatus(t, b, "/incidents/"+id, tok, 200, time.Second, nil)
	t.Logf("case opened on A visible on B after %v", time.Since(start))
	if _, bv, bs := caseVersion(t, seen); bv != v || bs != state {
		t.Fatalf("case on B at version %d in %s, want %d in %s", bv, bs, v, state)
	}
	act, err := do("POST", b.base+"/incidents/"+id+"/actions", tok, fmt.Sprintf(`"%d"`, v), map[string]any{"action": "register", "note": "registered on B"})
	if err != nil || act.status != 200 {
		t.Fatalf("POST /incidents/%s/actions on B: %v %d %s", id, err, act.status, act.body)
	}
	_, av, as := caseVersion(t, act)
	waitStatus(t, a, "/incidents/"+id, tok, 200, time.Second, func(x answer) bool {
		_, xv, xs := caseVersion(t, x)
		return xv == av && xs == as
	})
	// Stale on A no more: acting there from B's version works.
	next, err := do("POST", a.base+"/incidents/"+id+"/actions", tok, fmt.Sprintf(`"%d"`, av), map[string]any{"action": "dispatch"})
	if err != nil || next.status != 200 {
		t.Fatalf("dispatch on A after B's register: %v %d %s", err, next.status, next.body)
	}
}

// TestReplicaRecordsSensor: a sensor bound through replica A raises
// alarms from readings POSTed to replica B; the alarm and the case it
// opens on B reach A.
func TestReplicaRecordsSensor(t *testing.T) {
	u, conn, tok := pgCity(t)
	a, b := servePG(t, u, tok), servePG(t, u, tok)
	var code string
	if err := conn.QueryRow(context.Background(), `SELECT code FROM parts WHERE class = '0111' AND NOT retired ORDER BY code LIMIT 1`).Scan(&code); err != nil {
		t.Fatalf("no gas cover: %v", err)
	}
	sensor := map[string]any{"kind": "cover_gas", "unit": "%LEL", "code": code,
		"rules": []map[string]any{{"kind": "threshold", "above": 25, "clearBelow": 20}}}
	if st := a.call(t, "PUT", "/sensors/rep-gas-1", tok, sensor, nil); st != 201 {
		t.Fatalf("PUT /sensors/rep-gas-1 on A: %d", st)
	}
	start := time.Now()
	waitStatus(t, b, "/sensors/rep-gas-1", tok, 200, time.Second, nil)
	t.Logf("sensor bound on A known on B after %v", time.Since(start))

	now := time.Now().UTC()
	readings := []map[string]any{
		{"sensor": "rep-gas-1", "value": 3, "time": now.Add(-2 * time.Second).Format(time.RFC3339Nano)},
		{"sensor": "rep-gas-1", "value": 40, "time": now.Add(-time.Second).Format(time.RFC3339Nano)},
	}
	var ans struct {
		Accepted, Raised int
		Rejected         map[string]int
	}
	if st := b.call(t, "POST", "/readings", tok, readings, &ans); st != 202 || ans.Accepted != 2 || ans.Raised != 1 {
		t.Fatalf("POST /readings on B: %d %+v, want 2 accepted, 1 raised", st, ans)
	}
	openAlarm := func(x answer) bool {
		var page struct {
			NumberMatched int `json:"numberMatched"`
		}
		return json.Unmarshal(x.body, &page) == nil && page.NumberMatched == 1
	}
	waitStatus(t, b, "/alarms?state=open", "", 200, time.Second, openAlarm)
	start = time.Now()
	waitStatus(t, a, "/alarms?state=open", "", 200, time.Second, openAlarm)
	t.Logf("alarm raised on B open on A after %v", time.Since(start))
	waitStatus(t, a, "/incidents?class=0111", tok, 200, time.Second, openAlarm)

	// The clear through A closes it on B.
	clear := []map[string]any{{"sensor": "rep-gas-1", "value": 5, "time": now.Format(time.RFC3339Nano)}}
	if st := a.call(t, "POST", "/readings", tok, clear, &ans); st != 202 || ans.Accepted != 1 {
		t.Fatalf("POST /readings on A: %d %+v", st, ans)
	}
	// A has no open alarm of its own to clear from this reading unless it
	// learnt B's: it did, so the reading clears it.
	waitStatus(t, b, "/alarms?state=open", "", 200, time.Second, func(x answer) bool {
		var page struct {
			NumberMatched int `json:"numberMatched"`
		}
		return json.Unmarshal(x.body, &page) == nil && page.NumberMatched == 0
	})
}

package api

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"citytwin/parts"
	"citytwin/tiles"
	"citytwin/twin"
)

// testClock is a settable clock for twin.Options.Now.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// caseTokens are the test tokens plus the roles of the case workflow.
func caseTokens() testAuth {
	a := maps.Clone(tokensForTest)
	a["oper"] = Principal{Role: RoleOperator, TokenID: "t-oper"}
	a["chengguan"] = Principal{Role: RoleDepartment, Dept: "chengguan", TokenID: "t-chengguan"}
	a["street"] = Principal{Role: RoleDepartment, Dept: "street-pj", TokenID: "t-street"}
	return a
}

// newCaseCity serves the test city (server_test.go) from its own
// GeoPackage, with the twin's clock and case options set by tweak.
func newCaseCity(t testing.TB, tweak func(*twin.Options)) *city {
	t.Helper()
	return newCaseCityConfig(t, tweak, nil)
}

// newCaseCityConfig is newCaseCity with the server's Config changed by
// cfgTweak.
func newCaseCityConfig(t testing.TB, tweak func(*twin.Options), cfgTweak func(*Config)) *city {
	t.Helper()
	st := testStore(t)
	if _, ok := any(st).(twin.Records); !ok {
		t.Fatal("store/gpkg.Store does not implement twin.Records: cases cannot be stored")
	}
	var o twin.Options
	if tweak != nil {
		tweak(&o)
	}
	tw, err := twin.Open(context.Background(), st, o)
	if err != nil {
		t.Fatal(err)
	}
	tm := tiles.New(tw.Parts(), tw.Grids(), tiles.Options{})
	tw.Follow(tm)
	cfg := DefaultConfig()
	cfg.Logger = nil
	cfg.RateLimit = RateLimit{}
	if cfgTweak != nil {
		cfgTweak(&cfg)
	}
	srv, err := New(cfg, tw, tm, caseTokens())
	if err != nil {
		t.Fatal(err)
	}
	srv.SetReady(true)
	return &city{srv: srv, twin: tw, tiles: tm, store: st}
}

// postJSON sends a JSON body.
func (c *city) postJSON(t testing.TB, method, path, token string, body any, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	maps.Copy(h, header)
	return c.do(t, req{method: method, path: path, token: token, body: mustJSON(body), header: h})
}

// report posts a report and returns the case's properties.
func (c *city) report(t testing.TB, token string, body map[string]any, status int) map[string]any {
	t.Helper()
	m := expect(t, c.postJSON(t, http.MethodPost, "/incidents", token, body, nil), status, mediaGeoJSON)
	return props(t, m)
}

// act posts an action with If-Match version (0: none).
func (c *city) act(t testing.TB, id, token string, version float64, body map[string]any) *httptest.ResponseRecorder {
	t.Helper()
	var h map[string]string
	if version > 0 {
		h = map[string]string{"If-Match": fmt.Sprintf(`"%d"`, int(version))}
	}
	return c.postJSON(t, http.MethodPost, "/incidents/"+id+"/actions", token, body, h)
}

// lonLatNear is a point dx, dy metres from the i-th lattice point.
func lonLatNear(i int, dx, dy float64) (float64, float64) {
	p := pointAt(i)
	return p[0] + dx/95000, p[1] + dy/111000
}

func TestIncidentIntakeRouting(t *testing.T) {
	// No merging: every report here is a case of its own.
	c := newCaseCity(t, func(o *twin.Options) { o.Cases.MergeDistance = 1e-6 })
	// Lattice point 0 is a 0101 cover (owner water), 1 a 0118 lamp, 2 a 0305 bin.
	lon, lat := lonLatNear(0, 4, 3) // 5 m from the cover
	farLon, farLat := lonLatNear(0, 0, 16)
	tests := map[string]struct {
		body       map[string]any
		rule       string
		dept       string
		code       string
		distance   bool
		tableFirst bool
	}{
		"by code: the component's owner": {
			body: map[string]any{"code": codeCover, "description": "cover broken"},
			rule: "component-owner", dept: parts.DeptWater, code: codeCover,
		},
		"by point near a component of the class": {
			body: map[string]any{"lon": lon, "lat": lat, "class": "0101", "description": "cover missing"},
			rule: "nearest-component", dept: parts.DeptWater, code: codeCover, distance: true,
		},
		"by point far from any component of the class: street office": {
			body: map[string]any{"lon": farLon + 0.0002, "lat": farLat, "class": "0111", "description": "gas cover"},
			rule: "street-office", dept: "street-pj",
		},
		"event class without a table row: street office": {
			// 0502 vagrancy: the catalogue names no usual department.
			body: map[string]any{"lon": lon0 + 0.0025, "lat": lat0 + 0.0005, "class": "0502", "type": "event"},
			rule: "street-office", dept: "street-pj",
		},
		"event class with a district table row": {
			body: map[string]any{"lon": lon0 + 0.0035, "lat": lat0 + 0.0015, "class": "0501", "type": "event"},
			rule: "class-table", dept: "gusu-chengguan", tableFirst: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if tc.tableFirst {
				expect(t, c.postJSON(t, http.MethodPut, "/responsibilities/320508/event:0501", "admin", map[string]any{"dept": "gusu-chengguan"}, nil), http.StatusCreated, mediaJSON)
			}
			p := c.report(t, "pub", tc.body, http.StatusCreated)
			route := p["route"].(map[string]any)
			ev := route["evidence"].(map[string]any)
			if route["rule"] != tc.rule || p["dept"] != tc.dept {
				t.Fatalf("route %v dept %v, want %s %s", route, p["dept"], tc.rule, tc.dept)
			}
			if tc.code != "" && ev["code"] != tc.code {
				t.Errorf("evidence code %v, want %s", ev["code"], tc.code)
			}
			if d, ok := ev["distance"].(float64); tc.distance && (!ok || d < 3 || d > 7) {
				t.Errorf("evidence distance %v, want about 5 m", ev["distance"])
			}
			if tc.rule == "class-table" && ev["table"] != "320508/event:0501" {
				t.Errorf("evidence table %v", ev["table"])
			}
			if p["state"] != "reported" || p["version"].(float64) < 1 || p["source"] != "app" {
				t.Errorf("state %v version %v source %v", p["state"], p["version"], p["source"])
			}
			if h, _ := p["history"].([]any); len(h) == 0 {
				t.Error("no history")
			}
		})
	}
}

func TestIncidentIntakeErrors(t *testing.T) {
	c := newCaseCity(t, nil)
	tests := map[string]struct {
		token  string
		body   map[string]any
		status int
		field  string
	}{
		"unknown class":               {"pub", map[string]any{"lon": lon0 + 0.001, "lat": lat0 + 0.001, "class": "0999", "type": "event"}, 400, "class"},
		"unknown component class":     {"pub", map[string]any{"lon": lon0 + 0.001, "lat": lat0 + 0.001, "class": "0199", "type": "component"}, 400, "class"},
		"point outside the city":      {"pub", map[string]any{"lon": 100.0, "lat": 20.0, "class": "0505", "type": "event"}, 422, "location"},
		"unknown component":           {"pub", map[string]any{"code": codeUnknown}, 400, "code"},
		"no place":                    {"pub", map[string]any{"class": "0505"}, 400, "location"},
		"lon without lat":             {"pub", map[string]any{"lon": 120.6, "class": "0505"}, 400, "lat"},
		"unknown member":              {"pub", map[string]any{"code": codeCover, "colour": "red"}, 400, "colour"},
		"bad source":                  {"pub", map[string]any{"code": codeCover, "source": "pigeon"}, 400, "source"},
		"public claims inspector":     {"pub", map[string]any{"code": codeCover, "source": "inspector"}, 403, ""},
		"anonymous claims sensor":     {"", map[string]any{"code": codeCover, "source": "sensor"}, 401, ""},
		"department claims inspector": {"water", map[string]any{"code": codeCover, "source": "inspector"}, 403, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m := problem(t, c.postJSON(t, http.MethodPost, "/incidents", tc.token, tc.body, nil), tc.status)
			if tc.field != "" && m["field"] != tc.field && !containsField(problemFields(m), tc.field) {
				t.Errorf("problem blames %v %v, want %s: %v", m["field"], problemFields(m), tc.field, m)
			}
		})
	}
	// An inspector may claim the inspector source: trusted, so registered
	// and dispatched at once, with a deadline.
	p := c.report(t, "insp", map[string]any{"code": codeLamp, "source": "inspector"}, http.StatusCreated)
	if p["state"] != "dispatched" || p["due"] == nil || p["dept"] != parts.DeptLighting {
		t.Errorf("trusted report: state %v due %v dept %v", p["state"], p["due"], p["dept"])
	}
}

func TestIncidentMerge(t *testing.T) {
	c := newCaseCity(t, nil)
	lon, lat := lon0+0.0015, lat0+0.0005
	first := c.report(t, "pub", map[string]any{"lon": lon, "lat": lat, "class": "0102", "type": "event", "description": "rubbish",
		"reporter": map[string]any{"name": "张三", "contact": "138"}}, http.StatusCreated)
	rec := c.postJSON(t, http.MethodPost, "/incidents", "pub", map[string]any{"lon": lon + 0.0001, "lat": lat, "class": "0102", "type": "event",
		"description": "rubbish again", "media": []string{"https://img.example/1.jpg"}, "reporter": map[string]any{"name": "李四"}}, nil)
	second := props(t, expect(t, rec, http.StatusOK, mediaGeoJSON))
	if second["id"] != first["id"] || second["merged"] != true {
		t.Fatalf("second report %v merged=%v, want merged into %v", second["id"], second["merged"], first["id"])
	}
	if second["version"].(float64) <= first["version"].(float64) {
		t.Errorf("version %v after the merge, was %v", second["version"], first["version"])
	}
	// The public does not see reporters; an operator sees both.
	got := props(t, expect(t, c.do(t, req{path: "/incidents/" + first["id"].(string), token: "oper"}), 200, mediaGeoJSON))
	if rs, _ := got["reporters"].([]any); len(rs) != 2 {
		t.Errorf("reporters %v, want 2", got["reporters"])
	}
	pub := props(t, expect(t, c.do(t, req{path: "/incidents/" + first["id"].(string)}), 200, mediaGeoJSON))
	if _, ok := pub["reporters"]; ok {
		t.Error("the public sees the reporters")
	}
	// Another class at the same place is a new case.
	other := c.report(t, "pub", map[string]any{"lon": lon, "lat": lat, "class": "0104", "type": "event"}, http.StatusCreated)
	if other["id"] == first["id"] {
		t.Error("a report of another class was merged")
	}
	list := expect(t, c.do(t, req{path: "/incidents?class=0102"}), 200, mediaGeoJSON)
	if n := list["numberMatched"].(float64); n != 1 {
		t.Errorf("numberMatched %v for class 0102, want 1", n)
	}
}

// TestIncidentLoop runs the seven steps through the API with the roles of
// each, and the refusals on the way.
func TestIncidentLoop(t *testing.T) {
	c := newCaseCity(t, nil)
	p := c.report(t, "pub", map[string]any{"code": codeCover, "description": "井盖破损"}, http.StatusCreated)
	id := p["id"].(string)
	v := p["version"].(float64)
	step := func(token, action string, extra map[string]any, wantState string) {
		t.Helper()
		body := map[string]any{"action": action}
		maps.Copy(body, extra)
		rec := c.act(t, id, token, v, body)
		m := expect(t, rec, http.StatusOK, mediaGeoJSON)
		q := props(t, m)
		if q["state"] != wantState {
			t.Fatalf("%s by %s: state %v, want %s", action, token, q["state"], wantState)
		}
		if q["version"].(float64) != v+1 || rec.Header().Get("ETag") != fmt.Sprintf(`"%d"`, int(v+1)) {
			t.Fatalf("%s: version %v ETag %s after version %v", action, q["version"], rec.Header().Get("ETag"), v)
		}
		v = q["version"].(float64)
	}
	refuse := func(token, action string, status int) map[string]any {
		t.Helper()
		return problem(t, c.act(t, id, token, 0, map[string]any{"action": action, "note": "n"}), status)
	}
	refuse("water", "register", http.StatusForbidden) // a department does not register
	refuse("", "register", http.StatusUnauthorized)   // nor does the anonymous public
	refuse("pub", "register", http.StatusForbidden)   // nor a public token
	m := refuse("oper", "close", http.StatusConflict) // not from reported
	if m["state"] != "reported" || !slices.Contains(anyStrings(m["allowed"]), "register") {
		t.Errorf("409 problem: state %v allowed %v", m["state"], m["allowed"])
	}
	step("oper", "register", nil, "registered")
	if got := props(t, doc(t, c.do(t, req{path: "/incidents/" + id}))); got["due"] == nil {
		t.Error("a registered case has no deadline")
	}
	step("oper", "dispatch", nil, "dispatched")
	refuse("lighting", "accept", http.StatusForbidden) // not its case
	step("water", "accept", nil, "in_progress")
	problem(t, c.act(t, id, "water", v-1, map[string]any{"action": "report", "note": "stale"}), http.StatusPreconditionFailed)
	step("water", "report", map[string]any{"note": "replaced the cover", "media": []string{"https://img.example/after.jpg"}}, "handled")
	step("insp", "verify", nil, "verified")
	refuse("insp", "close", http.StatusForbidden)
	step("oper", "close", nil, "closed")
	got := props(t, doc(t, c.do(t, req{path: "/incidents/" + id, token: "oper"})))
	var actions []string
	for _, e := range got["history"].([]any) {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	want := []string{"register", "dispatch", "accept", "report", "verify", "close"}
	if len(actions) < len(want) || !slices.Equal(actions[len(actions)-len(want):], want) {
		t.Errorf("history %v, want it to end with %v", actions, want)
	}
	if got["closed"] == nil || got["overdue"] != false {
		t.Errorf("closed %v overdue %v", got["closed"], got["overdue"])
	}
	// The metrics count the intake and the actions.
	metrics := c.do(t, req{path: "/metrics"}).Body.String()
	for _, want := range []string{
		`citytwin_cases_opened_total{rule="component-owner",source="app"} 1`,
		`citytwin_cases_actions_total{action="register",result="forbidden"} 2`,
		`citytwin_cases_actions_total{action="close",result="state"} 1`,
		`citytwin_cases_actions_total{action="close",result="ok"} 1`,
		`citytwin_cases_actions_total{action="report",result="stale"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// Bad action bodies.
	problem(t, c.act(t, id, "oper", 0, map[string]any{"action": "teleport"}), http.StatusBadRequest)
	problem(t, c.act(t, id, "oper", 0, map[string]any{"action": "close", "colour": "red"}), http.StatusBadRequest)
	problem(t, c.act(t, "C20260101-0000000000", "oper", 0, map[string]any{"action": "close"}), http.StatusNotFound)
	problem(t, c.do(t, req{path: "/incidents/nope"}), http.StatusBadRequest)
	// The ETag of the case answers 304.
	rec := c.do(t, req{path: "/incidents/" + id, header: map[string]string{"If-None-Match": fmt.Sprintf(`"%d"`, int(v))}})
	if rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", rec.Code)
	}
}

func anyStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// TestIncidentConcurrentActions: two actions on one version, exactly one wins.
func TestIncidentConcurrentActions(t *testing.T) {
	c := newCaseCity(t, nil)
	for round := range 5 {
		p := c.report(t, "insp", map[string]any{"code": codeCover, "source": "inspector", "description": fmt.Sprint("round ", round)}, http.StatusCreated)
		id, v := p["id"].(string), p["version"].(float64)
		codes := make([]int, 2)
		var wg sync.WaitGroup
		for i := range codes {
			wg.Go(func() {
				codes[i] = c.act(t, id, "water", v, map[string]any{"action": "accept"}).Code
			})
		}
		wg.Wait()
		slices.Sort(codes)
		if codes[0] != http.StatusOK || (codes[1] != http.StatusPreconditionFailed && codes[1] != http.StatusConflict) {
			t.Fatalf("round %d: answers %v, want one 200 and one 412 or 409", round, codes)
		}
		// Close it so that the next round's report is not merged into it.
		c.act(t, id, "admin", 0, map[string]any{"action": "report", "note": "done"})
		c.act(t, id, "admin", 0, map[string]any{"action": "verify"})
		expect(t, c.act(t, id, "admin", 0, map[string]any{"action": "close"}), http.StatusOK, mediaGeoJSON)
	}
}

func TestIncidentQuery(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	c := newCaseCity(t, func(o *twin.Options) { o.Now = clock.Now })
	var ids []string
	for i := range 5 {
		lon, lat := lonLatNear(i*40, 0, 0) // far apart: no merging
		p := c.report(t, "insp", map[string]any{"lon": lon, "lat": lat, "class": "0505", "type": "event", "source": "inspector"}, http.StatusCreated)
		ids = append(ids, p["id"].(string))
	}
	p := c.report(t, "pub", map[string]any{"code": codeCover}, http.StatusCreated)
	slices.Sort(ids)
	// Page by two.
	var got []string
	path := "/incidents?state=dispatched&limit=2"
	for path != "" {
		m := expect(t, c.do(t, req{path: path}), 200, mediaGeoJSON)
		if m["numberMatched"].(float64) != 5 {
			t.Fatalf("numberMatched %v, want 5", m["numberMatched"])
		}
		for _, f := range features(t, m) {
			got = append(got, f["id"].(string))
		}
		path = ""
		for _, l := range m["links"].([]any) {
			if lm := l.(map[string]any); lm["rel"] == "next" {
				path = strings.TrimPrefix(lm["href"].(string), "http://example.com")
			}
		}
	}
	if !slices.Equal(got, ids) {
		t.Errorf("pages gave %v, want %v", got, ids)
	}
	clock.Set(clock.Now().Add(30 * 24 * time.Hour))
	for q, want := range map[string]int{
		"/incidents?overdue=true":              5,
		"/incidents?overdue=false":             1,
		"/incidents?dept=water":                1,
		"/incidents?class=0505&grid=320508":    5,
		"/incidents?state=reported,dispatched": 6,
		fmt.Sprintf("/incidents?bbox=%v,%v,%v,%v", lon0, lat0, lon0+0.0002, lat0+0.0002): 2,
	} {
		m := expect(t, c.do(t, req{path: q}), 200, mediaGeoJSON)
		if n := int(m["numberMatched"].(float64)); n != want {
			t.Errorf("%s: %d cases, want %d", q, n, want)
		}
	}
	_ = p
	for _, q := range []string{"/incidents?state=lost", "/incidents?overdue=maybe", "/incidents?bbox=1,2", "/incidents?colour=red", "/incidents?limit=0"} {
		problem(t, c.do(t, req{path: q}), http.StatusBadRequest)
	}
}

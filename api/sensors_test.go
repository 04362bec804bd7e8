package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"citytwin/twin"
)

// needRecords skips a test whose writes need the store to keep sensors
// (twin.Records); without it every sensor write is 503 read-only.
func needRecords(t *testing.T, c *city) {
	t.Helper()
	if _, ok := any(c.store).(twin.Records); !ok {
		t.Skip("store/gpkg does not implement twin.Records yet: sensor writes are read-only")
	}
}

// sensorBody is a PUT body binding a cover_tilt sensor to code that raises
// above 25 and clears below 20.
func sensorBody(code string) string {
	return fmt.Sprintf(`{"kind":"cover_tilt","code":%q,"rules":[{"kind":"threshold","above":25,"clearBelow":20}]}`, code)
}

func putSensor(t *testing.T, c *city, id, token, body string, status int) map[string]any {
	t.Helper()
	rec := c.do(t, req{method: http.MethodPut, path: "/sensors/" + id, token: token, body: body})
	if status >= 400 {
		return problem(t, rec, status)
	}
	return expect(t, rec, status, mediaGeoJSON)
}

func TestSensorRights(t *testing.T) {
	c := newCity(t)
	put := req{method: http.MethodPut, path: "/sensors/s1", body: sensorBody(codeCover)}
	bulk := req{method: http.MethodPost, path: "/sensors", body: `[{"id":"s1","kind":"cover_tilt","code":"` + codeCover + `"}]`}
	readings := req{method: http.MethodPost, path: "/readings", body: `{"sensor":"s1","value":1}`}
	del := req{method: http.MethodDelete, path: "/sensors/s1"}
	for name, tc := range map[string]struct {
		r      req
		token  string
		status int
		twin   bool // the twin decides (after the role check)
	}{
		"the public may not bind":              {put, "", http.StatusUnauthorized, false},
		"a public token may not bind":          {put, "pub", http.StatusForbidden, false},
		"an inspector may not bind":            {put, "insp", http.StatusForbidden, false},
		"an inspector may not bulk bind":       {bulk, "insp", http.StatusForbidden, false},
		"an inspector may not remove":          {del, "insp", http.StatusForbidden, false},
		"the public may not send readings":     {readings, "", http.StatusUnauthorized, false},
		"an inspector may not send readings":   {readings, "insp", http.StatusForbidden, false},
		"another department may not bind":      {put, "lighting", http.StatusForbidden, true},
		"another department may not bulk bind": {bulk, "lighting", http.StatusForbidden, true},
	} {
		t.Run(name, func(t *testing.T) {
			if tc.twin {
				needRecords(t, c)
			}
			r := tc.r
			r.token = tc.token
			problem(t, c.do(t, r), tc.status)
		})
	}
	problem(t, c.do(t, req{path: "/sensors/s1"}), http.StatusNotFound)
}

func TestSensorBadInput(t *testing.T) {
	c := newCity(t)
	for name, tc := range map[string]struct {
		path, body, field string
	}{
		"hysteresis the wrong way": {"/sensors/s1", `{"kind":"cover_tilt","code":"` + codeCover + `","rules":[{"kind":"threshold","above":25,"clearBelow":30}]}`, "rules[0].clearBelow"},
		"unknown rule kind":        {"/sensors/s1", `{"kind":"cover_tilt","code":"` + codeCover + `","rules":[{"kind":"magic"}]}`, "rules[0].kind"},
		"unknown rule member":      {"/sensors/s1", `{"kind":"cover_tilt","code":"` + codeCover + `","rules":[{"kind":"threshold","abov":3}]}`, "rules[0]"},
		"unknown kind":             {"/sensors/s1", `{"kind":"smell","code":"` + codeCover + `"}`, "kind"},
		"missing code":             {"/sensors/s1", `{"kind":"cover_tilt"}`, "code"},
		"bad code":                 {"/sensors/s1", `{"kind":"cover_tilt","code":"12"}`, "code"},
		"unknown component":        {"/sensors/s1", sensorBody(codeUnknown), "code"},
		"retired component":        {"/sensors/s1", sensorBody(codeRetired), "code"},
		"unknown member":           {"/sensors/s1", `{"kind":"cover_tilt","code":"` + codeCover + `","colour":"red"}`, "colour"},
		"id differs from the path": {"/sensors/s1", `{"id":"s2","kind":"cover_tilt","code":"` + codeCover + `"}`, "id"},
		"bad id":                   {"/sensors/s%2A1", sensorBody(codeCover), "id"},
	} {
		t.Run(name, func(t *testing.T) {
			if name == "unknown component" || name == "retired component" || name == "unknown kind" || name == "hysteresis the wrong way" || name == "unknown rule kind" {
				needRecords(t, c) // validated by the twin
			}
			m := putSensor(t, c, strings.TrimPrefix(tc.path, "/sensors/"), "admin", tc.body, http.StatusBadRequest)
			if f := problemFields(m); !containsField(f, tc.field) && m["field"] != tc.field {
				t.Errorf("fields %v (field %v), want %s: %v", f, m["field"], tc.field, m["detail"])
			}
		})
	}
}

func TestPutGetDeleteSensor(t *testing.T) {
	c := newCity(t)
	needRecords(t, c)
	rec := c.do(t, req{method: http.MethodPut, path: "/sensors/tilt-1", token: "water", body: sensorBody(codeCover)})
	f := expect(t, rec, http.StatusCreated, mediaGeoJSON)
	if rec.Header().Get("ETag") != `"1"` || rec.Header().Get("Location") != "/sensors/tilt-1" {
		t.Errorf("ETag %q Location %q", rec.Header().Get("ETag"), rec.Header().Get("Location"))
	}
	p := props(t, f)
	if p["kind"] != "cover_tilt" || p["unit"] != "deg" || p["code"] != codeCover || p["version"] != 1.0 {
		t.Errorf("properties %v", p)
	}
	want := pointAt(0)
	g := f["geometry"].(map[string]any)["coordinates"].([]any)
	if g[0] != want[0] || g[1] != want[1] {
		t.Errorf("geometry %v, want the component's place %v", g, want)
	}
	if rules := p["rules"].([]any); len(rules) != 1 || rules[0].(map[string]any)["above"] != 25.0 {
		t.Errorf("rules %v", rules)
	}

	// Rebind with the maintainer's token: lamp 2 is maintained by maint-a,
	// but the sensor's current component is not: refused.
	putSensor(t, c, "tilt-1", "maint", sensorBody(codeLamp), http.StatusForbidden)
	// A stale If-Match is 412; the right one, 200 and version 2.
	rec = c.do(t, req{method: http.MethodPut, path: "/sensors/tilt-1", token: "water", body: sensorBody(codeCover), header: map[string]string{"If-Match": `"7"`}})
	problem(t, rec, http.StatusPreconditionFailed)
	rec = c.do(t, req{method: http.MethodPut, path: "/sensors/tilt-1", token: "water",
		body: `{"kind":"cover_tilt","code":"` + codeCover + `"}`, header: map[string]string{"If-Match": `"1"`}})
	f = expect(t, rec, http.StatusOK, mediaGeoJSON)
	if rec.Header().Get("ETag") != `"2"` {
		t.Errorf("ETag after the change %q", rec.Header().Get("ETag"))
	}
	if rules := props(t, f)["rules"].([]any); len(rules) < 1 || rules[0].(map[string]any)["above"] != 15.0 {
		t.Errorf("without rules the kind's defaults, got %v", rules)
	}

	f = expect(t, c.do(t, req{path: "/sensors/tilt-1"}), http.StatusOK, mediaGeoJSON)
	st := props(t, f)["state"].(map[string]any)
	if st["value"] != nil || st["time"] != nil || st["readings"] != 0.0 {
		t.Errorf("state before any reading %v", st)
	}

	problem(t, c.do(t, req{method: http.MethodDelete, path: "/sensors/tilt-1", token: "lighting"}), http.StatusForbidden)
	problem(t, c.do(t, req{method: http.MethodDelete, path: "/sensors/tilt-1", token: "water", header: map[string]string{"If-Match": `"1"`}}), http.StatusPreconditionFailed)
	expect(t, c.do(t, req{method: http.MethodDelete, path: "/sensors/tilt-1", token: "water"}), http.StatusOK, mediaGeoJSON)
	problem(t, c.do(t, req{path: "/sensors/tilt-1"}), http.StatusNotFound)
	problem(t, c.do(t, req{method: http.MethodDelete, path: "/sensors/tilt-1", token: "water"}), http.StatusNotFound)
}

func TestBulkSensorsAllOrNothing(t *testing.T) {
	c := newCity(t)
	needRecords(t, c)
	good := func(id, code string) string {
		return fmt.Sprintf(`{"id":%q,"kind":"cover_tilt","code":%q}`, id, code)
	}
	// Record 1 is on a component the water department does not own.
	m := problem(t, c.do(t, req{method: http.MethodPost, path: "/sensors", token: "water",
		body: "[" + good("b-1", codeCover) + "," + good("b-2", codeLamp) + "]"}), http.StatusForbidden)
	if m["index"] != 1.0 {
		t.Errorf("index %v, want 1: %v", m["index"], m)
	}
	// Record 2 has a bad rule.
	m = problem(t, c.do(t, req{method: http.MethodPost, path: "/sensors", token: "admin",
		body: "[" + good("b-1", codeCover) + "," + good("b-2", codeLamp) + `,{"id":"b-3","kind":"cover_tilt","code":"` + codeCover + `","rules":[{"kind":"rate"}]}]`}), http.StatusBadRequest)
	if m["index"] != 2.0 {
		t.Errorf("index %v, want 2: %v", m["index"], m)
	}
	for _, id := range []string{"b-1", "b-2", "b-3"} {
		if rec := c.do(t, req{path: "/sensors/" + id}); rec.Code != http.StatusNotFound {
			t.Errorf("after a refused batch GET /sensors/%s = %d, want 404", id, rec.Code)
		}
	}
	fc := expect(t, c.do(t, req{method: http.MethodPost, path: "/sensors", token: "admin",
		body: "[" + good("b-1", codeCover) + "," + good("b-2", codeLamp) + "]"}), http.StatusOK, mediaGeoJSON)
	if ids := codesOf(t, fc); strings.Join(ids, ",") != "b-1,b-2" {
		t.Errorf("stored %v", ids)
	}
	problem(t, c.do(t, req{method: http.MethodPost, path: "/sensors", token: "admin", body: `[]`}), http.StatusBadRequest)
	m = problem(t, c.do(t, req{method: http.MethodPost, path: "/sensors", token: "admin", body: `[{"kind":"cover_tilt","code":"` + codeCover + `"}]`}), http.StatusBadRequest)
	if m["index"] != 0.0 || m["field"] != "id" {
		t.Errorf("a record without id: %v", m)
	}
}

func TestListSensors(t *testing.T) {
	c := newCity(t)
	needRecords(t, c)
	var body []string
	for i := 0; i < 12; i++ {
		code := fmt.Sprintf("32050801010%05d", 3*i+1) // covers: every third point
		kind := "cover_tilt"
		if i%2 == 1 {
			kind = "cover_gas"
		}
		body = append(body, fmt.Sprintf(`{"id":"L-%02d","kind":%q,"code":%q}`, i, kind, code))
	}
	expect(t, c.do(t, req{method: http.MethodPost, path: "/sensors", token: "admin", body: "[" + strings.Join(body, ",") + "]"}), http.StatusOK, mediaGeoJSON)

	var all []string
	path := "/sensors?limit=5"
	for pages := 0; path != ""; pages++ {
		fc := expect(t, c.do(t, req{path: path}), http.StatusOK, mediaGeoJSON)
		if fc["numberMatched"] != 12.0 {
			t.Fatalf("numberMatched %v", fc["numberMatched"])
		}
		all = append(all, codesOf(t, fc)...)
		path = ""
		for _, l := range fc["links"].([]any) {
			if l := l.(map[string]any); l["rel"] == "next" {
				path = strings.TrimPrefix(l["href"].(string), "http://example.com")
			}
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(all) != 12 || all[0] != "L-00" || all[11] != "L-11" {
		t.Errorf("paged ids %v", all)
	}
	fc := expect(t, c.do(t, req{path: "/sensors?kind=cover_gas"}), http.StatusOK, mediaGeoJSON)
	if fc["numberMatched"] != 6.0 {
		t.Errorf("kind=cover_gas matched %v", fc["numberMatched"])
	}
	fc = expect(t, c.do(t, req{path: "/sensors?code=" + codeCover}), http.StatusOK, mediaGeoJSON)
	if ids := codesOf(t, fc); len(ids) != 1 || ids[0] != "L-00" {
		t.Errorf("code= %v", ids)
	}
	// The first row of points: lat0 .. lat0+0.0002 holds points 0..39.
	fc = expect(t, c.do(t, req{path: fmt.Sprintf("/sensors?bbox=%v,%v,%v,%v", lon0, lat0, lon0+0.0015, lat0+0.0002)}), http.StatusOK, mediaGeoJSON)
	if ids := codesOf(t, fc); strings.Join(ids, ",") != "L-00,L-01,L-02,L-03,L-04" {
		t.Errorf("bbox %v", ids)
	}
	fc = expect(t, c.do(t, req{path: "/sensors?alarm=open"}), http.StatusOK, mediaGeoJSON)
	if fc["numberMatched"] != 0.0 {
		t.Errorf("alarm=open before any reading: %v", fc["numberMatched"])
	}
	for name, path := range map[string]string{
		"kind":   "/sensors?kind=smell",
		"alarm":  "/sensors?alarm=maybe",
		"cursor": "/sensors?cursor=zzz",
		"code":   "/sensors?code=1",
		"what":   "/sensors?what=1",
	} {
		if f := problemFields(problem(t, c.do(t, req{path: path}), http.StatusBadRequest)); !containsField(f, name) {
			t.Errorf("%s: fields %v", path, f)
		}
	}
}

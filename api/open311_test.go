package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// open311 decodes a GeoReport answer (a JSON array).
func open311(t *testing.T, rec *httptest.ResponseRecorder, status int) []map[string]any {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %s", rec.Code, status, clipForLog(rec.Body.Bytes()))
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, mediaJSON) {
		t.Fatalf("Content-Type %q", ct)
	}
	var out []map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("not a JSON array: %v: %s", err, clipForLog(rec.Body.Bytes()))
	}
	return out
}

// open311Error checks a GeoReport error answer.
func open311Err(t *testing.T, rec *httptest.ResponseRecorder, status int) string {
	t.Helper()
	es := open311(t, rec, status)
	if len(es) == 0 || es[0]["code"] != float64(status) || es[0]["description"] == "" {
		t.Fatalf("GeoReport error %v, want code %d and a description", es, status)
	}
	return es[0]["description"].(string)
}

func postForm(c *city, t *testing.T, path, token string, v url.Values) *httptest.ResponseRecorder {
	t.Helper()
	return c.do(t, req{method: http.MethodPost, path: path, token: token, body: v.Encode(),
		header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
}

func TestOpen311Services(t *testing.T) {
	c := newCaseCity(t, nil)
	ss := open311(t, c.do(t, req{path: "/open311/v2/services.json"}), http.StatusOK)
	byCode := map[string]map[string]any{}
	for _, s := range ss {
		byCode[s["service_code"].(string)] = s
	}
	gas, park := byCode["component-0111"], byCode["event-0505"]
	if gas == nil || park == nil {
		t.Fatalf("services lack component-0111 or event-0505: %d services", len(ss))
	}
	if gas["service_name"] != "燃气井盖" || gas["group"] != "公用设施" || gas["type"] != "realtime" {
		t.Errorf("component-0111: %v", gas)
	}
	if park["service_name"] != "机动车乱停放" || park["group"] != "街面秩序" || park["metadata"] != false {
		t.Errorf("event-0505: %v", park)
	}
}

func TestOpen311RoundTrip(t *testing.T) {
	c := newCaseCity(t, nil)
	lon, lat := lonLatNear(0, 3, 4)
	// A form POST authorised by api_key.
	v := url.Values{"api_key": {"insp"}, "service_code": {"component-0101"}, "lat": {fmt.Sprint(lat)}, "long": {fmt.Sprint(lon)},
		"description": {"井盖缺失"}, "email": {"a@example.com"}, "first_name": {"王"}, "last_name": {"五"},
		"media_url": {"https://img.example/cover.jpg"}}
	created := open311(t, postForm(c, t, "/open311/v2/requests.json", "", v), http.StatusCreated)
	if len(created) != 1 || created[0]["service_request_id"] == "" || !strings.Contains(created[0]["service_notice"].(string), "nearest-component") {
		t.Fatalf("created %v", created)
	}
	id := created[0]["service_request_id"].(string)
	got := open311(t, c.do(t, req{path: "/open311/v2/requests/" + id + ".json"}), http.StatusOK)
	if len(got) != 1 {
		t.Fatalf("requests/%s.json: %v", id, got)
	}
	r := got[0]
	if r["service_code"] != "component-0101" || r["status"] != "open" || r["agency_responsible"] != "water" ||
		r["address_id"] != codeCover || r["media_url"] != "https://img.example/cover.jpg" || r["requested_datetime"] == "" {
		t.Errorf("request %v", r)
	}
	// The same case through the REST API: source open311, reporter kept.
	p := props(t, doc(t, c.do(t, req{path: "/incidents/" + id, token: "oper"})))
	rep := p["reporters"].([]any)[0].(map[string]any)
	if p["source"] != "open311" || rep["name"] != "王 五" || rep["contact"] != "a@example.com" {
		t.Errorf("case source %v reporter %v", p["source"], rep)
	}
	// A JSON POST with a bearer token, anonymous form POST: both work.
	ev := map[string]any{"service_code": "event-0505", "lat": lat0 + 0.0015, "long": lon0 + 0.0025, "description": "乱停车"}
	open311(t, c.postJSON(t, http.MethodPost, "/open311/v2/requests.json", "pub", ev, nil), http.StatusCreated)
	anon := url.Values{"service_code": {"event-0102"}, "lat": {fmt.Sprint(lat0 + 0.0015)}, "long": {fmt.Sprint(lon0 + 0.0035)}}
	open311(t, postForm(c, t, "/open311/v2/requests.json", "", anon), http.StatusCreated)

	// GET with filters.
	for q, want := range map[string]int{
		"":                                      3,
		"?service_code=event-0505,event-0102":   2,
		"?service_request_id=" + id:             1,
		"?status=open":                          3,
		"?status=closed":                        0,
		"?start_date=2099-01-01T00:00:00Z":      0,
		"?end_date=2000-01-01T00:00:00%2B08:00": 0,
	} {
		if rs := open311(t, c.do(t, req{path: "/open311/v2/requests.json" + q}), http.StatusOK); len(rs) != want {
			t.Errorf("requests.json%s: %d requests, want %d", q, len(rs), want)
		}
	}
	// Closing the case closes the request.
	for _, a := range []string{"register", "dispatch", "accept", "report", "verify", "close"} {
		expect(t, c.act(t, id, "admin", 0, map[string]any{"action": a, "note": "done"}), http.StatusOK, mediaGeoJSON)
	}
	if rs := open311(t, c.do(t, req{path: "/open311/v2/requests.json?status=closed"}), http.StatusOK); len(rs) != 1 || rs[0]["service_request_id"] != id {
		t.Errorf("closed requests %v", rs)
	}
}

func TestOpen311Errors(t *testing.T) {
	c := newCaseCityConfig(t, nil, func(cfg *Config) { cfg.AllowAnonymous = false })
	good := url.Values{"service_code": {"event-0505"}, "lat": {fmt.Sprint(lat0 + 0.0015)}, "long": {fmt.Sprint(lon0 + 0.0025)}}
	// with is good with the given key, value pairs set ("" deletes).
	with := func(kv ...string) url.Values {
		u := url.Values{}
		for k, vs := range good {
			u[k] = slices.Clone(vs)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				u.Del(kv[i])
			} else {
				u.Set(kv[i], kv[i+1])
			}
		}
		return u
	}
	tests := map[string]struct {
		rec    func() *httptest.ResponseRecorder
		status int
		want   string
	}{
		"anonymous when the server needs a token": {func() *httptest.ResponseRecorder {
			return postForm(c, t, "/open311/v2/requests.json", "", good)
		}, 401, ""},
		"unknown api_key": {func() *httptest.ResponseRecorder {
			return postForm(c, t, "/open311/v2/requests.json", "", with("api_key", "nope"))
		}, 401, ""},
		"unknown service": {func() *httptest.ResponseRecorder {
			return postForm(c, t, "/open311/v2/requests.json", "", with("service_code", "pothole", "api_key", "insp"))
		}, 400, "service_code"},
		"unknown class": {func() *httptest.ResponseRecorder {
			return postForm(c, t, "/open311/v2/requests.json", "", with("service_code", "event-0999", "api_key", "insp"))
		}, 400, "class"},
		"no place": {func() *httptest.ResponseRecorder {
			return postForm(c, t, "/open311/v2/requests.json", "", with("lat", "", "long", "", "api_key", "insp"))
		}, 400, "lat"},
		"outside the city": {func() *httptest.ResponseRecorder {
			return postForm(c, t, "/open311/v2/requests.json", "", with("lat", "10", "api_key", "insp"))
		}, 422, "location"},
		"unknown request": {func() *httptest.ResponseRecorder {
			return c.do(t, req{path: "/open311/v2/requests/C20260101-0000000000.json", token: "insp"})
		}, 404, "C20260101-0000000000"},
		"xml": {func() *httptest.ResponseRecorder {
			return c.do(t, req{path: "/open311/v2/requests/C20260101-0000000000.xml", token: "insp"})
		}, 400, "json"},
		"bad status filter": {func() *httptest.ResponseRecorder {
			return c.do(t, req{path: "/open311/v2/requests.json?status=pending", token: "insp"})
		}, 400, "status"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d := open311Err(t, tc.rec(), tc.status)
			if !strings.Contains(d, tc.want) {
				t.Errorf("description %q does not mention %q", d, tc.want)
			}
		})
	}
}

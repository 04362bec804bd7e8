package api

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

const newCover = "3205080101000500"

// TestPartAdd checks POST /parts and its rejections.
func TestPartAdd(t *testing.T) {
	t.Run("created", func(t *testing.T) {
		c := newCity(t)
		rec := c.do(t, req{method: "POST", path: "/parts", token: "admin",
			body: pointFeature(newCover, lon0+0.0021, lat0+0.0011, map[string]any{"name": "新井盖", "state": "完好", "note": "n", "surveyed": "2026-01-02"})})
		m := expect(t, rec, http.StatusCreated, mediaGeoJSON)
		p := props(t, m)
		if rec.Header().Get("Location") != "/parts/"+newCover || rec.Header().Get("ETag") != `"1"` {
			t.Fatalf("headers %v", rec.Header())
		}
		if p["version"] != 1.0 || p["class"] != "0101" || p["dept_owner"] != "water" || p["dept_supervisor"] != "citymgmt" ||
			p["grid_code"] != "32050800100203" || p["surveyed"] != "2026-01-02" || p["changed"] == "" {
			t.Fatalf("created properties %v", p)
		}
		got := doc(t, c.do(t, req{path: "/parts/" + newCover}))
		if props(t, got)["name"] != "新井盖" {
			t.Fatalf("GET after POST %v", got)
		}
	})
	t.Run("code in id", func(t *testing.T) {
		c := newCity(t)
		body := `{"type":"Feature","id":"` + newCover + `","geometry":{"type":"Point","coordinates":[120.6021,31.3011]},"properties":{}}`
		expect(t, c.do(t, req{method: "POST", path: "/parts", token: "admin", body: body}), http.StatusCreated, mediaGeoJSON)
	})
	pt := `{"type":"Point","coordinates":[120.6021,31.3011]}`
	feature := func(geom, props string) string {
		return `{"type":"Feature","geometry":` + geom + `,"properties":` + props + `}`
	}
	cases := map[string]struct {
		body, ctype string
		status      int
		field       string
	}{
		"exists":                        {body: pointFeature(codeCover, 120.6, 31.3, nil), status: 409},
		"retired code exists":           {body: pointFeature(codeRetired, 120.6, 31.3, nil), status: 409},
		"malformed JSON":                {body: `{"type":"Feature",`, status: 400, field: "body"},
		"not an object":                 {body: `[1,2]`, status: 400, field: "body"},
		"trailing data":                 {body: feature(pt, `{"code":"`+newCover+`"}`) + `{}`, status: 400, field: "body"},
		"not a feature":                 {body: `{"type":"FeatureCollection","features":[]}`, status: 400, field: "type"},
		"no code":                       {body: feature(pt, `{}`), status: 400, field: "properties.code"},
		"bad code":                      {body: feature(pt, `{"code":"12"}`), status: 400, field: "properties.code"},
		"id and code disagree":          {body: `{"type":"Feature","id":"3205080101000501","geometry":` + pt + `,"properties":{"code":"` + newCover + `"}}`, status: 400, field: "properties.code"},
		"no geometry":                   {body: feature(`null`, `{"code":"`+newCover+`"}`), status: 400, field: "geometry"},
		"wrong geometry type":           {body: feature(`{"type":"LineString","coordinates":[[120.6,31.3],[120.61,31.3]]}`, `{"code":"`+newCover+`"}`), status: 400, field: "geometry"},
		"multipoint":                    {body: feature(`{"type":"MultiPoint","coordinates":[[120.6,31.3]]}`, `{"code":"`+newCover+`"}`), status: 400, field: "geometry"},
		"unknown geometry":              {body: feature(`{"type":"Circle","coordinates":[120.6,31.3]}`, `{"code":"`+newCover+`"}`), status: 400, field: "geometry.type"},
		"coordinates out of range":      {body: feature(`{"type":"Point","coordinates":[190,31.3]}`, `{"code":"`+newCover+`"}`), status: 400, field: "geometry.coordinates"},
		"position too short":            {body: feature(`{"type":"Point","coordinates":[120]}`, `{"code":"`+newCover+`"}`), status: 400, field: "geometry.coordinates"},
		"coordinates not numbers":       {body: feature(`{"type":"Point","coordinates":["a","b"]}`, `{"code":"`+newCover+`"}`), status: 400, field: "geometry.coordinates"},
		"class of the code disagrees":   {body: feature(pt, `{"code":"`+newCover+`","class":"0102"}`), status: 400, field: "class"},
		"class not in catalogue":        {body: feature(pt, `{"code":"3205080199000001"}`), status: 400, field: "class"},
		"polygon for a point class":     {body: feature(`{"type":"Polygon","coordinates":[[[120.6,31.3],[120.601,31.3],[120.601,31.301],[120.6,31.3]]]}`, `{"code":"`+newCover+`"}`), status: 400, field: "geometry"},
		"self-intersecting green space": {body: feature(`{"type":"Polygon","coordinates":[[[120.6,31.3],[120.601,31.301],[120.601,31.3],[120.6,31.301],[120.6,31.3]]]}`, `{"code":"3205080405000009"}`), status: 400, field: "geometry"},
		"open ring":                     {body: feature(`{"type":"Polygon","coordinates":[[[120.6,31.3],[120.601,31.301],[120.601,31.3],[120.6,31.301]]]}`, `{"code":"3205080405000009"}`), status: 400, field: "geometry.coordinates[0]"},
		"unknown properties":            {body: feature(pt, `{"code":"`+newCover+`","colour":"red","size":3}`), status: 400, field: "properties.colour"},
		"bad state":                     {body: feature(pt, `{"code":"`+newCover+`","state":"broken"}`), status: 400, field: "properties.state"},
		"bad date":                      {body: feature(pt, `{"code":"`+newCover+`","surveyed":"last year"}`), status: 400, field: "properties.surveyed"},
		"retired on add":                {body: feature(pt, `{"code":"`+newCover+`","retired":true}`), status: 400, field: "properties.retired"},
		"number for a string":           {body: feature(pt, `{"code":"`+newCover+`","name":5}`), status: 400, field: "properties.name"},
		"unknown member":                {body: `{"type":"Feature","geometry":` + pt + `,"properties":{"code":"` + newCover + `"},"style":{}}`, status: 400, field: "style"},
		"form encoded":                  {body: "code=1", ctype: "application/x-www-form-urlencoded", status: 415},
		"empty body":                    {body: "", status: 400, field: "body"},
	}
	c := newCity(t)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := req{method: "POST", path: "/parts", token: "admin", body: tc.body}
			if tc.ctype != "" {
				r.header = map[string]string{"Content-Type": tc.ctype}
			}
			m := problem(t, c.do(t, r), tc.status)
			if tc.field != "" && m["field"] != tc.field && !containsField(problemFields(m), tc.field) {
				t.Fatalf("problem does not blame %q: %v", tc.field, m)
			}
			if strings.Contains(fmt.Sprint(m), "sql") {
				t.Fatalf("store text leaked: %v", m)
			}
		})
	}
	t.Run("both unknown properties named", func(t *testing.T) {
		m := problem(t, c.do(t, req{method: "POST", path: "/parts", token: "admin", body: feature(pt, `{"code":"`+newCover+`","colour":"red","size":3}`)}), 400)
		if f := problemFields(m); !containsField(f, "colour") || !containsField(f, "size") {
			t.Fatalf("fields %v", f)
		}
	})
	t.Run("nothing was added", func(t *testing.T) {
		problem(t, c.do(t, req{path: "/parts/" + newCover}), http.StatusNotFound)
	})
}

// TestBodyLimit refuses a body over the limit with 413.
func TestBodyLimit(t *testing.T) {
	c := newCityWith(t, func(cfg *Config) { cfg.BodyLimit = 1000 })
	big := pointFeature(newCover, 120.6021, 31.3011, map[string]any{"note": strings.Repeat("x", 2000)})
	problem(t, c.do(t, req{method: "POST", path: "/parts", token: "admin", body: big}), http.StatusRequestEntityTooLarge)
	// Without a Content-Length the limit holds while reading.
	r := req{method: "POST", path: "/parts/within", body: `{"type":"Polygon","coordinates":[[` + strings.Repeat("[120.6,31.3],", 200) + `[120.6,31.3]]]}`}
	rec := c.doChunked(t, r)
	problem(t, rec, http.StatusRequestEntityTooLarge)
}

// TestPartPatch checks PATCH /parts/{code} and its preconditions.
func TestPartPatch(t *testing.T) {
	c := newCity(t)
	rec := c.do(t, req{method: "PATCH", path: "/parts/" + codeLamp, token: "admin", body: `{"properties":{"state":"丢失","note":null}}`})
	m := expect(t, rec, http.StatusOK, mediaGeoJSON)
	p := props(t, m)
	if p["state"] != "丢失" || p["note"] != "" || p["version"] != 2.0 || p["name"] == "" || rec.Header().Get("ETag") != `"2"` {
		t.Fatalf("patched %v", p)
	}
	// If-Match: strong, weak, stale, star, garbage.
	patch := func(ifMatch string) *req {
		return &req{method: "PATCH", path: "/parts/" + codeLamp, token: "admin", body: `{"properties":{"material":"x"}}`, header: map[string]string{"If-Match": ifMatch}}
	}
	expect(t, c.do(t, *patch(`"2"`)), http.StatusOK, mediaGeoJSON)
	expect(t, c.do(t, *patch(`W/"3"`)), http.StatusOK, mediaGeoJSON)
	problem(t, c.do(t, *patch(`"3"`)), http.StatusPreconditionFailed)
	expect(t, c.do(t, *patch(`*`)), http.StatusOK, mediaGeoJSON)
	problem(t, c.do(t, *patch(`"abc"`)), http.StatusPreconditionFailed)
	problem(t, c.do(t, *patch(`3`)), http.StatusBadRequest)
	// properties.version acts as If-Match.
	problem(t, c.do(t, req{method: "PATCH", path: "/parts/" + codeLamp, token: "admin", body: `{"properties":{"version":1,"state":"完好"}}`}), http.StatusPreconditionFailed)
	// Geometry: moved, and its grid follows.
	rec = c.do(t, req{method: "PATCH", path: "/parts/" + codeLamp, token: "admin", body: `{"geometry":{"type":"Point","coordinates":[120.6035,31.3015]}}`})
	p = props(t, expect(t, rec, http.StatusOK, mediaGeoJSON))
	if p["grid_code"] != gridRow1Col3 {
		t.Fatalf("grid after a move %v", p["grid_code"])
	}
	cases := map[string]struct {
		path, body string
		status     int
		field      string
	}{
		"unknown":          {path: "/parts/" + codeUnknown, body: `{"properties":{"state":"破损"}}`, status: 404},
		"retired":          {path: "/parts/" + codeRetired, body: `{"properties":{"state":"破损"}}`, status: 410},
		"empty":            {path: "/parts/" + codeCover, body: `{}`, status: 400, field: "body"},
		"null geometry":    {path: "/parts/" + codeCover, body: `{"geometry":null}`, status: 400, field: "geometry"},
		"code change":      {path: "/parts/" + codeCover, body: `{"properties":{"code":"` + newCover + `"}}`, status: 400, field: "properties.code"},
		"id change":        {path: "/parts/" + codeCover, body: `{"id":"` + newCover + `","properties":{"state":"破损"}}`, status: 400, field: "id"},
		"wrong geometry":   {path: "/parts/" + codeCover, body: `{"geometry":{"type":"LineString","coordinates":[[120.6,31.3],[120.7,31.3]]}}`, status: 400, field: "geometry"},
		"unknown property": {path: "/parts/" + codeCover, body: `{"properties":{"colour":"red"}}`, status: 400, field: "properties.colour"},
		"retire by patch":  {path: "/parts/" + codeCover, body: `{"properties":{"retired":true}}`, status: 400, field: "properties.retired"},
		"bad path code":    {path: "/parts/12345", body: `{"properties":{"state":"破损"}}`, status: 400, field: "code"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			m := problem(t, c.do(t, req{method: "PATCH", path: tc.path, token: "admin", body: tc.body}), tc.status)
			if tc.field != "" && m["field"] != tc.field && !containsField(problemFields(m), tc.field) {
				t.Fatalf("problem does not blame %q: %v", tc.field, m)
			}
		})
	}
	// Nothing of the failed patches stuck.
	if p := props(t, doc(t, c.do(t, req{path: "/parts/" + codeCover}))); p["version"] != 1.0 {
		t.Fatalf("a failed patch changed the part: %v", p)
	}
}

// TestConcurrentPatch: two PATCHes with the same If-Match give exactly one
// 200 and one 412.
func TestConcurrentPatch(t *testing.T) {
	c := newCity(t)
	for round := 0; round < 5; round++ {
		cur := props(t, doc(t, c.do(t, req{path: "/parts/" + codeBin, token: "admin"})))["version"].(float64)
		var wg sync.WaitGroup
		codes := make([]int, 2)
		for i := range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rec := c.do(t, req{method: "PATCH", path: "/parts/" + codeBin, token: "admin",
					body:   fmt.Sprintf(`{"properties":{"note":"writer %d"}}`, i),
					header: map[string]string{"If-Match": fmt.Sprintf(`"%d"`, int(cur))}})
				codes[i] = rec.Code
			}()
		}
		wg.Wait()
		ok, failed := 0, 0
		for _, code := range codes {
			switch code {
			case http.StatusOK:
				ok++
			case http.StatusPreconditionFailed:
				failed++
			}
		}
		if ok != 1 || failed != 1 {
			t.Fatalf("round %d: statuses %v, want one 200 and one 412", round, codes)
		}
	}
}

// TestPartRetire checks DELETE /parts/{code}.
func TestPartRetire(t *testing.T) {
	c := newCity(t)
	problem(t, c.do(t, req{method: "DELETE", path: "/parts/" + codeCover, token: "admin", header: map[string]string{"If-Match": `"9"`}}), http.StatusPreconditionFailed)
	rec := c.do(t, req{method: "DELETE", path: "/parts/" + codeCover, token: "admin", header: map[string]string{"If-Match": `"1"`}})
	p := props(t, expect(t, rec, http.StatusOK, mediaGeoJSON))
	if p["retired"] != true || p["version"] != 2.0 {
		t.Fatalf("retired %v", p)
	}
	problem(t, c.do(t, req{path: "/parts/" + codeCover}), http.StatusGone)
	problem(t, c.do(t, req{method: "DELETE", path: "/parts/" + codeCover, token: "admin"}), http.StatusGone)
	problem(t, c.do(t, req{method: "DELETE", path: "/parts/" + codeUnknown, token: "admin"}), http.StatusNotFound)
	if m := doc(t, c.do(t, req{path: "/parts?codes=" + codeCover})); len(features(t, m)) != 0 {
		t.Fatal("a retired part is still listed")
	}
}

// TestPartChanges checks POST /parts/changes: atomic, with the failing index.
func TestPartChanges(t *testing.T) {
	add := func(code string, lon float64) map[string]any {
		return map[string]any{"op": "add", "feature": jsonValue(pointFeature(code, lon, 31.3005, nil))}
	}
	t.Run("applied", func(t *testing.T) {
		c := newCity(t)
		body := mustJSON(map[string]any{"changes": []any{
			add("3205080101000601", 120.6001),
			map[string]any{"op": "modify", "if_version": 1, "feature": jsonValue(pointFeature(codeLamp, pointAt(1)[0], pointAt(1)[1], map[string]any{"state": "占用", "dept_owner": "lighting"}))},
			map[string]any{"op": "retire", "code": codeBin},
		}})
		m := expect(t, c.do(t, req{method: "POST", path: "/parts/changes", token: "admin", body: body}), http.StatusOK, mediaGeoJSON)
		fs := features(t, m)
		if len(fs) != 3 || fs[1]["properties"].(map[string]any)["state"] != "占用" || fs[2]["properties"].(map[string]any)["retired"] != true {
			t.Fatalf("results %v", m)
		}
		expect(t, c.do(t, req{path: "/parts/3205080101000601"}), http.StatusOK, mediaGeoJSON)
		problem(t, c.do(t, req{path: "/parts/" + codeBin}), http.StatusGone)
	})
	cases := map[string]struct {
		changes any
		status  int
		index   int // -1: none
		field   string
	}{
		"second record exists": {changes: []any{add("3205080101000601", 120.6001), add(codeCover, 120.6002)}, status: 409, index: 1},
		"stale version": {changes: []any{add("3205080101000601", 120.6001),
			map[string]any{"op": "retire", "code": codeLamp, "if_version": 5}}, status: 412, index: 1},
		"bad op":              {changes: []any{add("3205080101000601", 120.6001), map[string]any{"op": "move", "code": codeLamp}}, status: 400, index: 1, field: "op"},
		"unknown member":      {changes: []any{map[string]any{"op": "retire", "code": codeLamp, "why": "x"}}, status: 400, index: 0, field: "why"},
		"bad geometry":        {changes: []any{add("3205080101000601", 190)}, status: 400, index: 0},
		"retire no code":      {changes: []any{map[string]any{"op": "retire"}}, status: 400, index: 0, field: "code"},
		"retire unknown":      {changes: []any{map[string]any{"op": "retire", "code": codeUnknown}}, status: 404, index: 0},
		"add without feature": {changes: []any{map[string]any{"op": "add"}}, status: 400, index: 0, field: "feature"},
		"empty":               {changes: []any{}, status: 400, index: -1, field: "changes"},
	}
	c := newCity(t)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			m := problem(t, c.do(t, req{method: "POST", path: "/parts/changes", token: "admin", body: mustJSON(map[string]any{"changes": tc.changes})}), tc.status)
			if tc.index >= 0 {
				if m["index"] != float64(tc.index) {
					t.Fatalf("index %v, want %d: %v", m["index"], tc.index, m)
				}
			} else if _, ok := m["index"]; ok {
				t.Fatalf("unexpected index: %v", m)
			}
			if tc.field != "" && m["field"] != tc.field && !containsField(problemFields(m), tc.field) {
				t.Fatalf("problem does not blame %q: %v", tc.field, m)
			}
			// Atomic: the first record of a failed set was not applied.
			problem(t, c.do(t, req{path: "/parts/3205080101000601"}), http.StatusNotFound)
		})
	}
	problem(t, c.do(t, req{method: "POST", path: "/parts/changes", token: "admin", body: `{"changes":[],"extra":1}`}), http.StatusBadRequest)
}

package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestPartReads checks every read route of /parts and its error cases.
func TestPartReads(t *testing.T) {
	c := newCity(t)
	tests := map[string]struct {
		r      req
		status int
		check  func(t *testing.T, m map[string]any)
		fields []string // for problems: the fields blamed
	}{
		"get one": {r: req{path: "/parts/" + codeCover, token: "admin"}, status: 200, check: func(t *testing.T, m map[string]any) {
			p := props(t, m)
			if m["id"] != codeCover || p["code"] != codeCover || p["class"] != "0101" || p["dept_owner"] != "water" ||
				p["state"] != "破损" || p["grid_code"] != gridRow0Col0 || p["version"] != 1.0 || p["surveyed"] != "2020-01-01" ||
				p["photo"] != "photos/1.jpg" || p["note"] != "note" || p["source"] != "实测" || p["retired"] != false {
				t.Fatalf("properties %v", p)
			}
			g := m["geometry"].(map[string]any)
			if g["type"] != "Point" {
				t.Fatalf("geometry %v", g)
			}
		}},
		"public sees no photo or note": {r: req{path: "/parts/" + codeCover}, status: 200, check: func(t *testing.T, m map[string]any) {
			p := props(t, m)
			if _, ok := p["photo"]; ok {
				t.Fatalf("public sees photo: %v", p)
			}
			if _, ok := p["note"]; ok {
				t.Fatalf("public sees note: %v", p)
			}
			if p["dept_owner"] != "water" {
				t.Fatalf("department codes stay public: %v", p)
			}
		}},
		"line":            {r: req{path: "/parts/" + codeRail}, status: 200, check: geomType("LineString")},
		"polygon":         {r: req{path: "/parts/" + codeGreen}, status: 200, check: geomType("Polygon")},
		"retired is gone": {r: req{path: "/parts/" + codeRetired}, status: 410},
		"unknown code":    {r: req{path: "/parts/" + codeUnknown}, status: 404},
		"malformed code":  {r: req{path: "/parts/32050801"}, status: 400, fields: []string{"code"}},
		"letters in code": {r: req{path: "/parts/32050801010000x1"}, status: 400, fields: []string{"code"}},
		"unknown param":   {r: req{path: "/parts/" + codeCover + "?pretty=1"}, status: 400, fields: []string{"pretty"}},

		"batch": {r: req{path: "/parts?codes=" + codeLamp + "," + codeCover + "," + codeUnknown + "," + codeRetired}, status: 200, check: func(t *testing.T, m map[string]any) {
			if got := codesOf(t, m); !slices.Equal(got, []string{codeLamp, codeCover}) {
				t.Fatalf("batch codes %v", got)
			}
			miss := fmt.Sprint(m["missing"])
			if !strings.Contains(miss, codeUnknown) || !strings.Contains(miss, codeRetired) {
				t.Fatalf("missing %v", m["missing"])
			}
		}},
		"batch bad code":      {r: req{path: "/parts?codes=" + codeLamp + ",123"}, status: 400, fields: []string{"codes"}},
		"batch too many":      {r: req{path: "/parts?codes=" + strings.Repeat(codeLamp+",", 1001)}, status: 400, fields: []string{"codes"}},
		"batch with a filter": {r: req{path: "/parts?codes=" + codeLamp + "&class=0101"}, status: 400, fields: []string{"class", "codes"}},

		"whole city": {r: req{path: "/parts?limit=1000"}, status: 200, check: func(t *testing.T, m map[string]any) {
			if m["numberMatched"] != float64(nPoints+2) || m["numberReturned"] != float64(nPoints+2) {
				t.Fatalf("matched %v returned %v, want %d live parts", m["numberMatched"], m["numberReturned"], nPoints+2)
			}
			if hasLink(m, "next") {
				t.Fatal("a last page has no next link")
			}
		}},
		"bbox": {r: req{path: fmt.Sprintf("/parts?bbox=%v,%v,%v,%v", lon0, lat0, lon0+0.001, lat0+0.001)}, status: 200, check: func(t *testing.T, m map[string]any) {
			// row 0, columns 0..9 of the lattice (lon offsets .00005-.00095), lat rows 0..3: 40 points, plus the rail.
			if m["numberMatched"] != 41.0 {
				t.Fatalf("numberMatched %v, want 41", m["numberMatched"])
			}
		}},
		"class filter": {r: req{path: "/parts?class=0118,0305&limit=10000"}, status: 200, check: func(t *testing.T, m map[string]any) {
			if m["numberMatched"] != float64(2*nPoints/3) {
				t.Fatalf("numberMatched %v", m["numberMatched"])
			}
			for _, f := range features(t, m) {
				if cl := f["properties"].(map[string]any)["class"]; cl != "0118" && cl != "0305" {
					t.Fatalf("class %v passed the filter", cl)
				}
			}
		}},
		"major filter":          {r: req{path: "/parts?major=2"}, status: 200, check: matched(1)},
		"owner filter":          {r: req{path: "/parts?owner=lighting"}, status: 200, check: matched(nPoints / 3)},
		"dept filter":           {r: req{path: "/parts?dept=maint-a"}, status: 200, check: matched(nPoints / 2)},
		"state filter":          {r: req{path: "/parts?state=破损"}, status: 200, check: matched(nPoints / 10)},
		"state by english name": {r: req{path: "/parts?state=damaged"}, status: 200, check: matched(nPoints / 10)},
		"grid prefix": {r: req{path: "/parts?grid=" + gridRow1Col3}, status: 200, check: func(t *testing.T, m map[string]any) {
			for _, f := range features(t, m) {
				if f["properties"].(map[string]any)["grid_code"] != gridRow1Col3 {
					t.Fatalf("feature outside the grid: %v", f["properties"])
				}
			}
			if n := m["numberMatched"].(float64); n < 2 {
				t.Fatalf("numberMatched %v", n)
			}
		}},
		"community prefix":   {r: req{path: "/parts?grid=" + communityRow0}, status: 200, check: matched(4*40 + 1)},
		"changed since date": {r: req{path: "/parts?changed_since=2025-01-01"}, status: 200, check: matched(nPoints / 2)},
		"changed since time": {r: req{path: "/parts?changed_since=2025-01-01T00:00:00Z"}, status: 200, check: matched(nPoints / 2)},

		"bad bbox":           {r: req{path: "/parts?bbox=1,2,3"}, status: 400, fields: []string{"bbox"}},
		"inverted bbox":      {r: req{path: "/parts?bbox=121,31,120,32"}, status: 400, fields: []string{"bbox"}},
		"bbox out of range":  {r: req{path: "/parts?bbox=100,-95,101,0"}, status: 400, fields: []string{"bbox"}},
		"bad class":          {r: req{path: "/parts?class=01"}, status: 400, fields: []string{"class"}},
		"unknown class":      {r: req{path: "/parts?class=9999"}, status: 400, fields: []string{"class"}},
		"unknown tile class": {r: req{path: "/tiles/parts/14/0/0.mvt?class=0199"}, status: 400, fields: []string{"class"}},
		"bad state":          {r: req{path: "/parts?state=broken"}, status: 400, fields: []string{"state"}},
		"bad major":          {r: req{path: "/parts?major=700"}, status: 400, fields: []string{"major"}},
		"bad grid":           {r: req{path: "/parts?grid=32a"}, status: 400, fields: []string{"grid"}},
		"bad date":           {r: req{path: "/parts?changed_since=yesterday"}, status: 400, fields: []string{"changed_since"}},
		"huge limit":         {r: req{path: "/parts?limit=1000000"}, status: 400, fields: []string{"limit"}},
		"zero limit":         {r: req{path: "/parts?limit=0"}, status: 400, fields: []string{"limit"}},
		"garbage cursor":     {r: req{path: "/parts?cursor=zzz"}, status: 400, fields: []string{"cursor"}},
		"typo in a param":    {r: req{path: "/parts?clas=0101"}, status: 400, fields: []string{"clas"}},
		"several bad params": {r: req{path: "/parts?class=x&state=y&limit=-1"}, status: 400, fields: []string{"class", "state", "limit"}},

		"nearest": {r: req{path: fmt.Sprintf("/parts/nearest?lon=%v&lat=%v&k=3", pointAt(0)[0], pointAt(0)[1])}, status: 200, check: func(t *testing.T, m map[string]any) {
			fs := features(t, m)
			if len(fs) != 3 || fs[0]["id"] != codeCover {
				t.Fatalf("nearest %v", codesOf(t, m))
			}
			last := -1.0
			for _, f := range fs {
				d := f["properties"].(map[string]any)["distance"].(float64)
				if d < last {
					t.Fatalf("distances not ascending: %v", d)
				}
				last = d
			}
			if d := fs[0]["properties"].(map[string]any)["distance"].(float64); d > 0.01 {
				t.Fatalf("distance to itself %v", d)
			}
		}},
		"nearest default k": {r: req{path: fmt.Sprintf("/parts/nearest?lon=%v&lat=%v", lon0, lat0)}, status: 200, check: count(10)},
		"nearest filtered": {r: req{path: fmt.Sprintf("/parts/nearest?lon=%v&lat=%v&class=0118&k=5", lon0, lat0)}, status: 200, check: func(t *testing.T, m map[string]any) {
			for _, f := range features(t, m) {
				if f["properties"].(map[string]any)["class"] != "0118" {
					t.Fatal("class filter ignored")
				}
			}
		}},
		"nearest within 20 m": {r: req{path: fmt.Sprintf("/parts/nearest?lon=%v&lat=%v&k=100&max_distance=20", pointAt(0)[0], pointAt(0)[1])}, status: 200, check: func(t *testing.T, m map[string]any) {
			for _, f := range features(t, m) {
				if d := f["properties"].(map[string]any)["distance"].(float64); d > 20 {
					t.Fatalf("distance %v beyond max_distance", d)
				}
			}
		}},
		"nearest k too big": {r: req{path: "/parts/nearest?lon=120.6&lat=31.3&k=1001"}, status: 400, fields: []string{"k"}},
		"nearest no lat":    {r: req{path: "/parts/nearest?lon=120.6"}, status: 400, fields: []string{"lat"}},
		"nearest bad lon":   {r: req{path: "/parts/nearest?lon=500&lat=31"}, status: 400, fields: []string{"lon"}},
		"nearest bad dist":  {r: req{path: "/parts/nearest?lon=120.6&lat=31.3&max_distance=-5"}, status: 400, fields: []string{"max_distance"}},

		"counts by class": {r: req{path: "/parts/counts?grid=320508"}, status: 200, check: func(t *testing.T, m map[string]any) {
			if m["total"] != float64(nPoints+2) || m["by"] != "class" {
				t.Fatalf("counts %v", m)
			}
			rows := m["counts"].([]any)
			first := rows[0].(map[string]any)
			if first["class"] != "0101" || first["count"] != float64(nPoints/3) || first["name"] != "上水井盖" {
				t.Fatalf("first row %v", first)
			}
		}},
		"counts by major in a bbox": {r: req{path: fmt.Sprintf("/parts/counts?by=major&bbox=%v,%v,%v,%v", lon0, lat0, lon0+0.001, lat0+0.001)}, status: 200, check: func(t *testing.T, m map[string]any) {
			if m["total"] != 41.0 {
				t.Fatalf("total %v", m["total"])
			}
		}},
		"counts bad by": {r: req{path: "/parts/counts?by=owner"}, status: 400, fields: []string{"by"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rec := c.do(t, tc.r)
			if tc.status >= 400 {
				m := problem(t, rec, tc.status)
				for _, f := range tc.fields {
					if !containsField(problemFields(m), f) && m["field"] != f {
						t.Fatalf("problem does not blame %q: %v", f, m)
					}
				}
				return
			}
			want := mediaGeoJSON
			if strings.HasPrefix(tc.r.path, "/parts/counts") {
				want = mediaJSON
			}
			m := expect(t, rec, tc.status, want)
			if tc.check != nil {
				tc.check(t, m)
			}
		})
	}
}

func geomType(want string) func(t *testing.T, m map[string]any) {
	return func(t *testing.T, m map[string]any) {
		t.Helper()
		if g := m["geometry"].(map[string]any); g["type"] != want {
			t.Fatalf("geometry type %v, want %s", g["type"], want)
		}
	}
}

func matched(n int) func(t *testing.T, m map[string]any) {
	return func(t *testing.T, m map[string]any) {
		t.Helper()
		if m["numberMatched"] != float64(n) {
			t.Fatalf("numberMatched %v, want %d", m["numberMatched"], n)
		}
	}
}

func count(n int) func(t *testing.T, m map[string]any) {
	return func(t *testing.T, m map[string]any) {
		t.Helper()
		if got := len(features(t, m)); got != n {
			t.Fatalf("%d features, want %d", got, n)
		}
	}
}

func hasLink(m map[string]any, rel string) bool {
	_, ok := linkHref(m, rel)
	return ok
}

func linkHref(m map[string]any, rel string) (string, bool) {
	ls, _ := m["links"].([]any)
	for _, l := range ls {
		if l := l.(map[string]any); l["rel"] == rel {
			return l["href"].(string), true
		}
	}
	return "", false
}

// TestPartPaging follows next links to the end and compares with one page.
func TestPartPaging(t *testing.T) {
	c := newCity(t)
	all := doc(t, c.do(t, req{path: "/parts?class=0101&limit=10000"}))
	want := codesOf(t, all)
	var got []string
	path := "/parts?class=0101&limit=7"
	for pages := 0; path != ""; pages++ {
		if pages > 100 {
			t.Fatal("paging does not end")
		}
		m := expect(t, c.do(t, req{path: path}), http.StatusOK, mediaGeoJSON)
		if m["numberMatched"] != float64(len(want)) {
			t.Fatalf("numberMatched %v on a later page, want %d", m["numberMatched"], len(want))
		}
		got = append(got, codesOf(t, m)...)
		next, ok := linkHref(m, "next")
		path = ""
		if ok {
			if !strings.HasPrefix(next, "http://example.com/parts?") {
				t.Fatalf("next link %q is not absolute on the request host", next)
			}
			path = strings.TrimPrefix(next, "http://example.com")
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged %d codes, one page %d", len(got), len(want))
	}

	// A cursor is bound to its query.
	m := doc(t, c.do(t, req{path: "/parts?class=0101&limit=7"}))
	next, _ := linkHref(m, "next")
	cursor := next[strings.Index(next, "cursor=")+len("cursor="):]
	if i := strings.IndexByte(cursor, '&'); i >= 0 {
		cursor = cursor[:i]
	}
	for _, other := range []string{"/parts?class=0118&cursor=" + cursor, "/parts?cursor=" + cursor, "/grids?cursor=" + cursor} {
		p := problem(t, c.do(t, req{path: other}), http.StatusBadRequest)
		if p["field"] != "cursor" {
			t.Fatalf("%s: problem %v", other, p)
		}
	}
	// but the limit may change.
	expect(t, c.do(t, req{path: "/parts?class=0101&limit=50&cursor=" + cursor}), http.StatusOK, mediaGeoJSON)
}

package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"citytwin/parts"
)

// linkHref returns the href of the first link with rel in m["links"].
func ogcLink(t testing.TB, m map[string]any, rel string) (string, string) {
	t.Helper()
	ls, _ := m["links"].([]any)
	for _, l := range ls {
		lm := l.(map[string]any)
		if lm["rel"] == rel {
			typ, _ := lm["type"].(string)
			return lm["href"].(string), typ
		}
	}
	return "", ""
}

// pathOf strips scheme and host from an absolute link.
func pathOf(t testing.TB, href string) string {
	t.Helper()
	u, err := url.Parse(href)
	if err != nil || !u.IsAbs() {
		t.Fatalf("link %q is not an absolute URL", href)
	}
	return u.RequestURI()
}

func numberOf(t testing.TB, m map[string]any, key string) int {
	t.Helper()
	v, ok := m[key].(float64)
	if !ok {
		t.Fatalf("no number %s in %v", key, m)
	}
	return int(v)
}

// TestOGCRoutes checks status, media type and body of every OGC route.
func TestOGCRoutes(t *testing.T) {
	c := newCity(t)
	live := c.twin.Parts().Len()
	count := func(f parts.Filter) int {
		pg, err := c.twin.Parts().Search(context.Background(), parts.Query{BBox: world, Filter: f, Limit: parts.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		return pg.NumberMatched
	}
	tests := map[string]struct {
		path   string
		status int
		ctype  string
		check  func(t *testing.T, m map[string]any)
	}{
		"landing": {"/ogc", 200, mediaJSON, func(t *testing.T, m map[string]any) {
			for rel, want := range map[string][2]string{
				"self":         {"/ogc", mediaJSON},
				"service-desc": {"/ogc/api", "application/vnd.oai.openapi+json;version=3.0"},
				"conformance":  {"/ogc/conformance", mediaJSON},
				"data":         {"/ogc/collections", mediaJSON},
			} {
				href, typ := ogcLink(t, m, rel)
				if href == "" || pathOf(t, href) != want[0] || typ != want[1] {
					t.Errorf("link %s = %q (%s), want %s (%s)", rel, href, typ, want[0], want[1])
				}
			}
		}},
		"landing slash f=json": {"/ogc/?f=json", 200, mediaJSON, nil},
		"conformance": {"/ogc/conformance", 200, mediaJSON, func(t *testing.T, m map[string]any) {
			got := m["conformsTo"].([]any)
			for _, want := range []string{"core", "geojson", "oas30"} {
				if !slices.Contains(got, any("http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"+want)) {
					t.Errorf("conformsTo %v lacks %s", got, want)
				}
			}
		}},
		"collections": {"/ogc/collections", 200, mediaJSON, func(t *testing.T, m map[string]any) {
			cs := m["collections"].([]any)
			var ids []string
			for _, c := range cs {
				ids = append(ids, c.(map[string]any)["id"].(string))
			}
			if want := []string{"parts", "grids", "sensors", "alarms", "incidents"}; !slices.Equal(ids, want) {
				t.Errorf("collection ids %v, want %v", ids, want)
			}
		}},
		"collection parts": {"/ogc/collections/parts", 200, mediaJSON, func(t *testing.T, m map[string]any) {
			if m["id"] != "parts" || m["itemType"] != "feature" {
				t.Errorf("collection %v", m)
			}
			ext := m["extent"].(map[string]any)["spatial"].(map[string]any)
			if ext["crs"] != crs84 {
				t.Errorf("extent crs %v", ext["crs"])
			}
			bb := ext["bbox"].([]any)[0].([]any)
			want := c.twin.Parts().Bounds()
			got := orb.Bound{Min: orb.Point{bb[0].(float64), bb[1].(float64)}, Max: orb.Point{bb[2].(float64), bb[3].(float64)}}
			if got != want {
				t.Errorf("extent %v, want the registry's bounds %v", got, want)
			}
			c.twin.Parts().Each(func(p parts.Part) bool {
				if !p.Retired && !got.Contains(p.Geometry.Bound().Min) {
					t.Errorf("extent %v does not hold %s", got, p.Code)
				}
				return true
			})
			if href, typ := ogcLink(t, m, "items"); pathOf(t, href) != "/ogc/collections/parts/items" || typ != mediaGeoJSON {
				t.Errorf("items link %q %q", href, typ)
			}
		}},
		"collection grids": {"/ogc/collections/grids", 200, mediaJSON, func(t *testing.T, m map[string]any) {
			bb := m["extent"].(map[string]any)["spatial"].(map[string]any)["bbox"].([]any)[0].([]any)
			if bb[0].(float64) != lon0 || bb[1].(float64) != lat0 {
				t.Errorf("grids extent %v does not start at the city's corner", bb)
			}
		}},
		"parts first page": {"/ogc/collections/parts/items", 200, mediaGeoJSON, func(t *testing.T, m map[string]any) {
			if m["type"] != "FeatureCollection" || numberOf(t, m, "numberMatched") != live ||
				numberOf(t, m, "numberReturned") != 100 || len(features(t, m)) != 100 || m["timeStamp"] == "" {
				t.Errorf("page: type %v matched %v returned %v", m["type"], m["numberMatched"], m["numberReturned"])
			}
			if href, typ := ogcLink(t, m, "next"); href == "" || typ != mediaGeoJSON {
				t.Errorf("no next link of type %s: %q %q", mediaGeoJSON, href, typ)
			}
			f := features(t, m)[0]
			p := props(t, f)
			if f["id"] != p["code"] || p["photo"] != nil || p["note"] != nil || p["source_name"] != nil || p["source_id"] != nil {
				t.Errorf("feature id %v code %v; the public sees photo %v note %v source %v %v", f["id"], p["code"], p["photo"], p["note"], p["source_name"], p["source_id"])
			}
			for _, k := range partPropertyNames {
				if _, ok := p[k]; !ok && k != "photo" && k != "note" && k != "source_name" && k != "source_id" && k != "surveyed" && k != "changed" {
					t.Errorf("feature lacks property %s", k)
				}
			}
		}},
		"parts limit 5": {"/ogc/collections/parts/items?limit=5", 200, mediaGeoJSON, func(t *testing.T, m map[string]any) {
			if numberOf(t, m, "numberReturned") != 5 {
				t.Errorf("numberReturned %v", m["numberReturned"])
			}
		}},
		"parts limit above max is capped": {"/ogc/collections/parts/items?limit=20000", 200, mediaGeoJSON, func(t *testing.T, m map[string]any) {
			if numberOf(t, m, "numberReturned") != live {
				t.Errorf("numberReturned %v, want all %d", m["numberReturned"], live)
			}
			if href, _ := ogcLink(t, m, "next"); href != "" {
				t.Errorf("next link on the last page: %s", href)
			}
		}},
		"parts huge limit": {"/ogc/collections/parts/items?limit=999999999999999999999999", 200, mediaGeoJSON, nil},
		"parts bbox": {"/ogc/collections/parts/items?limit=1000&bbox=120.6005,31.3001,120.6035,31.3013", 200, mediaGeoJSON, func(t *testing.T, m map[string]any) {
			b := orb.Bound{Min: orb.Point{120.6005, 31.3001}, Max: orb.Point{120.6035, 31.3013}}
			if want := bruteCount(c.twin.Parts(), b); numberOf(t, m, "numberMatched") != want || len(features(t, m)) != want {
				t.Errorf("bbox matched %v, returned %d; brute force %d", m["numberMatched"], len(features(t, m)), want)
			}
		}},
		"parts bbox 6 numbers": {"/ogc/collections/parts/items?bbox=120.6005,31.3001,0,120.6035,31.3013,10", 200, mediaGeoJSON, func(t *testing.T, m map[string]any) {
			b := orb.Bound{Min: orb.Point{120.6005, 31.3001}, Max: orb.Point{120.6035, 31.3013}}
			if want := bruteCount(c.twin.Parts(), b); numberOf(t, m, "numberMatched") != want {
				t.Errorf("bbox matched %v; brute force %d", m["numberMatched"], want)
			}
		}},
		"parts bbox-crs CRS84": {"/ogc/collections/parts/items?bbox=120,31,121,32&bbox-crs=" + url.QueryEscape(crs84), 200, mediaGeoJSON, nil},
		"parts empty bbox": {"/ogc/collections/parts/items?bbox=0,0,1,1", 200, mediaGeoJSON, func(t *testing.T, m map[string]any) {
			if numberOf(t, m, "numberMatched") != 0 || len(features(t, m)) != 0 {
				t.Errorf("a box far away matched %v", m["numberMatched"])
			}
		}},
		"parts class filter": {"/ogc/collections/parts/items?class=0118", 200, mediaGeoJSON, func(t *testing.T, m map[string]any) {
			want := count(parts.Filter{Classes: []parts.Class{118}})
			if want == 0 || numberOf(t, m, "numberMatched") != want {
				t.Errorf("class=0118 matched %v, want %d", m["numberMatched"], want)
			}
			for _, f := range features(t, m) {
				if props(t, f)["class"] != "0118" {
					t.Errorf("class filter let %v through", props(t, f)["class"])
				}
			}
		}},
		"parts state, dept_owner, grid_code": {"/ogc/collections/parts/items?state=damaged&dept_owner=water&grid_code=" + communityRow0, 200, mediaGeoJSON, func(t *testing.T, m map[string]any) {
			want := count(parts.Filter{States: []parts.State{parts.Damaged}, Owner: parts.DeptWater, GridPrefix: communityRow0})
			if want == 0 || numberOf(t, m, "numberMatched") != want {
				t.Errorf("matched %v, want %d", m["numberMatched"], want)
			}
		}},
		"parts dept and major": {"/ogc/collections/parts/items?dept=maint-a&major=1", 200, mediaGeoJSON, func(t *testing.T, m map[string]any) {
			want := count(parts.Filter{Dept: "maint-a", Majors: []int{1}})
			if want == 0 || numberOf(t, m, "numberMatched") != want {
				t.Errorf("matched %v, want %d", m["numberMatched"], want)
			}
		}},
		"parts datetime": {"/ogc/collections/parts/items?datetime=2025-01-01/..", 200, mediaGeoJSON, func(t *testing.T, m map[string]any) {
			if numberOf(t, m, "numberMatched") != nPoints/2 {
				t.Errorf("changed since 2025 matched %v, want %d", m["numberMatched"], nPoints/2)
			}
		}},
		"parts datetime open both ends": {"/ogc/collections/parts/items?datetime=../..", 200, mediaGeoJSON, func(t *testing.T, m map[string]any) {
			if numberOf(t, m, "numberMatched") != live {
				t.Errorf("matched %v, want all %d", m["numberMatched"], live)
			}
		}},
		"grids all": {"/ogc/collections/grids/items", 200, mediaGeoJSON, func(t *testing.T, m map[string]any) {
			if numberOf(t, m, "numberMatched") != 8 || len(features(t, m)) != 8 {
				t.Errorf("grids matched %v", m["numberMatched"])
			}
			if codes := codesOf(t, m); !slices.IsSorted(codes) {
				t.Errorf("grids not in code order: %v", codes)
			}
			if p := props(t, features(t, m)[0]); p["community"] != communityRow0 || p["district"] != "320508" {
				t.Errorf("grid properties %v", p)
			}
		}},
		"grids bbox": {"/ogc/collections/grids/items?bbox=120.6005,31.3005,120.6015,31.3006", 200, mediaGeoJSON, func(t *testing.T, m map[string]any) {
			if codes := codesOf(t, m); !slices.Equal(codes, []string{gridCode(0, 0), gridCode(0, 1)}) {
				t.Errorf("grids in bbox %v", codes)
			}
		}},
		"grids community": {"/ogc/collections/grids/items?district=320508&community=320508001002", 200, mediaGeoJSON, func(t *testing.T, m map[string]any) {
			if numberOf(t, m, "numberMatched") != 4 {
				t.Errorf("grids of community 2: %v", codesOf(t, m))
			}
		}},
		"grids dept": {"/ogc/collections/grids/items?dept=nobody", 200, mediaGeoJSON, func(t *testing.T, m map[string]any) {
			if numberOf(t, m, "numberMatched") != 0 {
				t.Errorf("dept=nobody matched %v", m["numberMatched"])
			}
		}},
		"part item": {"/ogc/collections/parts/items/" + codeLamp, 200, mediaGeoJSON, func(t *testing.T, m map[string]any) {
			if m["type"] != "Feature" || m["id"] != codeLamp || props(t, m)["class"] != "0118" {
				t.Errorf("item %v", m)
			}
			if href, _ := ogcLink(t, m, "collection"); pathOf(t, href) != "/ogc/collections/parts" {
				t.Errorf("collection link %q", href)
			}
		}},
		"grid item": {"/ogc/collections/grids/items/" + gridRow1Col3, 200, mediaGeoJSON, func(t *testing.T, m map[string]any) {
			if m["id"] != gridRow1Col3 || m["geometry"].(map[string]any)["type"] != "Polygon" {
				t.Errorf("item %v", m)
			}
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m := expect(t, c.do(t, req{path: tc.path}), tc.status, tc.ctype)
			if tc.check != nil {
				tc.check(t, m)
			}
		})
	}
}

// TestOGCErrors checks that every bad request is a problem document naming
// what is wrong.
func TestOGCErrors(t *testing.T) {
	c := newCity(t)
	items := "/ogc/collections/parts/items"
	tests := map[string]struct {
		path   string
		status int
		field  string // the input the problem must name, if any
	}{
		"bbox 3 numbers":       {items + "?bbox=1,2,3", 400, "bbox"},
		"bbox not numbers":     {items + "?bbox=a,b,c,d", 400, "bbox"},
		"bbox min above max":   {items + "?bbox=121,31,120,32", 400, "bbox"},
		"bbox latitude 95":     {items + "?bbox=120,31,121,95", 400, "bbox"},
		"bbox twice":           {items + "?bbox=120,31,121,32&bbox=120,31,121,32", 400, "bbox"},
		"bbox-crs other":       {items + "?bbox=120,31,121,32&bbox-crs=EPSG:3857", 400, "bbox-crs"},
		"limit 0":              {items + "?limit=0", 400, "limit"},
		"limit negative":       {items + "?limit=-5", 400, "limit"},
		"limit text":           {items + "?limit=ten", 400, "limit"},
		"unknown parameter":    {items + "?colour=red", 400, "colour"},
		"REST name on OGC":     {items + "?owner=water", 400, "owner"},
		"bad class":            {items + "?class=01", 400, "class"},
		"bad state":            {items + "?state=broken", 400, "state"},
		"bad grid_code":        {items + "?grid_code=abc", 400, "grid_code"},
		"closed datetime":      {items + "?datetime=2024-01-01/2025-01-01", 400, "datetime"},
		"bad datetime":         {items + "?datetime=yesterday/..", 400, "datetime"},
		"bad cursor":           {items + "?cursor=nonsense", 400, "cursor"},
		"format xml":           {"/ogc?f=xml", 400, "f"},
		"landing unknown":      {"/ogc/conformance?x=1", 400, "x"},
		"grids bad district":   {"/ogc/collections/grids/items?district=12", 400, "district"},
		"grids street outside": {"/ogc/collections/grids/items?district=320508&street=110101001", 400, "street"},
		"grids parts filter":   {"/ogc/collections/grids/items?class=0101", 400, "class"},
		"grids bad cursor":     {"/ogc/collections/grids/items?cursor=xyz", 400, "cursor"},
		"unknown collection":   {"/ogc/collections/trees", 404, ""},
		"unknown items":        {"/ogc/collections/trees/items", 404, ""},
		"unknown item":         {"/ogc/collections/trees/items/1", 404, ""},
		"unknown part":         {"/ogc/collections/parts/items/" + codeUnknown, 404, ""},
		"malformed part code":  {"/ogc/collections/parts/items/abc", 404, ""},
		"unknown grid":         {"/ogc/collections/grids/items/32050800100199", 404, ""},
		"malformed grid code":  {"/ogc/collections/grids/items/12", 404, ""},
		"retired part":         {"/ogc/collections/parts/items/" + codeRetired, 410, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m := problem(t, c.do(t, req{path: tc.path}), tc.status)
			if tc.field != "" && !containsField(problemFields(m), tc.field) {
				t.Errorf("problem blames %v, want %s: %v", problemFields(m), tc.field, m["detail"])
			}
		})
	}
}

// TestOGCPaging follows next links over the parts and grids and checks
// that every item comes once, in code order, and that a cursor is bound to
// its query.
func TestOGCPaging(t *testing.T) {
	c := newCity(t)
	tests := map[string]struct {
		first string
		want  int
	}{
		"parts":        {"/ogc/collections/parts/items?limit=37", c.twin.Parts().Len()},
		"parts filter": {"/ogc/collections/parts/items?limit=7&class=0101&bbox=120.6,31.3,120.602,31.302", 0},
		"grids":        {"/ogc/collections/grids/items?limit=3", 8},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var codes []string
			next, pages, matched := tc.first, 0, -1
			for next != "" {
				m := expect(t, c.do(t, req{path: next}), http.StatusOK, mediaGeoJSON)
				if matched >= 0 && numberOf(t, m, "numberMatched") != matched {
					t.Fatalf("numberMatched changed between pages")
				}
				matched = numberOf(t, m, "numberMatched")
				codes = append(codes, codesOf(t, m)...)
				href, _ := ogcLink(t, m, "next")
				if href != "" {
					next = pathOf(t, href)
				} else {
					next = ""
				}
				if pages++; pages > 100 {
					t.Fatal("too many pages")
				}
			}
			want := tc.want
			if want == 0 {
				want = matched
				if want == 0 {
					t.Fatal("the filter matches nothing")
				}
			}
			if len(codes) != want || matched != want {
				t.Errorf("collected %d items (numberMatched %d), want %d", len(codes), matched, want)
			}
			// The unfiltered parts collection starts with one component of
			// each geometry kind (ogc_mixed.go); the rest is in code order.
			sorted := slices.Clone(codes)
			slices.Sort(sorted)
			head := 0
			for head < 3 && head < len(codes) && !slices.IsSorted(codes[head:]) {
				head++
			}
			if !slices.IsSorted(codes[head:]) || len(slices.Compact(sorted)) != len(codes) {
				t.Errorf("items not in strict code order over the pages, or repeated")
			}
		})
	}

	// A cursor from one query is refused by another.
	m := expect(t, c.do(t, req{path: "/ogc/collections/parts/items?limit=2"}), 200, mediaGeoJSON)
	href, _ := ogcLink(t, m, "next")
	u, _ := url.Parse(href)
	cur := u.Query().Get("cursor")
	p := problem(t, c.do(t, req{path: "/ogc/collections/parts/items?limit=2&class=0101&cursor=" + cur}), 400)
	if !containsField(problemFields(p), "cursor") {
		t.Errorf("a cursor of another query: %v", p)
	}
	m = expect(t, c.do(t, req{path: "/ogc/collections/grids/items?limit=2"}), 200, mediaGeoJSON)
	href, _ = ogcLink(t, m, "next")
	u, _ = url.Parse(href)
	p = problem(t, c.do(t, req{path: "/ogc/collections/grids/items?limit=2&dept=x&cursor=" + url.QueryEscape(u.Query().Get("cursor"))}), 400)
	if !containsField(problemFields(p), "cursor") {
		t.Errorf("a grid cursor of another query: %v", p)
	}
}

// TestOGCLinksFollowHost checks that links are absolute on the request's
// host and scheme (X-Forwarded-Proto honoured from a trusted proxy).
func TestOGCLinksFollowHost(t *testing.T) {
	c := newCity(t)
	r := httptest.NewRequest(http.MethodGet, "/ogc", nil)
	r.Host = "twin.example.org"
	r.RemoteAddr = "127.0.0.1:40000" // a trusted proxy
	r.Header.Set("X-Forwarded-Proto", "https")
	rec := httptest.NewRecorder()
	c.srv.Handler().ServeHTTP(rec, r)
	m := expect(t, rec, 200, mediaJSON)
	href, _ := ogcLink(t, m, "data")
	if !strings.HasPrefix(href, "https://twin.example.org/ogc/") {
		t.Errorf("data link %q does not follow the request's host and scheme", href)
	}
}

// FuzzOGCItemsQuery sends arbitrary query strings to the items endpoints:
// the answer is a page or a 4xx problem, never a 5xx or a panic.
func FuzzOGCItemsQuery(f *testing.F) {
	for _, s := range []string{"", "limit=5", "bbox=120,31,121,32", "bbox=1,2,3", "limit=0", "class=0101,01",
		"datetime=2025-01-01/..", "grid_code=3205", "cursor=abc", "bbox=120,31,0,121,32,1&bbox-crs=x", "district=320508&street=3"} {
		f.Add("parts", s)
		f.Add("grids", s)
	}
	c := newCity(f)
	f.Fuzz(func(t *testing.T, coll, rawQuery string) {
		if strings.ContainsAny(coll, "/?#%") || strings.ContainsAny(rawQuery, "#") {
			return
		}
		u := &url.URL{Path: "/ogc/collections/" + coll + "/items", RawQuery: rawQuery}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.URL, r.RequestURI = u, u.RequestURI()
		rec := httptest.NewRecorder()
		c.srv.Handler().ServeHTTP(rec, r)
		switch {
		case rec.Code == 200:
			if !strings.HasPrefix(rec.Header().Get("Content-Type"), mediaGeoJSON) {
				t.Fatalf("%s: 200 with %q", u, rec.Header().Get("Content-Type"))
			}
		case rec.Code >= 400 && rec.Code < 500:
			if rec.Header().Get("Content-Type") != mediaProblem {
				t.Fatalf("%s: %d with %q", u, rec.Code, rec.Header().Get("Content-Type"))
			}
		default:
			t.Fatalf("%s: status %d: %s", u, rec.Code, rec.Body)
		}
	})
}

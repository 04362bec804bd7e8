package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citytwin/grid"
	"citytwin/parts"
	"citytwin/store/gpkg"
	"citytwin/tiles"
	"citytwin/twin"
)

// The test city: one district, one street, two communities of four
// 0.001-degree grids each (row 0 and row 1), 240 points of three classes
// on a lattice, a guard rail, a green space and a retired cover.
const (
	lon0, lat0 = 120.600, 31.300
	testCell   = 0.001
	nPoints    = 240
)

var (
	codeCover     = "3205080101000001" // the first point: 0101, owner water, maintainer maint-a? (serial 1: odd, none)
	codeLamp      = "3205080118000002" // 0118, owner lighting, maintainer maint-a
	codeBin       = "3205080305000003" // 0305, owner sanitation
	codeRail      = "3205080211000001"
	codeGreen     = "3205080405000001"
	codeRetired   = "3205080101000999"
	codeUnknown   = "3205080101000777"
	gridRow0Col0  = "32050800100101"
	gridRow1Col3  = "32050800100204"
	communityRow0 = "320508001001"
)

func gridCode(row, col int) string { return fmt.Sprintf("320508001%03d%02d", row+1, col+1) }

func gridOf(pt orb.Point) string {
	col := int((pt[0] - lon0) / testCell)
	row := int((pt[1] - lat0) / testCell)
	if col < 0 || col > 3 || row < 0 || row > 1 {
		return ""
	}
	return gridCode(row, col)
}

func square(x0, y0, d float64) orb.Polygon {
	return orb.Polygon{{{x0, y0}, {x0 + d, y0}, {x0 + d, y0 + d}, {x0, y0 + d}, {x0, y0}}}
}

var pointClasses = []parts.Class{101, 118, 305}

// pointAt is the position of the i-th lattice point (never on a grid edge).
func pointAt(i int) orb.Point {
	return orb.Point{lon0 + 0.00005 + float64(i%40)*0.0001, lat0 + 0.00005 + float64(i/40)*0.0003}
}

func testParts(cat *parts.Catalogue) []parts.Part {
	day := func(s string) time.Time { t, _ := time.Parse("2006-01-02", s); return t }
	var ps []parts.Part
	for i := 0; i < nPoints; i++ {
		cl := pointClasses[i%3]
		code, err := parts.NewCode(320508, cl, uint32(i+1))
		if err != nil {
			panic(err)
		}
		ci, _ := cat.Lookup(cl)
		pt := pointAt(i)
		p := parts.Part{
			Code: code, Class: cl, Name: fmt.Sprintf("%s %d", ci.Name, i+1),
			Supervisor: ci.Super, Owner: ci.Owner, Grid: gridOf(pt),
			Surveyed: day("2020-01-01"), Changed: day("2024-01-01"),
			Photo: fmt.Sprintf("photos/%d.jpg", i+1), Note: "note", Material: "铸铁", Version: 1, Geometry: pt,
		}
		if (i+1)%2 == 0 {
			p.Maintainer = "maint-a"
		}
		if i%10 == 0 {
			p.State = parts.Damaged
		}
		if i >= nPoints/2 {
			p.Changed = day("2025-06-01")
		}
		ps = append(ps, p)
	}
	rail, _ := parts.ParseCode(codeRail)
	green, _ := parts.ParseCode(codeGreen)
	retired, _ := parts.ParseCode(codeRetired)
	ps = append(ps,
		parts.Part{Code: rail, Class: 211, Name: "护栏", Supervisor: parts.DeptCityMgmt, Owner: parts.DeptTraffic, Grid: gridRow0Col0,
			Version: 1, Geometry: orb.LineString{{lon0 + 0.0001, lat0 + 0.0002}, {lon0 + 0.0008, lat0 + 0.0002}}},
		parts.Part{Code: green, Class: 405, Name: "绿地", Supervisor: parts.DeptCityMgmt, Owner: parts.DeptLandscape, Grid: gridRow1Col3,
			Version: 1, Geometry: square(lon0+0.0032, lat0+0.0012, 0.0005)},
		parts.Part{Code: retired, Class: 101, Name: "废井盖", Supervisor: parts.DeptCityMgmt, Owner: parts.DeptWater, Grid: gridRow0Col0,
			Retired: true, Version: 2, Geometry: orb.Point{lon0 + 0.0005, lat0 + 0.0005}},
	)
	return ps
}

func testGrids() ([]grid.Grid, []grid.Division) {
	var gs []grid.Grid
	for row := 0; row < 2; row++ {
		for col := 0; col < 4; col++ {
			gs = append(gs, grid.Grid{
				Code: grid.Code(gridCode(row, col)), Name: fmt.Sprintf("网格%d-%d", row+1, col+1), Dept: "street-pj", Version: 1,
				Geometry: square(lon0+float64(col)*testCell, lat0+float64(row)*testCell, testCell),
			})
		}
	}
	ds := []grid.Division{
		{Code: "320508", Name: "姑苏区", Level: grid.District},
		{Code: "320508001", Name: "平江街道", Level: grid.Street},
		{Code: "320508001001", Name: "平江社区", Level: grid.Community},
		{Code: "320508001002", Name: "拙政社区", Level: grid.Community},
	}
	return gs, ds
}

// testAuth is an Authenticator over fixed tokens.
type testAuth map[string]Principal

func (a testAuth) Authenticate(_ context.Context, token string) (Principal, error) {
	if p, ok := a[token]; ok {
		return p, nil
	}
	return Principal{}, fmt.Errorf("%w: unknown token", ErrUnauthorized)
}

var tokensForTest = testAuth{
	"admin":    {Role: RoleAdmin, TokenID: "t-admin"},
	"insp":     {Role: RoleInspector, TokenID: "t-insp"},
	"water":    {Role: RoleDepartment, Dept: parts.DeptWater, TokenID: "t-water"},
	"lighting": {Role: RoleDepartment, Dept: parts.DeptLighting, TokenID: "t-lighting"},
	"maint":    {Role: RoleDepartment, Dept: "maint-a", TokenID: "t-maint"},
	"pub":      {Role: RolePublic, TokenID: "t-pub"},
}

// city is a server over a fresh twin in a GeoPackage file.
type city struct {
	srv   *Server
	twin  *twin.Twin
	tiles *tiles.Map
	store *gpkg.Store
}

func newCity(t testing.TB) *city {
	t.Helper()
	return newCityWith(t, func(*Config) {})
}

func newCityWith(t testing.TB, tweak func(*Config)) *city {
	t.Helper()
	return newCityOver(t, testStore(t), tweak)
}

// testStore writes the hand-made test city (testGrids, testParts) to a
// GeoPackage and opens it; the store closes with the test.
func testStore(t testing.TB) *gpkg.Store {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "city.gpkg")
	w, err := gpkg.Create(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	gs, ds := testGrids()
	if err := w.AddDivisions(ds); err != nil {
		t.Fatal(err)
	}
	if err := w.AddGrids(gs); err != nil {
		t.Fatal(err)
	}
	if err := w.AddParts(testParts(parts.DefaultCatalogue())); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	st, err := gpkg.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newCityOver(t testing.TB, st twin.Store, tweak func(*Config)) *city {
	t.Helper()
	tw, err := twin.Open(context.Background(), st, twin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tm := tiles.New(tw.Parts(), tw.Grids(), tiles.Options{})
	tw.Follow(tm) // as cmd wires it
	cfg := DefaultConfig()
	cfg.Logger = nil
	cfg.RateLimit = RateLimit{}
	tweak(&cfg)
	srv, err := New(cfg, tw, tm, tokensForTest)
	if err != nil {
		t.Fatal(err)
	}
	srv.SetReady(true)
	c := &city{srv: srv, twin: tw, tiles: tm}
	if gs, ok := st.(*gpkg.Store); ok {
		c.store = gs
	}
	return c
}

// req describes a request of a test.
type req struct {
	method, path, token, body string
	header                    map[string]string
}

func (c *city) do(t testing.TB, r req) *httptest.ResponseRecorder {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodGet
	}
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr := httptest.NewRequest(r.method, r.path, body)
	if r.body != "" {
		hr.Header.Set("Content-Type", "application/geo+json")
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		if k == "Host" {
			hr.Host = v
			continue
		}
		if v == "" {
			hr.Header.Del(k)
		} else {
			hr.Header.Set(k, v)
		}
	}
	rec := httptest.NewRecorder()
	c.srv.Handler().ServeHTTP(rec, hr)
	return rec
}

// doc decodes a JSON response body into a generic map.
func doc(t testing.TB, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %q", err, clipForLog(rec.Body.Bytes()))
	}
	return m
}

func clipForLog(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "..."
	}
	return string(b)
}

// props returns the properties of a Feature response.
func props(t testing.TB, m map[string]any) map[string]any {
	t.Helper()
	p, ok := m["properties"].(map[string]any)
	if !ok {
		t.Fatalf("no properties in %v", m)
	}
	return p
}

func features(t testing.TB, m map[string]any) []map[string]any {
	t.Helper()
	fs, ok := m["features"].([]any)
	if !ok {
		t.Fatalf("no features in %v", m)
	}
	out := make([]map[string]any, len(fs))
	for i, f := range fs {
		out[i] = f.(map[string]any)
	}
	return out
}

func codesOf(t testing.TB, m map[string]any) []string {
	var out []string
	for _, f := range features(t, m) {
		out = append(out, f["id"].(string))
	}
	return out
}

// expect checks status and content type and returns the body as a map
// when it is JSON.
func expect(t testing.TB, rec *httptest.ResponseRecorder, status int, ctype string) map[string]any {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body %s", rec.Code, status, clipForLog(rec.Body.Bytes()))
	}
	if ctype != "" && !strings.HasPrefix(rec.Header().Get("Content-Type"), ctype) {
		t.Fatalf("Content-Type %q, want %q", rec.Header().Get("Content-Type"), ctype)
	}
	if strings.Contains(rec.Header().Get("Content-Type"), "json") && rec.Body.Len() > 0 {
		return doc(t, rec)
	}
	return nil
}

// problem checks a problem+json answer and returns it.
func problem(t testing.TB, rec *httptest.ResponseRecorder, status int) map[string]any {
	t.Helper()
	m := expect(t, rec, status, mediaProblem)
	if int(m["status"].(float64)) != status || m["type"] == "" || m["title"] == "" {
		t.Fatalf("malformed problem %v", m)
	}
	if m["request_id"] == "" || m["request_id"] != rec.Header().Get("X-Request-Id") {
		t.Fatalf("problem request_id %v, header %q", m["request_id"], rec.Header().Get("X-Request-Id"))
	}
	return m
}

// problemFields lists the field names a problem blames.
func problemFields(m map[string]any) []string {
	var out []string
	if es, ok := m["errors"].([]any); ok {
		for _, e := range es {
			out = append(out, e.(map[string]any)["field"].(string))
		}
	}
	return out
}

func containsField(fields []string, want string) bool {
	for _, f := range fields {
		if f == want || strings.HasSuffix(f, "."+want) {
			return true
		}
	}
	return false
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// pointFeature is a Feature body for a point component.
func pointFeature(code string, lon, lat float64, props map[string]any) string {
	if props == nil {
		props = map[string]any{}
	}
	props["code"] = code
	return mustJSON(map[string]any{"type": "Feature", "geometry": map[string]any{"type": "Point", "coordinates": []float64{lon, lat}}, "properties": props})
}

// jsonValue decodes a JSON text into a value to embed in a larger body.
func jsonValue(s string) any {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		panic(err)
	}
	return v
}

// doChunked sends the body without a Content-Length.
func (c *city) doChunked(t testing.TB, r req) *httptest.ResponseRecorder {
	t.Helper()
	hr := httptest.NewRequest(r.method, r.path, io.NopCloser(strings.NewReader(r.body)))
	hr.ContentLength = -1
	hr.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	c.srv.Handler().ServeHTTP(rec, hr)
	return rec
}

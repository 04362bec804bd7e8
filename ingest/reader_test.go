package ingest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"citytwin/parts"
)

// dataDir holds the real open-data files (../shared/data beside the
// repository, see its README.md). CITYTWIN_DATA overrides it. Tests that
// need them skip when it is absent, except in CI, where they fail.
func dataDir() string {
	if d := os.Getenv("CITYTWIN_DATA"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared", "data")
}

func openData(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir(), name))
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("real data not available in CI: %v", err)
		}
		t.Skipf("real data not available: %v", err)
	}
	return b
}

// readAll reads every part, collecting row errors; a fatal error is returned.
func readAll(t testing.TB, rd *Reader) ([]parts.Part, []*RowError, error) {
	t.Helper()
	var ps []parts.Part
	var res []*RowError
	for {
		p, err := rd.Next()
		var re *RowError
		switch {
		case err == nil:
			ps = append(ps, p)
		case errors.Is(err, io.EOF):
			return ps, res, nil
		case errors.As(err, &re):
			res = append(res, re)
		default:
			return ps, res, err
		}
	}
}

func mustMapping(t testing.TB, s string) Mapping {
	t.Helper()
	m, err := ParseMapping(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// checkCodes asserts every code is valid, of class cl and county, unique.
func checkCodes(t *testing.T, ps []parts.Part, cl parts.Class, county uint32) {
	t.Helper()
	seen := map[parts.Code]bool{}
	for _, p := range ps {
		if _, err := parts.ParseCode(p.Code.String()); err != nil {
			t.Fatalf("invalid code: %v", err)
		}
		if p.Code.Class() != cl || p.Class != cl || p.Code.County() != county {
			t.Fatalf("code %s class %s, want class %s county %d", p.Code, p.Class, cl, county)
		}
		if seen[p.Code] {
			t.Fatalf("duplicate code %s", p.Code)
		}
		seen[p.Code] = true
	}
}

// sourcePoints decodes the file independently with orb/geojson.
func sourcePoints(t *testing.T, b []byte) []orb.Point {
	t.Helper()
	fc, err := geojson.UnmarshalFeatureCollection(b)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]orb.Point, len(fc.Features))
	for i, f := range fc.Features {
		out[i] = f.Geometry.(orb.Point)
	}
	return out
}

func countBy(ps []parts.Part, key func(parts.Part) string) map[string]int {
	m := map[string]int{}
	for _, p := range ps {
		m[key(p)]++
	}
	return m
}

func TestReaderHydrants(t *testing.T) {
	b := openData(t, "cambridge_INFRA_Hydrants.geojson")
	src := sourcePoints(t, b)
	tests := map[string]struct {
		mapping  string
		imported int
		skipped  int
		owners   map[string]int
		retired  int
		errField string
	}{
		"owner as is": {
			mapping:  "code=HYDRANT_ID,class=0113,owner=ContractAuthority",
			imported: 1960,
			owners:   map[string]int{"CAM": 1676, "fire": 98, "PRIVATE HARVARD": 57, "Cam": 1},
		},
		"owner map": {
			mapping:  "code=HYDRANT_ID,class=0113,owner=ContractAuthority,owner_map=CAM:water|private:private,default_owner=street",
			imported: 1960,
			// CAM and Cam fold together; PRIVATE and Private fold to "private"
			owners: map[string]int{"water": 1677, "street": 98, "private": 52, "PRIVATE HARVARD": 57},
		},
		"state": {
			mapping:  "code=HYDRANT_ID,class=0113,owner=ContractAuthority,state=LIFECYCLESTATUS",
			imported: 1944, skipped: 16, retired: 4, errField: "state", // MITFL is not a known state
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rd, err := NewReader(bytes.NewReader(b), GeoJSON, mustMapping(t, tc.mapping), nil)
			if err != nil {
				t.Fatal(err)
			}
			ps, res, err := readAll(t, rd)
			if err != nil {
				t.Fatal(err)
			}
			st := rd.Stats()
			if len(ps) != tc.imported || st.Imported != tc.imported || st.Skipped != tc.skipped || st.Read != 1960 || len(res) != tc.skipped {
				t.Fatalf("imported %d skipped %d read %d (stats %+v), want %d/%d/1960", len(ps), len(res), st.Read, st.Imported, tc.imported, tc.skipped)
			}
			for _, re := range res {
				if re.Field != tc.errField || !strings.Contains(re.Reason, "MITFL") {
					t.Fatalf("row error %v, want field %s naming MITFL", re, tc.errField)
				}
			}
			if len(st.MissingFields) != 0 {
				t.Errorf("missing fields %v", st.MissingFields)
			}
			checkCodes(t, ps, 113, DefaultCounty)
			owners := countBy(ps, func(p parts.Part) string { return p.Owner })
			for o, n := range tc.owners {
				if owners[o] != n {
					t.Errorf("owner %q: %d parts, want %d (all: %v)", o, owners[o], n, owners)
				}
			}
			if r := countBy(ps, func(p parts.Part) string { return map[bool]string{true: "r"}[p.Retired] })["r"]; r != tc.retired {
				t.Errorf("retired %d, want %d", r, tc.retired)
			}
			if tc.skipped == 0 {
				for i, p := range ps {
					if p.Geometry.(orb.Point) != src[i] {
						t.Fatalf("part %d at %v, source at %v", i, p.Geometry, src[i])
					}
					if p.Supervisor != parts.DeptCityMgmt || p.Source != parts.OtherSource {
						t.Fatalf("part %d supervisor %q source %v", i, p.Supervisor, p.Source)
					}
				}
				if ps[0].SourceID != "PH6000" || ps[0].Note != "" || ps[0].Owner != "PRIVATE HARVARD" && ps[0].Owner != "private" {
					t.Errorf("first part source id %q note %q owner %q", ps[0].SourceID, ps[0].Note, ps[0].Owner)
				}
			}
		})
	}
}

func TestReaderStreetLights(t *testing.T) {
	b := openData(t, "cambridge_INFRA_StreetLights.geojson")
	src := sourcePoints(t, b)
	m := mustMapping(t, "code=PoleID,class=0118,owner=Owner,name=Description,county=320508")
	rd, err := NewReader(bytes.NewReader(b), GeoJSON, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	ps, res, err := readAll(t, rd)
	if err != nil || len(res) != 0 {
		t.Fatalf("err %v, row errors %v", err, res)
	}
	if len(ps) != 6117 {
		t.Fatalf("imported %d, want 6117", len(ps))
	}
	checkCodes(t, ps, 118, 320508)
	owners := countBy(ps, func(p parts.Part) string { return p.Owner })
	want := map[string]int{"City": 5086, "lighting": 1027, "Private": 4}
	for o, n := range want {
		if owners[o] != n {
			t.Errorf("owner %q: %d, want %d", o, owners[o], n)
		}
	}
	for i, p := range ps {
		if p.Geometry.(orb.Point) != src[i] {
			t.Fatalf("part %d at %v, source at %v", i, p.Geometry, src[i])
		}
	}
	if ps[0].Name != "Cobrahead" || ps[0].SourceID != "791-2" || ps[0].Note != "" || ps[0].Code.String() != "3205080118000001" {
		t.Errorf("first part %+v", ps[0])
	}
}

// TestReaderTakenCodes checks generated codes skip codes already stored.
func TestReaderTakenCodes(t *testing.T) {
	in := `{"type":"FeatureCollection","features":[
{"type":"Feature","geometry":{"type":"Point","coordinates":[104.06,30.65]},"properties":{"id":"a"}},
{"type":"Feature","geometry":{"type":"Point","coordinates":[104.07,30.65]},"properties":{"id":"5101040113000003"}},
{"type":"Feature","geometry":{"type":"Point","coordinates":[104.08,30.65]},"properties":{"id":"b"}},
{"type":"Feature","geometry":{"type":"Point","coordinates":[104.09,30.65]},"properties":{"id":"5101040113000001"}}]}`
	rd, err := NewReader(strings.NewReader(in), GeoJSON, mustMapping(t, "code=id,class=0113"), nil)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := parts.ParseCode("5101040113000001")
	rd.Allocator().Take(stored)
	ps, res, err := readAll(t, rd)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, p := range ps {
		got = append(got, p.Code.String())
	}
	if strings.Join(got, " ") != "5101040113000002 5101040113000003 5101040113000004" {
		t.Fatalf("codes %v", got)
	}
	if len(res) != 1 || res[0].Row != 4 || res[0].Field != "code" {
		t.Fatalf("row errors %v, want row 4 code taken", res)
	}
}

func TestReaderCSV(t *testing.T) {
	dir := t.TempDir()
	csvText := "\ufeffCode,Longitude,LAT,Owner,State,Type\n" +
		"5101040118000007,104.0657,30.6574,lighting,ACTIVE,\n" + // 1 ok, code from source
		"L-17,104.0660,30.6580,,damaged,0118\n" + // 2 ok, generated code, catalogue owner
		",104.07,,x,,\n" + // 3 missing lat
		"L-19,abc,30.1,x,,\n" + // 4 lon not a number
		"L-20,1e9,30.1,x,,\n" + // 5 out of range
		"L-21,104.1,30.1,x,,9999\n" + // 6 unknown class
		"L-22,104.1,30.1,x,exploded,\n" + // 7 unknown state
		"5101040118000007,104.1,30.1,x,,\n" + // 8 duplicate code
		"L-24,104.2,\"30.2\",Street Office,removed,\n" + // 9 ok, retired
		"L-25,104.1,95,x,,0405\n" + // 10 latitude out of range
		"5101040113000001,104.1,30.1,x,,0118\n" // 11 code of another class
	path := filepath.Join(dir, "lamps.csv")
	if err := os.WriteFile(path, []byte(csvText), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := mustMapping(t, "code=code,owner=owner,state=state,class=@type,default_class=0118,owner_map=Street Office:street")
	rd, err := NewReader(f, CSV, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	ps, res, err := readAll(t, rd)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 {
		t.Fatalf("imported %d parts, want 3: %+v", len(ps), ps)
	}
	want := []struct {
		code, owner, note string
		state             parts.State
		retired           bool
		at                orb.Point
	}{
		{"5101040118000007", "lighting", "5101040118000007", parts.Intact, false, orb.Point{104.0657, 30.6574}},
		{"5101040118000001", "lighting", "L-17", parts.Damaged, false, orb.Point{104.0660, 30.6580}},
		{"5101040118000002", "street", "L-24", parts.Intact, true, orb.Point{104.2, 30.2}},
	}
	for i, w := range want {
		p := ps[i]
		if p.Code.String() != w.code || p.Owner != w.owner || p.SourceID != w.note || p.State != w.state || p.Retired != w.retired || p.Geometry != w.at {
			t.Errorf("part %d = %+v, want %+v", i, p, w)
		}
	}
	wantErr := []struct {
		row   int
		field string
	}{{3, "lat"}, {4, "lon"}, {5, "geometry"}, {6, "class"}, {7, "state"}, {8, "code"}, {10, "geometry"}, {11, "code"}}
	if len(res) != len(wantErr) {
		t.Fatalf("row errors %v, want %d", res, len(wantErr))
	}
	for i, w := range wantErr {
		if res[i].Row != w.row || res[i].Field != w.field || !strings.HasPrefix(res[i].Error(), "ingest: row ") {
			t.Errorf("row error %d = %v, want row %d field %s", i, res[i], w.row, w.field)
		}
	}
	st := rd.Stats()
	if st.Read != 11 || st.Imported != 3 || st.Skipped != 8 || len(st.Errors) != 8 {
		t.Errorf("stats %+v", st)
	}
}

func TestReaderCSVHeader(t *testing.T) {
	tests := map[string]struct {
		text, mapping, key string
	}{
		"no coordinates":     {"a,b\n1,2\n", "class=0118", "lon"},
		"mapped lon missing": {"lon,lat\n1,2\n", "class=0118,lon=X", "lon"},
		"mapped field typo":  {"lon,lat,owner\n1,2,a\n", "class=0118,owner=ownr", "owner"},
		"no class":           {"lon,lat\n1,2\n", "", "class"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tc.text), CSV, mustMapping(t, tc.mapping), nil)
			var me *MappingError
			if !errors.As(err, &me) || me.Key != tc.key {
				t.Fatalf("err = %v, want a MappingError for %q", err, tc.key)
			}
		})
	}
	if _, err := NewReader(strings.NewReader(""), CSV, Mapping{DefaultClass: 118}, nil); !errors.Is(err, ErrSyntax) {
		t.Fatalf("empty CSV: err = %v, want ErrSyntax", err)
	}
	// semicolons and tabs are detected
	for _, sep := range []string{";", "\t"} {
		in := "x" + sep + "y" + sep + "id\n1.5" + sep + "2.5" + sep + "a\n"
		rd, err := NewReader(strings.NewReader(in), CSV, Mapping{DefaultClass: 118}, nil)
		if err != nil {
			t.Fatal(err)
		}
		p, err := rd.Next()
		if err != nil || p.Geometry != (orb.Point{1.5, 2.5}) {
			t.Fatalf("sep %q: %+v, %v", sep, p, err)
		}
	}
}

func TestReaderSequence(t *testing.T) {
	tests := map[string]struct {
		in       string
		imported int
		errRows  []int
	}{
		"rfc 8142": {
			in: "\x1e" + `{"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[104.06,30.65]},"properties":{"kind":"消防设施"}}` + "\n" +
				"\x1e" + `{"type":"Feature","geometry":{"type":"MultiPoint","coordinates":[[104.07,30.66]]},"properties":{"kind":"113"}}` + "\n",
			imported: 2,
		},
		"newline delimited with a bad line": {
			in: `{"type":"Feature","geometry":{"type":"Point","coordinates":[104.06,30.65]},"properties":{"kind":"fire hydrant"}}` + "\n\n" +
				`{"type":"Feature","geometry":{"type":"Point","coordinates":[104.06,30.6` + "\n" + // truncated text
				`{"type":"Feature","geometry":{"type":"Point","coordinates":[104.08,30.65]},"properties":{"kind":113}}` + "\r\n",
			imported: 2, errRows: []int{2},
		},
		"a collection in a sequence": {
			in:       `{"type":"FeatureCollection","features":[]}` + "\n",
			imported: 0, errRows: []int{1},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rd, err := NewReader(strings.NewReader(tc.in), GeoJSONSeq, mustMapping(t, "class=@kind"), nil)
			if err != nil {
				t.Fatal(err)
			}
			ps, res, err := readAll(t, rd)
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) != tc.imported || len(res) != len(tc.errRows) {
				t.Fatalf("imported %d, errors %v", len(ps), res)
			}
			for i, r := range tc.errRows {
				if res[i].Row != r {
					t.Errorf("error %v, want row %d", res[i], r)
				}
			}
			for _, p := range ps {
				if p.Class != 113 || p.Owner != parts.DeptFire {
					t.Errorf("part %+v", p)
				}
			}
		})
	}
}

func TestReaderGCJ02(t *testing.T) {
	w := orb.Point{104.0657, 30.6574}
	g := GCJ02FromWGS84(w)
	in := `{"type":"Feature","geometry":{"type":"Point","coordinates":[` +
		strings.Join([]string{ftoa(g[0]), ftoa(g[1])}, ",") + `]},"properties":{}}`
	for name, tc := range map[string]struct {
		gcj  bool
		want orb.Point
	}{"converted": {true, w}, "as is": {false, g}} {
		t.Run(name, func(t *testing.T) {
			rd, err := NewReader(strings.NewReader(in), GeoJSON, Mapping{DefaultClass: 113, GCJ02: tc.gcj}, nil)
			if err != nil {
				t.Fatal(err)
			}
			p, err := rd.Next()
			if err != nil {
				t.Fatal(err)
			}
			got := p.Geometry.(orb.Point)
			if d := (got[0]-tc.want[0])*(got[0]-tc.want[0]) + (got[1]-tc.want[1])*(got[1]-tc.want[1]); d > 1e-14 {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if _, err := rd.Next(); !errors.Is(err, io.EOF) {
				t.Fatalf("after the single feature: %v, want EOF", err)
			}
		})
	}
}

func TestReaderBadGeoJSON(t *testing.T) {
	pt := func(geom string) string {
		return `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":` + geom + `,"properties":{"c":"0113"}}]}`
	}
	tests := map[string]struct {
		in     string
		field  string // a row error on this field
		fatal  bool   // a *SyntaxError instead
		reason string
	}{
		"truncated json":      {in: `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Po`, fatal: true},
		"truncated after one": {in: strings.TrimSuffix(pt(`{"type":"Point","coordinates":[1,2]}`), `"}}]}`), fatal: true},
		"empty input":         {in: ``, fatal: true},
		"not an object":       {in: `[1,2]`, fatal: true},
		"features not array":  {in: `{"type":"FeatureCollection","features":5}`, fatal: true},
		"not geojson":         {in: `{"a":1}`, fatal: true},
		"geometry object":     {in: `{"type":"Point","coordinates":[1,2]}`, fatal: true},
		"wrong geometry type": {in: pt(`{"type":"LineString","coordinates":[[1,2],[3,4]]}`), field: "geometry", reason: "accepts a point, got a line"},
		"unsupported type":    {in: pt(`{"type":"GeometryCollection","geometries":[]}`), field: "geometry", reason: "GeometryCollection"},
		"multi of two":        {in: pt(`{"type":"MultiPoint","coordinates":[[1,2],[3,4]]}`), field: "geometry", reason: "2 points"},
		"missing geometry":    {in: pt(`null`), field: "geometry", reason: "missing"},
		"missing coordinates": {in: pt(`{"type":"Point"}`), field: "geometry", reason: "no coordinates"},
		"short position":      {in: pt(`{"type":"Point","coordinates":[1]}`), field: "geometry", reason: "1 numbers"},
		"string coordinates":  {in: pt(`{"type":"Point","coordinates":["1","2"]}`), field: "geometry", reason: "coordinates"},
		"huge coordinate":     {in: pt(`{"type":"Point","coordinates":[1e9,2]}`), field: "geometry", reason: "outside"},
		"open ring":           {in: pt(`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`), field: "geometry", reason: "not closed"},
		"feature is a number": {in: `{"type":"FeatureCollection","features":[5]}`, field: "feature"},
		"feature of bad type": {in: `{"type":"FeatureCollection","features":[{"type":"Point"}]}`, field: "type"},
		"unknown class":       {in: `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"c":"0199"}}]}`, field: "class", reason: "0199"},
		"not a class":         {in: `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"c":"pipe"}}]}`, field: "class", reason: "pipe"},
		"bad grid":            {in: `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"c":"0113","g":"123"}}]}`, field: "grid"},
		"bad 16 digit code":   {in: `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"c":"0113","k":"0000000113000001"}}]}`, field: "code", reason: "county"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rd, err := NewReader(strings.NewReader(tc.in), GeoJSON, mustMapping(t, "class=@c,grid=g,code=k"), nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = rd.Next()
			if tc.fatal {
				var se *SyntaxError
				if !errors.As(err, &se) || !errors.Is(err, ErrSyntax) {
					t.Fatalf("err = %v, want a *SyntaxError", err)
				}
				if _, again := rd.Next(); again != err {
					t.Fatalf("after a fatal error Next returned %v", again)
				}
				if st := rd.Stats(); len(st.Errors) != 1 || st.Errors[0].Field != "input" {
					t.Fatalf("stats errors %v", st.Errors)
				}
				return
			}
			var re *RowError
			if !errors.As(err, &re) || re.Field != tc.field || re.Row != 1 || !strings.Contains(re.Reason, tc.reason) || !errors.Is(err, ErrRow) {
				t.Fatalf("err = %v, want row 1 field %q reason containing %q", err, tc.field, tc.reason)
			}
			if _, err := rd.Next(); !errors.Is(err, io.EOF) {
				t.Fatalf("after the bad row: %v, want EOF", err)
			}
		})
	}
}

func TestReaderGeometries(t *testing.T) {
	in := `{"features":[
{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]},"properties":{"c":"0405"}},
{"type":"Feature","geometry":{"type":"MultiLineString","coordinates":[[[0,0],[1,1,5]]]},"properties":{"c":"0211"}},
{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]},"properties":{"c":"0602"}}
],"type":"FeatureCollection"}`
	rd, err := NewReader(strings.NewReader(in), GeoJSON, mustMapping(t, "class=@c"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ps, res, err := readAll(t, rd)
	if err != nil || len(res) != 0 || len(ps) != 3 {
		t.Fatalf("parts %d, errors %v, %v", len(ps), res, err)
	}
	if _, ok := ps[0].Geometry.(orb.Polygon); !ok {
		t.Errorf("part 0 is %T", ps[0].Geometry)
	}
	if l, ok := ps[1].Geometry.(orb.LineString); !ok || l[1] != (orb.Point{1, 1}) {
		t.Errorf("part 1 is %#v", ps[1].Geometry)
	}
	if ps[2].Owner != parts.DeptStreet {
		t.Errorf("part 2 owner %q", ps[2].Owner)
	}
}

func TestReaderStatsErrorsCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("lon,lat\n")
	for range 250 {
		b.WriteString("x,1\n")
	}
	rd, err := NewReader(strings.NewReader(b.String()), CSV, Mapping{DefaultClass: 113}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := readAll(t, rd); err != nil {
		t.Fatal(err)
	}
	if st := rd.Stats(); st.Read != 250 || st.Skipped != 250 || len(st.Errors) != 100 || st.Errors[99].Row != 100 {
		t.Fatalf("stats read %d skipped %d errors %d", st.Read, st.Skipped, len(st.Errors))
	}
}

func TestReaderMissingFields(t *testing.T) {
	in := `{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"Owner":"x"}}`
	rd, err := NewReader(strings.NewReader(in), GeoJSON, mustMapping(t, "class=0113,owner=owner,name=Nmae"), nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := rd.Next()
	if err != nil || p.Owner != "x" {
		t.Fatalf("%+v %v", p, err)
	}
	if st := rd.Stats(); len(st.MissingFields) != 1 || st.MissingFields[0] != "Nmae" {
		t.Fatalf("missing fields %v, want [Nmae]", st.MissingFields)
	}
}

func TestParseState(t *testing.T) {
	tests := map[string]struct {
		st      parts.State
		retired bool
		ok      bool
	}{
		"":            {parts.Intact, false, true},
		"完好":          {parts.Intact, false, true},
		" In Service": {parts.Intact, false, true},
		"ACT":         {parts.Intact, false, true},
		"破损":          {parts.Damaged, false, true},
		"Missing":     {parts.Missing, false, true},
		"3":           {parts.Occupied, false, true},
		"ABANDONED":   {parts.Intact, true, true},
		"作废":          {parts.Intact, true, true},
		"MITFL":       {parts.Intact, false, false},
	}
	for in, w := range tests {
		st, r, ok := ParseState(in)
		if ok != w.ok || ok && (st != w.st || r != w.retired) {
			t.Errorf("ParseState(%q) = %v %v %v, want %v %v %v", in, st, r, ok, w.st, w.retired, w.ok)
		}
	}
}

func TestReaderFeatureID(t *testing.T) {
	in := "\x1e" + `{"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[104.06,30.65]},"properties":{"Note":"red","owner":null}}` + "\n" +
		"\x1e" + `{"type":"Feature","id":"x","geometry":{"type":"Point","coordinates":[104.06,30.65]},"properties":{"ID":"own"}}` + "\n"
	rd, err := NewReader(strings.NewReader(in), GeoJSONSeq, mustMapping(t, "code=id,note=note,owner=owner,class=0113"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ps, res, err := readAll(t, rd)
	if err != nil || len(res) != 0 || len(ps) != 2 {
		t.Fatalf("%v %v %v", ps, res, err)
	}
	if ps[0].SourceID != "7" || ps[0].Note != "red" || ps[0].Owner != parts.DeptFire {
		t.Errorf("part 0 source id %q note %q owner %q", ps[0].SourceID, ps[0].Note, ps[0].Owner)
	}
	if ps[1].SourceID != "own" { // a property named ID wins over the feature id
		t.Errorf("part 1 source id %q", ps[1].SourceID)
	}
}

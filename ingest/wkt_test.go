package ingest

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

func TestParseWKT(t *testing.T) {
	tests := map[string]struct {
		in   string
		want orb.Geometry
		err  string
	}{
		"point":          {in: "POINT (104.06 30.65)", want: orb.Point{104.06, 30.65}},
		"lower case":     {in: " point(104.06 30.65) ", want: orb.Point{104.06, 30.65}},
		"ewkt":           {in: "SRID=4326;POINT(1 2)", want: orb.Point{1, 2}},
		"z":              {in: "POINT Z (1 2 3)", want: orb.Point{1, 2}},
		"fused zm":       {in: "POINTZM (1 2 3 4)", want: orb.Point{1, 2}},
		"line":           {in: "LINESTRING (1 2, 3 4)", want: orb.LineString{{1, 2}, {3, 4}}},
		"polygon":        {in: "POLYGON ((0 0, 1 0, 1 1, 0 0))", want: orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}},
		"multi of one":   {in: "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)))", want: orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}},
		"multipoint":     {in: "MULTIPOINT (1 2)", want: orb.Point{1, 2}},
		"multi of two":   {in: "MULTIPOINT ((1 2), (3 4))", err: "only one member"},
		"other srid":     {in: "SRID=3857;POINT(1 2)", err: "SRID 3857"},
		"empty":          {in: "POINT EMPTY", err: "EMPTY"},
		"open ring":      {in: "POLYGON ((0 0, 1 0, 1 1, 0 1))", err: "not closed"},
		"out of range":   {in: "POINT (200 1)", err: "outside"},
		"trailing":       {in: "POINT (1 2) x", err: "unexpected text"},
		"not a number":   {in: "POINT (a 2)", err: "want a number"},
		"unknown type":   {in: "CIRCLE (1 2)", err: "not supported"},
		"collection":     {in: "GEOMETRYCOLLECTION (POINT (1 2))", err: "not supported"},
		"unterminated":   {in: "LINESTRING (1 2, 3 4", err: "want , or )"},
		"short line":     {in: "LINESTRING (1 2)", err: "at least 2"},
		"short ring":     {in: "POLYGON ((0 0, 1 0, 0 0))", err: "at least 4"},
		"nested garbage": {in: "MULTIPOLYGON ((((0 0", err: "WKT"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g, err := ParseWKT(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseWKT(%q) = %v, %v; want an error containing %q", tc.in, g, err, tc.err)
				}
				return
			}
			if err != nil || !orb.Equal(g, tc.want) {
				t.Fatalf("ParseWKT(%q) = %v, %v; want %v", tc.in, g, err, tc.want)
			}
		})
	}
}

// TestCSVGeometryColumn reads a CSV whose geometry is a column of WKT or
// GeoJSON text.
func TestCSVGeometryColumn(t *testing.T) {
	in := "id,kind,shape\n" +
		`1,0203,"POLYGON ((104.06 30.65, 104.0601 30.65, 104.0601 30.6501, 104.06 30.65))"` + "\n" +
		`2,0407,"{""type"":""LineString"",""coordinates"":[[104.06,30.65],[104.06002,30.65]]}"` + "\n" +
		`3,0118,POINT (104.07 30.66)` + "\n" +
		`4,0118,"LINESTRING (104 30, 104.1 30.1)"` + "\n" + // a lamp is no line
		`5,0118,"{""type"":""Point"""` + "\n" + // broken JSON
		`6,0118,` + "\n"
	rd, err := NewReader(strings.NewReader(in), CSV, mustMapping(t, "code=id,class=@kind,geometry=shape"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	var bad []int
	for {
		p, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *RowError
		if errors.As(err, &re) {
			if re.Field != "geometry" {
				t.Errorf("row %d: field %s: %v", re.Row, re.Field, re)
			}
			bad = append(bad, re.Row)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, p.Geometry.GeoJSONType())
	}
	if strings.Join(kinds, ",") != "Polygon,LineString,Point" || len(bad) != 3 {
		t.Fatalf("geometries %v, bad rows %v", kinds, bad)
	}
	if _, err := NewReader(strings.NewReader("id,x\n1,2\n"), CSV, mustMapping(t, "class=0118,geometry=WKT"), nil); err == nil {
		t.Error("a missing geometry column was accepted")
	}
}

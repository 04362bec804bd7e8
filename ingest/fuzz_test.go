package ingest

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"citytwin/parts"

	"github.com/paulmach/orb"
)

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// drain reads everything, checking the Reader's contract: parts valid with
// unique codes, errors typed, the stream ends.
func drain(t *testing.T, rd *Reader, cat *parts.Catalogue) {
	seen := map[parts.Code]bool{}
	for i := 0; ; i++ {
		if i > 1<<20 {
			t.Fatal("reader does not end")
		}
		p, err := rd.Next()
		var re *RowError
		var se *SyntaxError
		switch {
		case err == nil:
			if verr := p.Validate(cat); verr != nil {
				t.Fatalf("Next returned an invalid part: %v", verr)
			}
			if seen[p.Code] {
				t.Fatalf("duplicate code %s", p.Code)
			}
			seen[p.Code] = true
		case errors.Is(err, io.EOF):
			return
		case errors.As(err, &re):
		case errors.As(err, &se):
			return
		default:
			t.Fatalf("untyped error %T %v", err, err)
		}
	}
}

func FuzzReaderGeoJSON(f *testing.F) {
	for _, s := range []string{
		`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[104.1,30.6]},"properties":{"c":"0113","k":"x"}}]}`,
		`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]},"properties":{"c":"0405"}}`,
		`{"features":[{"type":"Feature","geometry":{"type":"MultiLineString","coordinates":[[[0,0],[1,1]]]},"properties":{"c":"0211","k":"5101040211000001"}}],"type":"FeatureCollection"}`,
		"\x1e{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[1,2]},\"properties\":{}}\n",
		`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Po`,
		`{"type":"FeatureCollection","features":[5,null,{}]}`,
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	cat := parts.DefaultCatalogue()
	f.Fuzz(func(t *testing.T, in string, seq bool) {
		format := GeoJSON
		if seq {
			format = GeoJSONSeq
		}
		m := Mapping{Class: "c", Code: "k", Owner: "o", State: "s", Grid: "g", DefaultClass: 113, GCJ02: len(in)%2 == 0}
		rd, err := NewReader(strings.NewReader(in), format, m, cat)
		if err != nil {
			t.Fatal(err)
		}
		drain(t, rd, cat)
	})
}

func FuzzReaderCSV(f *testing.F) {
	for _, s := range []string{
		"lon,lat,code,class\n104.1,30.6,x,0113\n104.2,30.7,5101040113000001,\n",
		"x;y;code\n1;2;\"a\"\"b\"\n",
		"lon,lat\n1e9,2\n,\nabc,1\n",
		"lon,lat,class\n1,2,\"open\n",
		"\ufefflongitude\tlatitude\n1\t2\n",
	} {
		f.Add(s)
	}
	cat := parts.DefaultCatalogue()
	f.Fuzz(func(t *testing.T, in string) {
		rd, err := NewReader(strings.NewReader(in), CSV, Mapping{DefaultClass: 118}, cat)
		if err != nil {
			var me *MappingError
			var se *SyntaxError
			if !errors.As(err, &me) && !errors.As(err, &se) {
				t.Fatalf("NewReader: untyped error %T %v", err, err)
			}
			return
		}
		drain(t, rd, cat)
	})
}

// FuzzParseWKT: ParseWKT never panics, and what it accepts is a Point,
// LineString or Polygon with coordinates in range.
func FuzzParseWKT(f *testing.F) {
	for _, s := range []string{
		"POINT (104.06 30.65)", "point(1 2)", "SRID=4326;POINT Z (1 2 3)", "POINTZ(1 2 3)",
		"LINESTRING (1 2, 3 4)", "POLYGON ((0 0, 1 0, 1 1, 0 0))", "POLYGON((0 0,1 0,1 1,0 0),(0.1 0.1,0.2 0.1,0.2 0.2,0.1 0.1))",
		"MULTIPOINT ((1 2))", "MULTIPOINT (1 2)", "MULTILINESTRING ((1 2, 3 4))", "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)))",
		"POINT EMPTY", "GEOMETRYCOLLECTION (POINT (1 2))", "POINT (1e400 2)", "POLYGON ((0 0, 1 0, 1 1))", "", "(((((",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := ParseWKT(s)
		if err != nil {
			return
		}
		switch g := g.(type) {
		case orb.Point:
			if checkPoint(g) != nil {
				t.Fatalf("%q: point %v out of range", s, g)
			}
		case orb.LineString:
			if len(g) < 2 {
				t.Fatalf("%q: line of %d points", s, len(g))
			}
		case orb.Polygon:
			for _, r := range g {
				if len(r) < 4 || r[0] != r[len(r)-1] {
					t.Fatalf("%q: bad ring %v", s, r)
				}
			}
		default:
			t.Fatalf("%q: %T", s, g)
		}
	})
}

// FuzzOSMPBF: the PBF reader never panics and always ends on any input.
func FuzzOSMPBF(f *testing.F) {
	f.Add([]byte{0, 0, 0, 13, 10, 9, 'O', 'S', 'M', 'H', 'e', 'a', 'd', 'e', 'r', 24, 0})
	f.Add([]byte{0, 0, 0, 2, 24, 5, 10, 3, 8, 1, 16})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		rd := newPBFReader(strings.NewReader(string(b)))
		for i := 0; i < 1<<16; i++ {
			if _, err := rd.next(); err != nil {
				return
			}
		}
	})
}

package ingest

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"citytwin/parts"
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

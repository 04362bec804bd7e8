package ingest

import (
	"errors"
	"testing"
)

func TestDetectFormat(t *testing.T) {
	tests := map[string]struct {
		name string
		head string
		want Format
		err  bool
	}{
		"csv by extension":         {"a.CSV", `{"type":"x"}`, CSV, false},
		"ndjson by extension":      {"a.ndjson", "", GeoJSONSeq, false},
		"geojsonl by extension":    {"a.geojsonl", "", GeoJSONSeq, false},
		"feature collection":       {"a.geojson", `{"type":"FeatureCollection","features":[]}`, GeoJSON, false},
		"pretty collection":        {"a.json", "{\n  \"type\": \"FeatureCollection\",\n  \"features\": [\n    {\n", GeoJSON, false},
		"one-line collection then": {"x", "{\"type\":\"FeatureCollection\",\"features\":[]}\n{}\n", GeoJSON, false},
		"rfc 8142 sequence":        {"a.geojson", "\x1e{\"type\":\"Feature\"}\n", GeoJSONSeq, false},
		"newline sequence":         {"a.json", "{\"type\":\"Feature\"}\n{\"type\":\"Feature\"}\n", GeoJSONSeq, false},
		"single feature":           {"a.json", "{\"type\":\"Feature\"}\n", GeoJSON, false},
		"bom and spaces":           {"data", "\xef\xbb\xbf  {\"type\":\"FeatureCollection\"", GeoJSON, false},
		"csv by content":           {"data", "lon,lat,code\n1,2,3\n", CSV, false},
		"semicolon csv":            {"data", "lon;lat\n", CSV, false},
		"empty":                    {"data", "  \n", "", true},
		"json array":               {"data", "[1,2]", "", true},
		"plain text":               {"data", "hello world\n", "", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := DetectFormat(tc.name, []byte(tc.head))
			if tc.err {
				if !errors.Is(err, ErrUnknownFormat) {
					t.Fatalf("err = %v, want ErrUnknownFormat", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("DetectFormat = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"GeoJSON": GeoJSON, "ndjson": GeoJSONSeq, "geojsonseq": GeoJSONSeq, " csv ": CSV} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseFormat("shp"); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("ParseFormat(shp) err = %v, want ErrUnknownFormat", err)
	}
}

package ingest

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
)

// Format is an input format.
type Format string

// Supported formats.
const (
	GeoJSON    Format = "geojson"    // a FeatureCollection (or one Feature)
	GeoJSONSeq Format = "geojsonseq" // RFC 8142 (RS-separated) or newline-delimited Features
	CSV        Format = "csv"        // a header row, then lon/lat columns (or a WKT/GeoJSON column) and fields
	OSM        Format = "osm"        // an OpenStreetMap PBF extract (.osm.pbf), mapped by tag rules
	// Features are records handed over by the caller (NewFeatureReader),
	// such as the rows of a GeoPackage layer.
	Features Format = "features"
)

// ParseFormat accepts "geojson", "geojsonseq" (or "ndjson", "geojsonl") and
// "csv", in any case.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "geojson", "json":
		return GeoJSON, nil
	case "geojsonseq", "geojsons", "geojsonl", "ndjson", "jsonl", "seq":
		return GeoJSONSeq, nil
	case "csv", "tsv":
		return CSV, nil
	case "osm", "pbf", "osm.pbf", "osmpbf":
		return OSM, nil
	}
	return "", &FormatError{Name: s, Reason: "not one of geojson, geojsonseq, csv, osm"}
}

// DetectFormat tells the format of a file from its name and its first bytes
// (a few kilobytes are enough). Extensions .csv/.tsv/.txt and
// .geojsonl/.geojsons/.geojsonseq/.ndjson/.jsonl decide alone; for .json,
// .geojson or any other name the content decides: a leading RS (0x1E) is a
// sequence, a first line that is a whole JSON object followed by another is
// a newline-delimited sequence, other JSON is GeoJSON, and a first line with
// commas, semicolons or tabs is CSV.
func DetectFormat(name string, head []byte) (Format, error) {
	if strings.HasSuffix(strings.ToLower(name), ".pbf") {
		return OSM, nil
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv", ".tsv", ".txt":
		return CSV, nil
	case ".geojsonl", ".geojsons", ".geojsonseq", ".ndjson", ".jsonl":
		return GeoJSONSeq, nil
	}
	h := bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	h = bytes.TrimLeft(h, " \t\r\n")
	if len(h) == 0 {
		return "", &FormatError{Name: name, Reason: "empty input"}
	}
	switch h[0] {
	case 0x1e:
		return GeoJSONSeq, nil
	case '{':
		line, rest, more := bytes.Cut(h, []byte("\n"))
		line = bytes.TrimSpace(line)
		if json.Valid(line) {
			var t struct {
				Type string `json:"type"`
			}
			_ = json.Unmarshal(line, &t)
			if t.Type != "FeatureCollection" && more && len(bytes.TrimSpace(rest)) > 0 {
				return GeoJSONSeq, nil
			}
		}
		return GeoJSON, nil
	case '[':
		return "", &FormatError{Name: name, Reason: "a JSON array is not GeoJSON (want a FeatureCollection)"}
	}
	line, _, _ := bytes.Cut(h, []byte("\n"))
	if bytes.ContainsAny(line, ",;\t") {
		return CSV, nil
	}
	return "", &FormatError{Name: name, Reason: "neither JSON nor a CSV header"}
}

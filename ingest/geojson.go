package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// source yields records: io.EOF at the end, a *RowError for a record that
// cannot be read but can be skipped, any other error when the stream is
// broken.
type source interface {
	next() (record, error)
}

// rawFeature is a GeoJSON Feature before its geometry is read.
type rawFeature struct {
	Type       string          `json:"type"`
	ID         json.RawMessage `json:"id"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties json.RawMessage `json:"properties"`
}

// featureRecord parses one Feature object.
func featureRecord(row int, raw []byte) (record, error) {
	var f rawFeature
	if err := json.Unmarshal(raw, &f); err != nil {
		return record{}, &RowError{Row: row, Field: "feature", Reason: "not a GeoJSON Feature object: " + err.Error()}
	}
	return makeFeatureRecord(row, f)
}

func makeFeatureRecord(row int, f rawFeature) (record, error) {
	if f.Type != "Feature" {
		if f.Type == "" {
			return record{}, &RowError{Row: row, Field: "type", Reason: "no \"type\": \"Feature\""}
		}
		return record{}, &RowError{Row: row, Field: "type", Reason: fmt.Sprintf("type %q is not Feature", f.Type)}
	}
	props := bytes.TrimSpace(f.Properties)
	switch {
	case len(props) == 0 || string(props) == "null":
		props = nil
	case props[0] != '{':
		return record{}, &RowError{Row: row, Field: "properties", Reason: "not a JSON object"}
	}
	rec := record{row: row, fields: featureFields{props: props, id: f.ID}}
	rec.geom, rec.geomErr = decodeGeometry(f.Geometry)
	return rec, nil
}

// collectionSource walks a FeatureCollection token by token, decoding one
// feature at a time, so memory holds one feature, not the file. A top-level
// single Feature is read as a collection of one.
type collectionSource struct {
	dec   *json.Decoder
	state int
	row   int
	// top keeps the small top-level members other than "features", to read
	// a top-level Feature and to check the type.
	top         map[string]json.RawMessage
	sawFeatures bool
}

const (
	csStart = iota
	csObject
	csFeatures
	csDone
)

func newCollectionSource(r io.Reader) *collectionSource {
	return &collectionSource{dec: json.NewDecoder(r), top: map[string]json.RawMessage{}}
}

func (s *collectionSource) broken(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	s.state = csDone
	return &SyntaxError{Format: GeoJSON, Row: s.row, Err: err}
}

func (s *collectionSource) next() (record, error) {
	for {
		switch s.state {
		case csStart:
			tok, err := s.dec.Token()
			if err != nil {
				return record{}, s.broken(err)
			}
			if d, ok := tok.(json.Delim); !ok || d != '{' {
				return record{}, s.broken(fmt.Errorf("want a JSON object (a FeatureCollection), got %v", tok))
			}
			s.state = csObject
		case csObject:
			if !s.dec.More() {
				if _, err := s.dec.Token(); err != nil { // the closing '}'
					return record{}, s.broken(err)
				}
				s.state = csDone
				return s.finish()
			}
			tok, err := s.dec.Token()
			if err != nil {
				return record{}, s.broken(err)
			}
			key, _ := tok.(string)
			if key == "features" {
				tok, err := s.dec.Token()
				if err != nil {
					return record{}, s.broken(err)
				}
				if d, ok := tok.(json.Delim); !ok || d != '[' {
					if tok == nil { // "features": null
						continue
					}
					return record{}, s.broken(fmt.Errorf("\"features\" is %v, want an array", tok))
				}
				s.sawFeatures = true
				s.state = csFeatures
				continue
			}
			var raw json.RawMessage
			if err := s.dec.Decode(&raw); err != nil {
				return record{}, s.broken(err)
			}
			switch key {
			case "type", "id", "geometry", "properties":
				s.top[key] = raw
			}
		case csFeatures:
			if !s.dec.More() {
				if _, err := s.dec.Token(); err != nil { // the closing ']'
					return record{}, s.broken(err)
				}
				s.state = csObject
				continue
			}
			// Decode scans the whole value before unmarshalling it, so a
			// type error leaves the decoder after the feature: the row can
			// be skipped. A syntax error (or no progress) breaks the stream.
			before := s.dec.InputOffset()
			var f rawFeature
			err := s.dec.Decode(&f)
			s.row++
			if err != nil {
				var se *json.SyntaxError
				if errors.As(err, &se) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || s.dec.InputOffset() == before {
					s.row--
					return record{}, s.broken(err)
				}
				return record{}, &RowError{Row: s.row, Field: "feature", Reason: "not a GeoJSON Feature object: " + err.Error()}
			}
			return makeFeatureRecord(s.row, f)
		default:
			return record{}, io.EOF
		}
	}
}

// finish ends the top-level object: a Feature is returned as the only
// record, a FeatureCollection ends, anything else is an error.
func (s *collectionSource) finish() (record, error) {
	var typ string
	if raw, ok := s.top["type"]; ok {
		_ = json.Unmarshal(raw, &typ)
	}
	switch {
	case typ == "Feature" && !s.sawFeatures:
		s.row++
		var f rawFeature
		f.Type = typ
		f.ID = s.top["id"]
		f.Geometry = s.top["geometry"]
		f.Properties = s.top["properties"]
		return makeFeatureRecord(s.row, f)
	case typ == "FeatureCollection" || s.sawFeatures:
		return record{}, io.EOF
	case typ == "":
		return record{}, &SyntaxError{Format: GeoJSON, Row: s.row, Err: errors.New("no \"type\" and no \"features\": not GeoJSON")}
	}
	return record{}, &SyntaxError{Format: GeoJSON, Row: s.row, Err: fmt.Errorf("type %q is not a FeatureCollection or Feature", typ)}
}

// maxText is the longest GeoJSON text in a sequence.
const maxText = 64 << 20

// sequenceSource reads GeoJSON text sequences: RFC 8142 (each text starts
// with RS, 0x1E) or newline-delimited, one Feature per text.
type sequenceSource struct {
	sc  *bufio.Scanner
	row int
}

func newSequenceSource(r io.Reader) *sequenceSource {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxText)
	sc.Split(splitSequence)
	return &sequenceSource{sc: sc}
}

// splitSequence splits at RS and LF.
func splitSequence(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexAny(data, "\x1e\n"); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

func (s *sequenceSource) next() (record, error) {
	for s.sc.Scan() {
		text := bytes.TrimSpace(s.sc.Bytes())
		if len(text) == 0 {
			continue
		}
		s.row++
		return featureRecord(s.row, text)
	}
	if err := s.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("a text is longer than %d bytes", maxText)
		}
		return record{}, &SyntaxError{Format: GeoJSONSeq, Row: s.row, Err: err}
	}
	return record{}, io.EOF
}

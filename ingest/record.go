package ingest

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/paulmach/orb"
)

// record is one input record before mapping: its row, a way to read its
// fields, and its geometry or the reason it has none.
type record struct {
	row    int
	fields fields
	geom   orb.Geometry
	// geomErr is a *geometryError (GeoJSON) or a *RowError naming lon/lat
	// (CSV).
	geomErr error
}

// fields reads a record's source fields by name: exact match first, then
// case-insensitive. ok is false when the record has no such field or its
// value is null.
type fields interface {
	lookup(name string) (value string, ok bool)
}

// featureFields are the properties of a GeoJSON feature, kept raw and
// scanned for each mapped field (cheaper than decoding every property into
// a map), plus its feature-level "id" for a name ("id") that no property
// has.
type featureFields struct {
	props json.RawMessage // an object, or empty
	id    json.RawMessage
}

func (f featureFields) lookup(name string) (string, bool) {
	var exact, folded []byte
	eachMember(f.props, func(key, raw []byte) bool {
		if keyIs(key, name, false) {
			exact = raw
			return false
		}
		if folded == nil && keyIs(key, name, true) {
			folded = raw
		}
		return true
	})
	raw := exact
	if raw == nil {
		raw = folded
	}
	if raw == nil && strings.EqualFold(name, "id") {
		raw = f.id
	}
	if raw == nil {
		return "", false
	}
	return jsonText(raw)
}

// jsonText renders a JSON value as a field value: a string as itself, null
// as absent, anything else (numbers, booleans, objects) as its JSON text.
func jsonText(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return string(raw), true
		}
		return s, true
	}
	return string(raw), true
}

// csvFields is one CSV record read through its header.
type csvFields struct {
	index map[string]int // header name -> column
	fold  map[string]int // lower-cased header name -> column
	rec   []string
}

func (f csvFields) lookup(name string) (string, bool) {
	i, ok := f.index[name]
	if !ok {
		i, ok = f.fold[strings.ToLower(name)]
	}
	if !ok || i >= len(f.rec) {
		return "", false
	}
	return f.rec[i], true
}

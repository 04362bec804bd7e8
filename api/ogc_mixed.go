package api

import (
	"encoding/base64"
	"encoding/binary"
	"strings"
	"sync"

	"github.com/paulmach/orb"

	"citytwin/parts"
	"citytwin/twin"
)

// The parts collection holds points, lines and polygons. OGC API -
// Features core cannot declare a collection's geometry type, so GDAL
// (3.6: OGROAPIFLayer::EstablishFeatureDefn) and QGIS type a layer from
// the first page of items (GDAL asks for limit=10): a first page of
// points only makes the layer Point, and ogr2ogr then warns on every line
// and polygon it copies into a GeoPackage. So the first page of the
// unfiltered collection starts with one component of each geometry kind
// the city has (its representatives), and the cursor carries their codes
// so that later pages leave them out: every component is still listed
// exactly once and numberMatched is unchanged. Filtered or bbox queries
// are in plain code order.

// mixedCursorPrefix marks a cursor that carries representatives.
const mixedCursorPrefix = "m."

// geometryKind is the kind of a geometry: 0 point, 1 line, 2 polygon.
func geometryKind(g orb.Geometry) int {
	switch g.(type) {
	case orb.LineString, orb.MultiLineString:
		return 1
	case orb.Polygon, orb.MultiPolygon:
		return 2
	}
	return 0
}

// representatives keeps one live component per geometry kind, found by a
// scan that stops when every kind is found, and dropped when a change
// touches one of them or could add a missing kind.
type representatives struct {
	reg *parts.Registry

	mu    sync.Mutex
	valid bool
	codes []parts.Code
}

func newRepresentatives(tw *twin.Twin) *representatives {
	r := &representatives{reg: tw.Parts()}
	tw.OnChange(func(c twin.Change) {
		if c.IsPart() {
			r.mu.Lock()
			r.valid = false
			r.mu.Unlock()
		}
	})
	return r
}

// get returns the representatives in kind order (one per kind present).
func (r *representatives) get() []parts.Code {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.valid {
		return r.codes
	}
	var found [3]parts.Code
	var has [3]bool
	n := 0
	r.reg.Each(func(p parts.Part) bool {
		if p.Retired || p.Geometry == nil {
			return true
		}
		if k := geometryKind(p.Geometry); !has[k] {
			found[k], has[k] = p.Code, true
			n++
		}
		return n < 3
	})
	// A new slice: callers read the one they were given outside the lock.
	r.codes = nil
	for k := range found {
		if has[k] {
			r.codes = append(r.codes, found[k])
		}
	}
	r.valid = true
	return r.codes
}

// encodeMixedCursor is a cursor with the representatives of the first
// page and the registry's cursor.
func encodeMixedCursor(reps []parts.Code, inner string) string {
	if inner == "" {
		return ""
	}
	b := make([]byte, 0, 8*len(reps))
	for _, c := range reps {
		b = binary.BigEndian.AppendUint64(b, uint64(c))
	}
	return mixedCursorPrefix + base64.RawURLEncoding.EncodeToString(b) + "." + inner
}

// decodeMixedCursor splits a cursor of encodeMixedCursor.
func decodeMixedCursor(s string) ([]parts.Code, string, error) {
	bad := badInput("cursor", "not a cursor of this API; use the next link as given")
	rest, ok := strings.CutPrefix(s, mixedCursorPrefix)
	if !ok {
		return nil, "", bad
	}
	enc, inner, ok := strings.Cut(rest, ".")
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if !ok || err != nil || len(b)%8 != 0 || len(b) > 24 || inner == "" {
		return nil, "", bad
	}
	var reps []parts.Code
	for i := 0; i < len(b); i += 8 {
		reps = append(reps, parts.Code(binary.BigEndian.Uint64(b[i:])))
	}
	return reps, inner, nil
}

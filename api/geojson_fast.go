package api

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/paulmach/orb"
)

// The hot answers (pages of components, nearest) are written by hand: they
// are most of the API's traffic and encoding/json's reflection was half of
// their cost. The output is the JSON encoding/json gives for the same
// values (a test holds them equal), less its HTML escaping.

// marshalPartCollection encodes a page of component features.
func marshalPartCollection(fc *featureCollection[partFeature]) ([]byte, error) {
	b := make([]byte, 0, 512+len(fc.Features)*480)
	b = append(b, `{"type":"FeatureCollection","features":[`...)
	for i := range fc.Features {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendPartFeature(b, &fc.Features[i])
	}
	b = append(b, ']')
	if fc.NumberMatched != nil {
		b = append(b, `,"numberMatched":`...)
		b = strconv.AppendInt(b, int64(*fc.NumberMatched), 10)
	}
	b = append(b, `,"numberReturned":`...)
	b = strconv.AppendInt(b, int64(fc.NumberReturned), 10)
	b = append(b, `,"timeStamp":`...)
	b = appendJSONString(b, fc.TimeStamp)
	if len(fc.Links) > 0 {
		lb, err := json.Marshal(fc.Links)
		if err != nil {
			return nil, err
		}
		b = append(b, `,"links":`...)
		b = append(b, lb...)
	}
	if len(fc.Missing) > 0 {
		mb, err := json.Marshal(fc.Missing)
		if err != nil {
			return nil, err
		}
		b = append(b, `,"missing":`...)
		b = append(b, mb...)
	}
	return append(b, '}'), nil
}

func appendPartFeature(b []byte, f *partFeature) []byte {
	p := &f.Properties
	b = append(b, `{"type":"Feature","id":`...)
	b = appendJSONString(b, f.ID)
	b = append(b, `,"geometry":`...)
	if f.Geometry == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"type":`...)
		b = appendJSONString(b, f.Geometry.Type)
		b = append(b, `,"coordinates":`...)
		b = appendCoordinates(b, f.Geometry.Coordinates)
		b = append(b, '}')
	}
	b = append(b, `,"properties":{"code":`...)
	b = appendJSONString(b, p.Code)
	b = appendField(b, "class", p.Class)
	b = appendField(b, "name", p.Name)
	b = appendField(b, "dept_supervisor", p.DeptSupervisor)
	b = appendField(b, "dept_owner", p.DeptOwner)
	b = appendField(b, "dept_maintainer", p.DeptMaintainer)
	b = appendField(b, "grid_code", p.GridCode)
	b = appendField(b, "state", p.State)
	b = append(b, `,"retired":`...)
	b = strconv.AppendBool(b, p.Retired)
	if p.Surveyed != "" {
		b = appendField(b, "surveyed", p.Surveyed)
	}
	if p.Changed != "" {
		b = appendField(b, "changed", p.Changed)
	}
	b = appendField(b, "source", p.Source)
	if p.Photo != nil {
		b = appendField(b, "photo", *p.Photo)
	}
	if p.Note != nil {
		b = appendField(b, "note", *p.Note)
	}
	if p.SourceName != nil {
		b = appendField(b, "source_name", *p.SourceName)
	}
	if p.SourceID != nil {
		b = appendField(b, "source_id", *p.SourceID)
	}
	b = appendField(b, "material", p.Material)
	b = appendField(b, "label", p.Label)
	b = append(b, `,"version":`...)
	b = strconv.AppendUint(b, p.Version, 10)
	if p.Distance != nil {
		b = append(b, `,"distance":`...)
		b = appendFloat(b, *p.Distance)
	}
	return append(b, "}}"...)
}

func appendField(b []byte, name, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendJSONString(b, v)
}

// appendCoordinates writes the coordinate arrays of a point, line or
// polygon (other geometries through encoding/json).
func appendCoordinates(b []byte, g orb.Geometry) []byte {
	switch g := g.(type) {
	case orb.Point:
		return appendPoint(b, g)
	case orb.LineString:
		return appendPoints(b, g)
	case orb.Ring:
		return appendPoints(b, g)
	case orb.Polygon:
		b = append(b, '[')
		for i, r := range g {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendPoints(b, r)
		}
		return append(b, ']')
	}
	raw, err := json.Marshal(g)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, raw...)
}

func appendPoints(b []byte, ps []orb.Point) []byte {
	b = append(b, '[')
	for i, p := range ps {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendPoint(b, p)
	}
	return append(b, ']')
}

func appendPoint(b []byte, p orb.Point) []byte {
	b = append(b, '[')
	b = appendFloat(b, p[0])
	b = append(b, ',')
	b = appendFloat(b, p[1])
	return append(b, ']')
}

// appendFloat formats like encoding/json: shortest repr, 'f' unless the
// exponent is very small or large. NaN and infinities (never stored) are
// written as null.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		b = strconv.AppendFloat(b, f, 'e', -1, 64)
		// e-07 -> e-7, as encoding/json writes it
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
		return b
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

const hexDigits = "0123456789abcdef"

// jsonSafe marks the ASCII bytes written as they are in a JSON string;
// jsonHTMLSafe leaves out <, > and & as well, as encoding/json's Marshal
// does. Both are read-only tables.
var jsonSafe, jsonHTMLSafe = safeTables()

func safeTables() (plain, html [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		plain[c] = c != '"' && c != '\\'
		html[c] = plain[c] && c != '<' && c != '>' && c != '&'
	}
	return plain, html
}

// appendJSONString writes s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD, as
// encoding/json does (without its HTML escaping).
func appendJSONString(b []byte, s string) []byte { return appendJSONStr(b, s, &jsonSafe) }

// appendJSONStr writes s as a JSON string, the ASCII bytes not safe
// escaped.
func appendJSONStr(b []byte, s string, safe *[utf8.RuneSelf]bool) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		// Well-formed two- and three-byte sequences (CJK text is all of
		// them) are copied as they are without decoding; the rest, and
		// the E2 80 A8-A9 of U+2028 and U+2029, are decoded.
		if c >= 0xC2 && c <= 0xDF && i+1 < len(s) && s[i+1]&0xC0 == 0x80 {
			i += 2
			continue
		}
		if c >= 0xE1 && c <= 0xEF && c != 0xED && i+2 < len(s) && s[i+1]&0xC0 == 0x80 && s[i+2]&0xC0 == 0x80 &&
			(c != 0xE2 || s[i+1] != 0x80 || s[i+2]&^1 != 0xA8) {
			i += 3
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

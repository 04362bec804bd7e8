package ingest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"citytwin/parts"
)

// DefaultCounty is the county (GB/T 2260) of generated codes when a Mapping
// names none: 510104, Chengdu Jinjiang district.
const DefaultCounty uint32 = 510104

// Mapping tells a Reader which source field holds each attribute of a part.
// Field names match exactly first, then case-insensitively; "" means the
// source has no such field. The zero Mapping is valid: CSV coordinates are
// detected, everything else comes from defaults, and DefaultClass must then
// be set for rows to have a class.
type Mapping struct {
	Code, Class, Name, Owner, Supervisor, Maintainer, State, Grid, Label, Material, Note string
	// Lon and Lat are the CSV coordinate columns. When empty the header is
	// searched, case-insensitively, for lon/lng/long/longitude/x and
	// lat/latitude/y (and 经度/纬度).
	Lon, Lat string
	// Geometry is the CSV column that holds each row's geometry as WKT
	// (POINT (lon lat), LINESTRING, POLYGON, EWKT with SRID=4326) or
	// GeoJSON text ({"type": "Point", ...}); when set, Lon and Lat are not
	// looked for.
	Geometry string
	// DefaultClass is the class of rows whose source gives none.
	DefaultClass parts.Class
	// County is the 6-digit county of generated codes (DefaultCounty if 0).
	County uint32
	// DefaultOwner is the owner when the source has no owner value; when
	// empty, the class's catalogue owner.
	DefaultOwner string
	// OwnerMap translates source owner values to department codes. Values
	// not in it are kept as they are.
	OwnerMap map[string]string
	// GCJ02 says the source coordinates are GCJ-02 (Gaode, Tencent): they
	// are converted to WGS84.
	GCJ02 bool
}

// fieldKeys are the mapping keys that name a source field, in String order.
var fieldKeys = []string{"code", "class", "name", "owner", "supervisor", "maintainer", "state", "grid", "label", "material", "note", "lon", "lat", "geometry"}

func (m *Mapping) fieldPtr(key string) *string {
	switch key {
	case "code":
		return &m.Code
	case "class":
		return &m.Class
	case "name":
		return &m.Name
	case "owner":
		return &m.Owner
	case "supervisor":
		return &m.Supervisor
	case "maintainer":
		return &m.Maintainer
	case "state":
		return &m.State
	case "grid":
		return &m.Grid
	case "label":
		return &m.Label
	case "material":
		return &m.Material
	case "note":
		return &m.Note
	case "lon":
		return &m.Lon
	case "lat":
		return &m.Lat
	case "geometry":
		return &m.Geometry
	}
	return nil
}

// knownKeys lists every key ParseMapping accepts, for error messages.
const knownKeys = "code, class, name, owner, supervisor, maintainer, state, grid, label, material, note, lon, lat, geometry, default_class, county, default_owner, owner_map, gcj02"

// ParseMapping parses a mapping from a command-line flag: comma-separated
// key=value pairs, keys case-insensitive, spaces around keys and values
// ignored, each key at most once. Example:
//
//	code=HYDRANT_ID,class=0113,owner=ContractAuthority,owner_map=CAM:water|PRIVATE:private
//
// Field keys (code, name, owner, supervisor, maintainer, state, grid, label,
// material, note, lon, lat, geometry) take a source field name; a leading "@" is
// allowed and stripped (owner=@Owner is owner=Owner). The class key takes
// either a 4-digit class literal, which sets DefaultClass (class=0113), or
// "@field" to read the class from a field (class=@TYPE). Other keys:
//
//	default_class=NNNN   class when class=@field finds no value
//	county=NNNNNN        county of generated codes (default 510104)
//	default_owner=DEPT   owner when the source has none (default: the catalogue's)
//	owner_map=SRC:DEPT|SRC2:DEPT2   translate owner values
//	gcj02[=true|false]   source coordinates are GCJ-02
//
// Field names cannot contain "," and owner_map source values cannot
// contain ":" or "|". The empty string is the zero Mapping. Errors are
// *MappingError naming the bad key.
func ParseMapping(kv string) (Mapping, error) {
	var m Mapping
	seen := map[string]bool{}
	for _, pair := range strings.Split(kv, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, hasEq := strings.Cut(pair, "=")
		key := strings.ToLower(strings.TrimSpace(k))
		val := strings.TrimSpace(v)
		if key == "" {
			return Mapping{}, &MappingError{Key: key, Value: val, Reason: "empty key"}
		}
		if seen[key] {
			return Mapping{}, &MappingError{Key: key, Value: val, Reason: "given twice"}
		}
		seen[key] = true
		if !hasEq && key != "gcj02" {
			return Mapping{}, &MappingError{Key: key, Reason: "want key=value"}
		}
		if err := m.set(key, val, hasEq); err != nil {
			return Mapping{}, err
		}
	}
	return m, nil
}

func (m *Mapping) set(key, val string, hasEq bool) error {
	bad := func(reason string) error { return &MappingError{Key: key, Value: val, Reason: reason} }
	switch key {
	case "class":
		if strings.HasPrefix(val, "@") {
			if val == "@" {
				return bad("empty field name after @")
			}
			m.Class = val[1:]
			return nil
		}
		c, err := parts.ParseClass(val)
		if err != nil {
			return bad("want a 4-digit class such as 0113, or @field to read a field")
		}
		if m.DefaultClass != 0 {
			return bad("default_class is given too")
		}
		m.DefaultClass = c
		return nil
	case "default_class":
		c, err := parts.ParseClass(val)
		if err != nil {
			return bad("want a 4-digit class such as 0113")
		}
		if m.DefaultClass != 0 {
			return bad("class=NNNN is given too")
		}
		m.DefaultClass = c
		return nil
	case "county":
		n, err := strconv.ParseUint(val, 10, 32)
		if err != nil || len(val) != 6 || !validCounty(uint32(n)) {
			return bad("want a 6-digit GB/T 2260 county code (110000-829999)")
		}
		m.County = uint32(n)
		return nil
	case "default_owner":
		if val == "" {
			return bad("empty department code")
		}
		m.DefaultOwner = val
		return nil
	case "owner_map":
		if val == "" {
			return bad("empty; want SRC:DEPT|SRC2:DEPT2")
		}
		m.OwnerMap = map[string]string{}
		for _, e := range strings.Split(val, "|") {
			src, dept, ok := strings.Cut(e, ":")
			src, dept = strings.TrimSpace(src), strings.TrimSpace(dept)
			if !ok || src == "" || dept == "" {
				return bad(fmt.Sprintf("entry %q: want SRC:DEPT", e))
			}
			if _, dup := m.OwnerMap[src]; dup {
				return bad(fmt.Sprintf("source value %q mapped twice", src))
			}
			m.OwnerMap[src] = dept
		}
		return nil
	case "gcj02":
		if !hasEq {
			m.GCJ02 = true
			return nil
		}
		b, err := strconv.ParseBool(val)
		if err != nil {
			return bad("want true or false")
		}
		m.GCJ02 = b
		return nil
	}
	p := m.fieldPtr(key)
	if p == nil {
		return bad("unknown key; known keys: " + knownKeys)
	}
	name := strings.TrimPrefix(val, "@")
	if name == "" {
		return bad("empty field name")
	}
	*p = name
	return nil
}

// String formats the mapping in the syntax of ParseMapping, keys in a fixed
// order, field names with a leading "@"; ParseMapping(m.String()) returns m
// for any m that ParseMapping produced.
func (m Mapping) String() string {
	var b []string
	for _, k := range fieldKeys {
		if v := *m.fieldPtr(k); v != "" {
			b = append(b, k+"=@"+v)
		}
	}
	if m.DefaultClass != 0 {
		b = append(b, "default_class="+m.DefaultClass.String())
	}
	if m.County != 0 {
		b = append(b, fmt.Sprintf("county=%06d", m.County))
	}
	if m.DefaultOwner != "" {
		b = append(b, "default_owner="+m.DefaultOwner)
	}
	if len(m.OwnerMap) > 0 {
		srcs := make([]string, 0, len(m.OwnerMap))
		for s := range m.OwnerMap {
			srcs = append(srcs, s)
		}
		sort.Strings(srcs)
		for i, s := range srcs {
			srcs[i] = s + ":" + m.OwnerMap[s]
		}
		b = append(b, "owner_map="+strings.Join(srcs, "|"))
	}
	if m.GCJ02 {
		b = append(b, "gcj02=true")
	}
	return strings.Join(b, ",")
}

// Validate checks a Mapping built in code: a county in range, a default
// class of 4 digits, owner map entries without empty keys or values.
func (m Mapping) Validate() error {
	if m.County != 0 && !validCounty(m.County) {
		return &MappingError{Key: "county", Value: fmt.Sprint(m.County), Reason: "want a 6-digit GB/T 2260 county code (110000-829999)"}
	}
	if m.DefaultClass != 0 {
		if _, err := parts.ParseClass(m.DefaultClass.String()); err != nil {
			return &MappingError{Key: "default_class", Value: m.DefaultClass.String(), Reason: "want a 4-digit class such as 0113"}
		}
	}
	for s, d := range m.OwnerMap {
		if s == "" || d == "" {
			return &MappingError{Key: "owner_map", Value: s + ":" + d, Reason: "empty source value or department"}
		}
	}
	return nil
}

func validCounty(c uint32) bool { return c >= 110000 && c <= 829999 }

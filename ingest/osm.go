package ingest

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"citytwin/parts"

	"github.com/paulmach/orb"
)

// OSM field names: the fields an OpenStreetMap element offers to a
// Mapping besides its tags. The default mapping of an OSM source is
// code=osm_id, class=@osm_class, name=name.
const (
	OSMIDField    = "osm_id"    // "node/123", "way/45": the source id
	OSMClassField = "osm_class" // the class the tag rules give
)

//go:embed osm_classes.tsv
var osmClassesTSV string

// OSMRule maps elements whose tags all match to a class.
type OSMRule struct {
	Tags  [][2]string // key, value ("*" for any value)
	Class parts.Class
}

// DefaultOSMRules returns the tag-to-class rules shipped with citytwin
// (osm_classes.tsv: highway=street_lamp -> 0118, emergency=fire_hydrant ->
// 0113, amenity=bench -> 0407, highway=bus_stop -> 0203, man_made=manhole
// by manhole=* -> 0101..0114, amenity=waste_basket -> 0305, ...).
func DefaultOSMRules() []OSMRule {
	rs, err := ParseOSMRules(osmClassesTSV)
	if err != nil {
		panic(err) // the shipped file is tested
	}
	return rs
}

// ParseOSMRules reads rules in the format of osm_classes.tsv: per line,
// tags (k=v joined by "+"), a tab or spaces, a 4-digit class, then an
// optional comment; # starts a comment line. Rules come back most
// specific first (more tags), in file order among equals.
func ParseOSMRules(text string) ([]OSMRule, error) {
	var rs []OSMRule
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			return nil, &MappingError{Key: "osm rule", Value: line, Reason: fmt.Sprintf("line %d: want TAGS CLASS", i+1)}
		}
		c, err := parts.ParseClass(f[1])
		if err != nil {
			return nil, &MappingError{Key: "osm rule", Value: line, Reason: fmt.Sprintf("line %d: %v", i+1, err)}
		}
		r := OSMRule{Class: c}
		for _, kv := range strings.Split(f[0], "+") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" || v == "" {
				return nil, &MappingError{Key: "osm rule", Value: line, Reason: fmt.Sprintf("line %d: tag %q is not key=value", i+1, kv)}
			}
			r.Tags = append(r.Tags, [2]string{k, v})
		}
		rs = append(rs, r)
	}
	sort.SliceStable(rs, func(i, j int) bool { return len(rs[i].Tags) > len(rs[j].Tags) })
	return rs, nil
}

// classOf returns the class of the first rule that matches tags.
func classOf(rules []OSMRule, tags map[string]string) (parts.Class, bool) {
	if len(tags) == 0 {
		return 0, false
	}
next:
	for _, r := range rules {
		for _, t := range r.Tags {
			v, ok := tags[t[0]]
			if !ok || (t[1] != "*" && v != t[1]) {
				continue next
			}
		}
		return r.Class, true
	}
	return 0, false
}

// osmSource turns the nodes and ways of a PBF stream that some rule maps
// to a class into records: nodes as points, ways as lines, closed ways as
// polygons when the class accepts one (else lines), and a way whose class
// takes neither as the centre of its box. It keeps the position of every
// node it has read, for the ways that follow (about 40 bytes a node).
type osmSource struct {
	pbf   *pbfReader
	rules []OSMRule
	cat   *parts.Catalogue
	nodes map[int64]orb.Point
	row   int
	// Elements counts every node and way read; Matched those mapped.
	elements, matched int
}

func newOSMSource(r io.Reader, rules []OSMRule, cat *parts.Catalogue) *osmSource {
	if rules == nil {
		rules = DefaultOSMRules()
	}
	return &osmSource{pbf: newPBFReader(r), rules: rules, cat: cat, nodes: map[int64]orb.Point{}}
}

func (s *osmSource) next() (record, error) {
	for {
		e, err := s.pbf.next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return record{}, io.EOF
			}
			return record{}, &SyntaxError{Format: OSM, Row: s.row, Err: err}
		}
		s.elements++
		if !e.way {
			s.nodes[e.id] = orb.Point{e.lon, e.lat}
		}
		c, ok := classOf(s.rules, e.tags)
		if !ok {
			continue
		}
		s.matched++
		s.row++
		f := mapFields{}
		for k, v := range e.tags {
			f[k] = v
		}
		f[OSMClassField] = c.String()
		rec := record{row: s.row, fields: f}
		if !e.way {
			f[OSMIDField] = "node/" + strconv.FormatInt(e.id, 10)
			p := orb.Point{e.lon, e.lat}
			if err := checkPoint(p); err != nil {
				rec.geomErr = err
			}
			rec.geom = p
			return rec, nil
		}
		f[OSMIDField] = "way/" + strconv.FormatInt(e.id, 10)
		rec.geom, rec.geomErr = s.wayGeometry(e, c)
		return rec, nil
	}
}

func (s *osmSource) wayGeometry(e osmElement, c parts.Class) (orb.Geometry, error) {
	ls := make(orb.LineString, 0, len(e.refs))
	for _, id := range e.refs {
		p, ok := s.nodes[id]
		if !ok {
			return nil, badGeometry("way %d: node %d is not in the extract", e.id, id)
		}
		ls = append(ls, p)
	}
	if len(ls) < 2 {
		return nil, badGeometry("way %d has %d nodes", e.id, len(ls))
	}
	accepts := parts.KindsOf(parts.Point)
	if ci, ok := s.cat.Lookup(c); ok {
		accepts = ci.Accepts()
	}
	closed := len(ls) >= 4 && ls[0] == ls[len(ls)-1]
	switch {
	case closed && accepts.Has(parts.Polygon):
		return orb.Polygon{orb.Ring(ls)}, nil
	case accepts.Has(parts.Line):
		return ls, nil
	}
	return ls.Bound().Center(), nil
}

// mapFields are fields by name: exact, then case-insensitive.
type mapFields map[string]string

func (f mapFields) lookup(name string) (string, bool) {
	if v, ok := f[name]; ok {
		return v, v != ""
	}
	for k, v := range f {
		if strings.EqualFold(k, name) {
			return v, v != ""
		}
	}
	return "", false
}

// Feature is one record of a source that is not a stream this package
// reads, such as a GeoPackage layer read by a store: its fields by name
// (as text) and its geometry (nil with GeometryError set when the source
// could not decode it).
type Feature struct {
	Fields        map[string]string
	Geometry      orb.Geometry
	GeometryError string
}

// NewFeatureReader returns a Reader of the features next returns (io.EOF at
// the end; any other error is a broken source) mapped with m, like
// NewReader. Geometries: Point, LineString and Polygon, and a Multi* of one
// member.
func NewFeatureReader(next func() (Feature, error), m Mapping, cat *parts.Catalogue) (*Reader, error) {
	rd, err := newReader(Features, m, cat)
	if err != nil {
		return nil, err
	}
	rd.src = &featureSource{read: next}
	return rd, nil
}

type featureSource struct {
	read func() (Feature, error)
	row  int
}

func (s *featureSource) next() (record, error) {
	f, err := s.read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return record{}, io.EOF
		}
		return record{}, &SyntaxError{Format: Features, Row: s.row, Err: err}
	}
	s.row++
	rec := record{row: s.row, fields: mapFields(f.Fields)}
	if f.GeometryError != "" {
		rec.geomErr = badGeometry("%s", f.GeometryError)
		return rec, nil
	}
	rec.geom, rec.geomErr = normalizeGeometry(f.Geometry)
	return rec, nil
}

// normalizeGeometry reduces a Multi* of one member to it and checks the
// coordinates.
func normalizeGeometry(g orb.Geometry) (orb.Geometry, error) {
	switch x := g.(type) {
	case nil:
		return nil, badGeometry("missing")
	case orb.MultiPoint:
		if len(x) != 1 {
			return nil, badGeometry("MultiPoint with %d points (only one member is supported)", len(x))
		}
		g = x[0]
	case orb.MultiLineString:
		if len(x) != 1 {
			return nil, badGeometry("MultiLineString with %d lines (only one member is supported)", len(x))
		}
		g = x[0]
	case orb.MultiPolygon:
		if len(x) != 1 {
			return nil, badGeometry("MultiPolygon with %d polygons (only one member is supported)", len(x))
		}
		g = x[0]
	}
	var pts []orb.Point
	switch x := g.(type) {
	case orb.Point:
		pts = []orb.Point{x}
	case orb.LineString:
		pts = x
	case orb.Polygon:
		for _, r := range x {
			pts = append(pts, r...)
		}
	default:
		return nil, badGeometry("%s is not supported (want Point, LineString or Polygon)", g.GeoJSONType())
	}
	for _, p := range pts {
		if err := checkPoint(p); err != nil {
			return nil, err
		}
	}
	return g, nil
}

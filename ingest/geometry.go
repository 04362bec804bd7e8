package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	"github.com/paulmach/orb"
)

// geometryError is a bad geometry; the reader turns it into a RowError.
type geometryError struct{ reason string }

func (e *geometryError) Error() string { return e.reason }

func badGeometry(format string, args ...any) error {
	return &geometryError{reason: fmt.Sprintf(format, args...)}
}

// decodeGeometry reads a GeoJSON geometry: Point, LineString, Polygon, or a
// Multi* with exactly one member (reduced to it). Coordinates must have 2
// or 3 numbers (a third is dropped) within lon -180..180, lat -90..90. raw
// has been checked by the json decoder.
func decodeGeometry(raw json.RawMessage) (orb.Geometry, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, badGeometry("missing")
	}
	if raw[0] != '{' {
		return nil, badGeometry("not a GeoJSON geometry object")
	}
	var g struct {
		Type        string
		Coordinates []byte
	}
	eachMember(raw, func(key, v []byte) bool {
		switch {
		case keyIs(key, "type", false):
			g.Type, _ = jsonText(v)
		case keyIs(key, "coordinates", false):
			if string(v) != "null" {
				g.Coordinates = v
			}
		}
		return true
	})
	if g.Type == "" {
		return nil, badGeometry("no geometry type")
	}
	if len(g.Coordinates) == 0 {
		if g.Type == "GeometryCollection" {
			return nil, badGeometry("GeometryCollection is not supported (want Point, LineString or Polygon)")
		}
		return nil, badGeometry("%s has no coordinates", g.Type)
	}
	switch g.Type {
	case "Point":
		var c []float64
		if err := json.Unmarshal(g.Coordinates, &c); err != nil {
			return nil, badGeometry("Point coordinates: want [lon, lat]: %v", err)
		}
		return point(c)
	case "LineString":
		var c [][]float64
		if err := json.Unmarshal(g.Coordinates, &c); err != nil {
			return nil, badGeometry("LineString coordinates: want [[lon, lat], ...]: %v", err)
		}
		return line(c)
	case "Polygon":
		var c [][][]float64
		if err := json.Unmarshal(g.Coordinates, &c); err != nil {
			return nil, badGeometry("Polygon coordinates: want [[[lon, lat], ...], ...]: %v", err)
		}
		return polygon(c)
	case "MultiPoint":
		var c [][]float64
		if err := json.Unmarshal(g.Coordinates, &c); err != nil {
			return nil, badGeometry("MultiPoint coordinates: %v", err)
		}
		if len(c) != 1 {
			return nil, badGeometry("MultiPoint with %d points (only one member is supported)", len(c))
		}
		return point(c[0])
	case "MultiLineString":
		var c [][][]float64
		if err := json.Unmarshal(g.Coordinates, &c); err != nil {
			return nil, badGeometry("MultiLineString coordinates: %v", err)
		}
		if len(c) != 1 {
			return nil, badGeometry("MultiLineString with %d lines (only one member is supported)", len(c))
		}
		return line(c[0])
	case "MultiPolygon":
		var c [][][][]float64
		if err := json.Unmarshal(g.Coordinates, &c); err != nil {
			return nil, badGeometry("MultiPolygon coordinates: %v", err)
		}
		if len(c) != 1 {
			return nil, badGeometry("MultiPolygon with %d polygons (only one member is supported)", len(c))
		}
		return polygon(c[0])
	}
	return nil, badGeometry("type %q is not supported (want Point, LineString or Polygon)", g.Type)
}

func point(c []float64) (orb.Point, error) {
	if len(c) < 2 || len(c) > 4 {
		return orb.Point{}, badGeometry("position has %d numbers, want [lon, lat]", len(c))
	}
	p := orb.Point{c[0], c[1]}
	return p, checkPoint(p)
}

func checkPoint(p orb.Point) error {
	if math.IsNaN(p[0]) || math.IsNaN(p[1]) || p[0] < -180 || p[0] > 180 || p[1] < -90 || p[1] > 90 {
		return badGeometry("coordinate (%v, %v) is outside lon -180..180, lat -90..90", p[0], p[1])
	}
	return nil
}

func line(c [][]float64) (orb.LineString, error) {
	if len(c) < 2 {
		return nil, badGeometry("a line needs at least 2 positions, got %d", len(c))
	}
	ls := make(orb.LineString, len(c))
	for i, pc := range c {
		p, err := point(pc)
		if err != nil {
			return nil, badGeometry("position %d: %v", i, err)
		}
		ls[i] = p
	}
	return ls, nil
}

func polygon(c [][][]float64) (orb.Polygon, error) {
	if len(c) == 0 {
		return nil, badGeometry("a polygon needs an outer ring")
	}
	pg := make(orb.Polygon, len(c))
	for i, rc := range c {
		if len(rc) < 4 {
			return nil, badGeometry("ring %d has %d positions, a closed ring needs at least 4", i, len(rc))
		}
		r := make(orb.Ring, len(rc))
		for j, pc := range rc {
			p, err := point(pc)
			if err != nil {
				return nil, badGeometry("ring %d position %d: %v", i, j, err)
			}
			r[j] = p
		}
		if r[0] != r[len(r)-1] {
			return nil, badGeometry("ring %d is not closed", i)
		}
		pg[i] = r
	}
	return pg, nil
}

// transform applies f to every position of g.
func transform(g orb.Geometry, f func(orb.Point) orb.Point) orb.Geometry {
	switch g := g.(type) {
	case orb.Point:
		return f(g)
	case orb.LineString:
		for i := range g {
			g[i] = f(g[i])
		}
		return g
	case orb.Polygon:
		for _, r := range g {
			for i := range r {
				r[i] = f(r[i])
			}
		}
		return g
	}
	return g
}

package spatial

import (
	"github.com/paulmach/orb"
)

// Intersects reports whether g really intersects the box b, edges included:
// a point on an edge intersects, a line crossing the box without a vertex in
// it intersects, a polygon holding the whole box intersects (unless the box
// lies in a hole). g is a Point, MultiPoint, LineString, MultiLineString,
// Ring, Polygon, MultiPolygon, Bound or Collection.
func Intersects(g orb.Geometry, b orb.Bound) bool {
	switch g := g.(type) {
	case orb.Point:
		return b.Contains(g)
	case orb.MultiPoint:
		for _, p := range g {
			if b.Contains(p) {
				return true
			}
		}
		return false
	case orb.LineString:
		return lineIntersectsBound(g, b)
	case orb.MultiLineString:
		for _, l := range g {
			if lineIntersectsBound(l, b) {
				return true
			}
		}
		return false
	case orb.Ring:
		return polygonIntersectsBound(orb.Polygon{g}, b)
	case orb.Polygon:
		return polygonIntersectsBound(g, b)
	case orb.MultiPolygon:
		for _, p := range g {
			if polygonIntersectsBound(p, b) {
				return true
			}
		}
		return false
	case orb.Bound:
		return g.Intersects(b)
	case orb.Collection:
		for _, x := range g {
			if Intersects(x, b) {
				return true
			}
		}
		return false
	}
	return false
}

func lineIntersectsBound(l orb.LineString, b orb.Bound) bool {
	if len(l) == 1 {
		return b.Contains(l[0])
	}
	for i := 0; i+1 < len(l); i++ {
		if segmentIntersectsBound(l[i], l[i+1], b) {
			return true
		}
	}
	return false
}

// segmentIntersectsBound clips the segment a-b to the box (Liang-Barsky).
func segmentIntersectsBound(a, c orb.Point, b orb.Bound) bool {
	if b.Contains(a) || b.Contains(c) {
		return true
	}
	t0, t1 := 0.0, 1.0
	dx, dy := c[0]-a[0], c[1]-a[1]
	clip := func(p, q float64) bool {
		if p == 0 {
			return q >= 0
		}
		r := q / p
		if p < 0 {
			if r > t1 {
				return false
			}
			if r > t0 {
				t0 = r
			}
		} else {
			if r < t0 {
				return false
			}
			if r < t1 {
				t1 = r
			}
		}
		return true
	}
	return clip(-dx, a[0]-b.Min[0]) && clip(dx, b.Max[0]-a[0]) &&
		clip(-dy, a[1]-b.Min[1]) && clip(dy, b.Max[1]-a[1]) && t0 <= t1
}

func polygonIntersectsBound(p orb.Polygon, b orb.Bound) bool {
	if len(p) == 0 || !p[0].Bound().Intersects(b) {
		return false
	}
	for _, r := range p {
		if lineIntersectsBound(orb.LineString(r), b) {
			return true
		}
	}
	// No edge touches the box: it is wholly inside, in a hole, or outside.
	return Place(p, b.Min) != Outside
}

// Contains reports whether the area (a Polygon, MultiPolygon, Ring or Bound)
// contains the point; holes are excluded, boundaries count as inside.
func Contains(area orb.Geometry, pt orb.Point) bool {
	switch a := area.(type) {
	case orb.Polygon:
		return polygonContains(a, pt)
	case orb.MultiPolygon:
		for _, p := range a {
			if polygonContains(p, pt) {
				return true
			}
		}
	case orb.Ring:
		return polygonContains(orb.Polygon{a}, pt)
	case orb.Bound:
		return a.Contains(pt)
	}
	return false
}

// polygonContains reports whether pt lies in p or on its boundary (Place).
func polygonContains(p orb.Polygon, pt orb.Point) bool {
	if len(p) == 0 || !p[0].Bound().Contains(pt) {
		return false
	}
	return Place(p, pt) != Outside
}

func onSegment(a, b, p orb.Point) bool {
	if cross(a, b, p) != 0 {
		return false
	}
	return p[0] >= min(a[0], b[0]) && p[0] <= max(a[0], b[0]) && p[1] >= min(a[1], b[1]) && p[1] <= max(a[1], b[1])
}

func cross(a, b, p orb.Point) float64 {
	return (b[0]-a[0])*(p[1]-a[1]) - (b[1]-a[1])*(p[0]-a[0])
}

// segmentsIntersect reports whether the closed segments a-b and c-d share a
// point.
func segmentsIntersect(a, b, c, d orb.Point) bool {
	d1 := cross(c, d, a)
	d2 := cross(c, d, b)
	d3 := cross(a, b, c)
	d4 := cross(a, b, d)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	return (d1 == 0 && onSegment(c, d, a)) || (d2 == 0 && onSegment(c, d, b)) ||
		(d3 == 0 && onSegment(a, b, c)) || (d4 == 0 && onSegment(a, b, d))
}

// IntersectsArea reports whether g really intersects the area (a Polygon,
// MultiPolygon, Ring or Bound; holes excluded, boundaries included). g is a
// Point, MultiPoint, LineString, MultiLineString, Ring, Polygon,
// MultiPolygon or Bound.
func IntersectsArea(g orb.Geometry, area orb.Geometry) bool {
	switch a := area.(type) {
	case orb.Bound:
		return Intersects(g, a)
	case orb.Ring:
		return IntersectsArea(g, orb.Polygon{a})
	case orb.MultiPolygon:
		for _, p := range a {
			if IntersectsArea(g, p) {
				return true
			}
		}
		return false
	case orb.Polygon:
		return intersectsPolygon(g, a)
	}
	return false
}

func intersectsPolygon(g orb.Geometry, a orb.Polygon) bool {
	if len(a) == 0 {
		return false
	}
	switch g := g.(type) {
	case orb.Point:
		return polygonContains(a, g)
	case orb.MultiPoint:
		for _, p := range g {
			if polygonContains(a, p) {
				return true
			}
		}
		return false
	case orb.LineString:
		return lineIntersectsPolygon(g, a)
	case orb.MultiLineString:
		for _, l := range g {
			if lineIntersectsPolygon(l, a) {
				return true
			}
		}
		return false
	case orb.Ring:
		return intersectsPolygon(orb.Polygon{g}, a)
	case orb.Polygon:
		if len(g) == 0 || !g.Bound().Intersects(a.Bound()) {
			return false
		}
		for _, r := range g {
			if lineIntersectsPolygon(orb.LineString(r), a) {
				return true
			}
		}
		// a wholly inside g (and not in a hole of g)?
		return polygonContains(g, a[0][0])
	case orb.MultiPolygon:
		for _, p := range g {
			if intersectsPolygon(p, a) {
				return true
			}
		}
		return false
	case orb.Bound:
		return intersectsPolygon(g.ToPolygon(), a)
	case orb.Collection:
		for _, x := range g {
			if intersectsPolygon(x, a) {
				return true
			}
		}
		return false
	}
	return false
}

func lineIntersectsPolygon(l orb.LineString, a orb.Polygon) bool {
	if len(l) == 0 || !l.Bound().Intersects(a.Bound()) {
		return false
	}
	if polygonContains(a, l[0]) {
		return true
	}
	for i := 0; i+1 < len(l); i++ {
		for _, r := range a {
			for j := 0; j+1 < len(r); j++ {
				if segmentsIntersect(l[i], l[i+1], r[j], r[j+1]) {
					return true
				}
			}
		}
	}
	return false
}

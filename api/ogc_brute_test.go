package api

import (
	"github.com/paulmach/orb"

	"citytwin/parts"
)

// bruteCount counts the live components of r that intersect b by testing
// every one with a plain geometry test of its own: what a bbox query must
// match.
func bruteCount(r *parts.Registry, b orb.Bound) int {
	n := 0
	r.Each(func(p parts.Part) bool {
		if !p.Retired && geometryIntersects(p.Geometry, b) {
			n++
		}
		return true
	})
	return n
}

// geometryIntersects tests a point, line or polygon against a box: a
// vertex inside, a segment meeting an edge, or the box inside the polygon.
func geometryIntersects(g orb.Geometry, b orb.Bound) bool {
	corners := []orb.Point{b.Min, {b.Max[0], b.Min[1]}, b.Max, {b.Min[0], b.Max[1]}, b.Min}
	segHits := func(a, c orb.Point) bool {
		if b.Contains(a) || b.Contains(c) {
			return true
		}
		for i := 0; i < 4; i++ {
			if segmentsMeet(a, c, corners[i], corners[i+1]) {
				return true
			}
		}
		return false
	}
	switch g := g.(type) {
	case orb.Point:
		return b.Contains(g)
	case orb.LineString:
		for i := 0; i+1 < len(g); i++ {
			if segHits(g[i], g[i+1]) {
				return true
			}
		}
	case orb.Polygon:
		for _, r := range g {
			for i := 0; i+1 < len(r); i++ {
				if segHits(r[i], r[i+1]) {
					return true
				}
			}
		}
		return pointInRing(b.Min, g[0])
	}
	return false
}

func pointInRing(p orb.Point, r orb.Ring) bool {
	in := false
	for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
		if (r[i][1] > p[1]) != (r[j][1] > p[1]) &&
			p[0] < (r[j][0]-r[i][0])*(p[1]-r[i][1])/(r[j][1]-r[i][1])+r[i][0] {
			in = !in
		}
	}
	return in
}

// segmentsMeet reports whether segments ab and cd share a point
// (orientation test, collinear overlaps included).
func segmentsMeet(a, b, c, d orb.Point) bool {
	orient := func(p, q, r orb.Point) float64 {
		return (q[0]-p[0])*(r[1]-p[1]) - (q[1]-p[1])*(r[0]-p[0])
	}
	on := func(p, q, r orb.Point) bool { // r on segment pq, given collinear
		return min(p[0], q[0]) <= r[0] && r[0] <= max(p[0], q[0]) && min(p[1], q[1]) <= r[1] && r[1] <= max(p[1], q[1])
	}
	d1, d2, d3, d4 := orient(c, d, a), orient(c, d, b), orient(a, b, c), orient(a, b, d)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	return (d1 == 0 && on(c, d, a)) || (d2 == 0 && on(c, d, b)) || (d3 == 0 && on(a, b, c)) || (d4 == 0 && on(a, b, d))
}

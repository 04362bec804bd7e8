package grid

import (
	"fmt"
	"math"

	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// validateGeometry checks the polygon of grid c: at least one ring, every
// ring closed with at least 4 points, finite WGS84 coordinates in range and
// a non-zero area. The error is a *FieldError for "geometry".
func validateGeometry(c Code, p orb.Polygon) error {
	bad := func(format string, args ...any) error {
		return &FieldError{Field: "geometry", Reason: fmt.Sprintf("grid %s: ", c) + fmt.Sprintf(format, args...)}
	}
	if len(p) == 0 {
		return bad("empty polygon")
	}
	for i, r := range p {
		if len(r) < 4 {
			return bad("ring %d has %d points, want at least 4", i, len(r))
		}
		if r[0] != r[len(r)-1] {
			return bad("ring %d is not closed: first point %v, last %v", i, r[0], r[len(r)-1])
		}
		for j, pt := range r {
			lon, lat := pt[0], pt[1]
			if math.IsNaN(lon) || math.IsNaN(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90 {
				return bad("ring %d point %d (%v, %v) is not a WGS84 longitude, latitude", i, j, lon, lat)
			}
		}
		if twiceArea(r) == 0 {
			return bad("ring %d has zero area", i)
		}
	}
	return nil
}

// twiceArea returns twice the signed (shoelace) area of a closed ring.
func twiceArea(r orb.Ring) float64 {
	var s float64
	for i := 0; i+1 < len(r); i++ {
		s += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return s
}

// segmentHitsBound reports whether the closed segment a-c meets the closed
// box b (Liang-Barsky clipping).
func segmentHitsBound(a, c orb.Point, b orb.Bound) bool {
	t0, t1 := 0.0, 1.0
	dx, dy := c[0]-a[0], c[1]-a[1]
	ps := [4]float64{-dx, dx, -dy, dy}
	qs := [4]float64{a[0] - b.Min[0], b.Max[0] - a[0], a[1] - b.Min[1], b.Max[1] - a[1]}
	for i := range ps {
		p, q := ps[i], qs[i]
		if p == 0 {
			if q < 0 {
				return false
			}
			continue
		}
		t := q / p
		if p < 0 {
			if t > t1 {
				return false
			}
			t0 = max(t0, t)
		} else {
			if t < t0 {
				return false
			}
			t1 = min(t1, t)
		}
	}
	return true
}

// intersects reports whether the closed polygon p (with bounding box pb)
// meets the closed box b: touching counts.
func intersects(p orb.Polygon, pb, b orb.Bound) bool {
	if !pb.Intersects(b) {
		return false
	}
	if b.Contains(pb.Min) && b.Contains(pb.Max) {
		return true
	}
	for _, r := range p {
		for i := 0; i+1 < len(r); i++ {
			if segmentHitsBound(r[i], r[i+1], b) {
				return true
			}
		}
	}
	// No edge meets the box: the box lies wholly inside or wholly outside.
	return spatial.Place(p, b.Min) != spatial.Outside
}

package spatial

import "github.com/paulmach/orb"

// Placement is where a point lies relative to a polygon.
type Placement uint8

// Placements, in the order of "more inside".
const (
	Outside  Placement = iota // in no ring, or in a hole
	Boundary                  // on an edge of a ring (holes included)
	Interior                  // inside the outer ring and in no hole
)

// Place reports where pt lies relative to the closed polygon p (holes
// excluded, their rings included in the boundary). It is the one
// point-in-polygon test of the project: Contains, Prepared and the grids'
// Locate all run it (Prepared over the edges of one band).
//
// The test is a crossing count along the ray from pt towards +x, with the
// half-open rule on the y range of each edge. Each edge is evaluated with
// its end points in a canonical order (lower point first), so an edge that
// two polygons share gets the very same verdict in both: whatever the
// rounding, a point near a shared edge lands in exactly one of the two,
// and a point that the test finds on the edge is on the boundary of both.
// Vertices and points on edges with exactly representable products (e.g.
// dyadic coordinates) are detected exactly.
func Place(p orb.Polygon, pt orb.Point) Placement {
	in := false
	for _, r := range p {
		for i := 0; i+1 < len(r); i++ {
			switch crossing(r[i], r[i+1], pt) {
			case onEdge:
				return Boundary
			case crosses:
				in = !in
			}
		}
	}
	if in {
		return Interior
	}
	return Outside
}

// edgeStep is what one edge does to the ray of Place.
type edgeStep uint8

const (
	misses  edgeStep = iota // the ray does not cross the edge
	crosses                 // the ray crosses the edge: flip
	onEdge                  // the point lies on the edge
)

// crossing evaluates the edge a-b for the ray from pt towards +x (see
// Place). It is the same whichever end comes first.
func crossing(a, b, pt orb.Point) edgeStep {
	if a[1] > b[1] || (a[1] == b[1] && a[0] > b[0]) {
		a, b = b, a
	}
	x, y := pt[0], pt[1]
	if y < a[1] || y > b[1] || x > max(a[0], b[0]) {
		return misses // the edge is not reached by the ray and does not hold pt
	}
	o := (b[0]-a[0])*(y-a[1]) - (b[1]-a[1])*(x-a[0])
	if o == 0 {
		if x >= min(a[0], b[0]) {
			return onEdge
		}
		return misses
	}
	if o > 0 && y < b[1] {
		return crosses
	}
	return misses
}

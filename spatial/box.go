package spatial

import (
	"math"

	"github.com/paulmach/orb"
)

// Box32 converts a box to float32 corners rounded outward, so that the
// float32 box always contains the float64 one.
func Box32(b orb.Bound) (min, max [2]float32) {
	return [2]float32{down32(b.Min[0]), down32(b.Min[1])}, [2]float32{up32(b.Max[0]), up32(b.Max[1])}
}

// PointBox32 is Box32 of the zero-area box of one point.
func PointBox32(p orb.Point) (min, max [2]float32) {
	return [2]float32{down32(p[0]), down32(p[1])}, [2]float32{up32(p[0]), up32(p[1])}
}

func down32(v float64) float32 {
	f := float32(v)
	if float64(f) > v {
		f = math.Nextafter32(f, float32(math.Inf(-1)))
	}
	return f
}

func up32(v float64) float32 {
	f := float32(v)
	if float64(f) < v {
		f = math.Nextafter32(f, float32(math.Inf(1)))
	}
	return f
}

// Bound returns the bounding box of a Point, LineString, Polygon,
// MultiPolygon or any other orb geometry.
func Bound(g orb.Geometry) orb.Bound {
	if p, ok := g.(orb.Point); ok {
		return orb.Bound{Min: p, Max: p}
	}
	return g.Bound()
}

// ValidateBound checks that min <= max and that the box lies within lon
// -180..180 and lat -90..90. Zero-area boxes are valid. The error is a
// *BoundError.
func ValidateBound(b orb.Bound) error {
	bad := func(reason string) error {
		return &BoundError{Min: b.Min, Max: b.Max, Reason: reason}
	}
	for _, v := range [...]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return bad("a coordinate is not a finite number")
		}
	}
	switch {
	case b.Min[0] > b.Max[0]:
		return bad("min longitude is greater than max longitude")
	case b.Min[1] > b.Max[1]:
		return bad("min latitude is greater than max latitude")
	case b.Min[0] < -180 || b.Max[0] > 180:
		return bad("longitude is outside -180..180")
	case b.Min[1] < -90 || b.Max[1] > 90:
		return bad("latitude is outside -90..90")
	}
	return nil
}

package spatial

import (
	"math"

	"github.com/paulmach/orb"
)

// MercatorRadius is the sphere radius of Web Mercator (EPSG:3857) in metres.
const MercatorRadius = 6378137.0

// MaxMercatorLat is the latitude limit of Web Mercator tiles.
const MaxMercatorLat = 85.05112877980659

// MaxZoom is the deepest tile zoom accepted by TileBound.
const MaxZoom = 30

// ToMercator converts a lon/lat point to Web Mercator metres; latitudes are
// clamped to ±MaxMercatorLat.
func ToMercator(p orb.Point) orb.Point {
	lat := math.Max(-MaxMercatorLat, math.Min(MaxMercatorLat, p[1]))
	return orb.Point{
		MercatorRadius * p[0] * rad,
		MercatorRadius * math.Log(math.Tan(math.Pi/4+lat*rad/2)),
	}
}

// FromMercator converts Web Mercator metres to a lon/lat point.
func FromMercator(p orb.Point) orb.Point {
	return orb.Point{
		p[0] / MercatorRadius / rad,
		(2*math.Atan(math.Exp(p[1]/MercatorRadius)) - math.Pi/2) / rad,
	}
}

// TileBound returns the lon/lat box of the XYZ tile z/x/y (y counts down
// from the north). The error is a *TileError.
func TileBound(z, x, y uint32) (orb.Bound, error) {
	if z > MaxZoom {
		return orb.Bound{}, &TileError{Z: z, X: x, Y: y, Reason: "zoom is over 30"}
	}
	n := uint32(1) << z
	if x >= n || y >= n {
		return orb.Bound{}, &TileError{Z: z, X: x, Y: y, Reason: "x or y is outside 0..2^z-1"}
	}
	lon := func(x uint32) float64 { return float64(x)/float64(n)*360 - 180 }
	lat := func(y uint32) float64 {
		return math.Atan(math.Sinh(math.Pi*(1-2*float64(y)/float64(n)))) / rad
	}
	return orb.Bound{Min: orb.Point{lon(x), lat(y + 1)}, Max: orb.Point{lon(x + 1), lat(y)}}, nil
}

// TileAt returns the XYZ tile at zoom z that holds the lon/lat point.
func TileAt(p orb.Point, z uint32) (x, y uint32) {
	if z > MaxZoom {
		z = MaxZoom
	}
	n := float64(uint64(1) << z)
	lat := math.Max(-MaxMercatorLat, math.Min(MaxMercatorLat, p[1]))
	fx := (p[0] + 180) / 360 * n
	fy := (1 - math.Log(math.Tan(lat*rad)+1/math.Cos(lat*rad))/math.Pi) / 2 * n
	clamp := func(f float64) uint32 {
		if f < 0 {
			return 0
		}
		if f >= n {
			return uint32(n - 1)
		}
		return uint32(f)
	}
	return clamp(fx), clamp(fy)
}

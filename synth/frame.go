package synth

import (
	"math"

	"github.com/paulmach/orb"
)

// frame maps local metres (x east, y north, origin at the centre of the
// square) to WGS84 lon/lat with an equirectangular projection, which is
// exact enough over tens of kilometres.
type frame struct {
	half                           float64 // half the side, metres
	cLon, cLat                     float64
	mLon, mLat                     float64 // metres per degree
	minLon, minLat, maxLon, maxLat float64 // the square
}

func newFrame(o Options) frame {
	f := frame{half: o.SizeKm * 500, cLon: o.Center[0], cLat: o.Center[1]}
	f.mLat = 110_574
	f.mLon = 111_320 * math.Cos(f.cLat*math.Pi/180)
	f.minLon, f.maxLon = f.cLon-f.half/f.mLon, f.cLon+f.half/f.mLon
	f.minLat, f.maxLat = f.cLat-f.half/f.mLat, f.cLat+f.half/f.mLat
	return f
}

// lonLat converts local metres to lon/lat.
func (f *frame) lonLat(x, y float64) orb.Point {
	return orb.Point{f.cLon + x/f.mLon, f.cLat + y/f.mLat}
}

// clamp keeps a local point half a metre inside the square.
func (f *frame) clamp(x, y float64) (float64, float64) {
	lim := f.half - 0.5
	return math.Max(-lim, math.Min(lim, x)), math.Max(-lim, math.Min(lim, y))
}

// inward returns the direction (dx, dy), or its opposite when going l
// metres that way from (x, y) would leave the square.
func (f *frame) inward(x, y, dx, dy, l float64) (float64, float64) {
	if ex, ey := x+dx*l, y+dy*l; math.Abs(ex) > f.half || math.Abs(ey) > f.half {
		return -dx, -dy
	}
	return dx, dy
}

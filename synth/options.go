package synth

import (
	"fmt"
	"math"

	"github.com/paulmach/orb"
)

// Limits of Options that Validate enforces.
const (
	MaxComponents = 50_000_000
	MaxGrids      = 1_000_000
	MaxSizeKm     = 500.0
	MinSizeKm     = 0.1
	// minCellM is the smallest allowed mean side of a grid cell, in metres.
	minCellM = 5.0
	// maxPartsPerDistrict keeps the 6-digit serials (per county and class)
	// far from overflowing.
	maxPartsPerDistrict = 5_000_000
)

// Options describes the synthetic city to generate.
type Options struct {
	Components int       // number of components (parts); default 2,000,000
	Grids      int       // number of unit grids; default 16,000
	Seed       int64     // seed of the random generator
	Center     orb.Point // centre of the square, lon/lat; default 104.06, 30.66 (Chengdu)
	SizeKm     float64   // side of the square in km; default 40
}

// DefaultOptions returns the options of the default city: 2,000,000
// components in 16,000 grids over a 40 x 40 km square centred on Chengdu.
func DefaultOptions() Options {
	return Options{
		Components: 2_000_000,
		Grids:      16_000,
		Seed:       1,
		Center:     orb.Point{104.06, 30.66},
		SizeKm:     40,
	}
}

// Validate reports the first bad field as an *OptionError wrapping
// ErrInvalidOptions. More grids than components is allowed.
func (o Options) Validate() error {
	bad := func(field string, v any, format string, args ...any) error {
		return &OptionError{Field: field, Value: v, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case o.Components <= 0:
		return bad("Components", o.Components, "must be at least 1")
	case o.Components > MaxComponents:
		return bad("Components", o.Components, "must be at most %d", MaxComponents)
	case o.Grids <= 0:
		return bad("Grids", o.Grids, "must be at least 1")
	case o.Grids > MaxGrids:
		return bad("Grids", o.Grids, "must be at most %d", MaxGrids)
	case math.IsNaN(o.SizeKm) || o.SizeKm < MinSizeKm || o.SizeKm > MaxSizeKm:
		return bad("SizeKm", o.SizeKm, "must be between %g and %g km", MinSizeKm, MaxSizeKm)
	}
	lon, lat := o.Center[0], o.Center[1]
	if math.IsNaN(lon) || math.IsNaN(lat) || lon < -180 || lon > 180 || lat < -80 || lat > 80 {
		return bad("Center", o.Center, "must be a lon/lat with lon in -180..180 and lat in -80..80")
	}
	f := newFrame(o)
	if f.minLon < -180 || f.maxLon > 180 || f.minLat < -85 || f.maxLat > 85 {
		return bad("SizeKm", o.SizeKm, "the square around %v crosses the antimeridian or a pole", o.Center)
	}
	if cell := o.SizeKm * 1000 / math.Sqrt(float64(o.Grids)); cell < minCellM {
		return bad("Grids", o.Grids, "grid cells would be %.2f m wide in a %g km square, less than %g m", cell, o.SizeKm, minCellM)
	}
	if d := districtCount(o.Grids); o.Components > d*maxPartsPerDistrict {
		return bad("Components", o.Components, "at most %d components fit in %d grids (%d districts of 6-digit serials)", d*maxPartsPerDistrict, o.Grids, d)
	}
	return nil
}

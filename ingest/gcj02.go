package ingest

import (
	"math"

	"github.com/paulmach/orb"
)

// The GCJ-02 ("Mars coordinates") offset as published in the widely used
// open implementations (eviltransform, coordtransform): Krasovsky ellipsoid
// constants and the polynomial-and-sine offset field.
const (
	gcjA  = 6378245.0
	gcjEE = 0.00669342162296594323
)

// outOfChina reports whether p lies outside the rough box where the GCJ-02
// offset is applied.
func outOfChina(p orb.Point) bool {
	return p[0] < 72.004 || p[0] > 137.8347 || p[1] < 0.8293 || p[1] > 55.8271
}

func gcjOffset(lon, lat float64) (dlon, dlat float64) {
	x, y := lon-105, lat-35
	dlat = -100 + 2*x + 3*y + 0.2*y*y + 0.1*x*y + 0.2*math.Sqrt(math.Abs(x))
	dlat += (20*math.Sin(6*x*math.Pi) + 20*math.Sin(2*x*math.Pi)) * 2 / 3
	dlat += (20*math.Sin(y*math.Pi) + 40*math.Sin(y/3*math.Pi)) * 2 / 3
	dlat += (160*math.Sin(y/12*math.Pi) + 320*math.Sin(y*math.Pi/30)) * 2 / 3
	dlon = 300 + x + 2*y + 0.1*x*x + 0.1*x*y + 0.1*math.Sqrt(math.Abs(x))
	dlon += (20*math.Sin(6*x*math.Pi) + 20*math.Sin(2*x*math.Pi)) * 2 / 3
	dlon += (20*math.Sin(x*math.Pi) + 40*math.Sin(x/3*math.Pi)) * 2 / 3
	dlon += (150*math.Sin(x/12*math.Pi) + 300*math.Sin(x/30*math.Pi)) * 2 / 3
	rad := lat / 180 * math.Pi
	magic := 1 - gcjEE*math.Sin(rad)*math.Sin(rad)
	sq := math.Sqrt(magic)
	dlat = dlat * 180 / ((gcjA * (1 - gcjEE)) / (magic * sq) * math.Pi)
	dlon = dlon * 180 / (gcjA / sq * math.Cos(rad) * math.Pi)
	return dlon, dlat
}

// GCJ02FromWGS84 applies the GCJ-02 offset to a WGS84 lon/lat (identity
// outside China).
func GCJ02FromWGS84(p orb.Point) orb.Point {
	if outOfChina(p) {
		return p
	}
	dlon, dlat := gcjOffset(p[0], p[1])
	return orb.Point{p[0] + dlon, p[1] + dlat}
}

// WGS84FromGCJ02 removes the GCJ-02 offset by fixed-point iteration (the
// offset field is smooth, so each step gains several digits): the result
// maps back to p within about a millimetre, far inside 0.5 m. Identity
// outside China.
func WGS84FromGCJ02(p orb.Point) orb.Point {
	if outOfChina(p) {
		return p
	}
	w := p
	for range 30 {
		g := GCJ02FromWGS84(w)
		dx, dy := g[0]-p[0], g[1]-p[1]
		w[0] -= dx
		w[1] -= dy
		if math.Abs(dx) < 1e-10 && math.Abs(dy) < 1e-10 {
			break
		}
	}
	return w
}

package spatial

import (
	"math"

	"github.com/paulmach/orb"
)

// EarthRadius is the mean radius of the Earth in metres used for distances.
const EarthRadius = 6371008.8

const (
	rad       = math.Pi / 180
	maxFinite = math.MaxFloat64
	// localSpan is the span in degrees within which the local metric is used;
	// beyond it distances fall back to haversine.
	localSpan = 0.5
	// boxSafety shrinks box distances so they stay lower bounds of the exact
	// distance despite the approximations of the local metric.
	boxSafety = 0.999
)

// Haversine returns the great-circle distance in metres between a and b.
func Haversine(a, b orb.Point) float64 {
	dLat := (b[1] - a[1]) * rad
	dLon := (b[0] - a[0]) * rad
	s1 := math.Sin(dLat / 2)
	s2 := math.Sin(dLon / 2)
	h := s1*s1 + math.Cos(a[1]*rad)*math.Cos(b[1]*rad)*s2*s2
	return 2 * EarthRadius * math.Asin(math.Min(1, math.Sqrt(h)))
}

// Metric measures distances in metres from one origin point. Within
// half a degree of the origin it uses an equirectangular metric at the mean
// latitude (relative error below 1e-5 at city scale, no trigonometry per
// call); further away it uses Haversine. The distance to a line or polygon is
// the distance to its nearest point, 0 inside a polygon.
type Metric struct {
	o          orb.Point
	cos0, sin0 float64
	mPerDeg    float64
	kx         float64 // metres per degree of longitude at the origin
}

// NewMetric returns the metric of the origin o.
func NewMetric(o orb.Point) Metric {
	m := Metric{o: o, cos0: math.Cos(o[1] * rad), sin0: math.Sin(o[1] * rad), mPerDeg: EarthRadius * rad}
	m.kx = m.mPerDeg * m.cos0
	return m
}

// Origin returns the origin of the metric.
func (m *Metric) Origin() orb.Point { return m.o }

// PointDistance returns the distance in metres from the origin to p.
func (m *Metric) PointDistance(p orb.Point) float64 {
	dlon := p[0] - m.o[0]
	dlat := p[1] - m.o[1]
	if dlon > localSpan || dlon < -localSpan || dlat > localSpan || dlat < -localSpan {
		return Haversine(m.o, p)
	}
	// cos of the mean latitude, to second order.
	h := dlat * rad / 2
	c := m.cos0*(1-h*h/2) - m.sin0*h
	x := dlon * m.mPerDeg * c
	y := dlat * m.mPerDeg
	return math.Sqrt(x*x + y*y)
}

// BoxDistance returns a lower bound of the distance in metres from the origin
// to anything inside the box; 0 when the origin is inside.
func (m *Metric) BoxDistance(min, max [2]float32) float64 {
	p := m.o
	q := p
	if p[0] < float64(min[0]) {
		q[0] = float64(min[0])
	} else if p[0] > float64(max[0]) {
		q[0] = float64(max[0])
	}
	if p[1] < float64(min[1]) {
		q[1] = float64(min[1])
	} else if p[1] > float64(max[1]) {
		q[1] = float64(max[1])
	}
	if q == p {
		return 0
	}
	return m.PointDistance(q) * boxSafety
}

// Distance returns the distance in metres from the origin to the nearest
// point of g: a Point, LineString, Ring, Polygon, MultiPoint, MultiLineString
// or MultiPolygon. It is 0 inside a polygon (holes excluded).
func (m *Metric) Distance(g orb.Geometry) float64 {
	switch g := g.(type) {
	case orb.Point:
		return m.PointDistance(g)
	case orb.MultiPoint:
		d := math.Inf(1)
		for _, p := range g {
			d = math.Min(d, m.PointDistance(p))
		}
		return d
	case orb.LineString:
		return m.PointDistance(m.nearestOnLine(g))
	case orb.Ring:
		return m.PointDistance(m.nearestOnLine(orb.LineString(g)))
	case orb.MultiLineString:
		d := math.Inf(1)
		for _, l := range g {
			d = math.Min(d, m.Distance(l))
		}
		return d
	case orb.Polygon:
		if Place(g, m.o) != Outside {
			return 0
		}
		d := math.Inf(1)
		for _, r := range g {
			d = math.Min(d, m.PointDistance(m.nearestOnLine(orb.LineString(r))))
		}
		return d
	case orb.MultiPolygon:
		d := math.Inf(1)
		for _, p := range g {
			d = math.Min(d, m.Distance(p))
		}
		return d
	case orb.Bound:
		return m.Distance(g.ToPolygon())
	case orb.Collection:
		d := math.Inf(1)
		for _, x := range g {
			d = math.Min(d, m.Distance(x))
		}
		return d
	}
	return math.Inf(1)
}

// nearestOnLine returns the point of l nearest to the origin, found in the
// local plane of the origin.
func (m *Metric) nearestOnLine(l orb.LineString) orb.Point {
	if len(l) == 0 {
		return orb.Point{math.Inf(1), math.Inf(1)}
	}
	if len(l) == 1 {
		return l[0]
	}
	best := l[0]
	bestD := math.Inf(1)
	kx := m.cos0
	for i := 0; i+1 < len(l); i++ {
		ax, ay := (l[i][0]-m.o[0])*kx, l[i][1]-m.o[1]
		bx, by := (l[i+1][0]-m.o[0])*kx, l[i+1][1]-m.o[1]
		dx, dy := bx-ax, by-ay
		t := 0.0
		if ll := dx*dx + dy*dy; ll > 0 {
			t = -(ax*dx + ay*dy) / ll
			t = math.Max(0, math.Min(1, t))
		}
		px, py := ax+t*dx, ay+t*dy
		if d := px*px + py*py; d < bestD {
			bestD = d
			best = orb.Point{l[i][0] + t*(l[i+1][0]-l[i][0]), l[i][1] + t*(l[i+1][1]-l[i][1])}
		}
	}
	return best
}

// Distance returns the distance in metres from p to the nearest point of g
// (0 inside a polygon). See Metric.
func Distance(p orb.Point, g orb.Geometry) float64 {
	m := NewMetric(p)
	return m.Distance(g)
}

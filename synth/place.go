package synth

import (
	"math"

	"citytwin/parts"
	"github.com/paulmach/orb"
)

// placed is a part before its attributes are drawn: its representative
// point in local metres, the road segment it belongs to and its class.
type placed struct {
	x, y float64
	seg  int32
	cls  uint16 // index into classTable.infos
	side int8   // +1 left of the segment, -1 right
}

// offset returns how far from the road centreline a part of the class
// stands, metres.
func (g *generator) offset(ci *parts.ClassInfo) float64 {
	u := g.rng.Float64()
	switch ci.Kind {
	case parts.Line:
		switch ci.Class {
		case 205, 206: // footbridge, underpass: start at the kerb, cross the road
			return 10 + 8*u
		case 207, 208: // flyover, river bridge: on the road
			return 3 * u
		}
		return 0.5 + 7.5*u // guard rails: median or kerb
	case parts.Polygon:
		return 10 + 10*u
	}
	switch ci.Class {
	case 118, 117, 402, 403: // lamps, poles, street trees, tree grates: the kerb line
		return 7 + 4*u
	}
	return 1 + 17*u
}

// place draws the class, segment and representative point of one part.
func (g *generator) place() placed {
	ci := g.classes.pick(g.rng.Float64())
	info := &g.classes.infos[ci]
	main := info.Class == 205 || info.Class == 207
	si := g.roads.pick(g.rng.Float64(), main)
	s := &g.roads.segs[si]
	t := g.rng.Float64()
	side := int8(1)
	if g.rng.IntN(2) == 0 {
		side = -1
	}
	off := g.offset(info) * float64(side)
	x, y := g.frame.clamp(s.ax+s.dx*t-s.uy*off, s.ay+s.dy*t+s.ux*off)
	return placed{x: x, y: y, seg: si, cls: uint16(ci), side: side}
}

// geometry builds the part's geometry in lon/lat; its first vertex is the
// placed point.
func (g *generator) geometry(p *placed, ci *parts.ClassInfo) orb.Geometry {
	f := &g.frame
	if ci.Kind == parts.Point {
		return f.lonLat(p.x, p.y)
	}
	s := &g.roads.segs[p.seg]
	sd := float64(p.side)
	// Along the road, and away from it on the part's side; near the edge
	// of the square both turn inwards so that shapes are not flattened by
	// the clamp.
	ux, uy := f.inward(p.x, p.y, s.ux, s.uy, 800)
	nx, ny := f.inward(p.x, p.y, -s.uy*sd, s.ux*sd, 300)
	pt := func(x, y float64) orb.Point { return f.lonLat(f.clamp(x, y)) }
	u := g.rng.Float64()
	if ci.Kind == parts.Line {
		switch ci.Class {
		case 205, 206: // across the road to the other kerb
			w := 2*math.Abs(g.offsetOf(p)) + 2*u
			return orb.LineString{pt(p.x, p.y), pt(p.x+s.uy*sd*w, p.y-s.ux*sd*w)}
		case 207: // a long, slightly bent viaduct along a main road
			l := 300 + 500*u
			b := (2*g.rng.Float64() - 1) * 20
			return orb.LineString{
				pt(p.x, p.y),
				pt(p.x+ux*l/3+nx*b, p.y+uy*l/3+ny*b),
				pt(p.x+ux*2*l/3+nx*b, p.y+uy*2*l/3+ny*b),
				pt(p.x+ux*l, p.y+uy*l),
			}
		case 208: // a straight bridge at an angle
			l := 80 + 220*u
			a := g.rng.Float64() * 2 * math.Pi
			return orb.LineString{pt(p.x, p.y), pt(p.x+math.Cos(a)*l, p.y+math.Sin(a)*l)}
		}
		l := 20 + 180*u // guard rail along the road
		return orb.LineString{pt(p.x, p.y), pt(p.x+ux*l/2, p.y+uy*l/2), pt(p.x+ux*l, p.y+uy*l)}
	}
	if ci.Class == 405 { // green space: a star-shaped blob beside the road
		r := 15 + 60*u
		cx, cy := p.x+nx*r, p.y+ny*r
		n := 5 + g.rng.IntN(4)
		a0 := math.Atan2(p.y-cy, p.x-cx)
		ring := make(orb.Ring, n+1)
		ring[0] = pt(p.x, p.y)
		for k := 1; k < n; k++ {
			a := a0 + 2*math.Pi*float64(k)/float64(n)
			rk := r * (0.7 + 0.6*g.rng.Float64())
			ring[k] = pt(cx+math.Cos(a)*rk, cy+math.Sin(a)*rk)
		}
		ring[n] = ring[0]
		return orb.Polygon{ring}
	}
	// Car parks, sites and other polygons: a rectangle set back from the road.
	w, d := 20+60*u, 15+35*g.rng.Float64()
	if ci.Class == 602 {
		w, d = 50+150*u, 40+120*g.rng.Float64()
	}
	a := pt(p.x, p.y)
	b := pt(p.x+ux*w, p.y+uy*w)
	c := pt(p.x+ux*w+nx*d, p.y+uy*w+ny*d)
	e := pt(p.x+nx*d, p.y+ny*d)
	if ux*ny-uy*nx > 0 { // u then n turns left: counter-clockwise
		return orb.Polygon{{a, b, c, e, a}}
	}
	return orb.Polygon{{a, e, c, b, a}}
}

// offsetOf returns the signed distance of the placed point from its
// segment's line.
func (g *generator) offsetOf(p *placed) float64 {
	s := &g.roads.segs[p.seg]
	return (p.x-s.ax)*(-s.uy) + (p.y-s.ay)*s.ux
}

package tiles

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/simplify"
)

// ipoint is a point in tile coordinates.
type ipoint struct{ x, y int32 }

// projection maps WGS84 lon/lat to the tile coordinates (0..Extent, y down)
// of one tile, Web Mercator.
type projection struct {
	scale  float64   // world size at this zoom, in tile coordinates
	ox, oy float64   // the tile's origin in world tile coordinates
	box    orb.Bound // the buffered tile in tile coordinates
	lonlat orb.Bound // the buffered tile in lon/lat
	tol    float64   // simplification tolerance, 0 for none
	// y as a polynomial of the latitude (radians) around the tile's centre
	// latitude phi0, valid within dmax of it; dmax 0 means exact only.
	phi0, dmax         float64
	y0, c1, c2, c3, c4 float64
}

// polyZoom is the lowest zoom that projects latitudes with the polynomial.
const polyZoom = 10

const maxLat = 85.0511287798066

func newProjection(t maptile.Tile, buffer int, tol float64) projection {
	p := projection{
		scale: float64(uint64(1)<<t.Z) * Extent,
		ox:    float64(t.X) * Extent,
		oy:    float64(t.Y) * Extent,
		tol:   tol,
	}
	b := float64(buffer)
	p.box = orb.Bound{Min: orb.Point{-b, -b}, Max: orb.Point{Extent + b, Extent + b}}
	p.lonlat = orb.Bound{
		Min: orb.Point{p.lon(-b), p.lat(Extent + b)},
		Max: orb.Point{p.lon(Extent + b), p.lat(-b)},
	}
	if t.Z >= polyZoom {
		// Taylor series of g(phi) = ln(tan(pi/4 + phi/2)) to the 4th order:
		// g' = sec, g'' = sec tan, g''' = sec (2 tan^2 + 1),
		// g'''' = sec tan (6 tan^2 + 5). Over one tile height around the
		// centre the error is below 1e-6 tile units from z10 up, less than the
		// rounding of the exact formula at high zooms.
		phi0 := p.lat(Extent/2) * math.Pi / 180
		sec, tan := 1/math.Cos(phi0), math.Tan(phi0)
		k := -p.scale / (2 * math.Pi)
		p.phi0 = phi0
		p.dmax = math.Abs(p.lat(0)-p.lat(Extent)) * math.Pi / 180
		p.y0 = worldY(p.lat(Extent/2))*p.scale - p.oy
		p.c1 = k * sec
		p.c2 = k * sec * tan / 2
		p.c3 = k * sec * (2*tan*tan + 1) / 6
		p.c4 = k * sec * tan * (6*tan*tan + 5) / 24
	}
	return p
}

func (p *projection) lon(x float64) float64 {
	return math.Max(-180, math.Min(180, (x+p.ox)/p.scale*360-180))
}

func (p *projection) lat(y float64) float64 {
	n := math.Pi * (1 - 2*(y+p.oy)/p.scale)
	return math.Max(-90, math.Min(90, math.Atan(math.Sinh(n))*180/math.Pi))
}

// worldX and worldY give Web Mercator world coordinates in [0,1).
func worldX(lon float64) float64 { return (lon + 180) / 360 }

func worldY(lat float64) float64 {
	if lat > maxLat {
		lat = maxLat
	} else if lat < -maxLat {
		lat = -maxLat
	}
	s := math.Sin(lat * math.Pi / 180)
	return 0.5 - math.Log((1+s)/(1-s))/(4*math.Pi)
}

// xy projects a point to fractional tile coordinates.
func (p *projection) xy(pt orb.Point) orb.Point {
	x := worldX(pt[0])*p.scale - p.ox
	if d := pt[1]*(math.Pi/180) - p.phi0; d <= p.dmax && d >= -p.dmax {
		return orb.Point{x, p.y0 + d*(p.c1+d*(p.c2+d*(p.c3+d*p.c4)))}
	}
	return orb.Point{x, worldY(pt[1])*p.scale - p.oy}
}

func floor32(v float64) int32 { return int32(math.Floor(v)) }

// geomWriter projects, clips, simplifies and writes geometries; it owns
// scratch slices reused from feature to feature.
type geomWriter struct {
	ls  orb.LineString
	pts []ipoint
}

// write writes g into the current feature of l and returns its geometry
// type, or ok false when nothing of g is left in the buffered tile.
func (w *geomWriter) write(l *layerEncoder, p *projection, g orb.Geometry) (typ uint8, ok bool) {
	switch g := g.(type) {
	case orb.Point:
		return geomPoint, w.point(l, p, g)
	case orb.MultiPoint:
		n := 0
		for _, pt := range g {
			q := p.xy(pt)
			x, y := floor32(q[0]), floor32(q[1])
			if inBox(p, x, y) {
				w.pts = append(w.pts[:n], ipoint{x, y})
				n++
			}
		}
		if n == 0 {
			return 0, false
		}
		l.cmd(cmdMoveTo, uint32(n))
		for _, q := range w.pts[:n] {
			l.to(q.x, q.y)
		}
		return geomPoint, true
	case orb.LineString:
		return geomLine, w.line(l, p, g)
	case orb.MultiLineString:
		any := false
		for _, ls := range g {
			any = w.line(l, p, ls) || any
		}
		return geomLine, any
	case orb.Ring:
		return geomPolygon, w.polygon(l, p, orb.Polygon{g})
	case orb.Polygon:
		return geomPolygon, w.polygon(l, p, g)
	case orb.MultiPolygon:
		any := false
		for _, pg := range g {
			any = w.polygon(l, p, pg) || any
		}
		return geomPolygon, any
	}
	return 0, false
}

func inBox(p *projection, x, y int32) bool {
	fx, fy := float64(x), float64(y)
	return fx >= p.box.Min[0] && fx <= p.box.Max[0] && fy >= p.box.Min[1] && fy <= p.box.Max[1]
}

func (w *geomWriter) point(l *layerEncoder, p *projection, pt orb.Point) bool {
	x, y, ok := p.tilePoint(pt)
	if !ok {
		return false
	}
	l.point(x, y)
	return true
}

// tilePoint returns a point in tile coordinates, ok false when it lies
// outside the buffered tile.
func (p *projection) tilePoint(pt orb.Point) (x, y int32, ok bool) {
	q := p.xy(pt)
	x, y = floor32(q[0]), floor32(q[1])
	return x, y, inBox(p, x, y)
}

// project projects a line into the scratch line string.
func (w *geomWriter) project(p *projection, ls []orb.Point) orb.LineString {
	w.ls = w.ls[:0]
	for _, pt := range ls {
		w.ls = append(w.ls, p.xy(pt))
	}
	return w.ls
}

// round rounds a projected line into the scratch points, dropping repeats.
func (w *geomWriter) round(ls []orb.Point) []ipoint {
	w.pts = w.pts[:0]
	for _, q := range ls {
		ip := ipoint{floor32(q[0]), floor32(q[1])}
		if n := len(w.pts); n > 0 && w.pts[n-1] == ip {
			continue
		}
		w.pts = append(w.pts, ip)
	}
	return w.pts
}

func (w *geomWriter) line(l *layerEncoder, p *projection, g orb.LineString) bool {
	if len(g) < 2 {
		return false
	}
	ls := w.project(p, g)
	b := ls.Bound()
	if !b.Intersects(p.box) {
		return false
	}
	var parts orb.MultiLineString
	if p.box.Contains(b.Min) && p.box.Contains(b.Max) {
		parts = orb.MultiLineString{ls}
	} else {
		parts = clip.LineString(p.box, ls)
	}
	any := false
	for _, part := range parts {
		if p.tol > 0 && len(part) > 2 {
			part = simplify.DouglasPeucker(p.tol).LineString(part)
		}
		pts := w.round(part)
		if len(pts) < 2 {
			continue
		}
		l.line(pts)
		any = true
	}
	return any
}

// ringArea is twice the signed area by the surveyor's formula; positive is
// clockwise on screen (y down), the MVT exterior orientation.
func ringArea(pts []ipoint) int64 {
	var a int64
	for i := range pts {
		j := (i + 1) % len(pts)
		a += int64(pts[i].x)*int64(pts[j].y) - int64(pts[j].x)*int64(pts[i].y)
	}
	return a
}

func reversePoints(pts []ipoint) {
	for i, j := 0, len(pts)-1; i < j; i, j = i+1, j-1 {
		pts[i], pts[j] = pts[j], pts[i]
	}
}

func (w *geomWriter) polygon(l *layerEncoder, p *projection, g orb.Polygon) bool {
	if len(g) == 0 || len(g[0]) < 4 {
		return false
	}
	pg := make(orb.Polygon, len(g))
	for i, r := range g {
		pr := make(orb.Ring, len(r))
		for j, pt := range r {
			pr[j] = p.xy(pt)
		}
		pg[i] = pr
	}
	b := pg[0].Bound()
	if !b.Intersects(p.box) {
		return false
	}
	if !(p.box.Contains(b.Min) && p.box.Contains(b.Max)) {
		pg = clip.Polygon(p.box, pg)
		if len(pg) == 0 {
			return false
		}
	}
	for i, r := range pg {
		if i > 0 && len(r) == 0 {
			continue
		}
		if p.tol > 0 && len(r) > 4 {
			r = simplify.DouglasPeucker(p.tol).Ring(r)
		}
		pts := w.round(r)
		if n := len(pts); n > 1 && pts[0] == pts[n-1] {
			pts = pts[:n-1]
		}
		if len(pts) < 3 {
			if i == 0 {
				return false
			}
			continue
		}
		a := ringArea(pts)
		if a == 0 {
			if i == 0 {
				return false
			}
			continue
		}
		if (i == 0) != (a > 0) {
			reversePoints(pts)
		}
		l.ring(pts)
	}
	return true
}

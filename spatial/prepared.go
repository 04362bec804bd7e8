package spatial

import "github.com/paulmach/orb"

// Prepared is an area (a Polygon or MultiPolygon; holes excluded,
// boundaries included) made ready for many exact tests, the way a query
// polygon is tested against every candidate of a box search. The edges of
// each polygon are sorted into horizontal bands of equal height, about one
// band per edge: a point test reads only the edges of the point's band
// (Place over those edges: the same verdicts), and a segment test only the
// edges of the bands the segment spans. For the usual polygon a band holds a
// handful of edges, so a test costs O(1) to O(log n) instead of O(n) for n
// vertices; Prepare itself is O(n).
//
// A Prepared is read-only once made: any number of goroutines may test
// against it at once.
type Prepared struct {
	bound orb.Bound
	polys []banded
}

// banded is one polygon of a Prepared: its edges, lower end first, and the
// edges of band i at bandEdges[bandStart[i]:bandStart[i+1]].
type banded struct {
	bound     orb.Bound
	first     orb.Point // a vertex of the outer ring
	edges     [][2]orb.Point
	y0, scale float64 // band of y: (y - y0) * scale, clamped
	nb        int
	bandStart []uint32
	bandEdges []uint32
}

// Prepare prepares an orb.Polygon, orb.MultiPolygon, orb.Ring or
// orb.Bound. Any other geometry, and empty polygons, prepare to an area
// that holds nothing.
func Prepare(area orb.Geometry) *Prepared {
	var polys []orb.Polygon
	switch a := area.(type) {
	case orb.Polygon:
		polys = []orb.Polygon{a}
	case orb.MultiPolygon:
		polys = a
	case orb.Ring:
		polys = []orb.Polygon{{a}}
	case orb.Bound:
		polys = []orb.Polygon{a.ToPolygon()}
	}
	pa := &Prepared{}
	for _, p := range polys {
		if len(p) == 0 || len(p[0]) == 0 {
			continue
		}
		bp := newBanded(p)
		if len(pa.polys) == 0 {
			pa.bound = bp.bound
		} else {
			pa.bound = pa.bound.Union(bp.bound)
		}
		pa.polys = append(pa.polys, bp)
	}
	return pa
}

// maxBandEntries bounds the band lists at this many entries per edge: a
// polygon whose edges are long in y gets fewer, taller bands.
const maxBandEntries = 8

func newBanded(p orb.Polygon) banded {
	b := banded{bound: p.Bound(), first: p[0][0]}
	for _, r := range p {
		for i := 0; i+1 < len(r); i++ {
			a, c := r[i], r[i+1]
			if a[1] > c[1] || (a[1] == c[1] && a[0] > c[0]) {
				a, c = c, a
			}
			b.edges = append(b.edges, [2]orb.Point{a, c})
		}
	}
	b.y0 = b.bound.Min[1]
	height := b.bound.Max[1] - b.bound.Min[1]
	nb := max(1, len(b.edges))
	for {
		b.nb = nb
		b.scale = 0
		if height > 0 {
			b.scale = float64(nb) / height
		}
		entries := 0
		for _, e := range b.edges {
			entries += b.band(e[1][1]) - b.band(e[0][1]) + 1
		}
		if nb == 1 || entries <= maxBandEntries*len(b.edges)+64 {
			break
		}
		nb /= 2
	}
	// Counting sort of the edges into their bands.
	b.bandStart = make([]uint32, b.nb+1)
	for _, e := range b.edges {
		for k := b.band(e[0][1]); k <= b.band(e[1][1]); k++ {
			b.bandStart[k+1]++
		}
	}
	for k := 0; k < b.nb; k++ {
		b.bandStart[k+1] += b.bandStart[k]
	}
	b.bandEdges = make([]uint32, b.bandStart[b.nb])
	next := make([]uint32, b.nb)
	copy(next, b.bandStart[:b.nb])
	for i, e := range b.edges {
		for k := b.band(e[0][1]); k <= b.band(e[1][1]); k++ {
			b.bandEdges[next[k]] = uint32(i)
			next[k]++
		}
	}
	return b
}

// band returns the band of the height y, clamped to 0..nb-1. It is monotone
// in y, so an edge whose y range holds y is listed in y's band.
func (b *banded) band(y float64) int {
	f := (y - b.y0) * b.scale
	switch {
	case !(f > 0): // NaN included
		return 0
	case f >= float64(b.nb):
		return b.nb - 1
	}
	return min(int(f), b.nb-1)
}

// inBand returns the indexes of the edges of the band of y.
func (b *banded) inBand(k int) []uint32 {
	return b.bandEdges[b.bandStart[k]:b.bandStart[k+1]]
}

// place is Place over the edges of pt's band.
func (b *banded) place(pt orb.Point) Placement {
	if !b.bound.Contains(pt) {
		return Outside
	}
	in := false
	for _, i := range b.inBand(b.band(pt[1])) {
		e := &b.edges[i]
		switch crossing(e[0], e[1], pt) {
		case onEdge:
			return Boundary
		case crosses:
			in = !in
		}
	}
	if in {
		return Interior
	}
	return Outside
}

// segmentHits reports whether the closed segment p-q meets an edge.
func (b *banded) segmentHits(p, q orb.Point) bool {
	lo, hi := min(p[1], q[1]), max(p[1], q[1])
	if hi < b.bound.Min[1] || lo > b.bound.Max[1] ||
		max(p[0], q[0]) < b.bound.Min[0] || min(p[0], q[0]) > b.bound.Max[0] {
		return false
	}
	xlo, xhi := min(p[0], q[0]), max(p[0], q[0])
	k0, k1 := b.band(lo), b.band(hi)
	for k := k0; k <= k1; k++ {
		for _, i := range b.inBand(k) {
			e := &b.edges[i]
			// An edge in several bands is tested once: in the first band
			// that both share.
			if k > k0 && b.band(e[0][1]) < k {
				continue
			}
			if max(e[0][0], e[1][0]) < xlo || min(e[0][0], e[1][0]) > xhi ||
				e[1][1] < lo || e[0][1] > hi {
				continue
			}
			if segmentsIntersect(p, q, e[0], e[1]) {
				return true
			}
		}
	}
	return false
}

// lineHits reports whether the line meets the polygon: a vertex inside or
// on it, or a segment meeting an edge.
func (b *banded) lineHits(l []orb.Point) bool {
	if len(l) == 0 {
		return false
	}
	if b.place(l[0]) != Outside {
		return true
	}
	for i := 0; i+1 < len(l); i++ {
		if b.segmentHits(l[i], l[i+1]) {
			return true
		}
	}
	return false
}

// Bound returns the box of the area.
func (pa *Prepared) Bound() orb.Bound { return pa.bound }

// Contains reports whether pt lies in the area or on its boundary.
func (pa *Prepared) Contains(pt orb.Point) bool {
	if !pa.bound.Contains(pt) {
		return false
	}
	for i := range pa.polys {
		if pa.polys[i].place(pt) != Outside {
			return true
		}
	}
	return false
}

// Intersects reports whether g really intersects the area, as
// IntersectsArea(g, area) does. g is a Point, MultiPoint, LineString,
// MultiLineString, Ring, Polygon, MultiPolygon, Bound or Collection.
func (pa *Prepared) Intersects(g orb.Geometry) bool {
	switch g := g.(type) {
	case orb.Point:
		return pa.Contains(g)
	case orb.MultiPoint:
		for _, p := range g {
			if pa.Contains(p) {
				return true
			}
		}
		return false
	case orb.LineString:
		return pa.lineHits(g, g.Bound())
	case orb.MultiLineString:
		for _, l := range g {
			if pa.lineHits(l, l.Bound()) {
				return true
			}
		}
		return false
	case orb.Ring:
		return pa.polygonHits(orb.Polygon{g})
	case orb.Polygon:
		return pa.polygonHits(g)
	case orb.MultiPolygon:
		for _, p := range g {
			if pa.polygonHits(p) {
				return true
			}
		}
		return false
	case orb.Bound:
		return pa.polygonHits(g.ToPolygon())
	case orb.Collection:
		for _, x := range g {
			if pa.Intersects(x) {
				return true
			}
		}
		return false
	}
	return false
}

func (pa *Prepared) lineHits(l orb.LineString, lb orb.Bound) bool {
	if len(l) == 0 || !lb.Intersects(pa.bound) {
		return false
	}
	for i := range pa.polys {
		if lb.Intersects(pa.polys[i].bound) && pa.polys[i].lineHits(l) {
			return true
		}
	}
	return false
}

// polygonHits: an edge of g meets the area, a vertex of g lies in it, or a
// polygon of the area lies wholly inside g.
func (pa *Prepared) polygonHits(g orb.Polygon) bool {
	if len(g) == 0 || len(g[0]) == 0 {
		return false
	}
	gb := g.Bound()
	if !gb.Intersects(pa.bound) {
		return false
	}
	for _, r := range g {
		if pa.lineHits(orb.LineString(r), gb) {
			return true
		}
	}
	for i := range pa.polys {
		if gb.Intersects(pa.polys[i].bound) && Place(g, pa.polys[i].first) != Outside {
			return true
		}
	}
	return false
}

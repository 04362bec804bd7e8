package synth

import (
	"math"
	"math/rand/v2"

	"github.com/paulmach/orb"
)

// jitter is the largest move of an interior lattice vertex, as a fraction
// of the cell side on each axis. Below 0.25 every cell stays convex.
const jitter = 0.18

// lattice is the grid lattice: rows x cols cells over the square whose
// (rows+1) x (cols+1) vertices are shared by neighbouring cells. Vertices
// are held in lon/lat, exactly as the grid polygons store them. Split cells
// are cut along the diagonal from vertex (r, c) to (r+1, c+1) into two
// triangles.
type lattice struct {
	rows, cols int
	lon, lat   []float64 // vertex (i, j) at i*(cols+1)+j; i counts rows from the south
	split      []bool    // per cell r*cols+c
	minLon     float64
	minLat     float64
	dLon, dLat float64 // unjittered cell size in degrees
	cellWm     float64 // cell width, metres
	cellHm     float64 // cell height, metres
	eps        float64 // a score above eps is inside beyond rounding error
	// grid ids (code order) of each cell: piece 0 is the whole cell or
	// triangle A (below the diagonal), piece 1 triangle B or -1.
	gridOf [][2]int32
}

// latticeDims returns rows and cols near sqrt(m) with the fewest left-over
// cells rem = m - rows*cols (rem < cols); rem cells are split in two.
func latticeDims(m int) (rows, cols, rem int) {
	s := int(math.Ceil(math.Sqrt(float64(m))))
	rem = -1
	for c := s; c <= s+s/4+1 && c <= m; c++ {
		r := m / c
		if r == 0 {
			break
		}
		if c != s && 2*c > 3*r {
			break // cells more than 1.5 times wider than high
		}
		if e := m - r*c; rem < 0 || e < rem {
			rows, cols, rem = r, c, e
		}
		if rem == 0 {
			break
		}
	}
	return rows, cols, rem
}

func newLattice(m int, f *frame, rng *rand.Rand) *lattice {
	rows, cols, rem := latticeDims(m)
	l := &lattice{
		rows: rows, cols: cols,
		lon:    make([]float64, (rows+1)*(cols+1)),
		lat:    make([]float64, (rows+1)*(cols+1)),
		split:  make([]bool, rows*cols),
		minLon: f.minLon, minLat: f.minLat,
		dLon:   (f.maxLon - f.minLon) / float64(cols),
		dLat:   (f.maxLat - f.minLat) / float64(rows),
		cellWm: 2 * f.half / float64(cols),
		cellHm: 2 * f.half / float64(rows),
	}
	// Cross products of a point at distance t from an edge of length e are
	// e*t; their rounding error is about 1e-16 * cell area. 1e-9 of a cell
	// area keeps a wide margin (about a millionth of a cell from the edge).
	l.eps = 1e-9 * l.dLon * l.dLat
	for i := 0; i <= rows; i++ {
		for j := 0; j <= cols; j++ {
			var jx, jy float64
			if i > 0 && i < rows && j > 0 && j < cols {
				jx, jy = (2*rng.Float64()-1)*jitter, (2*rng.Float64()-1)*jitter
			} else if (i == 0 || i == rows) && j > 0 && j < cols {
				jx = (2*rng.Float64() - 1) * jitter // slide along the south or north edge
			} else if (j == 0 || j == cols) && i > 0 && i < rows {
				jy = (2*rng.Float64() - 1) * jitter // slide along the west or east edge
			}
			lo := f.minLon + (float64(j)+jx)*l.dLon
			la := f.minLat + (float64(i)+jy)*l.dLat
			switch j {
			case 0:
				lo = f.minLon
			case cols:
				lo = f.maxLon
			}
			switch i {
			case 0:
				la = f.minLat
			case rows:
				la = f.maxLat
			}
			k := i*(cols+1) + j
			l.lon[k], l.lat[k] = lo, la
		}
	}
	total := rows * cols
	for k := 0; k < rem; k++ {
		l.split[int((float64(k)+0.5)*float64(total)/float64(rem))] = true
	}
	return l
}

func (l *lattice) vertex(i, j int) orb.Point {
	k := i*(l.cols+1) + j
	return orb.Point{l.lon[k], l.lat[k]}
}

// corners returns the counter-clockwise corners of piece (0 or 1) of a
// cell, and how many there are (4 for a whole cell, 3 for a triangle).
func (l *lattice) corners(cell, piece int) ([4]orb.Point, int) {
	r, c := cell/l.cols, cell%l.cols
	a, b, cc, d := l.vertex(r, c), l.vertex(r, c+1), l.vertex(r+1, c+1), l.vertex(r+1, c)
	switch {
	case !l.split[cell]:
		return [4]orb.Point{a, b, cc, d}, 4
	case piece == 0:
		return [4]orb.Point{a, b, cc}, 3
	default:
		return [4]orb.Point{a, cc, d}, 3
	}
}

// ring returns the closed polygon ring of a piece of a cell.
func (l *lattice) ring(cell, piece int) orb.Ring {
	v, n := l.corners(cell, piece)
	r := make(orb.Ring, n+1)
	copy(r, v[:n])
	r[n] = v[0]
	return r
}

// score is the smallest cross product of p against the edges of a piece:
// >= 0 when p is inside or on the boundary (the piece is convex and CCW).
func (l *lattice) score(cell, piece int, p orb.Point) float64 {
	v, n := l.corners(cell, piece)
	s := math.Inf(1)
	for k := 0; k < n; k++ {
		a, b := v[k], v[(k+1)%n]
		s = math.Min(s, (b[0]-a[0])*(p[1]-a[1])-(b[1]-a[1])*(p[0]-a[0]))
	}
	return s
}

// locate returns the id of the grid holding p with the rule of
// grid.Index.Locate: a grid whose interior holds p wins; otherwise, of the
// grids whose boundary holds p, the one with the smallest code (the lowest
// id). Points outside every piece (possible only outside the square) go to
// the nominal cell.
func (l *lattice) locate(p orb.Point) int32 {
	c0 := int(math.Floor((p[0] - l.minLon) / l.dLon))
	r0 := int(math.Floor((p[1] - l.minLat) / l.dLat))
	c0, r0 = min(max(c0, 0), l.cols-1), min(max(r0, 0), l.rows-1)
	// Fast path: well inside a piece of the nominal cell (farther from its
	// edges than any rounding error), p is in no other piece.
	cell := r0*l.cols + c0
	for piece := 0; piece < 2 && l.gridOf[cell][piece] >= 0; piece++ {
		if l.score(cell, piece, p) > l.eps {
			return l.gridOf[cell][piece]
		}
	}
	best, bestAt := l.gridOf[cell][0], outside
	for r := max(r0-1, 0); r <= min(r0+1, l.rows-1); r++ {
		for c := max(c0-1, 0); c <= min(c0+1, l.cols-1); c++ {
			cell := r*l.cols + c
			for piece := 0; piece < 2 && l.gridOf[cell][piece] >= 0; piece++ {
				id := l.gridOf[cell][piece]
				v, n := l.corners(cell, piece)
				at := place(v[:n], p)
				if at > bestAt || (at == bestAt && at != outside && id < best) {
					best, bestAt = id, at
				}
			}
		}
	}
	return best
}

// placement is where a point lies relative to a polygon.
type placement uint8

const (
	outside placement = iota
	boundary
	interior
)

// place classifies pt against the ring through the corners v (implicitly
// closed) by even-odd ray casting with each edge taken from its lower end,
// so that both grids sharing an edge compute the very same cross product.
// It mirrors the placement of grid.Index.Locate.
func place(v []orb.Point, pt orb.Point) placement {
	x, y := pt[0], pt[1]
	in := false
	for i := range v {
		a, b := v[i], v[(i+1)%len(v)]
		if a[1] > b[1] || (a[1] == b[1] && a[0] > b[0]) {
			a, b = b, a
		}
		if y < a[1] || y > b[1] || x > max(a[0], b[0]) {
			continue
		}
		o := (b[0]-a[0])*(y-a[1]) - (b[1]-a[1])*(x-a[0])
		if o == 0 {
			if x >= min(a[0], b[0]) {
				return boundary
			}
			continue
		}
		if o > 0 && y < b[1] {
			in = !in
		}
	}
	if in {
		return interior
	}
	return outside
}

package grid

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

// The test lattice: cells of 2^-10 degrees (about 100 m) whose vertices are
// jittered by multiples of 2^-14 degrees. All coordinates are dyadic with
// few bits, so midpoints of edges are exact and lie exactly on their edge.
const (
	lon0   = 104.0
	lat0   = 30.5
	step   = 1.0 / 1024
	jstep  = 1.0 / 16384
	jitter = 4 // vertices move by up to ±jitter*jstep
)

// lattice is a generated set of grids: nx by ny cells, grouped into
// communities of cw by ch cells, 10 communities a street, 10 streets a
// district. Cells share exact vertices with their neighbours.
type lattice struct {
	nx, ny, cw, ch int
	v              [][]orb.Point // (nx+1) x (ny+1) vertices
	codes          [][]Code      // nx x ny cell codes
	grids          []Grid
}

func newLattice(tb testing.TB, nx, ny, cw, ch int, seed uint64) *lattice {
	tb.Helper()
	if cw*ch > 99 {
		tb.Fatalf("community of %dx%d cells does not fit 2-digit serials", cw, ch)
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	l := &lattice{nx: nx, ny: ny, cw: cw, ch: ch}
	l.v = make([][]orb.Point, nx+1)
	for i := range l.v {
		l.v[i] = make([]orb.Point, ny+1)
		for j := range l.v[i] {
			jx := float64(rng.IntN(2*jitter+1)-jitter) * jstep
			jy := float64(rng.IntN(2*jitter+1)-jitter) * jstep
			l.v[i][j] = orb.Point{lon0 + float64(i)*step + jx, lat0 + float64(j)*step + jy}
		}
	}
	blocksX := (nx + cw - 1) / cw
	l.codes = make([][]Code, nx)
	for i := range l.codes {
		l.codes[i] = make([]Code, ny)
		for j := range l.codes[i] {
			k := (j/ch)*blocksX + i/cw // community number
			s := k / 10                // street number
			d := s / 10                // district number
			serial := (j%ch)*cw + i%cw + 1
			c, err := ParseCode(fmt.Sprintf("%06d%03d%03d%02d", 510104+d, s%10+1, k%10+1, serial))
			if err != nil {
				tb.Fatal(err)
			}
			l.codes[i][j] = c
			l.grids = append(l.grids, Grid{Code: c, Name: "grid " + string(c), Geometry: l.cell(i, j)})
		}
	}
	return l
}

// roughen moves every vertex by a random non-dyadic amount (so the
// arithmetic of the point-in-polygon test rounds) and rebuilds the grids.
func (l *lattice) roughen(rng *rand.Rand) {
	for i := range l.v {
		for j := range l.v[i] {
			l.v[i][j][0] += (rng.Float64() - 0.5) * jstep
			l.v[i][j][1] += (rng.Float64() - 0.5) * jstep
		}
	}
	for n := range l.grids {
		i, j := n/l.ny, n%l.ny
		l.grids[n].Geometry = l.cell(i, j)
	}
}

// cell returns the polygon of cell (i, j), counter-clockwise.
func (l *lattice) cell(i, j int) orb.Polygon {
	return orb.Polygon{{l.v[i][j], l.v[i+1][j], l.v[i+1][j+1], l.v[i][j+1], l.v[i][j]}}
}

// index returns a new Index holding the lattice's grids.
func (l *lattice) index(tb testing.TB) *Index {
	tb.Helper()
	ix := NewIndex()
	for _, g := range l.grids {
		if _, _, err := ix.Put(g); err != nil {
			tb.Fatal(err)
		}
	}
	return ix
}

// minCode returns the smallest code of the cells (i, j) that exist.
func (l *lattice) minCode(cells ...[2]int) Code {
	var best Code
	for _, c := range cells {
		i, j := c[0], c[1]
		if i < 0 || j < 0 || i >= l.nx || j >= l.ny {
			continue
		}
		if best == "" || l.codes[i][j] < best {
			best = l.codes[i][j]
		}
	}
	return best
}

// randomPoint returns a point in the lattice's box widened by margin cells.
func (l *lattice) randomPoint(rng *rand.Rand, margin float64) orb.Point {
	w := float64(l.nx) + 2*margin
	h := float64(l.ny) + 2*margin
	return orb.Point{lon0 + (rng.Float64()*w-margin)*step, lat0 + (rng.Float64()*h-margin)*step}
}

package grid

import (
	"fmt"

	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// Locate returns the one grid that holds pt, exactly (the polygon, not its
// bounding box). The error wraps ErrNotFound when pt lies in no grid, in a
// hole of a grid included.
//
// Grids are closed sets, so a point on a boundary has a defined answer: a
// point in the interior of a grid belongs to that grid; a point on the
// boundary of one or more grids (an edge or corner that neighbours share,
// a hole's edge, the edge of the city) and in the interior of none belongs
// to the one with the smallest code. Points near a shared edge land in
// exactly one of the two grids, whatever the rounding (see spatial.Place).
func (ix *Index) Locate(pt orb.Point) (Grid, error) {
	l := locator{pt: pt}
	ix.mu.RLock()
	ix.tree.Search(pt, pt, l.visit)
	ix.mu.RUnlock()
	if l.best == nil {
		return Grid{}, fmt.Errorf("%w: no grid holds point (%v, %v)", ErrNotFound, pt[0], pt[1])
	}
	return l.best.grid, nil
}

// locator keeps the best candidate of a Locate.
type locator struct {
	pt   orb.Point
	best *entry
	at   spatial.Placement // where pt lies in best
}

func (l *locator) visit(_, _ [2]float64, e *entry) bool {
	p := spatial.Place(e.grid.Geometry, l.pt)
	if p == spatial.Outside {
		return true
	}
	if l.best == nil || p > l.at || (p == l.at && e.grid.Code < l.best.grid.Code) {
		l.best, l.at = e, p
	}
	return true
}

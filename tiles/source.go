package tiles

import (
	"context"

	"citytwin/grid"
	"citytwin/parts"

	"github.com/paulmach/orb"
)

// PartSource is what the map needs of a component registry (parts.Registry):
// a streaming scan of the components whose geometry intersects a box and
// matches a filter. fn returns false to stop the scan.
type PartSource interface {
	Scan(ctx context.Context, b orb.Bound, f parts.Filter, fn func(e parts.Entry) bool) error
}

// GridSource is what the map needs of a grid index (grid.Index): the grids
// that intersect a box, the divisions of a level under a parent, and the
// outline of a division.
type GridSource interface {
	Search(ctx context.Context, b orb.Bound, fn func(g grid.Grid) bool) error
	Divisions(level grid.Level, parent string) []grid.Division
	Outline(prefix string) (orb.MultiLineString, error)
}

// sizer is implemented by sources that know how many components they
// hold (parts.Registry): Build sizes its buffers from it.
type sizer interface{ Len() int }

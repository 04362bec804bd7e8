package twin

import (
	"context"

	"citytwin/grid"
	"citytwin/parts"
)

// Store is what the twin needs of persistence: stream everything at start,
// and write batches atomically (one transaction: all or nothing).
// store/gpkg.Store satisfies it.
type Store interface {
	CountParts(ctx context.Context) (int, error)
	// LoadParts, LoadGrids and LoadDivisions may run at the same time
	// (Open loads the grids beside the parts), each calling its fn from
	// one goroutine.
	LoadParts(ctx context.Context, fn func(p parts.Part) error) error
	LoadGrids(ctx context.Context, fn func(g grid.Grid) error) error
	LoadDivisions(ctx context.Context, fn func(d grid.Division) error) error
	PutParts(ctx context.Context, ps []parts.Part) error
	PutGrids(ctx context.Context, gs []grid.Grid) error
	// DeleteGrid deletes a grid; version, when not 0, is the version the
	// writer read, and a grid stored at another fails (grid.ErrVersionMismatch).
	DeleteGrid(ctx context.Context, c grid.Code, version uint64) error
}

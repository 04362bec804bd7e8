package twin

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/paulmach/orb"

	"citytwin/grid"
	"citytwin/parts"
)

// relocateLocked re-locates the components a grid change may have moved
// from one grid to another: every live component in the boxes (the old
// and new grids' bounds) whose located grid differs from its Grid gets a
// modify record with its new grid ("" outside every grid), applied through
// the single write path in one transaction after the grid's own. It
// returns the components changed. The caller holds wmu.
func (t *Twin) relocateLocked(ctx context.Context, boxes ...orb.Bound) ([]parts.Part, error) {
	seen := map[parts.Code]bool{}
	var codes []parts.Code
	for _, b := range boxes {
		if b.IsZero() {
			continue
		}
		err := t.parts.Scan(ctx, b, parts.Filter{}, func(e parts.Entry) bool {
			if !seen[e.Code] {
				seen[e.Code] = true
				codes = append(codes, e.Code)
			}
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	var cs []PartChange
	for _, c := range codes {
		p, err := t.parts.Get(c)
		if err != nil {
			continue // retired meanwhile: not in the index
		}
		code := ""
		if g, err := t.grids.Locate(RepresentativePoint(p.Geometry)); err == nil {
			code = string(g.Code)
		} else if !errors.Is(err, grid.ErrNotFound) {
			return nil, err
		}
		if code == p.Grid {
			continue
		}
		p.Grid = code
		cs = append(cs, PartChange{Op: OpModify, Part: p, IfVersion: p.Version})
	}
	if len(cs) == 0 {
		return nil, nil
	}
	out, err := t.applyLocked(ctx, cs, nil) // a system change: no rights to check
	if err != nil {
		return nil, fmt.Errorf("twin: re-locating %d components: %w", len(cs), err)
	}
	return out, nil
}

// relocateOrDefer re-locates the components in boxes, and in the boxes of
// earlier grid writes whose re-location failed, after a grid write that is
// already stored. The grid write stands whatever happens here: when the
// re-location fails (the store refused its transaction, the request was
// cancelled), its boxes are kept and retried by the next grid write or
// Sweep, and the caller's answer is not turned into an error for a write
// that was done. The caller holds wmu.
func (t *Twin) relocateOrDefer(ctx context.Context, boxes ...orb.Bound) []parts.Part {
	all := append(slices.Clip(t.pending()), boxes...)
	moved, err := t.relocateLocked(ctx, all...)
	if err != nil {
		t.setPending(compactBounds(all))
		return moved
	}
	t.setPending(nil)
	return moved
}

// pending returns the areas waiting to be re-located.
func (t *Twin) pending() []orb.Bound {
	if p := t.pendingReloc.Load(); p != nil {
		return *p
	}
	return nil
}

// setPending replaces them (nil: none). The caller holds wmu.
func (t *Twin) setPending(bs []orb.Bound) {
	if len(bs) == 0 {
		t.pendingReloc.Store(nil)
		return
	}
	t.pendingReloc.Store(&bs)
}

// compactBounds drops the zero and repeated bounds of bs.
func compactBounds(bs []orb.Bound) []orb.Bound {
	out := make([]orb.Bound, 0, len(bs))
	for _, b := range bs {
		if !b.IsZero() && !slices.Contains(out, b) {
			out = append(out, b)
		}
	}
	return out
}

// RelocationsPending returns the number of areas whose components wait to
// be re-located after a grid write (0 but for a failed re-location).
func (t *Twin) RelocationsPending() int { return len(t.pending()) }

// retryRelocations re-locates the components of the areas left pending.
func (t *Twin) retryRelocations(ctx context.Context) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if len(t.pending()) == 0 {
		return nil
	}
	if _, err := t.relocateLocked(ctx, t.pending()...); err != nil {
		return err
	}
	t.setPending(nil)
	return nil
}

// gridBound is the bound of a grid, the zero Bound for nil.
func gridBound(g *grid.Grid) orb.Bound {
	if g == nil || len(g.Geometry) == 0 {
		return orb.Bound{}
	}
	return g.Geometry.Bound()
}

// GridImport is the outcome of ImportGrids.
type GridImport struct {
	Added, Updated, Unchanged int
	// Relocated are the components whose grid changed.
	Relocated []parts.Part
}

// ImportGrids adds the grids of gs whose code is new and, with update,
// replaces those whose code exists and differ (a grid equal to the stored
// one is left alone and counted unchanged). Every grid is checked first on a scratch index, then all are
// stored in one transaction and applied, then the components the changed
// grids cover are re-located (relocateLocked) in a following transaction
// (retried later when it fails: relocateOrDefer).
// A bad grid fails the whole batch with an error naming it; without
// update an existing code fails with grid.ErrExists.
func (t *Twin) ImportGrids(ctx context.Context, gs []grid.Grid, update bool) (GridImport, error) {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	var res GridImport
	scratch := grid.NewIndex()
	var (
		puts  []grid.Grid
		olds  []*grid.Grid
		boxes []orb.Bound
	)
	for _, g := range gs {
		if _, _, err := scratch.Put(g); err != nil {
			return res, fmt.Errorf("twin: grid %s: %w", g.Code, err)
		}
		cur, err := t.grids.Get(g.Code)
		switch {
		case err == nil:
			if cur.Name == g.Name && cur.Dept == g.Dept && orb.Equal(cur.Geometry, g.Geometry) {
				res.Unchanged++
				continue
			}
			if !update {
				return res, fmt.Errorf("%w: %s", grid.ErrExists, g.Code)
			}
			g.Version = cur.Version + 1
			c := cur
			olds = append(olds, &c)
			boxes = append(boxes, gridBound(&c))
			res.Updated++
		case errors.Is(err, grid.ErrNotFound):
			g.Version = 1
			olds = append(olds, nil)
			res.Added++
		default:
			return res, err
		}
		boxes = append(boxes, gridBound(&g))
		puts = append(puts, g)
	}
	if len(puts) == 0 {
		return res, nil
	}
	if err := storeErr(t.store.PutGrids(ctx, puts)); err != nil {
		return GridImport{}, err
	}
	changes := make([]Change, len(puts))
	for i := range puts {
		if _, _, err := t.grids.Put(puts[i]); err != nil {
			return res, err
		}
		g := puts[i]
		op := OpAdd
		if olds[i] != nil {
			op = OpModify
		}
		changes[i] = Change{Op: op, OldGrid: olds[i], NewGrid: &g}
	}
	t.emit(changes...)
	res.Relocated = t.relocateOrDefer(ctx, boxes...)
	return res, nil
}

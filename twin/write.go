package twin

import (
	"context"
	"errors"
	"fmt"

	"github.com/paulmach/orb"

	"citytwin/grid"
	"citytwin/parts"
)

// AddPart adds a new component: version 1, its grid located when not given,
// its change date today. It fails with parts.ErrExists for a code already in
// use (retired codes included).
func (t *Twin) AddPart(ctx context.Context, p parts.Part) (parts.Part, error) {
	out, err := t.ApplyParts(ctx, []PartChange{{Op: OpAdd, Part: p}})
	if err != nil {
		return parts.Part{}, err
	}
	return out[0], nil
}

// UpdatePart changes the component with code by calling mutate on a copy of
// it. mutate must replace the geometry rather than modify it in place, and
// must not change the code. ifVersion, when not 0, must equal the current
// version (parts.ErrVersionMismatch otherwise).
func (t *Twin) UpdatePart(ctx context.Context, code parts.Code, ifVersion uint64, mutate func(p *parts.Part) error) (parts.Part, error) {
	out, err := t.submitParts(ctx, func(cur lookup) ([]PartChange, error) {
		p, exists, err := cur(code)
		switch {
		case err != nil:
			return nil, err
		case !exists:
			return nil, fmt.Errorf("%w: %s", parts.ErrNotFound, code)
		case p.Retired:
			return nil, fmt.Errorf("%w: %s", parts.ErrRetired, code)
		}
		next := p
		if err := mutate(&next); err != nil {
			return nil, err
		}
		if next.Code != code {
			return nil, &parts.FieldError{Field: "code", Reason: "the code of a component cannot change; retire it and add a new one", Err: parts.ErrInvalid}
		}
		next.Retired = p.Retired
		return []PartChange{{Op: OpModify, Part: next, IfVersion: ifVersion}}, nil
	}, nil)
	if err != nil {
		return parts.Part{}, err
	}
	return out[0], nil
}

// RetirePart retires (作废) a component: it leaves every query but stays in
// the store.
func (t *Twin) RetirePart(ctx context.Context, code parts.Code, ifVersion uint64) (parts.Part, error) {
	out, err := t.ApplyParts(ctx, []PartChange{{Op: OpRetire, Part: parts.Part{Code: code}, IfVersion: ifVersion}})
	if err != nil {
		return parts.Part{}, err
	}
	return out[0], nil
}

// ApplyParts applies a batch of change records atomically: every record is
// checked (later records see earlier ones), then all are persisted in one
// transaction, then applied to the indexes in one step (readers see the
// whole batch or none of it). If any record is invalid or the store fails,
// nothing changes and the error names the record by index. It checks no
// rights: it is for trusted writers (import); see ApplyPartsChecked.
func (t *Twin) ApplyParts(ctx context.Context, cs []PartChange) ([]parts.Part, error) {
	return t.ApplyPartsChecked(ctx, cs, nil)
}

// applyLocked runs a batch under the write mutex; check, when not nil,
// holds every record against the state the batch applies to.
func (t *Twin) applyLocked(ctx context.Context, cs []PartChange, check PartCheck) ([]parts.Part, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	pending := make(map[parts.Code]parts.Part, len(cs))
	out, olds, err := t.prepareLocked(cs, check, t.lookupIn(pending), pending)
	if err != nil {
		return nil, err
	}
	if err := storeErr(t.store.PutParts(ctx, out)); err != nil {
		return nil, err
	}
	t.commitPartsLocked(ctx, cs, out, olds)
	return out, nil
}

// lookup returns a component as the writes prepared so far leave it:
// exists is false for an unknown code; a retired one exists.
type lookup func(c parts.Code) (p parts.Part, exists bool, err error)

// lookupIn looks in pending (and then further, when given), then in the
// registry.
func (t *Twin) lookupIn(pending map[parts.Code]parts.Part, further ...map[parts.Code]parts.Part) lookup {
	return func(c parts.Code) (parts.Part, bool, error) {
		if p, ok := pending[c]; ok {
			return p, true, nil
		}
		for _, m := range further {
			if p, ok := m[c]; ok {
				return p, true, nil
			}
		}
		return t.current(nil, c)
	}
}

// commitPartsLocked applies stored parts to the indexes in one step and
// emits their changes.
func (t *Twin) commitPartsLocked(ctx context.Context, cs []PartChange, out []parts.Part, olds []*parts.Part) {
	t.parts.PutAll(out)
	changes := make([]Change, len(cs))
	for i := range out {
		p := out[i]
		changes[i] = Change{Op: cs[i].Op, OldPart: olds[i], NewPart: &p}
	}
	changes = append(changes, t.partAlarmsLocked(ctx, olds, out)...)
	t.emit(changes...)
}

// prepareLocked checks a batch of change records against the state cur
// gives (later records see earlier ones, through pending, which it fills)
// and returns the parts to store and the ones they replace.
func (t *Twin) prepareLocked(cs []PartChange, check PartCheck, cur lookup, pending map[parts.Code]parts.Part) ([]parts.Part, []*parts.Part, error) {
	olds := make([]*parts.Part, len(cs))
	out := make([]parts.Part, len(cs))
	today := t.today()
	for i, c := range cs {
		cur, exists, err := cur(c.Part.Code)
		if err != nil {
			return nil, nil, wrapRecord(len(cs), i, err)
		}
		var next parts.Part
		switch c.Op {
		case OpAdd:
			if exists {
				return nil, nil, wrapRecord(len(cs), i, fmt.Errorf("%w: %s", parts.ErrExists, c.Part.Code))
			}
			next = c.Part
			next.Version = 1
			next.Retired = false
			if next.Surveyed.IsZero() {
				next.Surveyed = today
			}
		case OpModify, OpRetire:
			if !exists {
				return nil, nil, wrapRecord(len(cs), i, fmt.Errorf("%w: %s", parts.ErrNotFound, c.Part.Code))
			}
			if cur.Retired {
				return nil, nil, wrapRecord(len(cs), i, fmt.Errorf("%w: %s", parts.ErrRetired, c.Part.Code))
			}
			if c.IfVersion != 0 && c.IfVersion != cur.Version {
				return nil, nil, wrapRecord(len(cs), i, fmt.Errorf("%w: %s is at version %d, not %d", parts.ErrVersionMismatch, c.Part.Code, cur.Version, c.IfVersion))
			}
			if c.Op == OpRetire {
				next = cur
				next.Retired = true
			} else {
				next = c.Part
				next.Retired = false
				if next.Surveyed.IsZero() {
					next.Surveyed = cur.Surveyed
				}
				if next.Grid == "" || !orb.Equal(next.Geometry, cur.Geometry) {
					next.Grid = ""
				}
			}
			next.Version = cur.Version + 1
			c := cur
			olds[i] = &c
		default:
			return nil, nil, wrapRecord(len(cs), i, fmt.Errorf("%w: op %q is not add, modify or retire", ErrInvalidChange, c.Op))
		}
		next.Changed = today
		if err := next.Validate(t.cat); err != nil {
			return nil, nil, wrapRecord(len(cs), i, err)
		}
		if next.Grid == "" {
			if g, err := t.grids.Locate(RepresentativePoint(next.Geometry)); err == nil {
				next.Grid = string(g.Code)
			}
		}
		if err := runCheck(check, c.Op, olds[i], &next); err != nil {
			return nil, nil, wrapRecord(len(cs), i, err)
		}
		pending[next.Code] = next
		out[i] = next
	}
	return out, olds, nil
}

// current returns the part as the batch so far leaves it.
func (t *Twin) current(pending map[parts.Code]parts.Part, c parts.Code) (parts.Part, bool, error) {
	if p, ok := pending[c]; ok {
		return p, true, nil
	}
	p, err := t.parts.Get(c)
	switch {
	case err == nil, errors.Is(err, parts.ErrRetired):
		return p, true, nil
	case errors.Is(err, parts.ErrNotFound):
		return parts.Part{}, false, nil
	}
	return parts.Part{}, false, err
}

// RecordError names the change record of a batch that failed.
type RecordError struct {
	Index int
	Err   error
}

func (e *RecordError) Error() string { return fmt.Sprintf("record %d: %v", e.Index, e.Err) }

// Unwrap returns the record's error.
func (e *RecordError) Unwrap() error { return e.Err }

func wrapRecord(n, i int, err error) error {
	if n == 1 {
		return err
	}
	return &RecordError{Index: i, Err: err}
}

// RepresentativePoint is the point of a geometry used to find its grid: the
// point itself, or the first vertex of a line or a polygon's outer ring.
func RepresentativePoint(g orb.Geometry) orb.Point {
	switch g := g.(type) {
	case orb.Point:
		return g
	case orb.LineString:
		if len(g) > 0 {
			return g[0]
		}
	case orb.Polygon:
		if len(g) > 0 && len(g[0]) > 0 {
			return g[0][0]
		}
	}
	if g == nil {
		return orb.Point{}
	}
	return g.Bound().Center()
}

// AddGrid adds a new unit grid (grid.ErrExists if its code is taken).
// AddGrid, UpdateGrid and RemoveGrid re-locate the components the grid
// covers (before and after) through the write path, as modify records
// (see relocateLocked).
func (t *Twin) AddGrid(ctx context.Context, g grid.Grid) (grid.Grid, error) {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if _, err := t.grids.Get(g.Code); err == nil {
		return grid.Grid{}, fmt.Errorf("%w: %s", grid.ErrExists, g.Code)
	}
	g.Version = 1
	return g, t.putGridLocked(ctx, nil, g)
}

// UpdateGrid changes a grid by calling mutate on a copy of it (replace the
// geometry, do not modify it in place; the code cannot change).
func (t *Twin) UpdateGrid(ctx context.Context, code grid.Code, ifVersion uint64, mutate func(g *grid.Grid) error) (grid.Grid, error) {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	cur, err := t.grids.Get(code)
	if err != nil {
		return grid.Grid{}, err
	}
	if ifVersion != 0 && ifVersion != cur.Version {
		return grid.Grid{}, fmt.Errorf("%w: %s is at version %d, not %d", grid.ErrVersionMismatch, code, cur.Version, ifVersion)
	}
	next := cur
	if err := mutate(&next); err != nil {
		return grid.Grid{}, err
	}
	if next.Code != code {
		return grid.Grid{}, &grid.FieldError{Field: "code", Reason: "the code of a grid cannot change"}
	}
	next.Version = cur.Version + 1
	return next, t.putGridLocked(ctx, &cur, next)
}

func (t *Twin) putGridLocked(ctx context.Context, old *grid.Grid, g grid.Grid) error {
	// Validate on a scratch index first, so that an invalid grid never
	// reaches the store.
	if _, _, err := grid.NewIndex().Put(g); err != nil {
		return err
	}
	if err := storeErr(t.store.PutGrids(ctx, []grid.Grid{g})); err != nil {
		return err
	}
	if _, _, err := t.grids.Put(g); err != nil {
		return err
	}
	op := OpAdd
	if old != nil {
		op = OpModify
	}
	t.emit(Change{Op: op, OldGrid: old, NewGrid: &g})
	// The grid is stored; the components it gained or lost follow.
	t.relocateOrDefer(ctx, gridBound(old), gridBound(&g))
	return nil
}

// RemoveGrid deletes a grid from the store and the index.
func (t *Twin) RemoveGrid(ctx context.Context, code grid.Code, ifVersion uint64) (grid.Grid, error) {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	cur, err := t.grids.Get(code)
	if err != nil {
		return grid.Grid{}, err
	}
	if ifVersion != 0 && ifVersion != cur.Version {
		return grid.Grid{}, fmt.Errorf("%w: %s is at version %d, not %d", grid.ErrVersionMismatch, code, cur.Version, ifVersion)
	}
	if err := storeErr(t.store.DeleteGrid(ctx, code, cur.Version)); err != nil {
		return grid.Grid{}, err
	}
	if _, err := t.grids.Remove(code); err != nil {
		return grid.Grid{}, err
	}
	t.emit(Change{Op: OpRetire, OldGrid: &cur})
	// The grid is gone; its components are located anew.
	t.relocateOrDefer(ctx, gridBound(&cur))
	return cur, nil
}

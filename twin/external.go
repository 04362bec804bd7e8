package twin

import (
	"context"
	"errors"

	"github.com/paulmach/orb"

	"citytwin/grid"
	"citytwin/parts"
)

// External is a set of changes made to the store by someone else (another
// replica, a GIS user, psql, an ETL job), read back from the store: the
// rows as they are stored now.
type External struct {
	// Parts are the stored parts whose rows changed.
	Parts []parts.Part
	// DeletedParts are codes whose rows were deleted from the store. The
	// registry keeps every code it has seen, so they are retired in
	// memory: they leave every query and every tile.
	DeletedParts []parts.Code
	// Grids are the stored grids whose rows changed.
	Grids []grid.Grid
	// DeletedGrids are grids whose rows were deleted from the store.
	DeletedGrids []grid.Code
}

// ExternalResult counts what ApplyExternal did.
type ExternalResult struct {
	// Applied are the records that changed memory.
	Applied int
	// Skipped are the records memory already holds at their version or a
	// newer one (this replica's own writes, or a change seen twice).
	Skipped int
	// Rejected are the records that memory cannot hold (an invalid row
	// written by hand); the error of each is in Errors.
	Rejected int
	Errors   []error
}

// ApplyExternal brings memory in step with changes that others persisted:
// under the write lock, so it never interleaves with a write of this
// replica, each record replaces the one in memory when its version is newer
// (a stored row wins over memory only then, so a replica's own writes and
// changes read twice are skipped), then the Changes are emitted as for a
// write of this replica: the tile map drops the touched tiles and the live
// feed tells its clients. Nothing is written to the store.
//
// A part whose grid is not stored gets the grid that holds it, in memory
// only. An invalid record is rejected and left out; the others are
// applied.
func (t *Twin) ApplyExternal(ctx context.Context, e External) ExternalResult {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	var res ExternalResult
	var changes []Change
	reject := func(err error) {
		res.Rejected++
		res.Errors = append(res.Errors, err)
	}
	for _, g := range e.Grids {
		cur, err := t.grids.Get(g.Code)
		exists := err == nil
		if exists && cur.Version >= g.Version {
			res.Skipped++
			continue
		}
		if _, _, err := t.grids.Put(g); err != nil {
			reject(err)
			continue
		}
		res.Applied++
		next := g
		c := Change{Op: OpAdd, NewGrid: &next}
		if exists {
			old := cur
			c.Op, c.OldGrid = OpModify, &old
		}
		changes = append(changes, c)
	}
	for _, code := range e.DeletedGrids {
		old, err := t.grids.Remove(code)
		if err != nil {
			res.Skipped++
			continue
		}
		res.Applied++
		changes = append(changes, Change{Op: OpRetire, OldGrid: &old})
	}
	var olds []*parts.Part
	var news []parts.Part
	for _, p := range e.Parts {
		cur, err := t.parts.Get(p.Code)
		exists := err == nil || errors.Is(err, parts.ErrRetired)
		if exists && cur.Version >= p.Version {
			res.Skipped++
			continue
		}
		if p.Class == 0 {
			p.Class = p.Code.Class()
		}
		if err := p.Validate(t.cat); err != nil {
			reject(err)
			continue
		}
		if p.Grid == "" || (exists && !orb.Equal(p.Geometry, cur.Geometry) && p.Grid == cur.Grid) {
			if g, err := t.grids.Locate(RepresentativePoint(p.Geometry)); err == nil {
				p.Grid = string(g.Code)
			}
		}
		t.parts.Put(p)
		res.Applied++
		next := p
		c := Change{Op: OpAdd, NewPart: &next}
		var old *parts.Part
		if exists {
			o := cur
			old = &o
			c.Op, c.OldPart = OpModify, old
			if p.Retired && !cur.Retired {
				c.Op = OpRetire
			}
		}
		changes = append(changes, c)
		olds, news = append(olds, old), append(news, p)
	}
	for _, code := range e.DeletedParts {
		cur, err := t.parts.Get(code)
		if err != nil {
			// Unknown, or retired already: nothing leaves memory.
			res.Skipped++
			continue
		}
		next := cur
		next.Retired = true
		// Version 0: a row inserted again under the code, at any
		// version, is newer.
		next.Version = 0
		t.parts.Put(next)
		res.Applied++
		old := cur
		changes = append(changes, Change{Op: OpRetire, OldPart: &old, NewPart: &next})
		olds, news = append(olds, &old), append(news, next)
	}
	t.placeExternalSensorsLocked(news)
	t.emit(changes...)
	return res
}

// placeExternalSensorsLocked moves the sensors bound to parts that changed
// elsewhere to the parts' new places (memory only: the replica that made
// the change stored what it had to).
func (t *Twin) placeExternalSensorsLocked(news []parts.Part) {
	if t.live == nil || t.live.sens == nil {
		return
	}
	for i := range news {
		for _, id := range t.live.sens.ByCode(news[i].Code) {
			t.placeSensor(id, news[i].Code)
		}
	}
}

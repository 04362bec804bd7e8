package twin

import (
	"context"
	"errors"
	"slices"

	"github.com/paulmach/orb"

	"citytwin/grid"
	"citytwin/incidents"
	"citytwin/parts"
	"citytwin/sensors"
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

	// Records are the changed records of sensors and cases.
	Records ExternalRecords
}

// ExternalRecords are the records of sensors and cases that others
// changed, as stored now. A deleted record comes with the version it had
// when it was deleted (Prev): memory drops it only when it holds that
// version or an older one.
type ExternalRecords struct {
	Sensors                 []sensors.Sensor
	DeletedSensors          []Versioned[sensors.ID]
	Alarms                  []sensors.Alarm
	Cases                   []incidents.Case
	DeletedCases            []Versioned[incidents.ID]
	Departments             []incidents.Department
	DeletedDepartments      []Versioned[string]
	Responsibilities        []incidents.Responsibility
	DeletedResponsibilities []Versioned[incidents.Responsibility]
	// Calendar is the stored work calendar when it changed.
	Calendar *incidents.Calendar
}

// IsZero reports whether r holds nothing.
func (r *ExternalRecords) IsZero() bool {
	return len(r.Sensors) == 0 && len(r.DeletedSensors) == 0 && len(r.Alarms) == 0 &&
		len(r.Cases) == 0 && len(r.DeletedCases) == 0 && len(r.Departments) == 0 &&
		len(r.DeletedDepartments) == 0 && len(r.Responsibilities) == 0 &&
		len(r.DeletedResponsibilities) == 0 && r.Calendar == nil
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
	// Pending are the ids of alarms left out because this replica
	// proposed a raise or a clear of theirs that is not settled yet: read
	// them again later.
	Pending []string
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
// only (e's parts are completed in place). An invalid record is rejected
// and left out; the others are applied. Records of sensors and cases
// follow the parts and grids in the same lock section (see
// applyRecordsLocked); an alarm whose raise or clear this replica has
// proposed and not settled is left out and named in Pending.
func (t *Twin) ApplyExternal(ctx context.Context, e External) ExternalResult {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	var res ExternalResult
	changes := make([]Change, 0, len(e.Grids)+len(e.DeletedGrids)+len(e.Parts)+len(e.DeletedParts))
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
	// The parts the changes point to, old ones in held, new ones in put,
	// each one allocation whose capacity is never exceeded: pointers into
	// them stay valid.
	held := make([]parts.Part, 0, len(e.Parts)+len(e.DeletedParts))
	hold := func(p *parts.Part) *parts.Part {
		held = append(held, *p)
		return &held[len(held)-1]
	}
	moved := make([]parts.Code, 0, len(e.Parts)+len(e.DeletedParts))
	put := make([]parts.Part, 0, len(e.Parts)+len(e.DeletedParts))
	for i := range e.Parts {
		p := &e.Parts[i]
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
		put = append(put, *p)
		res.Applied++
		c := Change{Op: OpAdd, NewPart: &put[len(put)-1]}
		if exists {
			c.Op, c.OldPart = OpModify, hold(&cur)
			if p.Retired && !cur.Retired {
				c.Op = OpRetire
			}
		}
		changes = append(changes, c)
		moved = append(moved, p.Code)
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
		put = append(put, next)
		res.Applied++
		changes = append(changes, Change{Op: OpRetire, OldPart: hold(&cur), NewPart: &put[len(put)-1]})
		moved = append(moved, code)
	}
	// One step: a reader sees the whole page or none of it.
	t.parts.PutAll(put)
	t.placeExternalSensorsLocked(moved)
	if !e.Records.IsZero() {
		changes = t.applyRecordsLocked(&e.Records, &res, changes)
	}
	t.emit(changes...)
	return res
}

// ApplyExternalRecords is ApplyExternal of records alone.
func (t *Twin) ApplyExternalRecords(ctx context.Context, r ExternalRecords) ExternalResult {
	return t.ApplyExternal(ctx, External{Records: r})
}

// placeExternalSensorsLocked moves the sensors bound to parts that changed
// elsewhere to the parts' new places (memory only: the replica that made
// the change stored what it had to).
func (t *Twin) placeExternalSensorsLocked(codes []parts.Code) {
	if t.live == nil || t.live.sens == nil {
		return
	}
	for _, code := range codes {
		for _, id := range t.live.sens.ByCode(code) {
			t.placeSensor(id, code)
		}
	}
}

// applyRecordsLocked applies the records of r that are newer than memory,
// appending their changes: departments, the responsibility table and the
// calendar first (they route what follows), then sensors, their alarms,
// the sensors deleted (after their alarms' clears), and cases.
func (t *Twin) applyRecordsLocked(r *ExternalRecords, res *ExternalResult, changes []Change) []Change {
	l := t.live
	reject := func(err error) {
		res.Rejected++
		res.Errors = append(res.Errors, err)
	}
	for _, d := range r.Departments {
		if cur, err := l.dir.Get(d.Code); err == nil && cur.Version >= d.Version {
			res.Skipped++
			continue
		}
		if err := d.Validate(); err != nil {
			reject(err)
			continue
		}
		l.dir.Put(d)
		res.Applied++
	}
	for _, v := range r.DeletedDepartments {
		if cur, err := l.dir.Get(v.Value); err != nil || cur.Version > v.Prev {
			res.Skipped++
			continue
		}
		_, _ = l.dir.Delete(v.Value)
		res.Applied++
	}
	for _, x := range r.Responsibilities {
		if cur, ok := l.table.Get(x.District, incidents.ClassKey(x.Type, x.Class)); ok && cur.Version >= x.Version {
			res.Skipped++
			continue
		}
		if err := x.Validate(); err != nil {
			reject(err)
			continue
		}
		l.table.Put(x)
		res.Applied++
	}
	for _, v := range r.DeletedResponsibilities {
		key := incidents.ClassKey(v.Value.Type, v.Value.Class)
		if cur, ok := l.table.Get(v.Value.District, key); !ok || cur.Version > v.Prev {
			res.Skipped++
			continue
		}
		_, _ = l.table.Delete(v.Value.District, key)
		res.Applied++
	}
	if r.Calendar != nil {
		switch cur := t.Calendar(); {
		case sameCalendar(&cur, r.Calendar):
			res.Skipped++
		default:
			if err := r.Calendar.Validate(); err != nil {
				reject(err)
				break
			}
			l.cmu.Lock()
			l.cal = *r.Calendar
			l.cmu.Unlock()
			res.Applied++
		}
	}

	for _, s := range r.Sensors {
		cur, _, exists := l.sens.Get(s.ID)
		if exists && cur.Version >= s.Version {
			res.Skipped++
			continue
		}
		if err := s.Validate(); err != nil {
			reject(err)
			continue
		}
		// A rebind drops the alarms of the old binding: their clears,
		// stored by the replica that rebound it, follow as alarms.
		l.sens.Put(s)
		t.placeSensor(s.ID, s.Code)
		res.Applied++
		next := s
		c := Change{Op: OpAdd, NewSensor: &next}
		if exists {
			old := cur
			c.Op, c.OldSensor = OpModify, &old
		}
		changes = append(changes, c)
	}
	for _, a := range r.Alarms {
		got, how := l.sens.Apply(a)
		switch how {
		case sensors.ApplyDone:
			res.Applied++
			op := OpModify
			switch {
			case got.State == sensors.AlarmCleared:
				op = OpRetire
			case got.Count <= 1:
				op = OpAdd
			}
			changes = append(changes, Change{Op: op, Alarm: &got})
		case sensors.ApplyPending:
			res.Pending = append(res.Pending, a.ID)
		default:
			res.Skipped++
		}
	}
	for _, v := range r.DeletedSensors {
		cur, _, ok := l.sens.Get(v.Value)
		if !ok || cur.Version > v.Prev {
			res.Skipped++
			continue
		}
		l.sens.Remove(v.Value)
		t.unplaceSensor(v.Value)
		res.Applied++
		old := cur
		changes = append(changes, Change{Op: OpRetire, OldSensor: &old})
	}

	for _, c := range r.Cases {
		if cur, err := l.cases.Get(c.ID); err == nil && cur.Version >= c.Version {
			res.Skipped++
			continue
		}
		changes = append(changes, t.putCaseLocked(Versioned[incidents.Case]{Value: c}))
		res.Applied++
	}
	for _, v := range r.DeletedCases {
		cur, err := l.cases.Get(v.Value)
		if err != nil || cur.Version > v.Prev {
			res.Skipped++
			continue
		}
		_, _ = l.cases.Delete(v.Value)
		res.Applied++
		old := cur
		changes = append(changes, Change{Op: OpRetire, OldCase: &old})
	}
	return changes
}

// sameCalendar reports whether two calendars set the same deadlines (nil
// and empty lists are the same).
func sameCalendar(a, b *incidents.Calendar) bool {
	if a.Location != b.Location || a.DayStart != b.DayStart || a.DayEnd != b.DayEnd || a.Default != b.Default {
		return false
	}
	return slices.Equal(a.Weekend, b.Weekend) && slices.Equal(a.Holidays, b.Holidays) &&
		slices.Equal(a.Workdays, b.Workdays) && slices.Equal(a.Limits, b.Limits)
}

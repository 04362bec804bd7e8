package twin

import (
	"citytwin/grid"
	"citytwin/incidents"
	"citytwin/parts"
	"citytwin/sensors"
)

// Op is the kind of a change, as cities exchange them ("partsChange").
type Op string

// Operations of a change record.
const (
	OpAdd    Op = "add"
	OpModify Op = "modify"
	OpRetire Op = "retire"
)

// Change is what a write did, emitted to listeners after it is persisted and
// applied. Exactly one pair is set: the part pair, the grid pair, the
// sensor pair, Alarm, or the case pair. Old is nil for an add, New is nil
// for a removal. For an alarm, Op is OpAdd when it was raised, OpModify
// when it was updated (its component retired) and OpRetire when it
// cleared.
type Change struct {
	Op        Op
	OldPart   *parts.Part
	NewPart   *parts.Part
	OldGrid   *grid.Grid
	NewGrid   *grid.Grid
	OldSensor *sensors.Sensor
	NewSensor *sensors.Sensor
	Alarm     *sensors.Alarm
	OldCase   *incidents.Case
	NewCase   *incidents.Case
}

// IsPart reports whether the change is of a component.
func (c *Change) IsPart() bool { return c.OldPart != nil || c.NewPart != nil }

// IsGrid reports whether the change is of a unit grid.
func (c *Change) IsGrid() bool { return c.OldGrid != nil || c.NewGrid != nil }

// IsSensor reports whether the change is of a sensor (its binding or
// rules, not its readings).
func (c *Change) IsSensor() bool { return c.OldSensor != nil || c.NewSensor != nil }

// IsCase reports whether the change is of a case.
func (c *Change) IsCase() bool { return c.OldCase != nil || c.NewCase != nil }

// PartChange is one change record of a bulk change: add a new component,
// modify (replace the attributes and geometry of) an existing one, or retire
// one. IfVersion, when not 0, must equal the current version.
type PartChange struct {
	Op        Op
	Part      parts.Part
	IfVersion uint64
}

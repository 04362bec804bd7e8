package twin

import (
	"citytwin/grid"
	"citytwin/parts"
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
// applied. Exactly one of the part pair or the grid pair is set; Old is nil
// for an add, New is nil for a grid removal.
type Change struct {
	Op      Op
	OldPart *parts.Part
	NewPart *parts.Part
	OldGrid *grid.Grid
	NewGrid *grid.Grid
}

// PartChange is one change record of a bulk change: add a new component,
// modify (replace the attributes and geometry of) an existing one, or retire
// one. IfVersion, when not 0, must equal the current version.
type PartChange struct {
	Op        Op
	Part      parts.Part
	IfVersion uint64
}

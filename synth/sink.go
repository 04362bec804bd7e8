package synth

import (
	"citytwin/grid"
	"citytwin/parts"
)

// Sink receives the generated records in batches; store/gpkg.Writer
// satisfies it. Generate hands each slice over and does not touch it again,
// so a Sink may keep the slices it receives.
type Sink interface {
	AddGrids(gs []grid.Grid) error
	AddDivisions(ds []grid.Division) error
	AddParts(ps []parts.Part) error
}

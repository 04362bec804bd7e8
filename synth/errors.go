package synth

import (
	"errors"
	"fmt"
)

// ErrInvalidOptions is wrapped by every *OptionError and by errors about a
// missing catalogue or sink.
var ErrInvalidOptions = errors.New("synth: invalid options")

// OptionError is an Options field (or argument of Generate) with a bad value.
type OptionError struct {
	Field  string // "Components", "Grids", "SizeKm", "Center", "catalogue", "sink"
	Value  any    // the bad value
	Reason string
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("%v: %s = %v: %s", ErrInvalidOptions, e.Field, e.Value, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalidOptions) true.
func (e *OptionError) Unwrap() error { return ErrInvalidOptions }

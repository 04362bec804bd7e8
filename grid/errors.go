package grid

import (
	"errors"
	"fmt"
)

// Sentinel errors of the package. Match them with errors.Is.
var (
	// ErrInvalidCode is wrapped by every *CodeError.
	ErrInvalidCode = errors.New("grid: invalid code")
	// ErrNotFound reports an unknown grid code, or a point in no grid.
	ErrNotFound = errors.New("grid: not found")
	// ErrInvalid reports a grid whose attributes or geometry are invalid.
	ErrInvalid = errors.New("grid: invalid grid")
	// ErrExists reports an add of a code that is already present.
	ErrExists = errors.New("grid: code already exists")
	// ErrVersionMismatch reports an optimistic-concurrency conflict.
	ErrVersionMismatch = errors.New("grid: version mismatch")
)

// CodeError is a malformed grid code; Field names the wrong part
// ("length", "digits", "county", "street", "community", "serial").
type CodeError struct {
	Input  string
	Field  string
	Reason string
}

func (e *CodeError) Error() string {
	return fmt.Sprintf("grid: invalid code %q: %s: %s", e.Input, e.Field, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalidCode) true.
func (e *CodeError) Unwrap() error { return ErrInvalidCode }

// FieldError is an invalid attribute of a grid ("geometry", "name", ...).
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return fmt.Sprintf("grid: invalid %s: %s", e.Field, e.Reason) }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Unwrap() error { return ErrInvalid }

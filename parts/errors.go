package parts

import (
	"errors"
	"fmt"
)

// Sentinel errors of the package. Match them with errors.Is.
var (
	// ErrInvalidCode is wrapped by every *CodeError.
	ErrInvalidCode = errors.New("parts: invalid code")
	// ErrUnknownClass reports a class that is not in the catalogue.
	ErrUnknownClass = errors.New("parts: unknown class")
	// ErrNotFound reports a code that the registry does not hold.
	ErrNotFound = errors.New("parts: not found")
	// ErrRetired reports a code whose component has been retired (作废).
	ErrRetired = errors.New("parts: retired")
	// ErrExists reports an add of a code that is already present.
	ErrExists = errors.New("parts: code already exists")
	// ErrVersionMismatch reports an optimistic-concurrency conflict.
	ErrVersionMismatch = errors.New("parts: version mismatch")
	// ErrInvalid reports a part whose attributes or geometry are invalid;
	// it is wrapped by every *FieldError.
	ErrInvalid = errors.New("parts: invalid part")
	// ErrInvalidQuery reports a malformed query (bad bbox, k, limit, cursor).
	ErrInvalidQuery = errors.New("parts: invalid query")
)

// CodeError is a malformed component code. Field names the part of the code
// that is wrong ("length", "digits", "county", "major", "minor", "serial").
type CodeError struct {
	Input  string
	Field  string
	Reason string
}

func (e *CodeError) Error() string {
	return fmt.Sprintf("parts: invalid code %q: %s: %s", e.Input, e.Field, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalidCode) true.
func (e *CodeError) Unwrap() error { return ErrInvalidCode }

// FieldError is an invalid attribute of a part or of a query. Field is the
// property name as it appears in the store and in GeoJSON ("class",
// "geometry", "bbox", "k", ...).
type FieldError struct {
	Field  string
	Reason string
	Err    error // ErrInvalid or ErrInvalidQuery (or ErrUnknownClass)
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%v: %s: %s", e.Err, e.Field, e.Reason)
}

// Unwrap returns the sentinel the error belongs to.
func (e *FieldError) Unwrap() error { return e.Err }

package ingest

import (
	"errors"
	"fmt"
)

// Sentinel errors of the package. Match them with errors.Is.
var (
	// ErrUnknownFormat reports an input whose format is not recognised.
	ErrUnknownFormat = errors.New("ingest: unknown format")
	// ErrMapping is wrapped by every *MappingError.
	ErrMapping = errors.New("ingest: invalid mapping")
	// ErrRow is wrapped by every *RowError.
	ErrRow = errors.New("ingest: invalid row")
	// ErrSyntax is wrapped by every *SyntaxError: the input stream is broken
	// and reading cannot continue.
	ErrSyntax = errors.New("ingest: broken input")
	// ErrCodesExhausted reports a county and class whose 999,999 serials are
	// all taken.
	ErrCodesExhausted = errors.New("ingest: no free serial")
)

// RowError is a bad record: Row is its 1-based position in the input (the
// feature in a FeatureCollection, the text in a sequence, the data row of a
// CSV file, header not counted), Field the mapped role or source field that
// is wrong ("geometry", "class", "code", "owner", "lon", ...), Reason why.
type RowError struct {
	Row    int
	Field  string
	Reason string
}

func (e *RowError) Error() string {
	return fmt.Sprintf("ingest: row %d: %s: %s", e.Row, e.Field, e.Reason)
}

// Unwrap makes errors.Is(err, ErrRow) true.
func (e *RowError) Unwrap() error { return ErrRow }

// SyntaxError is a broken input stream: nothing after Row can be read.
// Err is the underlying decoder or I/O error.
type SyntaxError struct {
	Format Format
	Row    int
	Err    error
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("ingest: %s input broken after row %d: %v", e.Format, e.Row, e.Err)
}

// Is makes errors.Is(err, ErrSyntax) true.
func (e *SyntaxError) Is(target error) bool { return target == ErrSyntax }

// Unwrap returns the underlying error.
func (e *SyntaxError) Unwrap() error { return e.Err }

// MappingError is a bad mapping: Key names the mapping key ("class",
// "county", "owner_map", ...) and Value the bad value.
type MappingError struct {
	Key    string
	Value  string
	Reason string
}

func (e *MappingError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("ingest: mapping key %q: %s", e.Key, e.Reason)
	}
	return fmt.Sprintf("ingest: mapping key %q=%q: %s", e.Key, e.Value, e.Reason)
}

// Unwrap makes errors.Is(err, ErrMapping) true.
func (e *MappingError) Unwrap() error { return ErrMapping }

// FormatError is an input whose format cannot be told or is not supported.
type FormatError struct {
	Name   string
	Reason string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("ingest: format of %q: %s", e.Name, e.Reason)
}

// Unwrap makes errors.Is(err, ErrUnknownFormat) true.
func (e *FormatError) Unwrap() error { return ErrUnknownFormat }

package postgis

import (
	"errors"
	"fmt"
)

// Sentinel errors of the package. Match them with errors.Is.
var (
	// ErrConnect reports a database that cannot be reached or a URL that
	// cannot be parsed.
	ErrConnect = errors.New("postgis: cannot connect")
	// ErrSchema reports a database whose tables are missing or do not
	// match; run Migrate.
	ErrSchema = errors.New("postgis: schema mismatch")
	// ErrTileRange reports a tile whose zoom or column/row is out of range.
	ErrTileRange = errors.New("postgis: tile out of range")
	// ErrGeometry reports a geometry that cannot be stored.
	ErrGeometry = errors.New("postgis: invalid geometry")
	// ErrClosed reports a call on a closed Store.
	ErrClosed = errors.New("postgis: closed")
	// ErrRow reports a stored row whose values do not make a valid record.
	ErrRow = errors.New("postgis: invalid row")
)

// RowError is a stored row that does not decode: the table, the row's key,
// the field and the reason. It unwraps to ErrRow and the cause.
type RowError struct {
	Table, Key, Field string
	Err               error
}

func (e *RowError) Error() string {
	return fmt.Sprintf("postgis: %s %s: field %s: %v", e.Table, e.Key, e.Field, e.Err)
}

func (e *RowError) Unwrap() []error { return []error{ErrRow, e.Err} }

// TileError is a tile that TileMVT refused; it unwraps to ErrTileRange.
type TileError struct {
	Z, X, Y int
	Reason  string
}

func (e *TileError) Error() string {
	return fmt.Sprintf("postgis: tile %d/%d/%d: %s", e.Z, e.X, e.Y, e.Reason)
}

func (e *TileError) Unwrap() error { return ErrTileRange }

// RecordError is a record that could not be written (its geometry could not
// be encoded); it names the record and unwraps to Err.
type RecordError struct {
	Table string // "parts" or "grids"
	Code  string
	Err   error
	Cause error
}

func (e *RecordError) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%v: %s %s: %v", e.Err, e.Table, e.Code, e.Cause)
	}
	return fmt.Sprintf("%v: %s %s", e.Err, e.Table, e.Code)
}

func (e *RecordError) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Err, e.Cause}
	}
	return []error{e.Err}
}

package postgis

import (
	"errors"
	"fmt"

	"citytwin/twin"
)

// Sentinel errors of the package. Match them with errors.Is.
var (
	// ErrConnect reports a database that cannot be reached or a URL that
	// cannot be parsed.
	ErrConnect = errors.New("postgis: cannot connect")
	// ErrUnavailable reports a database that did not answer (down,
	// restarting, refusing connections): worth trying again, unlike a bad
	// URL. Open's errors for it wrap ErrConnect too.
	ErrUnavailable = errors.New("postgis: database unavailable")
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

// ConflictError is a conditional write that found the database not as the
// writer read it: an insert of a key that exists (Expected 0; Err is
// parts.ErrExists, grid.ErrExists or twin.ErrConflict), or an update or a
// delete of a row that is not at the version Expected (Stored is the
// version found, 0 when the row is gone; Err is parts.ErrVersionMismatch,
// grid.ErrVersionMismatch or twin.ErrConflict). Another replica or a GIS
// user wrote first; nothing of the write was kept. It unwraps to Err and
// to twin.ErrConflict.
type ConflictError struct {
	Table    string
	Key      string
	Expected uint64
	Stored   uint64
	Err      error
}

// Error names the record and both versions.
func (e *ConflictError) Error() string {
	switch {
	case e.Expected == 0:
		return fmt.Sprintf("postgis: %v: %s %s is in the database already", e.Err, e.Table, e.Key)
	case e.Stored == 0:
		return fmt.Sprintf("postgis: %v: %s %s is no longer in the database", e.Err, e.Table, e.Key)
	}
	return fmt.Sprintf("postgis: %v: %s %s is at version %d in the database, not %d", e.Err, e.Table, e.Key, e.Stored, e.Expected)
}

// Unwrap returns Err and twin.ErrConflict.
func (e *ConflictError) Unwrap() []error {
	if e.Err == twin.ErrConflict {
		return []error{e.Err}
	}
	return []error{e.Err, twin.ErrConflict}
}

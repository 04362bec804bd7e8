package gpkg

import (
	"errors"
	"fmt"

	"citytwin/twin"
)

// Sentinel errors of the package. Match them with errors.Is.
var (
	// ErrNotGeoPackage reports a file that is missing, is not an SQLite
	// database, is damaged, or is an SQLite database but not a GeoPackage.
	ErrNotGeoPackage = errors.New("gpkg: not a GeoPackage")
	// ErrSchema reports a GeoPackage that lacks this package's tables or
	// columns, or carries a schema version this build does not read.
	ErrSchema = errors.New("gpkg: schema mismatch")
	// ErrGeometry reports a geometry blob that cannot be decoded or a
	// geometry that cannot be stored.
	ErrGeometry = errors.New("gpkg: invalid geometry")
	// ErrRow reports a stored row whose values do not make a valid record.
	ErrRow = errors.New("gpkg: invalid row")
	// ErrClosed reports a call on a closed Store, or on a Writer after
	// Commit or Abort.
	ErrClosed = errors.New("gpkg: closed")
	// ErrFailed reports a call on a Writer after an earlier call failed;
	// the only thing left to do is Abort.
	ErrFailed = errors.New("gpkg: writer failed earlier")
)

// OpenError is a file that Open refused. Err is ErrNotGeoPackage or
// ErrSchema; Cause, when set, is the underlying error (fs.ErrNotExist, an
// SQLite error).
type OpenError struct {
	Path   string
	Reason string
	Err    error
	Cause  error
}

// Error names the path, the reason and the cause.
func (e *OpenError) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%v: %s: %s: %v", e.Err, e.Path, e.Reason, e.Cause)
	}
	return fmt.Sprintf("%v: %s: %s", e.Err, e.Path, e.Reason)
}

// Unwrap returns the sentinel and the cause, for errors.Is and errors.As.
func (e *OpenError) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Err, e.Cause}
	}
	return []error{e.Err}
}

// GeometryError is a geometry blob or value that cannot be decoded or
// encoded: Offset is the byte offset in the blob where decoding stopped
// (-1 when encoding).
type GeometryError struct {
	Offset int
	Reason string
}

// Error gives the reason and, when decoding, the offset.
func (e *GeometryError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("%v: %s", ErrGeometry, e.Reason)
	}
	return fmt.Sprintf("%v: at byte %d: %s", ErrGeometry, e.Offset, e.Reason)
}

// Unwrap makes errors.Is(err, ErrGeometry) true.
func (e *GeometryError) Unwrap() error { return ErrGeometry }

// RowError is a record that cannot be written, or a stored row that cannot
// be read: Table and Key (the code, or the fid when the code is unreadable)
// name the row, Field the column. Err is the cause (a *GeometryError, a
// parts or grid error, or ErrRow).
type RowError struct {
	Table string
	Key   string
	Field string
	Err   error
}

// Error names the table, the row, the field and the cause.
func (e *RowError) Error() string {
	return fmt.Sprintf("gpkg: %s %s: %s: %v", e.Table, e.Key, e.Field, e.Err)
}

// Unwrap returns the cause.
func (e *RowError) Unwrap() error { return e.Err }

// ErrLocked reports a GeoPackage that another citytwin process has open
// for writing.
var ErrLocked = errors.New("gpkg: in use by another citytwin process")

// LockError is a file that Open could not lock: another process holds it
// (PID, 0 when unknown). It unwraps to ErrLocked.
type LockError struct {
	Path string
	PID  int
}

// Error names the file and the process holding it.
func (e *LockError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("gpkg: %s: in use by another citytwin process (see %s.lock)", e.Path, e.Path)
	}
	return fmt.Sprintf("gpkg: %s: in use by another citytwin process (pid %d)", e.Path, e.PID)
}

// Unwrap returns ErrLocked.
func (e *LockError) Unwrap() error { return ErrLocked }

// ConflictError is a conditional write that found the file not as the
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
		return fmt.Sprintf("gpkg: %v: %s %s is in the file already", e.Err, e.Table, e.Key)
	case e.Stored == 0:
		return fmt.Sprintf("gpkg: %v: %s %s is no longer in the file", e.Err, e.Table, e.Key)
	}
	return fmt.Sprintf("gpkg: %v: %s %s is at version %d in the file, not %d", e.Err, e.Table, e.Key, e.Stored, e.Expected)
}

// Unwrap returns Err and twin.ErrConflict.
func (e *ConflictError) Unwrap() []error {
	if e.Err == twin.ErrConflict {
		return []error{e.Err}
	}
	return []error{e.Err, twin.ErrConflict}
}

package migrations

import (
	"errors"
	"fmt"
)

// Sentinel errors of the package. Match them with errors.Is.
var (
	// ErrFile reports an embedded migration file whose name or content is
	// not a migration (a bug of the build, caught by the package's tests).
	ErrFile = errors.New("migrations: bad migration file")
	// ErrNewer reports a database that records a migration this build does
	// not know: it was migrated by a newer citytwin.
	ErrNewer = errors.New("migrations: database is newer than this build")
	// ErrMismatch reports a database that records a migration under a
	// version this build gives another name.
	ErrMismatch = errors.New("migrations: recorded migration does not match this build")
	// ErrFailed reports a migration that failed; the database keeps the
	// migrations before it.
	ErrFailed = errors.New("migrations: migration failed")
)

// FileError names an embedded file that is not a migration and why.
type FileError struct {
	Path, Reason string
}

// Error names the file and the reason.
func (e *FileError) Error() string { return fmt.Sprintf("%v: %s: %s", ErrFile, e.Path, e.Reason) }

// Unwrap returns ErrFile.
func (e *FileError) Unwrap() error { return ErrFile }

// VersionError is a recorded migration that does not match this build's
// list: Err is ErrNewer (unknown version) or ErrMismatch (another name).
type VersionError struct {
	Store    string // "postgis" or "gpkg"
	Version  int
	Recorded string // the name the database records
	Known    string // the name this build gives the version; empty when unknown
	Latest   int    // the last version this build knows
	Err      error
}

// Error names the store, the version and both names.
func (e *VersionError) Error() string {
	if e.Known == "" {
		return fmt.Sprintf("%v: %s records migration %04d_%s, this build knows migrations up to %04d (upgrade citytwin)",
			e.Err, e.Store, e.Version, e.Recorded, e.Latest)
	}
	return fmt.Sprintf("%v: %s records migration %04d as %q, this build names it %q", e.Err, e.Store, e.Version, e.Recorded, e.Known)
}

// Unwrap returns Err.
func (e *VersionError) Unwrap() error { return e.Err }

// ApplyError is a migration that failed to apply: the store, the migration
// and the cause (a database error). Nothing of the failed migration is
// kept; the ones before it stay applied.
type ApplyError struct {
	Store     string
	Migration Migration
	Err       error
}

// Error names the migration and the cause.
func (e *ApplyError) Error() string {
	return fmt.Sprintf("%v: %s %s: %v", ErrFailed, e.Store, e.Migration.File(), e.Err)
}

// Unwrap returns ErrFailed and the cause.
func (e *ApplyError) Unwrap() []error { return []error{ErrFailed, e.Err} }

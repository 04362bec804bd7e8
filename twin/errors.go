package twin

import "errors"

// Sentinel errors of the package. Errors of the registries (parts.ErrNotFound,
// parts.ErrVersionMismatch, grid.ErrNotFound, ...) pass through wrapped.
var (
	// ErrStore wraps every failure to persist: the write changed nothing.
	ErrStore = errors.New("twin: store")
	// ErrInvalidChange reports a malformed change record.
	ErrInvalidChange = errors.New("twin: invalid change")
	// ErrReadOnly reports a write to a twin opened without a writable store.
	ErrReadOnly = errors.New("twin: read only")
)

// ErrConflict reports a conditional write that lost to another writer (a
// replica, a GIS user editing the tables): the version it read is no
// longer the stored one. It answers like a version mismatch (412).
var ErrConflict = errors.New("twin: conflict with a concurrent write")

package incidents

import (
	"errors"
	"fmt"
)

// Sentinel errors of the package. Match them with errors.Is.
var (
	// ErrInvalid reports invalid input; it is wrapped by every *FieldError.
	ErrInvalid = errors.New("incidents: invalid input")
	// ErrNotFound reports an unknown case, department or table row.
	ErrNotFound = errors.New("incidents: not found")
	// ErrExists reports an insert of a key that is already present.
	ErrExists = errors.New("incidents: already exists")
	// ErrVersionMismatch reports an optimistic-concurrency conflict.
	ErrVersionMismatch = errors.New("incidents: version mismatch")
	// ErrNotAllowed reports an action that the actor's role (or department)
	// may not take; it is wrapped by a *TransitionError.
	ErrNotAllowed = errors.New("incidents: action not allowed")
	// ErrBadTransition reports an action that the case's state does not
	// allow; it is wrapped by a *TransitionError.
	ErrBadTransition = errors.New("incidents: action not allowed in this state")
	// ErrUnknownClass reports a class in neither catalogue.
	ErrUnknownClass = errors.New("incidents: unknown class")
	// ErrUnknownComponent reports a component code that is unknown or retired.
	ErrUnknownComponent = errors.New("incidents: unknown component")
	// ErrOutsideCity reports a point that lies in no grid of the city.
	ErrOutsideCity = errors.New("incidents: point outside the city")
	// ErrNoDepartment reports a case that would be left without a department.
	ErrNoDepartment = errors.New("incidents: no responsible department")
)

// FieldError is an invalid field of a case, report, department, table row,
// calendar or query. Field is the property name as it appears in JSON
// ("class", "location", "limits[2].unit", "cursor", ...).
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("incidents: invalid %s: %s", e.Field, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// TransitionError is an action refused by the state machine. Err is
// ErrNotAllowed (the role or department may not take it) or
// ErrBadTransition (the state does not allow it).
type TransitionError struct {
	Action Action
	State  State
	Role   Role
	Reason string
	Err    error
}

func (e *TransitionError) Error() string {
	msg := fmt.Sprintf("%v: %s in state %s by %s", e.Err, e.Action, e.State, e.Role)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Unwrap returns ErrNotAllowed or ErrBadTransition.
func (e *TransitionError) Unwrap() error { return e.Err }

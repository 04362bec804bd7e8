package tokens

import (
	"errors"
	"fmt"
)

// Sentinel errors of the package. Match them with errors.Is.
var (
	// ErrMalformed is wrapped by every *FormatError: the string is not a
	// token at all.
	ErrMalformed = errors.New("tokens: malformed token")
	// ErrNotFound reports a well-formed token that no store holds. Stores
	// wrap it when TokenByHash finds nothing.
	ErrNotFound = errors.New("tokens: unknown token")
	// ErrInvalidRole reports a role that is not inspector, department or
	// admin, or a department role without a department.
	ErrInvalidRole = errors.New("tokens: invalid role")
)

// FormatError is a string that is not a well-formed token. It never
// carries the secret itself, only its length and the reason.
type FormatError struct {
	Len    int
	Reason string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("tokens: malformed token (%d characters): %s", e.Len, e.Reason)
}

// Unwrap makes errors.Is(err, ErrMalformed) true.
func (e *FormatError) Unwrap() error { return ErrMalformed }

// RoleError is an invalid role or role/department pair given to Issue.
type RoleError struct {
	Role   string
	Dept   string
	Reason string
}

func (e *RoleError) Error() string {
	return fmt.Sprintf("tokens: invalid role %q (dept %q): %s", e.Role, e.Dept, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalidRole) true.
func (e *RoleError) Unwrap() error { return ErrInvalidRole }

package tokens

import (
	"errors"
	"fmt"
	"time"
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
	// ErrExpired reports a token past its expiry time.
	ErrExpired = errors.New("tokens: token expired")
	// ErrRevoked reports a token that was revoked.
	ErrRevoked = errors.New("tokens: token revoked")
	// ErrInvalidTTL reports a negative lifetime given to IssueSpec.
	ErrInvalidTTL = errors.New("tokens: invalid ttl")
	// ErrUnavailable reports a store that could not be read (it is down):
	// the token may well be valid; ask again later.
	ErrUnavailable = errors.New("tokens: token store unavailable")
	// ErrAmbiguous reports a token ID (a hash prefix) that names more than
	// one token.
	ErrAmbiguous = errors.New("tokens: ambiguous token id")
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

// StateError is a known token that is no longer accepted: expired or
// revoked. It names the token by its ID, never by its secret.
type StateError struct {
	ID  string
	At  time.Time // when it expired or was revoked
	Err error     // ErrExpired or ErrRevoked
}

func (e *StateError) Error() string {
	what := "expired"
	if e.Err == ErrRevoked {
		what = "revoked"
	}
	return fmt.Sprintf("tokens: token %s %s at %s", e.ID, what, e.At.UTC().Format(time.RFC3339))
}

// Unwrap makes errors.Is(err, ErrExpired) or errors.Is(err, ErrRevoked) true.
func (e *StateError) Unwrap() error { return e.Err }

// RefError is a reference to a token (an ID or a secret) that names no
// token or more than one. Ref is the ID as given, or "ct_..." for a secret.
type RefError struct {
	Ref    string
	Reason string
	Err    error // ErrNotFound, ErrAmbiguous or ErrMalformed
}

func (e *RefError) Error() string {
	return fmt.Sprintf("tokens: token %q: %s", e.Ref, e.Reason)
}

// Unwrap gives ErrNotFound, ErrAmbiguous or ErrMalformed.
func (e *RefError) Unwrap() error { return e.Err }

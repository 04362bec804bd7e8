package tokens

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"time"
)

// Prefix starts every token, so that a leaked token is easy to recognise
// (and to grep for in logs and repositories).
const Prefix = "ct_"

// secretBytes is the number of random bytes in a token.
const secretBytes = 32

// Len is the length of a token: the prefix and 43 base64url characters.
var Len = len(Prefix) + base64.RawURLEncoding.EncodedLen(secretBytes)

// Role is what a token lets its bearer do. Anonymous callers are "public";
// tokens are issued for the other roles only.
type Role string

// Roles a token can carry.
const (
	Inspector  Role = "inspector"  // field inspector (城管通): reads everything, reports states
	Operator   Role = "operator"   // dispatcher of the supervision and command centres: runs cases
	Department Role = "department" // a department: edits the components it owns
	Admin      Role = "admin"      // everything
)

// ParseRole accepts inspector, operator, department or admin.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case Inspector, Operator, Department, Admin:
		return r, nil
	}
	return "", &RoleError{Role: s, Reason: "want inspector, operator, department or admin"}
}

// Token is what the store keeps of an issued token: never the secret, only
// its SHA-256 hash, with the role and department it grants, and when it
// stops being accepted.
type Token struct {
	Hash    []byte    // SHA-256 of the secret (32 bytes)
	Role    Role      // inspector, operator, department or admin
	Dept    string    // department code; required for the department role
	Created time.Time // when it was issued (UTC)
	Expires time.Time // when it stops being accepted (UTC); zero: never
	Revoked time.Time // when it was revoked (UTC); zero: not revoked
}

// Usable reports whether the token is accepted at now: nil, or a
// *StateError wrapping ErrRevoked or ErrExpired. A token expires at the
// instant Expires.
func (t Token) Usable(now time.Time) error {
	if !t.Revoked.IsZero() {
		return &StateError{ID: t.ID(), At: t.Revoked, Err: ErrRevoked}
	}
	if !t.Expires.IsZero() && !now.Before(t.Expires) {
		return &StateError{ID: t.ID(), At: t.Expires, Err: ErrExpired}
	}
	return nil
}

// ID returns a short public name of the token (the first 8 bytes of its
// hash in hex), safe to log and to use as a rate-limit key.
func (t Token) ID() string {
	if len(t.Hash) < 8 {
		return hex.EncodeToString(t.Hash)
	}
	return hex.EncodeToString(t.Hash[:8])
}

// Validate checks the role and the department: a department token needs a
// department code.
func (t Token) Validate() error {
	if _, err := ParseRole(string(t.Role)); err != nil {
		return &RoleError{Role: string(t.Role), Dept: t.Dept, Reason: "want inspector, operator, department or admin"}
	}
	if t.Role == Department && t.Dept == "" {
		return &RoleError{Role: string(t.Role), Reason: "a department token needs a department code (--dept)"}
	}
	if !t.Expires.IsZero() && t.Expires.Before(t.Created) {
		return fmt.Errorf("%w: expires %s before it was created %s", ErrInvalidTTL, t.Expires.Format(time.RFC3339), t.Created.Format(time.RFC3339))
	}
	if len(t.Hash) != sha256.Size {
		return fmt.Errorf("tokens: hash has %d bytes, want %d", len(t.Hash), sha256.Size)
	}
	return nil
}

// Generate returns a new secret read from r (crypto/rand.Reader when r is
// nil): Prefix followed by 32 random bytes in base64url without padding.
func Generate(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [secretBytes]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("tokens: reading random bytes: %w", err)
	}
	return Prefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Hash returns the SHA-256 of a secret, the key under which it is stored.
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Check reports whether s has the form of a token (prefix, length,
// base64url alphabet). The error is a *FormatError; it never quotes s.
func Check(s string) error {
	if len(s) != Len {
		return &FormatError{Len: len(s), Reason: fmt.Sprintf("want %d characters starting with %q", Len, Prefix)}
	}
	if s[:len(Prefix)] != Prefix {
		return &FormatError{Len: len(s), Reason: fmt.Sprintf("does not start with %q", Prefix)}
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(s[len(Prefix):]); err != nil {
		return &FormatError{Len: len(s), Reason: "not base64url after the prefix"}
	}
	return nil
}

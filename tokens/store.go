package tokens

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Store keeps issued tokens by hash. TokenByHash returns an error wrapping
// ErrNotFound when it holds no token with that hash; it returns expired and
// revoked tokens as they are (Verifier refuses them). store/gpkg.Store and
// store/postgis.Store satisfy it.
type Store interface {
	PutToken(ctx context.Context, t Token) error
	TokenByHash(ctx context.Context, hash []byte) (Token, error)
}

// Manager is a Store that also lists and revokes tokens: what
// `citytwin token list|revoke` and the admin API need. Revoked tokens stay
// in the store (listed, refused), so that a revocation is never undone by
// re-issuing the same hash.
type Manager interface {
	Store
	// ListTokens returns every token, oldest first.
	ListTokens(ctx context.Context) ([]Token, error)
	// RevokeToken marks the token with hash revoked at at (an already
	// revoked token keeps its first time) and returns it; an error wrapping
	// ErrNotFound when there is none.
	RevokeToken(ctx context.Context, hash []byte, at time.Time) (Token, error)
}

// Spec is a token to issue: its role, department, and lifetime (TTL 0:
// the token never expires).
type Spec struct {
	Role Role
	Dept string
	TTL  time.Duration
}

// Issue creates a token for role (and dept) that never expires, stores its
// hash in st and returns the secret, to be shown once to whoever asked for
// it. now is the creation time (time.Now when zero).
func Issue(ctx context.Context, st Store, role Role, dept string, now time.Time) (string, Token, error) {
	return IssueSpec(ctx, st, Spec{Role: role, Dept: dept}, now)
}

// IssueSpec is Issue for a Spec: a TTL > 0 makes the token expire TTL
// after now (to the second); a negative TTL is an error wrapping
// ErrInvalidTTL.
func IssueSpec(ctx context.Context, st Store, sp Spec, now time.Time) (string, Token, error) {
	if sp.TTL < 0 {
		return "", Token{}, fmt.Errorf("%w: %v is negative", ErrInvalidTTL, sp.TTL)
	}
	if now.IsZero() {
		now = time.Now()
	}
	secret, err := Generate(nil)
	if err != nil {
		return "", Token{}, err
	}
	created := now.UTC().Truncate(time.Second)
	t := Token{Hash: Hash(secret), Role: sp.Role, Dept: sp.Dept, Created: created}
	if sp.TTL > 0 {
		t.Expires = created.Add(sp.TTL).Truncate(time.Second)
		if !t.Expires.After(created) {
			t.Expires = created.Add(time.Second)
		}
	}
	if err := t.Validate(); err != nil {
		return "", Token{}, err
	}
	if err := st.PutToken(ctx, t); err != nil {
		return "", Token{}, err
	}
	return secret, t, nil
}

// MinIDLen is the fewest hex digits of a hash prefix that Find accepts as
// a token's ID (Token.ID gives 16).
const MinIDLen = 8

// Find returns the token named by ref: a secret (Prefix...), or its ID, a
// prefix of at least MinIDLen hex digits of its hash. The error is a
// *RefError wrapping ErrNotFound, ErrAmbiguous or ErrMalformed, or the
// store's error. Errors never quote a secret.
func Find(ctx context.Context, m Manager, ref string) (Token, error) {
	ref = strings.TrimSpace(ref)
	if strings.HasPrefix(ref, Prefix) {
		if err := Check(ref); err != nil {
			return Token{}, &RefError{Ref: Prefix + "...", Reason: "not a well-formed token", Err: ErrMalformed}
		}
		return m.TokenByHash(ctx, Hash(ref))
	}
	id := strings.ToLower(ref)
	if len(id) < MinIDLen || len(id) > 2*len(Hash("")) {
		return Token{}, &RefError{Ref: ref, Reason: fmt.Sprintf("an ID has %d to 64 hex digits (token list shows them)", MinIDLen), Err: ErrMalformed}
	}
	if _, err := hex.DecodeString(id[:len(id)&^1]); err != nil {
		return Token{}, &RefError{Ref: ref, Reason: "an ID is hex digits (token list shows them)", Err: ErrMalformed}
	}
	all, err := m.ListTokens(ctx)
	if err != nil {
		return Token{}, err
	}
	var found []Token
	for _, t := range all {
		if strings.HasPrefix(hex.EncodeToString(t.Hash), id) {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 0:
		return Token{}, &RefError{Ref: ref, Reason: "no such token", Err: ErrNotFound}
	case 1:
		return found[0], nil
	}
	return Token{}, &RefError{Ref: ref, Reason: fmt.Sprintf("names %d tokens; give more digits", len(found)), Err: ErrAmbiguous}
}

// Revoke revokes the token named by ref (see Find) at now (time.Now when
// zero) and returns it.
func Revoke(ctx context.Context, m Manager, ref string, now time.Time) (Token, error) {
	t, err := Find(ctx, m, ref)
	if err != nil {
		return Token{}, err
	}
	if now.IsZero() {
		now = time.Now()
	}
	return m.RevokeToken(ctx, t.Hash, now.UTC().Truncate(time.Millisecond))
}

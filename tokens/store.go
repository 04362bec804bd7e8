package tokens

import (
	"context"
	"time"
)

// Store keeps issued tokens by hash. TokenByHash returns an error wrapping
// ErrNotFound when it holds no token with that hash. store/gpkg.Store
// satisfies it.
type Store interface {
	PutToken(ctx context.Context, t Token) error
	TokenByHash(ctx context.Context, hash []byte) (Token, error)
}

// Issue creates a token for role (and dept), stores its hash in st and
// returns the secret, to be shown once to whoever asked for it. now is the
// creation time (time.Now when zero).
func Issue(ctx context.Context, st Store, role Role, dept string, now time.Time) (string, Token, error) {
	if now.IsZero() {
		now = time.Now()
	}
	secret, err := Generate(nil)
	if err != nil {
		return "", Token{}, err
	}
	t := Token{Hash: Hash(secret), Role: role, Dept: dept, Created: now.UTC().Truncate(time.Second)}
	if err := t.Validate(); err != nil {
		return "", Token{}, err
	}
	if err := st.PutToken(ctx, t); err != nil {
		return "", Token{}, err
	}
	return secret, t, nil
}

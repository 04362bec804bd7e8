package postgis

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"citytwin/tokens"
)

// PutToken stores an issued token's hash, role and department (never the
// secret). An existing hash is replaced.
func (s *Store) PutToken(ctx context.Context, t tokens.Token) error {
	if err := s.check(); err != nil {
		return err
	}
	if err := t.Validate(); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO tokens (hash, role, dept, created) VALUES ($1, $2, $3, $4)
ON CONFLICT (hash) DO UPDATE SET role = excluded.role, dept = excluded.dept, created = excluded.created`,
		t.Hash, string(t.Role), t.Dept, t.Created.UTC())
	return wrap("put token", err)
}

// TokenByHash returns the token with hash; an error wrapping
// tokens.ErrNotFound when there is none.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (tokens.Token, error) {
	if err := s.check(); err != nil {
		return tokens.Token{}, err
	}
	var t tokens.Token
	var role string
	err := s.pool.QueryRow(ctx, `SELECT hash, role, dept, created FROM tokens WHERE hash = $1`, hash).
		Scan(&t.Hash, &role, &t.Dept, &t.Created)
	if errors.Is(err, pgx.ErrNoRows) {
		return tokens.Token{}, fmt.Errorf("%w: no token with that hash", tokens.ErrNotFound)
	}
	if err != nil {
		return tokens.Token{}, wrap("read token", err)
	}
	t.Role = tokens.Role(role)
	t.Created = t.Created.UTC()
	return t, nil
}

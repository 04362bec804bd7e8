package postgis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"citytwin/tokens"
)

// tokenColumnsSQL adds the columns of token expiry and revocation to a
// tokens table created before them. Migration 0003_token_expiry does the
// same; until Migrate runs the migrations, a token statement that finds a
// column missing runs this and tries again (withTokenColumns).
const tokenColumnsSQL = `ALTER TABLE tokens
  ADD COLUMN IF NOT EXISTS expires timestamptz,
  ADD COLUMN IF NOT EXISTS revoked_at timestamptz`

// tokenSelect reads the columns scanToken scans.
const tokenSelect = `SELECT hash, role, dept, created, expires, revoked_at FROM tokens`

// PutToken stores an issued token's hash, role, department and expiry
// (never the secret). An existing hash is replaced; a revoked one stays
// revoked. Store satisfies tokens.Manager.
func (s *Store) PutToken(ctx context.Context, t tokens.Token) error {
	if err := s.check(); err != nil {
		return err
	}
	if err := t.Validate(); err != nil {
		return err
	}
	return wrap("put token", s.withTokenColumns(ctx, func() error {
		_, err := s.pool.Exec(ctx, `INSERT INTO tokens (hash, role, dept, created, expires, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (hash) DO UPDATE SET role = excluded.role, dept = excluded.dept, created = excluded.created,
  expires = excluded.expires, revoked_at = coalesce(tokens.revoked_at, excluded.revoked_at)`,
			t.Hash, string(t.Role), t.Dept, t.Created.UTC(), nullTime(t.Expires), nullTime(t.Revoked))
		return err
	}))
}

// TokenByHash returns the token with hash; an error wrapping
// tokens.ErrNotFound when there is none. Expired and revoked tokens are
// returned as they are.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (tokens.Token, error) {
	if err := s.check(); err != nil {
		return tokens.Token{}, err
	}
	var t tokens.Token
	err := s.withTokenColumns(ctx, func() error {
		var err error
		t, err = scanToken(s.pool.QueryRow(ctx, tokenSelect+` WHERE hash = $1`, hash))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return tokens.Token{}, fmt.Errorf("%w: no token with that hash", tokens.ErrNotFound)
	}
	if err != nil {
		return tokens.Token{}, wrap("read token", err)
	}
	return t, nil
}

// ListTokens returns every token, oldest first.
func (s *Store) ListTokens(ctx context.Context) ([]tokens.Token, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	var out []tokens.Token
	err := s.withTokenColumns(ctx, func() error {
		out = out[:0]
		rows, err := s.pool.Query(ctx, tokenSelect+` ORDER BY created, hash`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanToken(rows)
			if err != nil {
				return err
			}
			out = append(out, t)
		}
		return rows.Err()
	})
	return out, wrap("list tokens", err)
}

// RevokeToken marks the token with hash revoked at at (a revoked token
// keeps its first time) and returns it; an error wrapping
// tokens.ErrNotFound when there is none.
func (s *Store) RevokeToken(ctx context.Context, hash []byte, at time.Time) (tokens.Token, error) {
	if err := s.check(); err != nil {
		return tokens.Token{}, err
	}
	var t tokens.Token
	err := s.withTokenColumns(ctx, func() error {
		var err error
		t, err = scanToken(s.pool.QueryRow(ctx, `UPDATE tokens SET revoked_at = coalesce(revoked_at, $2) WHERE hash = $1
RETURNING hash, role, dept, created, expires, revoked_at`, hash, at.UTC()))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return tokens.Token{}, fmt.Errorf("%w: no token with that hash", tokens.ErrNotFound)
	}
	return t, wrap("revoke token", err)
}

// withTokenColumns runs stmt, and when it fails because the tokens table
// lacks a column (undefined_column: a table created before expiry and
// revocation, not yet migrated), adds the columns and runs it again.
func (s *Store) withTokenColumns(ctx context.Context, stmt func() error) error {
	err := stmt()
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42703" {
		return err
	}
	if _, err := s.pool.Exec(ctx, tokenColumnsSQL); err != nil {
		return err
	}
	return stmt()
}

// scanToken scans one row of tokenSelect.
func scanToken(row pgx.Row) (tokens.Token, error) {
	var t tokens.Token
	var role string
	var expires, revoked *time.Time
	if err := row.Scan(&t.Hash, &role, &t.Dept, &t.Created, &expires, &revoked); err != nil {
		return tokens.Token{}, err
	}
	t.Role = tokens.Role(role)
	t.Created = t.Created.UTC()
	if expires != nil {
		t.Expires = expires.UTC()
	}
	if revoked != nil {
		t.Revoked = revoked.UTC()
	}
	return t, nil
}

// nullTime is t, or nil (SQL NULL) for the zero time.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

package gpkg

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"citytwin/tokens"
)

// tokensSQL creates the attributes table of API tokens: only the SHA-256
// hash of each secret is kept, never the secret.
var tokensSQL = []string{
	`CREATE TABLE IF NOT EXISTS tokens (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  hash TEXT UNIQUE NOT NULL,
  role TEXT NOT NULL,
  dept TEXT,
  created DATETIME NOT NULL)`,
	`INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description)
  VALUES ('tokens', 'attributes', 'tokens', 'API token hashes (SHA-256), never the secrets')`,
}

// tokenTime is the layout of tokens.created (GeoPackage DATETIME).
const tokenTime = "2006-01-02T15:04:05.000Z"

// PutToken stores t, replacing a token with the same hash, in one
// transaction. The tokens table is created on first use, so files written
// before it existed take tokens too. Store satisfies tokens.Store.
func (s *Store) PutToken(ctx context.Context, t tokens.Token) error {
	if err := t.Validate(); err != nil {
		return err
	}
	return s.write(ctx, "put token", func(tx *sql.Tx) error {
		for _, q := range tokensSQL {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO tokens (hash, role, dept, created) VALUES (?, ?, ?, ?)
  ON CONFLICT (hash) DO UPDATE SET role = excluded.role, dept = excluded.dept, created = excluded.created`,
			hex.EncodeToString(t.Hash), string(t.Role), nullText(t.Dept), t.Created.UTC().Format(tokenTime))
		if err != nil {
			return err
		}
		return touch(ctx, tx, "tokens")
	})
}

// TokenByHash returns the token with the SHA-256 hash, or an error
// wrapping tokens.ErrNotFound.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (tokens.Token, error) {
	notFound := func() error {
		return fmt.Errorf("gpkg: %w: no token with hash %x...", tokens.ErrNotFound, hash[:min(4, len(hash))])
	}
	ok, err := hasTable(ctx, s.db, "tokens")
	if err != nil {
		return tokens.Token{}, fmt.Errorf("gpkg: token in %s: %w", s.path, err)
	}
	if !ok {
		return tokens.Token{}, notFound()
	}
	var role, dept, created string
	err = s.db.QueryRowContext(ctx, `SELECT role, ifnull(dept, ''), created FROM tokens WHERE hash = ?`, hex.EncodeToString(hash)).
		Scan(&role, &dept, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return tokens.Token{}, notFound()
	}
	if err != nil {
		return tokens.Token{}, fmt.Errorf("gpkg: token in %s: %w", s.path, err)
	}
	t := tokens.Token{Hash: append([]byte(nil), hash...), Dept: dept}
	key := t.ID()
	if t.Role, err = tokens.ParseRole(role); err != nil {
		return tokens.Token{}, &RowError{Table: "tokens", Key: key, Field: "role", Err: err}
	}
	if t.Created, err = time.Parse(time.RFC3339, created); err != nil {
		return tokens.Token{}, &RowError{Table: "tokens", Key: key, Field: "created", Err: fmt.Errorf("%w: %q is not an RFC 3339 time", ErrRow, created)}
	}
	return t, nil
}

// nullText returns s, or nil (SQL NULL) for the empty string.
func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

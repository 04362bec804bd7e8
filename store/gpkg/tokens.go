package gpkg

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"citytwin/tokens"
)

// tokensSQL creates the attributes table of API tokens: only the SHA-256
// hash of each secret is kept, never the secret. expires and revoked_at
// are NULL for a token that never expires and one not revoked.
var tokensSQL = []string{
	`CREATE TABLE IF NOT EXISTS tokens (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  hash TEXT UNIQUE NOT NULL,
  role TEXT NOT NULL,
  dept TEXT,
  created DATETIME NOT NULL,
  expires DATETIME,
  revoked_at DATETIME)`,
	`INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description)
  VALUES ('tokens', 'attributes', 'tokens', 'API token hashes (SHA-256), never the secrets')`,
}

// tokenAddedColumns are the columns added to tokens tables written before
// tokens could expire or be revoked (SQLite has no ADD COLUMN IF NOT EXISTS).
var tokenAddedColumns = []struct{ name, decl string }{
	{"expires", "DATETIME"},
	{"revoked_at", "DATETIME"},
}

// tokenTime is the layout of the tokens table's times (GeoPackage DATETIME).
const tokenTime = "2006-01-02T15:04:05.000Z"

// TokenStore is the tokens table of a GeoPackage file opened on its own by
// OpenTokens, for `citytwin token create|list|revoke` while a server runs
// on the same file. It satisfies tokens.Manager.
type TokenStore struct {
	t tokenTable
}

// OpenTokens opens the GeoPackage at path for its tokens only. It checks
// the file as Open does but keeps no other state, so that it works beside
// a server that has the file open: its short transactions go through
// SQLite's own locking (WAL, BEGIN IMMEDIATE, a 10 s busy timeout), and
// the server, which caches a token for at most tokens.MaxTTL, sees a
// revocation within that time. Writes are synced (synchronous=FULL): a
// revocation that returned is on disk.
func OpenTokens(ctx context.Context, path string) (*TokenStore, error) {
	abs, err := checkFile(ctx, path)
	if err != nil {
		return nil, err
	}
	q := fmt.Sprintf("mode=rw&_pragma=busy_timeout(%d)&_pragma=synchronous(FULL)&_txlock=immediate", busyTimeoutMS)
	registerSQLFunctions()
	db, err := sql.Open("sqlite", fileURI(abs, q))
	if err != nil {
		return nil, &OpenError{Path: path, Reason: "cannot open for writing", Err: ErrNotGeoPackage, Cause: err}
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, &OpenError{Path: path, Reason: "cannot open for writing", Err: ErrNotGeoPackage, Cause: err}
	}
	return &TokenStore{t: tokenTable{db: db, path: path}}, nil
}

// checkFile runs Open's checks of path (header, schema) and returns its
// absolute path.
func checkFile(ctx context.Context, path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", &OpenError{Path: path, Reason: "bad path", Err: ErrNotGeoPackage, Cause: err}
	}
	wal, herr := checkHeader(abs)
	if herr != nil {
		herr.Path = path
		return "", herr
	}
	if err := checkTables(ctx, abs, wal); err != nil {
		err.Path = path
		return "", err
	}
	return abs, nil
}

// Close closes the file.
func (s *TokenStore) Close() error {
	if err := s.t.db.Close(); err != nil {
		return fmt.Errorf("gpkg: close %s: %w", s.t.path, err)
	}
	return nil
}

// PutToken stores t (see Store.PutToken).
func (s *TokenStore) PutToken(ctx context.Context, t tokens.Token) error {
	if err := t.Validate(); err != nil {
		return err
	}
	return s.t.writeTx(ctx, "put token", func(tx *sql.Tx) error { return putToken(ctx, tx, t) })
}

// TokenByHash returns the token with the SHA-256 hash (see Store.TokenByHash).
func (s *TokenStore) TokenByHash(ctx context.Context, hash []byte) (tokens.Token, error) {
	return s.t.byHash(ctx, hash)
}

// ListTokens returns every token, oldest first.
func (s *TokenStore) ListTokens(ctx context.Context) ([]tokens.Token, error) {
	return s.t.list(ctx)
}

// RevokeToken marks a token revoked (see Store.RevokeToken).
func (s *TokenStore) RevokeToken(ctx context.Context, hash []byte, at time.Time) (tokens.Token, error) {
	var t tokens.Token
	err := s.t.writeTx(ctx, "revoke token", func(tx *sql.Tx) (err error) {
		t, err = revokeToken(ctx, tx, hash, at)
		return err
	})
	return t, err
}

// PutToken stores t, replacing a token with the same hash (a revoked one
// stays revoked), in one transaction. The tokens table is created on first
// use, and its expires and revoked_at columns added, so files written
// before they existed take tokens too. Store satisfies tokens.Manager.
func (s *Store) PutToken(ctx context.Context, t tokens.Token) error {
	if err := t.Validate(); err != nil {
		return err
	}
	return s.write(ctx, "put token", func(tx *sql.Tx) error { return putToken(ctx, tx, t) })
}

// TokenByHash returns the token with the SHA-256 hash, or an error
// wrapping tokens.ErrNotFound. Expired and revoked tokens are returned as
// they are.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (tokens.Token, error) {
	return tokenTable{db: s.db, path: s.path}.byHash(ctx, hash)
}

// ListTokens returns every token, oldest first.
func (s *Store) ListTokens(ctx context.Context) ([]tokens.Token, error) {
	return tokenTable{db: s.db, path: s.path}.list(ctx)
}

// RevokeToken marks the token with hash revoked at at (a revoked token
// keeps its first time) and returns it; an error wrapping
// tokens.ErrNotFound when there is none.
func (s *Store) RevokeToken(ctx context.Context, hash []byte, at time.Time) (tokens.Token, error) {
	var t tokens.Token
	err := s.write(ctx, "revoke token", func(tx *sql.Tx) (err error) {
		t, err = revokeToken(ctx, tx, hash, at)
		return err
	})
	return t, err
}

// tokenTable reads and writes the tokens table through db.
type tokenTable struct {
	db   *sql.DB
	path string
}

// writeTx runs fn in one transaction (BEGIN IMMEDIATE: it waits for other
// processes' writers up to the busy timeout).
func (tt tokenTable) writeTx(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	tx, err := tt.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("gpkg: %s in %s: %w", what, tt.path, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		if errors.Is(err, tokens.ErrNotFound) {
			return err
		}
		return fmt.Errorf("gpkg: %s in %s: %w", what, tt.path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("gpkg: %s in %s: %w", what, tt.path, err)
	}
	return nil
}

// ensureTokens creates the tokens table, or adds the columns it lacks.
func ensureTokens(ctx context.Context, tx *sql.Tx) error {
	for _, q := range tokensSQL {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT name FROM pragma_table_info('tokens')`)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return err
		}
		have[c] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range tokenAddedColumns {
		if !have[c.name] {
			if _, err := tx.ExecContext(ctx, `ALTER TABLE tokens ADD COLUMN `+c.name+` `+c.decl); err != nil {
				return err
			}
		}
	}
	return nil
}

func putToken(ctx context.Context, tx *sql.Tx, t tokens.Token) error {
	if err := ensureTokens(ctx, tx); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO tokens (hash, role, dept, created, expires, revoked_at) VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (hash) DO UPDATE SET role = excluded.role, dept = excluded.dept, created = excluded.created,
    expires = excluded.expires, revoked_at = coalesce(tokens.revoked_at, excluded.revoked_at)`,
		hex.EncodeToString(t.Hash), string(t.Role), nullText(t.Dept), t.Created.UTC().Format(tokenTime),
		nullTime(t.Expires), nullTime(t.Revoked))
	if err != nil {
		return err
	}
	return touch(ctx, tx, "tokens")
}

func revokeToken(ctx context.Context, tx *sql.Tx, hash []byte, at time.Time) (tokens.Token, error) {
	if err := ensureTokens(ctx, tx); err != nil {
		return tokens.Token{}, err
	}
	h := hex.EncodeToString(hash)
	res, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE hash = ? AND revoked_at IS NULL`, at.UTC().Format(tokenTime), h)
	if err != nil {
		return tokens.Token{}, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return tokens.Token{}, err
	}
	if n > 0 {
		if err := touch(ctx, tx, "tokens"); err != nil {
			return tokens.Token{}, err
		}
	}
	rows, err := tx.QueryContext(ctx, tokenSelect(allTokenColumns)+` WHERE hash = ?`, h)
	if err != nil {
		return tokens.Token{}, err
	}
	ts, err := scanTokens(rows)
	if err != nil {
		return tokens.Token{}, err
	}
	if len(ts) == 0 {
		return tokens.Token{}, notFound(hash)
	}
	return ts[0], nil
}

func notFound(hash []byte) error {
	return fmt.Errorf("gpkg: %w: no token with hash %x...", tokens.ErrNotFound, hash[:min(4, len(hash))])
}

// allTokenColumns has every column tokenSelect reads.
var allTokenColumns = map[string]bool{"expires": true, "revoked_at": true}

// tokenSelect selects the columns scanTokens reads; a column that an
// older table lacks reads as NULL.
func tokenSelect(cols map[string]bool) string {
	var b strings.Builder
	b.WriteString(`SELECT hash, role, ifnull(dept, ''), created`)
	for _, c := range tokenAddedColumns {
		if cols[c.name] {
			b.WriteString(", " + c.name)
		} else {
			b.WriteString(", NULL")
		}
	}
	b.WriteString(" FROM tokens")
	return b.String()
}

// columns returns the columns of the tokens table, none when there is no
// such table.
func (tt tokenTable) columns(ctx context.Context) (map[string]bool, error) {
	return columnsOf(ctx, tt.db, "tokens")
}

func (tt tokenTable) byHash(ctx context.Context, hash []byte) (tokens.Token, error) {
	ts, err := tt.query(ctx, ` WHERE hash = ?`, hex.EncodeToString(hash))
	if err != nil {
		return tokens.Token{}, err
	}
	if len(ts) == 0 {
		return tokens.Token{}, notFound(hash)
	}
	return ts[0], nil
}

func (tt tokenTable) list(ctx context.Context) ([]tokens.Token, error) {
	return tt.query(ctx, ` ORDER BY created, fid`)
}

func (tt tokenTable) query(ctx context.Context, tail string, args ...any) ([]tokens.Token, error) {
	fail := func(err error) error {
		var re *RowError
		if errors.As(err, &re) {
			return err
		}
		return fmt.Errorf("gpkg: tokens in %s: %w", tt.path, err)
	}
	cols, err := tt.columns(ctx)
	if err != nil {
		return nil, fail(err)
	}
	if len(cols) == 0 {
		return nil, nil
	}
	rows, err := tt.db.QueryContext(ctx, tokenSelect(cols)+tail, args...)
	if err != nil {
		return nil, fail(err)
	}
	ts, err := scanTokens(rows)
	if err != nil {
		return nil, fail(err)
	}
	return ts, nil
}

// scanTokens reads the rows of a tokenSelect and closes them.
func scanTokens(rows *sql.Rows) ([]tokens.Token, error) {
	defer rows.Close()
	var out []tokens.Token
	for rows.Next() {
		var h, role, dept, created string
		var expires, revoked sql.NullString
		if err := rows.Scan(&h, &role, &dept, &created, &expires, &revoked); err != nil {
			return nil, err
		}
		t, err := decodeToken(h, role, dept, created, expires, revoked)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func decodeToken(h, role, dept, created string, expires, revoked sql.NullString) (tokens.Token, error) {
	hash, err := hex.DecodeString(h)
	if err != nil {
		return tokens.Token{}, &RowError{Table: "tokens", Key: h[:min(16, len(h))], Field: "hash", Err: fmt.Errorf("%w: not hex", ErrRow)}
	}
	t := tokens.Token{Hash: hash, Dept: dept}
	key := t.ID()
	if t.Role, err = tokens.ParseRole(role); err != nil {
		return tokens.Token{}, &RowError{Table: "tokens", Key: key, Field: "role", Err: err}
	}
	for _, f := range []struct {
		name string
		v    sql.NullString
		dst  *time.Time
	}{
		{"created", sql.NullString{String: created, Valid: true}, &t.Created},
		{"expires", expires, &t.Expires},
		{"revoked_at", revoked, &t.Revoked},
	} {
		if !f.v.Valid || f.v.String == "" {
			continue
		}
		tm, err := time.Parse(time.RFC3339, f.v.String)
		if err != nil {
			return tokens.Token{}, &RowError{Table: "tokens", Key: key, Field: f.name, Err: fmt.Errorf("%w: %q is not an RFC 3339 time", ErrRow, f.v.String)}
		}
		*f.dst = tm.UTC()
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

// nullTime returns t in the tokens table's layout, or nil (SQL NULL) for
// the zero time.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(tokenTime)
}

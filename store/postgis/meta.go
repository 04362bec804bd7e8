package postgis

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

// CountParts returns the number of rows of parts, retired ones included.
func (s *Store) CountParts(ctx context.Context) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM parts`).Scan(&n)
	return n, wrap("count parts", err)
}

// CountGrids returns the number of rows of grids.
func (s *Store) CountGrids(ctx context.Context) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM grids`).Scan(&n)
	return n, wrap("count grids", err)
}

// Truncate empties parts, grids and divisions (meta is kept).
func (s *Store) Truncate(ctx context.Context) error {
	if err := s.check(); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `TRUNCATE parts, grids, divisions`)
	return wrap("truncate", err)
}

// Meta returns the value stored under key in meta and whether it exists.
func (s *Store) Meta(ctx context.Context, key string) (string, bool, error) {
	if err := s.check(); err != nil {
		return "", false, err
	}
	var v string
	err := s.pool.QueryRow(ctx, `SELECT value FROM meta WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, wrap("read meta "+key, err)
	}
	return v, true, nil
}

// SetMeta stores value under key in meta, replacing any previous value.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	if err := s.check(); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2)
ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return wrap("write meta "+key, err)
}

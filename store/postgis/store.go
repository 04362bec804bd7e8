package postgis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultURL is the database URL used when none is configured: a local
// PostgreSQL with trust authentication.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// DefaultConnectTimeout bounds a connection attempt when the URL sets no
// connect_timeout.
const DefaultConnectTimeout = 3 * time.Second

// Store is a PostGIS database holding the city. Its methods are safe for
// concurrent use. Construct it with Open, call Migrate once, Close at the end.
type Store struct {
	pool   *pgxpool.Pool
	closed atomic.Bool
}

// Open connects to the database at url (a postgres:// URL or a libpq
// key=value string; search_path=... selects the schema of the tables) and
// checks that it answers. Errors wrap ErrConnect and name the host, never
// the password.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgconn's parse errors redact the password.
		return nil, fmt.Errorf("%w: bad database URL: %w", ErrConnect, err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		// A database that is down must fail a write fast (503), not
		// hold it until the request's deadline.
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %s:%d/%s: %w", ErrConnect, cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		if transient(err) {
			err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return nil, fmt.Errorf("%w: %s:%d/%s: %w", ErrConnect, cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	return &Store{pool: pool}, nil
}

// Close closes the pool, waiting for the queries under way. Calls after the
// first do nothing.
func (s *Store) Close() {
	if s.closed.CompareAndSwap(false, true) {
		s.pool.Close()
	}
}

func (s *Store) check() error {
	if s.closed.Load() {
		return ErrClosed
	}
	return nil
}

// wrap names the operation of a database error (nil stays nil); the cause
// stays reachable with errors.Is and errors.As (context errors, *pgconn.PgError).
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("postgis: %s: %w", op, err)
}

// transient reports whether a connection failure may go away by itself: no
// answer at all (refused, timed out, reset), or a server that is starting,
// shutting down or out of connections; not a refusal of the database, the
// role or the password.
func transient(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return true
	}
	switch {
	case strings.HasPrefix(pe.Code, "08"), // connection exception
		strings.HasPrefix(pe.Code, "57P"), // operator intervention: shutdown, starting up
		pe.Code == "53300":                // too many connections
		return true
	}
	return false
}

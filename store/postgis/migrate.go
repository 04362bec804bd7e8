package postgis

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"citytwin/migrations"
)

// migrateLock is the key of the session advisory lock that serialises
// migrations of the same database: replicas that start at once migrate
// one after the other, and the later ones find nothing left to do.
const migrateLock = 0x63697479_74776e // "citytwn"

// Migrate brings the tables of the database up to date with the
// migrations of this build (migrations/postgis); see ApplyMigrations.
func (s *Store) Migrate(ctx context.Context) error {
	_, err := s.ApplyMigrations(ctx)
	return err
}

// ApplyMigrations applies the migrations of migrations.PostGIS that the
// database lacks and returns them (none when it is up to date). The whole
// run holds pg_advisory_lock; each migration runs in a transaction of its
// own that also records it in schema_migrations (version, name,
// applied_at) and sets meta's schema_version to its version. Migration 1
// is the schema of citytwin before migrations, so a database made by it
// upgrades in place. A database that records a migration this build does
// not know, or whose meta schema_version is beyond this build's last
// migration, is refused with an error wrapping ErrSchema (and
// migrations.ErrNewer) and is left as it is.
func (s *Store) ApplyMigrations(ctx context.Context) ([]migrations.Migration, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	ms, err := migrations.PostGIS()
	if err != nil {
		return nil, err
	}
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, wrap("migrate", err)
	}
	defer c.Release()
	if _, err := c.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrateLock)); err != nil {
		return nil, wrap("migrate: lock", err)
	}
	defer func() {
		if _, err := c.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrateLock)); err != nil {
			// Closing the session releases its locks; the pool drops
			// the closed connection.
			c.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	if err := checkMetaVersion(ctx, c.Conn(), migrations.Latest(ms)); err != nil {
		return nil, err
	}
	done, err := migrations.Run(ctx, migrations.PostGISStore, pgTarget{c.Conn()}, ms)
	if errors.Is(err, migrations.ErrNewer) || errors.Is(err, migrations.ErrMismatch) {
		return done, fmt.Errorf("%w: %w", ErrSchema, err)
	}
	if err != nil {
		return done, fmt.Errorf("postgis: %w", err)
	}
	return done, nil
}

// checkMetaVersion refuses a database whose meta schema_version is beyond
// latest: one written by a newer build that predates schema_migrations'
// check, or edited by hand.
func checkMetaVersion(ctx context.Context, conn *pgx.Conn, latest int) error {
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('meta') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return wrap("migrate: look for meta", err)
	}
	var v string
	err := conn.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return wrap("migrate: read schema_version", err)
	}
	if n, err := strconv.Atoi(v); err != nil || n > latest {
		return fmt.Errorf("%w: %w: meta schema_version %q, this build knows migrations up to %d", ErrSchema, migrations.ErrNewer, v, latest)
	}
	return nil
}

// pgTarget is the database as the migration runner sees it, through the
// connection that holds the advisory lock.
type pgTarget struct{ conn *pgx.Conn }

// Applied reads schema_migrations, creating it when it is missing.
func (t pgTarget) Applied(ctx context.Context) (map[int]string, error) {
	if _, err := t.conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
  version bigint PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, wrap("migrate: create schema_migrations", err)
	}
	rows, err := t.conn.Query(ctx, `SELECT version, name FROM schema_migrations`)
	if err != nil {
		return nil, wrap("migrate: read schema_migrations", err)
	}
	defer rows.Close()
	out := map[int]string{}
	for rows.Next() {
		var v int64
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			return nil, wrap("migrate: read schema_migrations", err)
		}
		out[int(v)] = name
	}
	return out, wrap("migrate: read schema_migrations", rows.Err())
}

// Apply runs m, records it and sets meta's schema_version, in one
// transaction. The file's statements go in one simple-protocol Exec.
func (t pgTarget) Apply(ctx context.Context, m migrations.Migration) error {
	return pgx.BeginFunc(ctx, t.conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, int64(m.Version), m.Name); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO meta (key, value) VALUES ('schema_version', $1)
ON CONFLICT (key) DO UPDATE SET value = excluded.value`, strconv.Itoa(m.Version))
		return err
	})
}

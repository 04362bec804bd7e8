package postgis

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// SchemaVersion is the version of the tables Migrate creates, kept in
// meta under the key "schema_version".
const SchemaVersion = 1

// migrateLock is the key of the advisory lock that serialises concurrent
// migrations of the same database.
const migrateLock = 0x63697479_74776e // "citytwn"

// schemaSQL creates the tables in the current schema (the first existing
// schema of search_path).
var schemaSQL = []string{
	`CREATE TABLE IF NOT EXISTS parts (
  code text PRIMARY KEY,
  class text NOT NULL,
  name text,
  dept_supervisor text,
  dept_owner text,
  dept_maintainer text,
  grid_code text,
  state text,
  retired bool NOT NULL DEFAULT false,
  surveyed date,
  changed date,
  source text,
  photo text,
  note text,
  material text,
  label text,
  version bigint NOT NULL DEFAULT 1,
  geom geometry(Geometry, 4326))`,
	createPartsGeomIndex,
	`CREATE TABLE IF NOT EXISTS grids (
  code text PRIMARY KEY,
  name text,
  dept text,
  district text,
  street text,
  community text,
  version bigint NOT NULL DEFAULT 1,
  geom geometry(Polygon, 4326))`,
	createGridsGeomIndex,
	`CREATE TABLE IF NOT EXISTS divisions (
  code text PRIMARY KEY,
  name text,
  level smallint NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS meta (
  key text PRIMARY KEY,
  value text NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS tokens (
  hash bytea PRIMARY KEY,
  role text NOT NULL,
  dept text NOT NULL DEFAULT '',
  created timestamptz NOT NULL)`,
}

const (
	createPartsGeomIndex = `CREATE INDEX IF NOT EXISTS parts_geom ON parts USING gist (geom)`
	createGridsGeomIndex = `CREATE INDEX IF NOT EXISTS grids_geom ON grids USING gist (geom)`
)

// partColumns are the columns of parts in the order CopyParts writes them.
var partColumns = []string{
	"code", "class", "name", "dept_supervisor", "dept_owner", "dept_maintainer",
	"grid_code", "state", "retired", "surveyed", "changed", "source", "photo",
	"note", "material", "label", "version", "geom",
}

// gridColumns are the columns of grids in the order CopyGrids writes them.
var gridColumns = []string{"code", "name", "dept", "district", "street", "community", "version", "geom"}

// Migrate creates the postgis extension when it is missing (in schema
// public when there is one) and the tables parts, grids, divisions, meta
// and tokens, with GIST indexes on the geometries, when they are missing, in one
// transaction under an advisory lock, and records SchemaVersion. A database
// already at a newer schema version is refused with ErrSchema.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.check(); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
			return wrap("migrate: lock", err)
		}
		var has bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis')`).Scan(&has); err != nil {
			return wrap("migrate: look for postgis", err)
		}
		if !has {
			// In public when there is one, not in the first schema of the
			// search_path: a city's schema may be dropped, the extension
			// is shared by every schema of the database.
			q := `CREATE EXTENSION IF NOT EXISTS postgis`
			var public bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'public')`).Scan(&public); err != nil {
				return wrap("migrate: look for schema public", err)
			}
			if public {
				q += ` SCHEMA public`
			}
			if _, err := tx.Exec(ctx, q); err != nil {
				return wrap("migrate: create extension postgis (is postgresql-postgis installed?)", err)
			}
		}
		var metaExists bool
		if err := tx.QueryRow(ctx, `SELECT to_regclass('meta') IS NOT NULL`).Scan(&metaExists); err != nil {
			return wrap("migrate: look for meta", err)
		}
		if metaExists {
			var v string
			err := tx.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&v)
			if err == nil {
				if n, perr := strconv.Atoi(v); perr != nil || n > SchemaVersion {
					return fmt.Errorf("%w: schema_version %q, this build knows %d", ErrSchema, v, SchemaVersion)
				}
			} else if !errors.Is(err, pgx.ErrNoRows) {
				return wrap("migrate: read schema_version", err)
			}
		}
		for _, q := range schemaSQL {
			if _, err := tx.Exec(ctx, q); err != nil {
				return wrap("migrate", err)
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO meta (key, value) VALUES ('schema_version', $1)
ON CONFLICT (key) DO UPDATE SET value = excluded.value`, strconv.Itoa(SchemaVersion))
		return wrap("migrate: write schema_version", err)
	})
}

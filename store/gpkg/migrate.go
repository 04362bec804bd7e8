package gpkg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"citytwin/migrations"
)

// schemaMigrationsSQL creates the attributes table that records the
// migrations applied to the file. The file's PRAGMA user_version is the
// GeoPackage version (10300), so the schema's version lives here and in
// meta's schema_version, never there.
var schemaMigrationsSQL = []string{
	`CREATE TABLE IF NOT EXISTS schema_migrations (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  version INTEGER UNIQUE NOT NULL,
  name TEXT NOT NULL,
  applied_at DATETIME NOT NULL)`,
	`INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description)
  VALUES ('schema_migrations', 'attributes', 'schema_migrations', 'citytwin schema migrations applied to this file')`,
}

// nowSQL is the current time as a GeoPackage DATETIME.
const nowSQL = `strftime('%Y-%m-%dT%H:%M:%fZ','now')`

// Migrate applies the migrations the file lacks; see ApplyMigrations.
// Open runs it, so a Store is always up to date.
func (s *Store) Migrate(ctx context.Context) error {
	_, err := s.ApplyMigrations(ctx)
	return err
}

// ApplyMigrations applies the migrations of migrations.GeoPackage that the
// file lacks and returns them (none when it is up to date). Each runs in a
// transaction of its own that also records it in schema_migrations
// (version, name, applied_at) and sets meta's schema_version. The Store's
// lock on the file keeps other citytwin processes out meanwhile. A file
// written before migrations existed (meta schema_version 1) upgrades in
// place; one that records a migration this build does not know is refused
// with an error wrapping ErrSchema and migrations.ErrNewer.
func (s *Store) ApplyMigrations(ctx context.Context) ([]migrations.Migration, error) {
	ms, err := migrations.GeoPackage()
	if err != nil {
		return nil, err
	}
	pending, err := s.pendingMigrations(ctx, ms)
	if err != nil || !pending {
		return nil, err
	}
	// A file is only ever written once it is known to be whole: a damaged
	// one is refused as it is.
	var check string
	if err := s.db.QueryRowContext(ctx, `PRAGMA quick_check(1)`).Scan(&check); err != nil || check != "ok" {
		if err == nil {
			err = errors.New(check)
		}
		return nil, &OpenError{Path: s.path, Reason: "damaged (PRAGMA quick_check), not migrated", Err: ErrNotGeoPackage, Cause: err}
	}
	done, err := migrations.Run(ctx, migrations.GeoPackageStore, gpkgTarget{s}, ms)
	if errors.Is(err, migrations.ErrNewer) || errors.Is(err, migrations.ErrMismatch) {
		return done, fmt.Errorf("%w: %s: %w", ErrSchema, s.path, err)
	}
	if err != nil {
		return done, fmt.Errorf("gpkg: %s: %w", s.path, err)
	}
	return done, nil
}

// pendingMigrations reports, without writing, whether the file lacks a
// migration of ms or records one that ms does not hold (which Run will
// refuse).
func (s *Store) pendingMigrations(ctx context.Context, ms []migrations.Migration) (bool, error) {
	ok, err := hasTable(ctx, s.db, "schema_migrations")
	if err != nil {
		return false, &OpenError{Path: s.path, Reason: "cannot read the schema", Err: ErrNotGeoPackage, Cause: err}
	}
	if !ok {
		return true, nil
	}
	var n, known int
	err = s.db.QueryRowContext(ctx, `SELECT count(*), count(CASE WHEN version BETWEEN 1 AND ? THEN 1 END) FROM schema_migrations`, migrations.Latest(ms)).Scan(&n, &known)
	if err != nil {
		return false, &OpenError{Path: s.path, Reason: "cannot read schema_migrations", Err: ErrNotGeoPackage, Cause: err}
	}
	return n != len(ms) || known != n, nil
}

// Migrated returns the migrations that Open applied to the file (none
// when it was up to date).
func (s *Store) Migrated() []migrations.Migration { return s.migrated }

// gpkgTarget is the file as the migration runner sees it.
type gpkgTarget struct{ s *Store }

// Applied reads schema_migrations, creating it when it is missing.
func (t gpkgTarget) Applied(ctx context.Context) (map[int]string, error) {
	ok, err := hasTable(ctx, t.s.db, "schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("gpkg: read schema_migrations of %s: %w", t.s.path, err)
	}
	if !ok {
		err := t.s.write(ctx, "create schema_migrations", func(tx *sql.Tx) error {
			for _, q := range schemaMigrationsSQL {
				if _, err := tx.ExecContext(ctx, q); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	rows, err := t.s.db.QueryContext(ctx, `SELECT version, name FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("gpkg: read schema_migrations of %s: %w", t.s.path, err)
	}
	defer rows.Close()
	out := map[int]string{}
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			return nil, fmt.Errorf("gpkg: read schema_migrations of %s: %w", t.s.path, err)
		}
		out[v] = name
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("gpkg: read schema_migrations of %s: %w", t.s.path, err)
	}
	return out, nil
}

// Apply runs m, records it and sets meta's schema_version, in one
// transaction. A migration recorded meanwhile is not run again.
func (t gpkgTarget) Apply(ctx context.Context, m migrations.Migration) error {
	return t.s.write(ctx, "migrate "+m.File(), func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return err
		}
		return record(ctx, tx, m)
	})
}

// record notes m in schema_migrations and meta.
func record(ctx context.Context, tx *sql.Tx, m migrations.Migration) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, `+nowSQL+`)`, m.Version, m.Name); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('schema_version', ?)
  ON CONFLICT (key) DO UPDATE SET value = excluded.value`, strconv.Itoa(m.Version)); err != nil {
		return err
	}
	return touch(ctx, tx, "schema_migrations")
}

// newFileSQL is the schema of a new file: every migration, each recorded
// in schema_migrations, and meta's schema_version at the last one. Writer
// runs it in its one transaction.
func newFileSQL() (string, error) {
	ms, err := migrations.GeoPackage()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(m.SQL)
		b.WriteString(";\n")
	}
	b.WriteString(strings.Join(schemaMigrationsSQL, ";\n"))
	b.WriteString(";\n")
	for _, m := range ms {
		// Names are [a-z0-9_] (migrations.Load checks): safe to inline.
		fmt.Fprintf(&b, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (%d, '%s', %s);\n", m.Version, m.Name, nowSQL)
	}
	fmt.Fprintf(&b, "UPDATE meta SET value = '%d' WHERE key = 'schema_version';\n", migrations.Latest(ms))
	return b.String(), nil
}

// latestVersion is the version of this build's last migration.
func latestVersion() int {
	ms, err := migrations.GeoPackage()
	if err != nil {
		return 0
	}
	return migrations.Latest(ms)
}

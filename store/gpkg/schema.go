package gpkg

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Identification of a GeoPackage 1.3 file in the SQLite header.
const (
	// ApplicationID is 'GPKG', the SQLite application_id of a GeoPackage.
	ApplicationID = 0x47504B47
	// UserVersion is the GeoPackage version, 1.3.0, as SQLite user_version.
	UserVersion = 10300
)

// The tables of a file are made by the migrations of package migrations
// (migrations/gpkg/*.sql): Writer runs them all into a new file, Open
// applies those an existing file lacks.

// createPartsCodeIndex makes parts.code unique. Writer creates it after
// the bulk insert.
const createPartsCodeIndex = `CREATE UNIQUE INDEX parts_code ON parts (code)`

// tableColumns lists the columns this package reads and writes, per table
// that Open requires (the tokens table is created when first needed).
var tableColumns = []struct {
	table   string
	columns []string
}{
	{"parts", partColumns[:len(partColumns)-len(partColumnsLater)]},
	{"grids", gridColumns},
	{"divisions", []string{"code", "name", "level"}},
	{"meta", []string{"key", "value"}},
}

// partColumns are the columns of parts in the order rows are written; the
// last ones, partColumnsLater, come from a later migration, which Open
// applies after checking the file has the others.
var partColumns = append([]string{"geom", "code", "class", "name", "dept_supervisor", "dept_owner",
	"dept_maintainer", "grid_code", "state", "retired", "surveyed", "changed", "source", "photo",
	"note", "material", "label", "version"}, partColumnsLater...)

// partColumnsLater are the columns of parts added by migration 0004
// (provenance).
var partColumnsLater = []string{"source_name", "source_id"}

// gridColumns are the columns of grids in the order rows are written.
var gridColumns = []string{"geom", "code", "name", "dept", "district", "street", "community", "version"}

// createSchema creates every table of a new file, with the index on
// parts.code, in tx.
func createSchema(ctx context.Context, tx *sql.Tx) error {
	q, err := newFileSQL()
	if err != nil {
		return err
	}
	for _, q := range slices.Concat([]string{q, createPartsCodeIndex}, tokensSQL) {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("gpkg: create schema: %w", err)
		}
	}
	return nil
}

// checkSchema checks that db holds the GeoPackage core tables, this
// package's tables with their columns, and a schema version it reads. The
// reason it returns is meant for an *OpenError; sentinel is ErrSchema or
// ErrNotGeoPackage, cause an SQLite error if one happened.
func checkSchema(ctx context.Context, db *sql.DB) (reason string, sentinel, cause error) {
	for _, t := range []string{"gpkg_spatial_ref_sys", "gpkg_contents", "gpkg_geometry_columns"} {
		ok, err := hasTable(ctx, db, t)
		if err != nil {
			return "cannot read the schema", ErrNotGeoPackage, err
		}
		if !ok {
			return fmt.Sprintf("GeoPackage core table %s is missing", t), ErrNotGeoPackage, nil
		}
	}
	for _, tc := range tableColumns {
		cols, err := columnsOf(ctx, db, tc.table)
		if err != nil {
			return fmt.Sprintf("cannot read the columns of table %s", tc.table), ErrNotGeoPackage, err
		}
		if len(cols) == 0 {
			return fmt.Sprintf("table %s is missing (not a citytwin store)", tc.table), ErrSchema, nil
		}
		var missing []string
		for _, c := range tc.columns {
			if !cols[c] {
				missing = append(missing, c)
			}
		}
		if len(missing) > 0 {
			return fmt.Sprintf("table %s lacks column(s) %s", tc.table, strings.Join(missing, ", ")), ErrSchema, nil
		}
	}
	var v string
	err := db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&v)
	switch {
	case err == sql.ErrNoRows:
		return "meta has no schema_version", ErrSchema, nil
	case err != nil:
		return "cannot read meta", ErrNotGeoPackage, err
	}
	if n, err := strconv.Atoi(v); err != nil || n < 1 || n > latestVersion() {
		return fmt.Sprintf("schema version %q, this build reads 1 to %d", v, latestVersion()), ErrSchema, nil
	}
	var n int
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM gpkg_geometry_columns WHERE table_name IN ('parts', 'grids') AND column_name = 'geom'`).Scan(&n)
	if err != nil {
		return "cannot read gpkg_geometry_columns", ErrNotGeoPackage, err
	}
	if n != 2 {
		return "gpkg_geometry_columns does not register parts.geom and grids.geom", ErrSchema, nil
	}
	return "", nil, nil
}

func hasTable(ctx context.Context, db *sql.DB, name string) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?`, name).Scan(&n)
	return n > 0, err
}

func columnsOf(ctx context.Context, db *sql.DB, table string) (map[string]bool, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols := make(map[string]bool)
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		cols[c] = true
	}
	return cols, rows.Err()
}

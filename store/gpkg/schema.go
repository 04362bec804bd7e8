package gpkg

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// Identification of a GeoPackage 1.3 file in the SQLite header.
const (
	// ApplicationID is 'GPKG', the SQLite application_id of a GeoPackage.
	ApplicationID = 0x47504B47
	// UserVersion is the GeoPackage version, 1.3.0, as SQLite user_version.
	UserVersion = 10300
	// SchemaVersion is the version of this package's tables, kept in meta
	// under the key "schema_version".
	SchemaVersion = "1"
)

// wgs84WKT is the OGC WKT of EPSG:4326 as GDAL writes it.
const wgs84WKT = `GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]`

// schemaSQL creates the GeoPackage core tables (GeoPackage 1.3, Annex C)
// and this package's tables. Every table has an integer primary key, as
// GeoPackage requires of feature and attribute tables.
var schemaSQL = []string{
	`CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL PRIMARY KEY,
  organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL,
  description TEXT)`,
	`CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY,
  data_type TEXT NOT NULL,
  identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
  srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))`,
	`CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL,
  z TINYINT NOT NULL,
  m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))`,
	`INSERT INTO gpkg_spatial_ref_sys VALUES
  ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
  ('WGS 84 geodetic', 4326, 'EPSG', 4326, '` + wgs84WKT + `', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid')`,
	`CREATE TABLE parts (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  geom GEOMETRY,
  code TEXT NOT NULL,
  class TEXT,
  name TEXT,
  dept_supervisor TEXT,
  dept_owner TEXT,
  dept_maintainer TEXT,
  grid_code TEXT,
  state TEXT,
  retired BOOLEAN,
  surveyed DATE,
  changed DATE,
  source TEXT,
  photo TEXT,
  note TEXT,
  material TEXT,
  label TEXT,
  version INTEGER)`,
	`CREATE TABLE grids (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  geom POLYGON,
  code TEXT UNIQUE NOT NULL,
  name TEXT,
  dept TEXT,
  district TEXT,
  street TEXT,
  community TEXT,
  version INTEGER)`,
	`CREATE TABLE divisions (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  code TEXT UNIQUE NOT NULL,
  name TEXT,
  level TEXT)`,
	`CREATE TABLE meta (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  key TEXT UNIQUE NOT NULL,
  value TEXT)`,
	`INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES
  ('parts', 'features', 'parts', 'city components (部件)', 4326),
  ('grids', 'features', 'grids', 'unit grids (单元网格)', 4326),
  ('divisions', 'attributes', 'divisions', 'districts, streets and communities', NULL),
  ('meta', 'attributes', 'meta', 'citytwin store metadata', NULL)`,
	`INSERT INTO gpkg_geometry_columns VALUES
  ('parts', 'geom', 'GEOMETRY', 4326, 0, 0),
  ('grids', 'geom', 'POLYGON', 4326, 0, 0)`,
	`INSERT INTO meta (key, value) VALUES ('schema_version', '` + SchemaVersion + `'), ('generator', 'citytwin')`,
}

// createPartsCodeIndex makes parts.code unique. Writer creates it after
// the bulk insert.
const createPartsCodeIndex = `CREATE UNIQUE INDEX parts_code ON parts (code)`

// tableColumns lists the columns this package reads and writes, per table
// that Open requires (the tokens table is created when first needed).
var tableColumns = []struct {
	table   string
	columns []string
}{
	{"parts", partColumns},
	{"grids", gridColumns},
	{"divisions", []string{"code", "name", "level"}},
	{"meta", []string{"key", "value"}},
}

// partColumns are the columns of parts in the order rows are written.
var partColumns = []string{"geom", "code", "class", "name", "dept_supervisor", "dept_owner",
	"dept_maintainer", "grid_code", "state", "retired", "surveyed", "changed", "source", "photo",
	"note", "material", "label", "version"}

// gridColumns are the columns of grids in the order rows are written.
var gridColumns = []string{"geom", "code", "name", "dept", "district", "street", "community", "version"}

// createSchema creates every table of a new file, with the index on
// parts.code.
func createSchema(ctx context.Context, tx *sql.Tx) error {
	for _, q := range schemaSQL {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("gpkg: create schema: %w", err)
		}
	}
	for _, q := range slices.Concat([]string{createPartsCodeIndex}, tokensSQL) {
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
	case v != SchemaVersion:
		return fmt.Sprintf("schema version %q, this build reads %q", v, SchemaVersion), ErrSchema, nil
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

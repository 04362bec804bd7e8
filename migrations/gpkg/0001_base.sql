-- 0001 base: the GeoPackage 1.3 core tables (Annex C) and the tables
-- citytwin wrote before migrations existed (meta schema_version 1). Every
-- statement is idempotent, so a file made by that code upgrades in place.
-- The unique index on parts.code is not here: store/gpkg's Writer builds
-- it once after its bulk insert, and every file it commits has it. The
-- tokens table is store/gpkg's own (created when first needed).

CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL PRIMARY KEY,
  organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL,
  description TEXT);

CREATE TABLE IF NOT EXISTS gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY,
  data_type TEXT NOT NULL,
  identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
  srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));

CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL,
  z TINYINT NOT NULL,
  m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));

INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES
  ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
  ('WGS 84 geodetic', 4326, 'EPSG', 4326, 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');

CREATE TABLE IF NOT EXISTS parts (
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
  version INTEGER);

CREATE TABLE IF NOT EXISTS grids (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  geom POLYGON,
  code TEXT UNIQUE NOT NULL,
  name TEXT,
  dept TEXT,
  district TEXT,
  street TEXT,
  community TEXT,
  version INTEGER);

CREATE TABLE IF NOT EXISTS divisions (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  code TEXT UNIQUE NOT NULL,
  name TEXT,
  level TEXT);

CREATE TABLE IF NOT EXISTS meta (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  key TEXT UNIQUE NOT NULL,
  value TEXT);

INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES
  ('parts', 'features', 'parts', 'city components (部件)', 4326),
  ('grids', 'features', 'grids', 'unit grids (单元网格)', 4326),
  ('divisions', 'attributes', 'divisions', 'districts, streets and communities', NULL),
  ('meta', 'attributes', 'meta', 'citytwin store metadata', NULL);

INSERT OR IGNORE INTO gpkg_geometry_columns VALUES
  ('parts', 'geom', 'GEOMETRY', 4326, 0, 0),
  ('grids', 'geom', 'POLYGON', 4326, 0, 0);

INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1'), ('generator', 'citytwin');

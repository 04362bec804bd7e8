-- 0005 rtree index: the GeoPackage gpkg_rtree_index extension (GeoPackage
-- 1.3, F.3) on every geometry table, as GDAL creates it: a virtual table
-- rtree_<table>_geom of feature boxes, filled from the rows there are and
-- kept in step by triggers. The triggers call ST_IsEmpty, ST_MinX, ST_MaxX,
-- ST_MinY and ST_MaxY, which GDAL, QGIS and store/gpkg register on their
-- connections. Tools that scan with a spatial filter read the rtree
-- instead of every row.

CREATE TABLE IF NOT EXISTS gpkg_extensions (
  table_name TEXT,
  column_name TEXT,
  extension_name TEXT NOT NULL,
  definition TEXT NOT NULL,
  scope TEXT NOT NULL,
  CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));

CREATE VIRTUAL TABLE IF NOT EXISTS rtree_parts_geom USING rtree(id, minx, maxx, miny, maxy);
CREATE VIRTUAL TABLE IF NOT EXISTS rtree_grids_geom USING rtree(id, minx, maxx, miny, maxy);
CREATE VIRTUAL TABLE IF NOT EXISTS rtree_sensors_geom USING rtree(id, minx, maxx, miny, maxy);
CREATE VIRTUAL TABLE IF NOT EXISTS rtree_cases_geom USING rtree(id, minx, maxx, miny, maxy);

INSERT OR REPLACE INTO rtree_parts_geom
  SELECT fid, ST_MinX(geom), ST_MaxX(geom), ST_MinY(geom), ST_MaxY(geom) FROM parts
  WHERE geom NOT NULL AND NOT ST_IsEmpty(geom);
INSERT OR REPLACE INTO rtree_grids_geom
  SELECT fid, ST_MinX(geom), ST_MaxX(geom), ST_MinY(geom), ST_MaxY(geom) FROM grids
  WHERE geom NOT NULL AND NOT ST_IsEmpty(geom);
INSERT OR REPLACE INTO rtree_sensors_geom
  SELECT fid, ST_MinX(geom), ST_MaxX(geom), ST_MinY(geom), ST_MaxY(geom) FROM sensors
  WHERE geom NOT NULL AND NOT ST_IsEmpty(geom);
INSERT OR REPLACE INTO rtree_cases_geom
  SELECT fid, ST_MinX(geom), ST_MaxX(geom), ST_MinY(geom), ST_MaxY(geom) FROM cases
  WHERE geom NOT NULL AND NOT ST_IsEmpty(geom);

INSERT OR IGNORE INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope) VALUES
  ('parts', 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only'),
  ('grids', 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only'),
  ('sensors', 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only'),
  ('cases', 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only');

CREATE TRIGGER IF NOT EXISTS rtree_parts_geom_insert AFTER INSERT ON parts
  WHEN (NEW.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  INSERT OR REPLACE INTO rtree_parts_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER IF NOT EXISTS rtree_parts_geom_update1 AFTER UPDATE OF geom ON parts
  WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  INSERT OR REPLACE INTO rtree_parts_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER IF NOT EXISTS rtree_parts_geom_update2 AFTER UPDATE OF geom ON parts
  WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_parts_geom WHERE id = OLD.fid;
END;

CREATE TRIGGER IF NOT EXISTS rtree_parts_geom_update3 AFTER UPDATE ON parts
  WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_parts_geom WHERE id = OLD.fid;
  INSERT OR REPLACE INTO rtree_parts_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER IF NOT EXISTS rtree_parts_geom_update4 AFTER UPDATE ON parts
  WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_parts_geom WHERE id IN (OLD.fid, NEW.fid);
END;

CREATE TRIGGER IF NOT EXISTS rtree_parts_geom_delete AFTER DELETE ON parts
  WHEN OLD.geom NOT NULL
BEGIN
  DELETE FROM rtree_parts_geom WHERE id = OLD.fid;
END;

CREATE TRIGGER IF NOT EXISTS rtree_grids_geom_insert AFTER INSERT ON grids
  WHEN (NEW.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  INSERT OR REPLACE INTO rtree_grids_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER IF NOT EXISTS rtree_grids_geom_update1 AFTER UPDATE OF geom ON grids
  WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  INSERT OR REPLACE INTO rtree_grids_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER IF NOT EXISTS rtree_grids_geom_update2 AFTER UPDATE OF geom ON grids
  WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_grids_geom WHERE id = OLD.fid;
END;

CREATE TRIGGER IF NOT EXISTS rtree_grids_geom_update3 AFTER UPDATE ON grids
  WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_grids_geom WHERE id = OLD.fid;
  INSERT OR REPLACE INTO rtree_grids_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER IF NOT EXISTS rtree_grids_geom_update4 AFTER UPDATE ON grids
  WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_grids_geom WHERE id IN (OLD.fid, NEW.fid);
END;

CREATE TRIGGER IF NOT EXISTS rtree_grids_geom_delete AFTER DELETE ON grids
  WHEN OLD.geom NOT NULL
BEGIN
  DELETE FROM rtree_grids_geom WHERE id = OLD.fid;
END;

CREATE TRIGGER IF NOT EXISTS rtree_sensors_geom_insert AFTER INSERT ON sensors
  WHEN (NEW.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  INSERT OR REPLACE INTO rtree_sensors_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER IF NOT EXISTS rtree_sensors_geom_update1 AFTER UPDATE OF geom ON sensors
  WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  INSERT OR REPLACE INTO rtree_sensors_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER IF NOT EXISTS rtree_sensors_geom_update2 AFTER UPDATE OF geom ON sensors
  WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_sensors_geom WHERE id = OLD.fid;
END;

CREATE TRIGGER IF NOT EXISTS rtree_sensors_geom_update3 AFTER UPDATE ON sensors
  WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_sensors_geom WHERE id = OLD.fid;
  INSERT OR REPLACE INTO rtree_sensors_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER IF NOT EXISTS rtree_sensors_geom_update4 AFTER UPDATE ON sensors
  WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_sensors_geom WHERE id IN (OLD.fid, NEW.fid);
END;

CREATE TRIGGER IF NOT EXISTS rtree_sensors_geom_delete AFTER DELETE ON sensors
  WHEN OLD.geom NOT NULL
BEGIN
  DELETE FROM rtree_sensors_geom WHERE id = OLD.fid;
END;

CREATE TRIGGER IF NOT EXISTS rtree_cases_geom_insert AFTER INSERT ON cases
  WHEN (NEW.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  INSERT OR REPLACE INTO rtree_cases_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER IF NOT EXISTS rtree_cases_geom_update1 AFTER UPDATE OF geom ON cases
  WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  INSERT OR REPLACE INTO rtree_cases_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER IF NOT EXISTS rtree_cases_geom_update2 AFTER UPDATE OF geom ON cases
  WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_cases_geom WHERE id = OLD.fid;
END;

CREATE TRIGGER IF NOT EXISTS rtree_cases_geom_update3 AFTER UPDATE ON cases
  WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_cases_geom WHERE id = OLD.fid;
  INSERT OR REPLACE INTO rtree_cases_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;

CREATE TRIGGER IF NOT EXISTS rtree_cases_geom_update4 AFTER UPDATE ON cases
  WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_cases_geom WHERE id IN (OLD.fid, NEW.fid);
END;

CREATE TRIGGER IF NOT EXISTS rtree_cases_geom_delete AFTER DELETE ON cases
  WHEN OLD.geom NOT NULL
BEGIN
  DELETE FROM rtree_cases_geom WHERE id = OLD.fid;
END;

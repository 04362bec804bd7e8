-- 0003 version trigger: an UPDATE of a part or a grid that leaves version
-- as it was (QGIS, GDAL, sqlite3 editing the file) gets the next version,
-- so that citytwin's conditional writes, which expect the version they
-- read, see the change and never overwrite it. citytwin's own updates set
-- the version and are left alone. (SQLite runs no trigger recursively.)

CREATE TRIGGER IF NOT EXISTS parts_version AFTER UPDATE ON parts
  WHEN NEW.version IS OLD.version
BEGIN
  UPDATE parts SET version = coalesce(nullif(OLD.version, 0), 1) + 1 WHERE fid = NEW.fid;
END;

CREATE TRIGGER IF NOT EXISTS grids_version AFTER UPDATE ON grids
  WHEN NEW.version IS OLD.version
BEGIN
  UPDATE grids SET version = coalesce(nullif(OLD.version, 0), 1) + 1 WHERE fid = NEW.fid;
END;

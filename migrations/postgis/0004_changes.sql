-- 0004 changes: the change log of parts and grids (issue 10's change
-- feed). Every committed insert, update and delete, whoever makes it
-- (citytwin, QGIS, psql, an ETL job), lands in changes by trigger with a
-- sequence number, and is announced on the channel citytwin_changes (the
-- payload is the schema of the table). Replicas follow the log by seq; it
-- is pruned by age (changes_at).
--
-- An UPDATE that leaves version as it was (a GIS user, a psql UPDATE) gets
-- the next version, so that citytwin's conditional writes, which expect
-- the version they read, see the change and never overwrite it.

CREATE TABLE IF NOT EXISTS changes (
  seq bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  tbl text NOT NULL,
  key text NOT NULL,
  op text NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
  version bigint);
CREATE INDEX IF NOT EXISTS changes_at ON changes (at);

-- The functions run with the search_path of this migration, so the log
-- lands next to its table whatever the editor's search_path is.
CREATE OR REPLACE FUNCTION citytwin_bump_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.version IS NOT DISTINCT FROM OLD.version THEN
    NEW.version := coalesce(OLD.version, 0) + 1;
  END IF;
  RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION citytwin_log_insert() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO changes (tbl, key, op, version)
    SELECT TG_TABLE_NAME, n.code, 'insert', n.version FROM new_rows n;
  PERFORM pg_notify('citytwin_changes', TG_TABLE_SCHEMA);
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION citytwin_log_update() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  -- A code changed by hand is the delete of the old code and the insert
  -- of the new one.
  INSERT INTO changes (tbl, key, op, version)
    SELECT TG_TABLE_NAME, o.code, 'delete', o.version FROM old_rows o
      WHERE NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.code = o.code)
    UNION ALL
    SELECT TG_TABLE_NAME, n.code,
      CASE WHEN EXISTS (SELECT 1 FROM old_rows o WHERE o.code = n.code) THEN 'update' ELSE 'insert' END,
      n.version FROM new_rows n;
  PERFORM pg_notify('citytwin_changes', TG_TABLE_SCHEMA);
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION citytwin_log_delete() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO changes (tbl, key, op, version)
    SELECT TG_TABLE_NAME, o.code, 'delete', o.version FROM old_rows o;
  PERFORM pg_notify('citytwin_changes', TG_TABLE_SCHEMA);
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS parts_version ON parts;
CREATE TRIGGER parts_version BEFORE UPDATE ON parts
  FOR EACH ROW EXECUTE FUNCTION citytwin_bump_version();
DROP TRIGGER IF EXISTS parts_log_insert ON parts;
CREATE TRIGGER parts_log_insert AFTER INSERT ON parts
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION citytwin_log_insert();
DROP TRIGGER IF EXISTS parts_log_update ON parts;
CREATE TRIGGER parts_log_update AFTER UPDATE ON parts
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION citytwin_log_update();
DROP TRIGGER IF EXISTS parts_log_delete ON parts;
CREATE TRIGGER parts_log_delete AFTER DELETE ON parts
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION citytwin_log_delete();

DROP TRIGGER IF EXISTS grids_version ON grids;
CREATE TRIGGER grids_version BEFORE UPDATE ON grids
  FOR EACH ROW EXECUTE FUNCTION citytwin_bump_version();
DROP TRIGGER IF EXISTS grids_log_insert ON grids;
CREATE TRIGGER grids_log_insert AFTER INSERT ON grids
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION citytwin_log_insert();
DROP TRIGGER IF EXISTS grids_log_update ON grids;
CREATE TRIGGER grids_log_update AFTER UPDATE ON grids
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION citytwin_log_update();
DROP TRIGGER IF EXISTS grids_log_delete ON grids;
CREATE TRIGGER grids_log_delete AFTER DELETE ON grids
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION citytwin_log_delete();

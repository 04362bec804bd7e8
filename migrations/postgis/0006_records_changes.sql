-- 0006 records changes: the change log (0004) also covers the records of
-- sensors and cases, so that a sensor bound, an alarm raised or cleared, a
-- case opened or acted on, a department, a row of the responsibility table
-- or the calendar edited through one replica reaches every other one.
-- Keys in changes.key: sensors, alarms and cases by id; departments by
-- code; responsibilities by "district/type:class" (incidents'
-- Responsibility.Key); the calendar's one row by "1" with no version.
-- sensor_status (checkpoints of readings, which stay with each replica)
-- and notifications (an outbox every replica reads from the database) are
-- not logged.
--
-- Sensors, cases, departments and responsibilities are written on
-- condition of their version, so an UPDATE that leaves version as it was
-- (psql, an ETL job) gets the next one, as for parts. Alarms are upserted
-- by version by their own writer and keep theirs.

-- citytwin_log_by_id logs the rows of a table keyed by id, one statement at
-- a time; the branches of the other operations are never planned.
CREATE OR REPLACE FUNCTION citytwin_log_by_id() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO changes (tbl, key, op, version)
      SELECT TG_TABLE_NAME, n.id, 'insert', n.version FROM new_rows n;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO changes (tbl, key, op, version)
      SELECT TG_TABLE_NAME, o.id, 'delete', o.version FROM old_rows o
        WHERE NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.id = o.id)
      UNION ALL
      SELECT TG_TABLE_NAME, n.id,
        CASE WHEN EXISTS (SELECT 1 FROM old_rows o WHERE o.id = n.id) THEN 'update' ELSE 'insert' END,
        n.version FROM new_rows n;
  ELSE
    INSERT INTO changes (tbl, key, op, version)
      SELECT TG_TABLE_NAME, o.id, 'delete', o.version FROM old_rows o;
  END IF;
  PERFORM pg_notify('citytwin_changes', TG_TABLE_SCHEMA);
  RETURN NULL;
END
$$;

-- citytwin_log_responsibilities logs rows of the responsibility table by
-- their key "district/type:class".
CREATE OR REPLACE FUNCTION citytwin_log_responsibilities() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO changes (tbl, key, op, version)
      SELECT TG_TABLE_NAME, n.district || '/' || n.type || ':' || n.class, 'insert', n.version FROM new_rows n;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO changes (tbl, key, op, version)
      SELECT TG_TABLE_NAME, o.district || '/' || o.type || ':' || o.class, 'delete', o.version FROM old_rows o
        WHERE NOT EXISTS (SELECT 1 FROM new_rows n
          WHERE (n.district, n.type, n.class) = (o.district, o.type, o.class))
      UNION ALL
      SELECT TG_TABLE_NAME, n.district || '/' || n.type || ':' || n.class,
        CASE WHEN EXISTS (SELECT 1 FROM old_rows o
          WHERE (n.district, n.type, n.class) = (o.district, o.type, o.class)) THEN 'update' ELSE 'insert' END,
        n.version FROM new_rows n;
  ELSE
    INSERT INTO changes (tbl, key, op, version)
      SELECT TG_TABLE_NAME, o.district || '/' || o.type || ':' || o.class, 'delete', o.version FROM old_rows o;
  END IF;
  PERFORM pg_notify('citytwin_changes', TG_TABLE_SCHEMA);
  RETURN NULL;
END
$$;

-- citytwin_log_calendar logs the calendar's one row (no version: a
-- replica compares what it holds with what is stored).
CREATE OR REPLACE FUNCTION citytwin_log_calendar() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO changes (tbl, key, op, version)
    VALUES (TG_TABLE_NAME, '1', lower(TG_OP), NULL);
  PERFORM pg_notify('citytwin_changes', TG_TABLE_SCHEMA);
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS sensors_version ON sensors;
CREATE TRIGGER sensors_version BEFORE UPDATE ON sensors
  FOR EACH ROW EXECUTE FUNCTION citytwin_bump_version();
DROP TRIGGER IF EXISTS sensors_log_insert ON sensors;
CREATE TRIGGER sensors_log_insert AFTER INSERT ON sensors
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION citytwin_log_by_id();
DROP TRIGGER IF EXISTS sensors_log_update ON sensors;
CREATE TRIGGER sensors_log_update AFTER UPDATE ON sensors
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION citytwin_log_by_id();
DROP TRIGGER IF EXISTS sensors_log_delete ON sensors;
CREATE TRIGGER sensors_log_delete AFTER DELETE ON sensors
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION citytwin_log_by_id();

DROP TRIGGER IF EXISTS alarms_log_insert ON alarms;
CREATE TRIGGER alarms_log_insert AFTER INSERT ON alarms
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION citytwin_log_by_id();
DROP TRIGGER IF EXISTS alarms_log_update ON alarms;
CREATE TRIGGER alarms_log_update AFTER UPDATE ON alarms
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION citytwin_log_by_id();
DROP TRIGGER IF EXISTS alarms_log_delete ON alarms;
CREATE TRIGGER alarms_log_delete AFTER DELETE ON alarms
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION citytwin_log_by_id();

DROP TRIGGER IF EXISTS cases_version ON cases;
CREATE TRIGGER cases_version BEFORE UPDATE ON cases
  FOR EACH ROW EXECUTE FUNCTION citytwin_bump_version();
DROP TRIGGER IF EXISTS cases_log_insert ON cases;
CREATE TRIGGER cases_log_insert AFTER INSERT ON cases
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION citytwin_log_by_id();
DROP TRIGGER IF EXISTS cases_log_update ON cases;
CREATE TRIGGER cases_log_update AFTER UPDATE ON cases
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION citytwin_log_by_id();
DROP TRIGGER IF EXISTS cases_log_delete ON cases;
CREATE TRIGGER cases_log_delete AFTER DELETE ON cases
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION citytwin_log_by_id();

-- Departments are keyed by code, as parts and grids: 0004's functions log
-- them.
DROP TRIGGER IF EXISTS departments_version ON departments;
CREATE TRIGGER departments_version BEFORE UPDATE ON departments
  FOR EACH ROW EXECUTE FUNCTION citytwin_bump_version();
DROP TRIGGER IF EXISTS departments_log_insert ON departments;
CREATE TRIGGER departments_log_insert AFTER INSERT ON departments
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION citytwin_log_insert();
DROP TRIGGER IF EXISTS departments_log_update ON departments;
CREATE TRIGGER departments_log_update AFTER UPDATE ON departments
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION citytwin_log_update();
DROP TRIGGER IF EXISTS departments_log_delete ON departments;
CREATE TRIGGER departments_log_delete AFTER DELETE ON departments
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION citytwin_log_delete();

DROP TRIGGER IF EXISTS responsibilities_version ON responsibilities;
CREATE TRIGGER responsibilities_version BEFORE UPDATE ON responsibilities
  FOR EACH ROW EXECUTE FUNCTION citytwin_bump_version();
DROP TRIGGER IF EXISTS responsibilities_log_insert ON responsibilities;
CREATE TRIGGER responsibilities_log_insert AFTER INSERT ON responsibilities
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION citytwin_log_responsibilities();
DROP TRIGGER IF EXISTS responsibilities_log_update ON responsibilities;
CREATE TRIGGER responsibilities_log_update AFTER UPDATE ON responsibilities
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION citytwin_log_responsibilities();
DROP TRIGGER IF EXISTS responsibilities_log_delete ON responsibilities;
CREATE TRIGGER responsibilities_log_delete AFTER DELETE ON responsibilities
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION citytwin_log_responsibilities();

DROP TRIGGER IF EXISTS calendar_log ON calendar;
CREATE TRIGGER calendar_log AFTER INSERT OR UPDATE OR DELETE ON calendar
  FOR EACH STATEMENT EXECUTE FUNCTION citytwin_log_calendar();

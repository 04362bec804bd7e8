-- 0002 records: sensors and their alarms, cases (案卷), departments, the
-- responsibility table, the work calendar and the notification outbox
-- (docs/design/sensors-incidents.md). Each row keeps its key columns for
-- queries and the whole record as JSON in body, which is what citytwin
-- reads back. Times are GeoPackage DATETIMEs (UTC, ISO 8601). Sensors (at
-- their component's representative point) and cases (at their location)
-- are point feature tables; the others are attributes tables.

CREATE TABLE IF NOT EXISTS sensors (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  geom POINT,
  id TEXT UNIQUE NOT NULL,
  version INTEGER NOT NULL,
  kind TEXT NOT NULL,
  code TEXT NOT NULL,
  updated DATETIME,
  body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sensors_code ON sensors (code);

CREATE TABLE IF NOT EXISTS sensor_status (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  sensor TEXT UNIQUE NOT NULL,
  at DATETIME,
  body TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS alarms (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  id TEXT UNIQUE NOT NULL,
  version INTEGER NOT NULL,
  sensor TEXT NOT NULL,
  code TEXT NOT NULL,
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  raised DATETIME,
  updated DATETIME,
  cleared DATETIME,
  body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS alarms_open ON alarms (state, cleared);

CREATE TABLE IF NOT EXISTS cases (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  geom POINT,
  id TEXT UNIQUE NOT NULL,
  version INTEGER NOT NULL,
  state TEXT NOT NULL,
  dept TEXT,
  class TEXT,
  code TEXT,
  grid_code TEXT,
  source TEXT,
  problem TEXT,
  reported DATETIME,
  due DATETIME,
  closed DATETIME,
  body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS cases_state ON cases (state);
CREATE INDEX IF NOT EXISTS cases_code ON cases (code);

CREATE TABLE IF NOT EXISTS departments (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  code TEXT UNIQUE NOT NULL,
  version INTEGER NOT NULL,
  name TEXT,
  body TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS responsibilities (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  district TEXT NOT NULL,
  type TEXT NOT NULL,
  class TEXT NOT NULL,
  version INTEGER NOT NULL,
  dept TEXT NOT NULL,
  body TEXT NOT NULL,
  UNIQUE (district, type, class));

CREATE TABLE IF NOT EXISTS calendar (
  fid INTEGER PRIMARY KEY NOT NULL CHECK (fid = 1),
  updated DATETIME NOT NULL,
  body TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS notifications (
  fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  id TEXT UNIQUE NOT NULL,
  case_id TEXT NOT NULL,
  dept TEXT,
  channel TEXT NOT NULL,
  target TEXT,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next DATETIME,
  created DATETIME NOT NULL,
  body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS notifications_due ON notifications (state, next);

INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES
  ('sensors', 'features', 'sensors', 'sensors at their components', 4326),
  ('sensor_status', 'attributes', 'sensor_status', 'last status of each sensor', NULL),
  ('alarms', 'attributes', 'alarms', 'sensor alarms', NULL),
  ('cases', 'features', 'cases', 'cases (案卷) at their locations', 4326),
  ('departments', 'attributes', 'departments', 'departments', NULL),
  ('responsibilities', 'attributes', 'responsibilities', 'responsible department per district and class', NULL),
  ('calendar', 'attributes', 'calendar', 'work calendar', NULL),
  ('notifications', 'attributes', 'notifications', 'notification outbox', NULL);

INSERT OR IGNORE INTO gpkg_geometry_columns VALUES
  ('sensors', 'geom', 'POINT', 4326, 0, 0),
  ('cases', 'geom', 'POINT', 4326, 0, 0);

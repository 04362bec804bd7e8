-- 0002 records: sensors and their alarms, cases (案卷), departments, the
-- responsibility table, the work calendar and the notification outbox
-- (docs/design/sensors-incidents.md). Each row keeps its key columns for
-- queries and the whole record as JSON in body, which is what citytwin
-- reads back. Versioned rows are written on condition of their version.

-- A sensor sits at the representative point of its component.
CREATE TABLE IF NOT EXISTS sensors (
  id text PRIMARY KEY,
  version bigint NOT NULL,
  kind text NOT NULL,
  code text NOT NULL,
  updated timestamptz,
  geom geometry(Point, 4326),
  body jsonb NOT NULL);
CREATE INDEX IF NOT EXISTS sensors_code ON sensors (code);
CREATE INDEX IF NOT EXISTS sensors_geom ON sensors USING gist (geom);

-- The last status of each sensor, checkpointed now and then (readings
-- themselves are not kept).
CREATE TABLE IF NOT EXISTS sensor_status (
  sensor text PRIMARY KEY,
  at timestamptz,
  body jsonb NOT NULL);

CREATE TABLE IF NOT EXISTS alarms (
  id text PRIMARY KEY,
  version bigint NOT NULL,
  sensor text NOT NULL,
  code text NOT NULL,
  kind text NOT NULL,
  state text NOT NULL,
  raised timestamptz,
  updated timestamptz,
  cleared timestamptz,
  body jsonb NOT NULL);
CREATE INDEX IF NOT EXISTS alarms_open ON alarms (state, cleared);
CREATE INDEX IF NOT EXISTS alarms_sensor ON alarms (sensor);

-- A case sits at its reported location.
CREATE TABLE IF NOT EXISTS cases (
  id text PRIMARY KEY,
  version bigint NOT NULL,
  state text NOT NULL,
  dept text,
  class text,
  code text,
  grid_code text,
  source text,
  problem text,
  reported timestamptz,
  due timestamptz,
  closed timestamptz,
  geom geometry(Point, 4326),
  body jsonb NOT NULL);
CREATE INDEX IF NOT EXISTS cases_state ON cases (state);
CREATE INDEX IF NOT EXISTS cases_dept ON cases (dept);
CREATE INDEX IF NOT EXISTS cases_code ON cases (code);
CREATE INDEX IF NOT EXISTS cases_problem ON cases (problem) WHERE problem IS NOT NULL AND problem <> '';
CREATE INDEX IF NOT EXISTS cases_geom ON cases USING gist (geom);

CREATE TABLE IF NOT EXISTS departments (
  code text PRIMARY KEY,
  version bigint NOT NULL,
  name text,
  body jsonb NOT NULL);

-- Which department answers for a type (component, event) and class of
-- case in a district ("*": any).
CREATE TABLE IF NOT EXISTS responsibilities (
  district text NOT NULL,
  type text NOT NULL,
  class text NOT NULL,
  version bigint NOT NULL,
  dept text NOT NULL,
  body jsonb NOT NULL,
  PRIMARY KEY (district, type, class));

-- The work calendar: one row.
CREATE TABLE IF NOT EXISTS calendar (
  id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  updated timestamptz NOT NULL DEFAULT now(),
  body jsonb NOT NULL);

-- The outbox: notifications to departments, delivered at least once.
CREATE TABLE IF NOT EXISTS notifications (
  id text PRIMARY KEY,
  case_id text NOT NULL,
  dept text,
  channel text NOT NULL,
  target text,
  state text NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  next timestamptz,
  created timestamptz NOT NULL,
  body jsonb NOT NULL);
CREATE INDEX IF NOT EXISTS notifications_due ON notifications (next) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS notifications_case ON notifications (case_id);

-- 0001 base: the schema citytwin created before migrations existed
-- (store/postgis SchemaVersion 1). Every statement is idempotent, so a
-- database made by that code upgrades in place.

-- PostGIS in schema public when there is one, not in the first schema of
-- the search_path: a city's schema may be dropped, the extension is shared
-- by every schema of the database.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis') THEN
    IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'public') THEN
      CREATE EXTENSION IF NOT EXISTS postgis SCHEMA public;
    ELSE
      CREATE EXTENSION IF NOT EXISTS postgis;
    END IF;
  END IF;
END
$$;

CREATE TABLE IF NOT EXISTS parts (
  code text PRIMARY KEY,
  class text NOT NULL,
  name text,
  dept_supervisor text,
  dept_owner text,
  dept_maintainer text,
  grid_code text,
  state text,
  retired bool NOT NULL DEFAULT false,
  surveyed date,
  changed date,
  source text,
  photo text,
  note text,
  material text,
  label text,
  version bigint NOT NULL DEFAULT 1,
  geom geometry(Geometry, 4326));

CREATE INDEX IF NOT EXISTS parts_geom ON parts USING gist (geom);

CREATE TABLE IF NOT EXISTS grids (
  code text PRIMARY KEY,
  name text,
  dept text,
  district text,
  street text,
  community text,
  version bigint NOT NULL DEFAULT 1,
  geom geometry(Polygon, 4326));

CREATE INDEX IF NOT EXISTS grids_geom ON grids USING gist (geom);

CREATE TABLE IF NOT EXISTS divisions (
  code text PRIMARY KEY,
  name text,
  level smallint NOT NULL);

CREATE TABLE IF NOT EXISTS meta (
  key text PRIMARY KEY,
  value text NOT NULL);

CREATE TABLE IF NOT EXISTS tokens (
  hash bytea PRIMARY KEY,
  role text NOT NULL,
  dept text NOT NULL DEFAULT '',
  created timestamptz NOT NULL);

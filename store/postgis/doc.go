// Package postgis stores the city's components and unit grids in PostgreSQL
// with PostGIS, through pgx v5: a connection pool, the schema migrations
// (migrations/postgis, applied by Migrate under an advisory lock), COPY
// bulk loads, the transactional writes and streaming loads of the twin's
// store contract (twin.Store), and the vector tile query that pg_tileserv
// and Martin run (ST_AsMVT over ST_AsMVTGeom), so the in-memory tiles can be
// compared with PostGIS on the same data.
//
// Tables live in the first schema of the connection's search_path: add
// search_path=myschema,public to the database URL to keep several cities
// (or test runs) apart in one database. The postgis extension itself is
// created, when missing, in its usual schema and must be on the
// search_path. Any other run-time setting can ride on the URL the same way
// (jit=off suits tile serving).
//
// Tables: parts (code primary key, the attributes of parts.Part, the state
// and source by their Chinese names, geometry(Geometry, 4326)), grids
// (code, name, dept, district, street, community, version,
// geometry(Polygon, 4326)), divisions (code, name, level), meta (key,
// value: schema_version and whatever the caller keeps there),
// schema_migrations, the records of sensors and cases (sensors,
// sensor_status, alarms, cases, departments, responsibilities, calendar,
// notifications: key columns and the record as jsonb) and changes, the log
// of every change to parts and grids kept by trigger (announced on the
// channel citytwin_changes). PutParts, PutGrids and DeleteGrid are
// conditional on the version the writer read (*ConflictError). Geometries
// are WGS84 longitude and latitude, sent to the server as EWKB and read
// back as EWKB (components, decoded on the fly) or WKB (grids); GIST
// indexes on parts.geom and grids.geom serve box queries.
package postgis

// Package postgis stores the city's components and unit grids in PostgreSQL
// with PostGIS, through pgx v5: a connection pool, a schema migration, a
// COPY bulk load, and the vector tile query that pg_tileserv and Martin run
// (ST_AsMVT over ST_AsMVTGeom), so the in-memory tiles can be compared with
// PostGIS on the same data.
//
// Tables live in the first schema of the connection's search_path: add
// search_path=myschema,public to the database URL to keep several cities
// (or test runs) apart in one database. The postgis extension itself is
// created, when missing, in its usual schema and must be on the
// search_path.
//
// Geometries are stored as geometry(Geometry, 4326), WGS84 longitude and
// latitude, sent to the server as EWKB; a GIST index on parts.geom and
// grids.geom serves box queries.
package postgis

// Package gpkg stores the city in one GeoPackage file (OGC GeoPackage 1.3),
// the embedded default store: components in the feature table parts, unit
// grids in the feature table grids, the district/street/community names in
// the attributes table divisions, store metadata (schema_version) in the
// attributes table meta and the hashes of API tokens in the attributes
// table tokens. The file opens in QGIS and GDAL (ogrinfo, ogr2ogr) as it
// is and passes GDAL's validate_gpkg.py. It has no R-tree spatial index:
// citytwin indexes in memory, and GDAL and QGIS read it without one.
//
// A new file is built with Create, AddParts, AddGrids, AddDivisions and
// Commit: everything goes into a temporary file next to the target in one
// transaction and is renamed over the target only on Commit, so a reader
// never sees a half-written file. An existing file is opened with Open, which
// checks that it is a GeoPackage with this package's tables before it writes
// anything (a foreign or corrupt file is never modified), locks it against
// other citytwin processes (path+".lock"), applies the schema migrations
// it lacks (migrations/gpkg, recorded in the attributes table
// schema_migrations: user_version is the GeoPackage version), then loads it
// in a stream (LoadParts) and updates it in single transactions, each
// write conditional on the version the writer read (PutParts). Sensors
// and cases are point feature tables; alarms, departments,
// responsibilities, the calendar and the notification outbox attributes
// tables, each row with its key columns and the record as JSON (body).
//
// Geometries are standard GeoPackage binary blobs: the "GP" header with
// srs_id 4326 and, except for points, an envelope [minx, maxx, miny, maxy],
// followed by little-endian WKB. The driver is modernc.org/sqlite (no cgo).
// The two bulk paths, Writer's inserts and LoadParts, call its C API
// (modernc.org/sqlite/lib) directly rather than through database/sql,
// which would cost more per value than SQLite itself.
package gpkg

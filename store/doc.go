// Package store describes how citytwin persists its state; the stores
// themselves live in its subpackages: store/gpkg (the embedded default, one
// GeoPackage file) and store/postgis (PostgreSQL with PostGIS, for several
// replicas).
//
// The contract, which twin.Store declares as an interface and every store
// keeps:
//   - Loading streams: LoadParts, LoadGrids and LoadDivisions call a
//     function once per record, holding one row (or one small chunk of
//     rows) at a time, and stop at the function's first error. Two million
//     parts load in seconds.
//   - Every write is one transaction: PutParts and PutGrids write a batch
//     by code, and either all of it is stored or none of it is. A failed
//     write changes nothing, so the in-memory indexes, which are updated
//     only after a write succeeds, never disagree with the store.
//   - Every write is conditional on the version the writer read, so that
//     no process overwrites another's edit (two replicas on one database,
//     a replica and a GIS user): a record at version 1 is an insert that
//     fails, wrapping parts.ErrExists or grid.ErrExists, when its code is
//     stored; a record at version n > 1 replaces the stored one only if
//     that is at version n-1, and fails wrapping parts.ErrVersionMismatch
//     or grid.ErrVersionMismatch otherwise. DeleteGrid takes the version
//     read (0: any). An UPDATE by anyone else that leaves version alone
//     gets the next version by trigger, so it is seen too.
//   - Schemas are versioned by the SQL migrations of package migrations,
//     recorded in a table schema_migrations; a store applies those it
//     lacks when it is opened (store/gpkg) or migrated (store/postgis),
//     safely from several processes at once. A GeoPackage is written by
//     one process at a time (a lock on the file).
//   - A write may run while a load is in progress, also from inside the
//     load's callback.
//   - Records round-trip exactly: every field of parts.Part and grid.Grid,
//     dates as UTC days, geometries as WGS84 longitude/latitude.
//   - Bad input, a missing or foreign database and damaged rows give errors
//     that name the input and the reason (typed errors wrapping the
//     package's sentinels and those of parts, grid and tokens), never a
//     panic; a foreign or damaged file is never modified.
package store

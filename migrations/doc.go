// Package migrations holds the versioned SQL migrations of citytwin's
// stores, embedded in the binary, and the runner that applies them.
//
// The files are postgis/NNNN_name.sql (PostgreSQL + PostGIS) and
// gpkg/NNNN_name.sql (the GeoPackage file, SQLite), numbered from 0001.
// Migration 1 of each store is the schema citytwin wrote before migrations
// existed, written so that it runs on a database made by that code without
// changing it (CREATE ... IF NOT EXISTS, INSERT OR IGNORE): such a database
// upgrades in place. A migration is never edited once released; a change
// to the schema is a new file.
//
// Run applies the migrations a database lacks, in order, each in its own
// transaction that also records it (version, name, applied_at) in the
// table schema_migrations. The stores implement Target and take the lock
// that makes a run safe from several processes at once: store/postgis a
// pg_advisory_lock held for the whole run, store/gpkg its lock on the
// file. A database that records a migration this build does not know was
// made by a newer citytwin and is refused (ErrNewer).
package migrations

package postgis_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"citytwin/grid"
	"citytwin/migrations"
	"citytwin/parts"
	"citytwin/store/postgis"

	"github.com/jackc/pgx/v5"
)

// oldSchemaSQL is the schema that citytwin's Migrate created before
// migrations existed (store/postgis SchemaVersion 1), as it was.
var oldSchemaSQL = []string{
	`CREATE TABLE IF NOT EXISTS parts (
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
  geom geometry(Geometry, 4326))`,
	`CREATE INDEX IF NOT EXISTS parts_geom ON parts USING gist (geom)`,
	`CREATE TABLE IF NOT EXISTS grids (
  code text PRIMARY KEY,
  name text,
  dept text,
  district text,
  street text,
  community text,
  version bigint NOT NULL DEFAULT 1,
  geom geometry(Polygon, 4326))`,
	`CREATE INDEX IF NOT EXISTS grids_geom ON grids USING gist (geom)`,
	`CREATE TABLE IF NOT EXISTS divisions (
  code text PRIMARY KEY,
  name text,
  level smallint NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS meta (
  key text PRIMARY KEY,
  value text NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS tokens (
  hash bytea PRIMARY KEY,
  role text NOT NULL,
  dept text NOT NULL DEFAULT '',
  created timestamptz NOT NULL)`,
	`INSERT INTO meta (key, value) VALUES ('schema_version', '1')`,
	`INSERT INTO parts (code, class, name, state, version, geom) VALUES
  ('5101040101000001', '0101', 'old cover', '完好', 3, ST_SetSRID(ST_MakePoint(104.06, 30.66), 4326))`,
}

func recorded(t *testing.T, conn *pgx.Conn) []int {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func allVersions(t *testing.T) []int {
	t.Helper()
	ms, err := migrations.PostGIS()
	if err != nil {
		t.Fatal(err)
	}
	var vs []int
	for _, m := range ms {
		vs = append(vs, m.Version)
	}
	return vs
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestMigrateTwice runs the migrations on a new schema, then again: the
// second run applies nothing.
func TestMigrateTwice(t *testing.T) {
	u, conn := newSchema(t)
	s := openURL(t, u)
	ctx := context.Background()
	done, err := s.ApplyMigrations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != len(allVersions(t)) {
		t.Fatalf("first run applied %d migrations, want %d", len(done), len(allVersions(t)))
	}
	again, err := s.ApplyMigrations(ctx)
	if err != nil || len(again) != 0 {
		t.Fatalf("second run applied %d, %v; want none", len(again), err)
	}
	if got := recorded(t, conn); !equalInts(got, allVersions(t)) {
		t.Fatalf("schema_migrations holds %v, want %v", got, allVersions(t))
	}
	var at int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE applied_at > now() - interval '1 minute' AND name <> ''`).Scan(&at); err != nil || at != len(done) {
		t.Fatalf("schema_migrations rows with a name and applied_at: %d, %v", at, err)
	}
}

// TestMigrateConcurrently runs the migrations of one new schema from
// several stores (as replicas starting at once): each migration is applied
// exactly once and every run succeeds.
func TestMigrateConcurrently(t *testing.T) {
	for range 5 {
		u, conn := newSchema(t)
		const replicas = 4
		stores := make([]*postgis.Store, replicas)
		for i := range stores {
			stores[i] = openURL(t, u)
		}
		var wg sync.WaitGroup
		applied := make([]int, replicas)
		errs := make([]error, replicas)
		for i, s := range stores {
			wg.Go(func() {
				done, err := s.ApplyMigrations(context.Background())
				applied[i], errs[i] = len(done), err
			})
		}
		wg.Wait()
		total := 0
		for i := range stores {
			if errs[i] != nil {
				t.Fatalf("replica %d: %v", i, errs[i])
			}
			total += applied[i]
		}
		if want := len(allVersions(t)); total != want {
			t.Fatalf("the replicas applied %v migrations in all, want %d once each", applied, want)
		}
		if got := recorded(t, conn); !equalInts(got, allVersions(t)) {
			t.Fatalf("schema_migrations holds %v, want %v", got, allVersions(t))
		}
	}
}

// TestMigrateOldSchema upgrades in place a database made by the code
// before migrations: its rows stay, and the conditional writes and the
// change log work on it.
func TestMigrateOldSchema(t *testing.T) {
	u, conn := newSchema(t)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS postgis SCHEMA public`); err != nil {
		t.Fatal(err)
	}
	for _, q := range oldSchemaSQL {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("old schema: %v", err)
		}
	}
	s := openURL(t, u)
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate over the old schema: %v", err)
	}
	if got := recorded(t, conn); !equalInts(got, allVersions(t)) {
		t.Fatalf("schema_migrations holds %v, want %v", got, allVersions(t))
	}
	var ps []parts.Part
	if err := s.LoadParts(ctx, func(p parts.Part) error { ps = append(ps, p); return nil }); err != nil || len(ps) != 1 {
		t.Fatalf("LoadParts after the upgrade: %d parts, %v", len(ps), err)
	}
	p := ps[0]
	if p.Name != "old cover" || p.Version != 3 {
		t.Fatalf("the old row came back as %+v", p)
	}
	p.Name, p.Version = "stale", 3
	if err := s.PutParts(ctx, []parts.Part{p}); !errors.Is(err, parts.ErrVersionMismatch) {
		t.Fatalf("PutParts at the stored version = %v, want parts.ErrVersionMismatch", err)
	}
	p.Name, p.Version = "new name", 4
	if err := s.PutParts(ctx, []parts.Part{p}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM changes WHERE tbl = 'parts' AND key = $1 AND op = 'update' AND version = 4`, p.Code.String()).Scan(&n); err != nil || n != 1 {
		t.Fatalf("change log rows for the update: %d, %v", n, err)
	}
	// The new tables are there.
	for _, tbl := range []string{"sensors", "sensor_status", "alarms", "cases", "departments", "responsibilities", "calendar", "notifications", "changes"} {
		var ok bool
		if err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, tbl).Scan(&ok); err != nil || !ok {
			t.Errorf("table %s is missing after the upgrade (%v)", tbl, err)
		}
	}
}

// TestMigrateRefusesNewer refuses a database that records a migration
// this build does not know, and leaves it as it is.
func TestMigrateRefusesNewer(t *testing.T) {
	s, conn := openTest(t)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES (999, 'future')`); err != nil {
		t.Fatal(err)
	}
	err := s.Migrate(ctx)
	if !errors.Is(err, postgis.ErrSchema) || !errors.Is(err, migrations.ErrNewer) {
		t.Fatalf("Migrate over migration 999 = %v, want ErrSchema and migrations.ErrNewer", err)
	}
	if _, err := conn.Exec(ctx, `UPDATE schema_migrations SET name = 'renamed' WHERE version = 1; DELETE FROM schema_migrations WHERE version = 999`); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); !errors.Is(err, migrations.ErrMismatch) {
		t.Fatalf("Migrate over a renamed migration = %v, want migrations.ErrMismatch", err)
	}
}

// TestChangeLog checks the triggers of the change log: inserts, updates
// and deletes by citytwin and by anyone else land in changes in order, and
// an UPDATE that leaves version alone bumps it.
func TestChangeLog(t *testing.T) {
	s, conn := openTest(t)
	ctx := context.Background()
	c := city(t, 20)
	for i := range c.parts {
		c.parts[i].Version = 1
	}
	if err := s.PutParts(ctx, c.parts[:3]); err != nil {
		t.Fatal(err)
	}
	code := c.parts[0].Code.String()
	if _, err := conn.Exec(ctx, `UPDATE parts SET name = 'by psql' WHERE code = $1`, code); err != nil {
		t.Fatal(err)
	}
	var v int64
	if err := conn.QueryRow(ctx, `SELECT version FROM parts WHERE code = $1`, code).Scan(&v); err != nil || v != 2 {
		t.Fatalf("version after a psql UPDATE = %d, %v; want 2", v, err)
	}
	g := c.grids[0]
	g.Version = 1
	if err := s.PutGrids(ctx, []grid.Grid{g}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGrid(ctx, g.Code, 1); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, `SELECT tbl || ':' || op || ':' || coalesce(version, 0) FROM changes ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"parts:insert:1", "parts:insert:1", "parts:insert:1", "parts:update:2", "grids:insert:1", "grids:delete:1"}
	if len(got) != len(want) {
		t.Fatalf("changes = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("changes = %v, want %v", got, want)
		}
	}
}

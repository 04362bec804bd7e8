package gpkg

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"testing"

	"citytwin/migrations"
	"citytwin/parts"
)

// downgrade turns a file into what citytwin wrote before migrations: no
// schema_migrations, none of the tables of later migrations, meta
// schema_version 1.
func downgrade(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", fileURI(path, "mode=rw"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`DROP TABLE schema_migrations`,
		`DROP TRIGGER parts_version`,
		`DROP TRIGGER grids_version`,
		`DELETE FROM gpkg_geometry_columns WHERE table_name NOT IN ('parts', 'grids')`,
		`DELETE FROM gpkg_contents WHERE table_name NOT IN ('parts', 'grids', 'divisions', 'meta', 'tokens')`,
		`UPDATE meta SET value = '1' WHERE key = 'schema_version'`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, tbl := range []string{"sensors", "sensor_status", "alarms", "cases", "departments", "responsibilities", "calendar", "notifications",
		"rtree_parts_geom", "rtree_grids_geom", "rtree_sensors_geom", "rtree_cases_geom", "gpkg_extensions"} {
		if _, err := db.Exec(`DROP TABLE ` + tbl); err != nil {
			t.Fatal(err)
		}
	}
	for _, tbl := range []string{"parts", "grids"} {
		for _, trg := range []string{"insert", "update1", "update2", "update3", "update4", "delete"} {
			if _, err := db.Exec(`DROP TRIGGER rtree_` + tbl + `_geom_` + trg); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, col := range partColumnsLater {
		if _, err := db.Exec(`ALTER TABLE parts DROP COLUMN ` + col); err != nil {
			t.Fatal(err)
		}
	}
}

func recordedVersions(t *testing.T, s *Store) string {
	t.Helper()
	var got string
	if err := s.db.QueryRow(`SELECT group_concat(version) FROM (SELECT version FROM schema_migrations ORDER BY version)`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	return got
}

func allVersionsString(t *testing.T) string {
	ms, err := migrations.GeoPackage()
	if err != nil {
		t.Fatal(err)
	}
	var vs []string
	for _, m := range ms {
		vs = append(vs, strconv.Itoa(m.Version))
	}
	return strings.Join(vs, ",")
}

// TestMigrateOldFile opens a file written before migrations: Open upgrades
// it in place, its rows stay, and GDAL reads it without a complaint.
func TestMigrateOldFile(t *testing.T) {
	path := writeSample(t)
	downgrade(t, path)
	s := openT(t, path)
	if got, want := recordedVersions(t, s), allVersionsString(t); got != want {
		t.Fatalf("schema_migrations after Open: %s, want %s", got, want)
	}
	var v string
	if err := s.db.QueryRow(`SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&v); err != nil || v != strconv.Itoa(latestVersion()) {
		t.Fatalf("schema_version %q, %v", v, err)
	}
	if got := loadParts(t, s); len(got) != 3 {
		t.Fatalf("%d parts after the upgrade, want 3", len(got))
	}
	done, err := s.ApplyMigrations(context.Background())
	if err != nil || len(done) != 0 {
		t.Fatalf("migrating again applied %d, %v; want none", len(done), err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	out := ogrinfo(t, "-ro", "-so", "-al", path)
	for _, layer := range []string{"sensors", "cases", "schema_migrations", "notifications"} {
		if !strings.Contains(out, "Layer name: "+layer+"\n") {
			t.Errorf("ogrinfo of the upgraded file does not list %s", layer)
		}
	}
}

// TestMigrateRefusesNewer refuses a file that records a migration this
// build does not know.
func TestMigrateRefusesNewer(t *testing.T) {
	path := writeSample(t)
	db, err := sql.Open("sqlite", fileURI(path, "mode=rw"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', '2030-01-01T00:00:00.000Z')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(context.Background(), path)
	if !errors.Is(err, ErrSchema) || !errors.Is(err, migrations.ErrNewer) {
		t.Fatalf("Open of a file with migration 999 = %v, want ErrSchema and migrations.ErrNewer", err)
	}
	// The lock was released: after fixing the file it opens.
	db, _ = sql.Open("sqlite", fileURI(path, "mode=rw"))
	db.Exec(`DELETE FROM schema_migrations WHERE version = 999`)
	db.Close()
	s := openT(t, path)
	p := sampleParts(t)[1]
	p.Version = 2
	if err := s.PutParts(context.Background(), []parts.Part{p}); err != nil {
		t.Fatal(err)
	}
}

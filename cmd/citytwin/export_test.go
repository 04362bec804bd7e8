package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"citytwin/incidents"
	"citytwin/parts"
	"citytwin/store/gpkg"
	"citytwin/twin"
)

// TestExport moves a city into PostGIS, edits it there, and exports it
// back to a GeoPackage that holds the edits, the records and the tokens.
func TestExport(t *testing.T) {
	pg, conn := pgCity(t)
	ctx := context.Background()
	dir := t.TempDir()
	city := filepath.Join(dir, "city.gpkg")
	if _, _, err := runCmd(t, "gen", "--components", "3000", "--grids", "30", "--out", city); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCmd(t, "copy", "--data", city, "--pg", pg); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCmd(t, "token", "create", "--role", "admin", "--pg", pg); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `UPDATE parts SET name = 'exported edit' WHERE code = (SELECT min(code) FROM parts)`); err != nil {
		t.Fatal(err)
	}
	// A department record, written through the store like the API does.
	var code string
	if err := conn.QueryRow(ctx, `SELECT min(code) FROM parts`).Scan(&code); err != nil {
		t.Fatal(err)
	}
	src, _, err := openStore(ctx, "", pg)
	if err != nil {
		t.Fatal(err)
	}
	recs := src.(twin.Records)
	if err := recs.Write(ctx, twin.Batch{Departments: []twin.Versioned[incidents.Department]{{Value: incidents.Department{Code: "water", Name: "水务局", Version: 1}}}}); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(dir, "back.gpkg")
	// An existing file is replaced only when the export is complete.
	if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := runExport(ctx, []string{"--pg", pg, "--out", out}, &stdout, &stderr); err != nil {
		t.Fatalf("export: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "exported 3000 components, 30 grids") || !strings.Contains(stdout.String(), "1 departments, 1 tokens") {
		t.Errorf("export said %q", stdout.String())
	}
	if n := countParts(t, out); n != 3000 {
		t.Fatalf("the export holds %d components, want 3000", n)
	}
	st, err := gpkg.Open(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tw, err := twin.Open(ctx, st, twin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	tw.Parts().Each(func(p parts.Part) bool {
		if p.Code.String() == code {
			found = p.Name == "exported edit" && p.Version == 2
			return false
		}
		return true
	})
	if !found {
		t.Errorf("the export lacks the edit made in PostGIS")
	}
	if _, err := tw.Departments().Get("water"); err != nil {
		t.Errorf("the export lacks the departments")
	}
	ts, err := st.ListTokens(ctx)
	if err != nil || len(ts) != 1 {
		t.Errorf("the export holds %d tokens (%v), want 1", len(ts), err)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "*tmp*")); len(matches) > 0 {
		t.Errorf("temporary files left: %v", matches)
	}

	// Usage errors.
	if err := runExport(ctx, []string{"--out", out}, io.Discard, io.Discard); err == nil {
		t.Error("export without --pg succeeded")
	}
}

// TestServeWaitsForTheDatabase: serve --pg on a database that does not
// answer retries with backoff, logging each retry, and gives up after
// --pg-wait with the reason (exit 1, no crash loop).
func TestServeWaitsForTheDatabase(t *testing.T) {
	var stderr bytes.Buffer
	start := time.Now()
	// Nothing listens on port 1 of the loopback address.
	err := run(context.Background(), []string{"serve", "--pg", "postgres://postgres@127.0.0.1:1/test?connect_timeout=1",
		"--pg-wait", "2s", "--no-mqtt", "--addr", "127.0.0.1:0"}, io.Discard, &stderr)
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "did not answer within 2s") {
		t.Fatalf("serve: %v, want the database's refusal after 2s", err)
	}
	if took < 2*time.Second || took > 10*time.Second {
		t.Errorf("gave up after %v, want about 2s", took)
	}
	if n := strings.Count(stderr.String(), "database not reachable, retrying"); n < 2 {
		t.Errorf("%d retries logged, want several:\n%s", n, stderr.String())
	}
}

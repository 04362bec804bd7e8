package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"citytwin/store/postgis"
)

// pgCity returns the URL of a fresh schema in the test database, dropped at
// the end, and a connection whose search_path is that schema. Without a
// database it skips, unless CI is set: then it fails.
func pgCity(t *testing.T) (string, *pgx.Conn) {
	t.Helper()
	base := os.Getenv("CITYTWIN_PG_URL")
	if base == "" {
		base = postgis.DefaultURL
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL at CITYTWIN_PG_URL is required in CI: %v", err)
		}
		t.Skipf("no PostgreSQL (set CITYTWIN_PG_URL): %v", err)
	}
	schema := fmt.Sprintf("citytwin_cmd_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = conn.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
		conn.Close(context.Background())
	})
	if _, err := conn.Exec(ctx, `SET search_path TO `+schema+`, public`); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	return u.String(), conn
}

// TestPostGISCommands moves a generated city into PostGIS with copy, then
// creates a token, imports and serves from the database: an edit through
// the API lands in PostGIS.
func TestPostGISCommands(t *testing.T) {
	pg, conn := pgCity(t)
	ctx := context.Background()
	dir := t.TempDir()
	city := filepath.Join(dir, "city.gpkg")
	if _, _, err := runCmd(t, "gen", "--components", "3000", "--grids", "30", "--out", city); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runCmd(t, "copy", "--data", city, "--pg", pg)
	if err != nil || !strings.Contains(out, "copied 3000 components, 30 grids") {
		t.Fatalf("copy: %v %q %q", err, out, errOut)
	}
	if _, _, err := runCmd(t, "copy", "--data", city, "--pg", pg); err == nil || !strings.Contains(err.Error(), "already holds 3000") {
		t.Errorf("second copy: %v, want a refusal", err)
	}
	if _, _, err := runCmd(t, "serve", "--data", city, "--pg", pg); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("serve with --data and --pg: %v", err)
	}
	out, _, err = runCmd(t, "token", "create", "--role", "admin", "--pg", pg)
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(out)

	csv := filepath.Join(dir, "lamps.csv")
	if err := os.WriteFile(csv, []byte("lon,lat\n104.0601,30.6601\n104.0602,30.6602\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, errOut, err := runCmd(t, "import", "--pg", pg, "--map", "class=0118", csv); err != nil || !strings.Contains(out, "imported 2 components into PostGIS") {
		t.Fatalf("import: %v %q %q", err, out, errOut)
	}

	sctx, stop := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(sctx, []string{"serve", "--pg", pg, "--addr", "127.0.0.1:0", "--access-log=false"}, pw, io.Discard)
		pw.Close()
	}()
	// The MQTT broker's line comes first, then the serving line.
	br := bufio.NewReader(pr)
	var line string
	for !strings.Contains(line, "serving") {
		var err error
		if line, err = br.ReadString('\n'); err != nil {
			stop()
			t.Fatalf("serve --pg printed no serving line: %v (%v)", err, <-done)
		}
	}
	go io.Copy(io.Discard, br)
	m := regexp.MustCompile(`serving PostGIS \(3002 components, 30 grids\) on (http://[0-9.:]+)/`).FindStringSubmatch(line)
	if m == nil {
		stop()
		t.Fatalf("serve --pg: %q", line)
	}
	var code string
	if err := conn.QueryRow(ctx, `SELECT code FROM parts WHERE class = '0101' ORDER BY code LIMIT 1`).Scan(&code); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPatch, m[1]+"/parts/"+code, strings.NewReader(`{"type":"Feature","properties":{"state":"丢失"}}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("PATCH through serve --pg: %d", resp.StatusCode)
	}
	var state string
	var version int64
	if err := conn.QueryRow(ctx, `SELECT state, version FROM parts WHERE code = $1`, code).Scan(&state, &version); err != nil {
		t.Fatal(err)
	}
	if state != "丢失" || version != 2 {
		t.Errorf("in PostGIS after the PATCH: state %q version %d, want 丢失 and 2", state, version)
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve --pg did not stop cleanly: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve --pg did not stop")
	}
}

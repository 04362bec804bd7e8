// Package testcity builds small real cities for tests: a synthetic city
// written to a GeoPackage, loaded into a twin, and served over HTTP with
// tiles and the map page, wired as cmd/citytwin wires them.
package testcity

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"citytwin/api"
	"citytwin/parts"
	"citytwin/store/gpkg"
	"citytwin/synth"
	"citytwin/tiles"
	"citytwin/twin"
	"citytwin/web"
)

// File writes a synthetic city of n components and m grids (seed s) to a
// GeoPackage in a temporary directory and returns its path.
func File(t testing.TB, n, m int, seed int64) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "city.gpkg")
	o := synth.DefaultOptions()
	o.Components, o.Grids, o.Seed = n, m, seed
	w, err := gpkg.Create(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.Generate(ctx, o, parts.DefaultCatalogue(), w, nil); err != nil {
		_ = w.Abort()
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	return path
}

// Open loads the city at path into a twin; the store closes with the test.
func Open(t testing.TB, path string) (*twin.Twin, *gpkg.Store) {
	t.Helper()
	st, err := gpkg.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tw, err := twin.Open(context.Background(), st, twin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return tw, st
}

// Serve generates a city of n components and m grids and serves it with
// tiles and the map page, without a rate limit or access log. The server
// closes with the test.
func Serve(t testing.TB, n, m int, seed int64) (*httptest.Server, *twin.Twin) {
	t.Helper()
	tw, _ := Open(t, File(t, n, m, seed))
	tm := tiles.New(tw.Parts(), tw.Grids(), tiles.DefaultOptions())
	tw.Follow(tm)
	cfg := api.DefaultConfig()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Static = web.Files()
	cfg.RateLimit.PerSecond = 0
	cfg.AccessLog = false
	srv, err := api.New(cfg, tw, tm, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.SetReady(true)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return hs, tw
}

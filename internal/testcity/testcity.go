// Package testcity builds small real cities for tests: a synthetic city
// written to a GeoPackage, loaded into a twin, and served over HTTP with
// tiles and the map page through app.New, the wiring of citytwin serve.
package testcity

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"citytwin/api"
	"citytwin/app"
	"citytwin/parts"
	"citytwin/store/gpkg"
	"citytwin/synth"
	"citytwin/tokens"
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
	hs, a := ServeApp(t, File(t, n, m, seed), nil)
	return hs, a.Twin
}

// Config is the configuration the test cities are served with: the
// production defaults (app.DefaultConfig) over the city at path, with the
// map page, no MQTT, no rate limits and no logs.
func Config(path string) app.Config {
	cfg := app.DefaultConfig()
	cfg.Data = path
	cfg.MQTT.Off = true
	cfg.API.Static = web.Files()
	cfg.API.RateLimit.PerSecond = 0
	cfg.API.Limits = api.Limits{}
	cfg.API.AccessLog = false
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return cfg
}

// ServeApp serves the city at path with the production wiring: app.New
// over Config(path), changed by tweak when not nil, started (tile
// aggregates built, sweeper and notifier running) and served by an
// httptest server. Everything stops and closes with the test.
func ServeApp(t testing.TB, path string, tweak func(*app.Config)) (*httptest.Server, *app.App) {
	t.Helper()
	cfg := Config(path)
	if tweak != nil {
		tweak(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	t.Cleanup(cancel) // before Close: the background work stops first
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	<-a.TilesReady()
	hs := httptest.NewServer(a.API.Handler())
	t.Cleanup(hs.Close)
	return hs, a
}

// Token issues an API token of role (and dept) in the app's store and
// returns its secret, for an Authorization: Bearer header.
func Token(t testing.TB, a *app.App, role tokens.Role, dept string) string {
	t.Helper()
	secret, _, err := tokens.Issue(context.Background(), a.Store(), role, dept, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

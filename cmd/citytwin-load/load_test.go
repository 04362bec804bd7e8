package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"citytwin/api"
	"citytwin/parts"
	"citytwin/store/gpkg"
	"citytwin/synth"
	"citytwin/tiles"
	"citytwin/twin"
)

// serveCity generates a small city into a GeoPackage, loads it and serves
// it, wired as cmd/citytwin wires it, without a rate limit.
func serveCity(t *testing.T) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "city.gpkg")
	o := synth.DefaultOptions()
	o.Components, o.Grids, o.Seed = 20000, 200, 3
	w, err := gpkg.Create(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.Generate(ctx, o, parts.DefaultCatalogue(), w, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	st, err := gpkg.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tw, err := twin.Open(ctx, st, twin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tm := tiles.New(tw.Parts(), tw.Grids(), tiles.DefaultOptions())
	cfg := api.DefaultConfig()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.RateLimit.PerSecond = 0
	srv, err := api.New(cfg, tw, tm, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.SetReady(true)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return hs
}

// TestRunCity runs every scenario briefly against a real small city: every
// request must succeed and the quantiles must be ordered.
func TestRunCity(t *testing.T) {
	hs := serveCity(t)
	var stdout, stderr bytes.Buffer
	args := []string{"--url", hs.URL, "--scenario", "all", "--duration", "250ms", "--warmup", "50ms",
		"--connections", "4", "--codes", "500", "--targets", "2000", "--json"}
	if err := run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr.String())
	}
	var rep report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("the JSON summary: %v\n%s", err, stdout.String())
	}
	if rep.Codes == 0 {
		t.Errorf("no codes sampled")
	}
	if len(rep.Results) != 4 {
		t.Fatalf("%d results, want one per scenario (4)", len(rep.Results))
	}
	for i, want := range []string{"nearest", "bbox", "code", "tile"} {
		r := rep.Results[i]
		if r.Scenario != want {
			t.Errorf("result %d is %q, want %q", i, r.Scenario, want)
		}
		if r.Requests == 0 || r.OK != r.Requests || r.RequestsPerSec <= 0 || r.Bytes <= 0 {
			t.Errorf("%s: requests %d, ok %d, %.0f req/s, %d bytes: want answers", want, r.Requests, r.OK, r.RequestsPerSec, r.Bytes)
		}
		if r.Non2xx != 0 || r.Errors != 0 {
			t.Errorf("%s: %d non-2xx, %d errors: %q", want, r.Non2xx, r.Errors, r.Failures)
		}
		l := r.Latency
		if !(0 < l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max) {
			t.Errorf("%s: latencies not ordered: %+v", want, l)
		}
	}
}

// TestRunCountsFailures checks that non-2xx answers and transport errors
// are counted apart, shown, and fail the run.
func TestRunCountsFailures(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/tiles/parts.json" {
			w.Write([]byte(`{"bounds":[103.8,30.4,104.3,30.9]}`))
			return
		}
		if strings.HasSuffix(r.URL.RawQuery, "k=10") && r.URL.Query().Get("lon") < "104.06" {
			http.Error(w, "too many", http.StatusTooManyRequests)
			return
		}
		w.Write([]byte(`{"type":"FeatureCollection","features":[]}`))
	}))
	defer hs.Close()
	var stdout, stderr bytes.Buffer
	args := []string{"--url", hs.URL, "--scenario", "nearest", "--duration", "200ms", "--warmup", "0s", "--connections", "2"}
	err := run(context.Background(), args, &stdout, &stderr)
	if !errors.Is(err, errFailed) {
		t.Fatalf("run: %v, want errFailed\n%s", err, stdout.String())
	}
	out := stdout.String()
	if !strings.Contains(out, "429 Too Many Requests") {
		t.Errorf("the first failures are not shown:\n%s", out)
	}
}

// TestRunMaxRequests checks that a run ends at --max-requests.
func TestRunMaxRequests(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{}`))
	}))
	defer hs.Close()
	var stdout, stderr bytes.Buffer
	args := []string{"--url", hs.URL, "--bbox", "103.8,30.4,104.3,30.9", "--scenario", "bbox",
		"--duration", "10s", "--warmup", "0s", "--connections", "2", "--max-requests", "50", "--json"}
	start := time.Now()
	if err := run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the run took %v; --max-requests 50 should end it at once", d)
	}
	var rep report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if n := rep.Results[0].Requests; n < 50 || n > 52 {
		t.Errorf("%d requests measured, want 50 (up to one more per connection)", n)
	}
}

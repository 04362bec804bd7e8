package main

import (
	"bytes"
	"citytwin/internal/testcity"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// serveCity serves a real small city without a rate limit.
func serveCity(t *testing.T) *httptest.Server {
	t.Helper()
	hs, _ := testcity.Serve(t, 20000, 200, 3)
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
	if n := rep.Results[0].Requests; n != 50 {
		t.Errorf("%d requests measured, want exactly 50", n)
	}
}

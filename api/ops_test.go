package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"citytwin/grid"
	"citytwin/parts"
	"citytwin/store/gpkg"
)

func TestHealthAndReadiness(t *testing.T) {
	c := newCity(t)
	c.srv.SetReady(false)
	expect(t, c.do(t, req{path: "/healthz"}), http.StatusOK, mediaJSON)
	rec := c.do(t, req{path: "/readyz"})
	problem(t, rec, http.StatusServiceUnavailable)
	if rec.Header().Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	c.srv.SetReady(true)
	m := expect(t, c.do(t, req{path: "/readyz"}), http.StatusOK, mediaJSON)
	if m["status"] != "ready" || m["grids"] != 8.0 {
		t.Fatalf("readyz %v", m)
	}
}

func TestMetrics(t *testing.T) {
	c := newCity(t)
	c.do(t, req{path: "/parts/" + codeCover})
	c.do(t, req{path: "/parts/" + codeUnknown})
	c.do(t, req{method: "PATCH", path: "/parts/" + codeCover, token: "admin", body: `{"properties":{"state":"完好"}}`})
	// Made-up methods share one label: a client cannot grow the series.
	for _, m := range []string{"BREW", "WHEN", "X1"} {
		c.do(t, req{method: m, path: "/parts/" + codeCover})
	}
	rec := c.do(t, req{path: "/metrics"})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []string{
		`citytwin_http_request_duration_seconds_count{method="GET",route="/parts/:code",status="200"} 1`,
		`citytwin_http_request_duration_seconds_count{method="GET",route="/parts/:code",status="404"} 1`,
		`citytwin_http_request_duration_seconds_count{method="PATCH",route="/parts/:code",status="200"} 1`,
		`citytwin_http_request_duration_seconds_count{method="OTHER",route="/parts/:code",status="405"} 3`,
		`citytwin_store_write_duration_seconds_count{op="modify_part",result="ok"} 1`,
		`citytwin_grids_indexed 8`,
		`citytwin_parts_indexed `,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Fatalf("metrics lack %q", want)
		}
	}
}

func TestRequestIDAndAccessLog(t *testing.T) {
	var buf safeBuffer
	c := newCityWith(t, func(cfg *Config) { cfg.Logger = slog.New(slog.NewJSONHandler(&buf, nil)) })
	rec := c.do(t, req{path: "/parts/" + codeCover, header: map[string]string{"X-Request-Id": "trace-42"}})
	if rec.Header().Get("X-Request-Id") != "trace-42" {
		t.Fatalf("request id %q", rec.Header().Get("X-Request-Id"))
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(buf.String())), &line); err != nil {
		t.Fatalf("log %q: %v", buf.String(), err)
	}
	if line["request_id"] != "trace-42" || line["route"] != "/parts/:code" || line["status"] != 200.0 || line["principal"] != "public" {
		t.Fatalf("access log %v", line)
	}
	// A malformed id is replaced.
	rec = c.do(t, req{path: "/healthz", header: map[string]string{"X-Request-Id": "bad id\nwith newline"}})
	if id := rec.Header().Get("X-Request-Id"); id == "" || strings.ContainsAny(id, " \n") {
		t.Fatalf("request id %q", id)
	}
}

// safeBuffer is a bytes.Buffer for concurrent log writes.
type safeBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *safeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *safeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestGzipJSON(t *testing.T) {
	c := newCity(t)
	rec := c.do(t, req{path: "/parts?limit=100", header: map[string]string{"Accept-Encoding": "gzip"}})
	if rec.Code != 200 || rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("status %d encoding %q", rec.Code, rec.Header().Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil || !json.Valid(b) {
		t.Fatalf("gunzipped body is not JSON: %v", err)
	}
	if rec := c.do(t, req{path: "/parts?limit=100"}); rec.Header().Get("Content-Encoding") != "" {
		t.Fatal("gzip without Accept-Encoding")
	}
}

func TestCORS(t *testing.T) {
	c := newCityWith(t, func(cfg *Config) { cfg.CORSOrigins = []string{"https://map.example"} })
	rec := c.do(t, req{path: "/parts/" + codeCover, header: map[string]string{"Origin": "https://map.example"}})
	if rec.Header().Get("Access-Control-Allow-Origin") != "https://map.example" || !strings.Contains(rec.Header().Get("Access-Control-Expose-Headers"), "ETag") {
		t.Fatalf("CORS headers %v", rec.Header())
	}
	rec = c.do(t, req{method: "OPTIONS", path: "/parts/" + codeCover, header: map[string]string{"Origin": "https://map.example", "Access-Control-Request-Method": "PATCH"}})
	if rec.Code != http.StatusNoContent || !strings.Contains(rec.Header().Get("Access-Control-Allow-Methods"), "PATCH") ||
		!strings.Contains(rec.Header().Get("Access-Control-Allow-Headers"), "If-Match") {
		t.Fatalf("preflight %d %v", rec.Code, rec.Header())
	}
	rec = c.do(t, req{path: "/parts/" + codeCover, header: map[string]string{"Origin": "https://evil.example"}})
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("an unknown origin was allowed")
	}
}

func TestRoutingProblems(t *testing.T) {
	c := newCity(t)
	problem(t, c.do(t, req{path: "/nowhere"}), http.StatusNotFound)
	problem(t, c.do(t, req{method: "PUT", path: "/parts/" + codeCover, token: "admin", body: "{}"}), http.StatusMethodNotAllowed)
}

func TestPanicIsA500(t *testing.T) {
	var buf safeBuffer
	c := newCityWith(t, func(cfg *Config) { cfg.Logger = slog.New(slog.NewJSONHandler(&buf, nil)) })
	c.srv.echo.GET("/boom", func(echo.Context) error { panic("secret internal state") })
	rec := c.do(t, req{path: "/boom"})
	m := problem(t, rec, http.StatusInternalServerError)
	if strings.Contains(rec.Body.String(), "secret") {
		t.Fatalf("panic text leaked: %v", m)
	}
	if !strings.Contains(buf.String(), "secret internal state") || !strings.Contains(buf.String(), m["request_id"].(string)) {
		t.Fatal("the panic was not logged with its request id")
	}
	expect(t, c.do(t, req{path: "/healthz"}), http.StatusOK, mediaJSON) // still serving
}

// brokenStore is a GeoPackage store whose writes fail on demand with a
// message that must not reach clients.
type brokenStore struct {
	*gpkg.Store
	fail atomic.Bool
}

var errBrokenStore = errors.New("sqlite: disk I/O error at /var/lib/secret/city.gpkg: SELECT password FROM users")

func (s *brokenStore) PutParts(ctx context.Context, ps []parts.Part) error {
	if s.fail.Load() {
		return errBrokenStore
	}
	return s.Store.PutParts(ctx, ps)
}

func (s *brokenStore) PutGrids(ctx context.Context, gs []grid.Grid) error {
	if s.fail.Load() {
		return errBrokenStore
	}
	return s.Store.PutGrids(ctx, gs)
}

func TestStoreFailure(t *testing.T) {
	base := newCity(t)
	fs := &brokenStore{Store: base.store}
	c := newCityOver(t, fs, func(*Config) {})
	fs.fail.Store(true)
	for name, r := range map[string]req{
		"patch":   {method: "PATCH", path: "/parts/" + codeCover, token: "admin", body: `{"properties":{"state":"丢失"}}`},
		"add":     {method: "POST", path: "/parts", token: "admin", body: pointFeature(newCover, 120.6021, 31.3011, nil)},
		"changes": {method: "POST", path: "/parts/changes", token: "admin", body: `{"changes":[{"op":"retire","code":"` + codeCover + `"},{"op":"retire","code":"` + codeLamp + `"}]}`},
		"grid":    {method: "PATCH", path: "/grids/" + gridRow0Col0, token: "admin", body: `{"properties":{"name":"x"}}`},
	} {
		t.Run(name, func(t *testing.T) {
			rec := c.do(t, r)
			m := problem(t, rec, http.StatusServiceUnavailable)
			if s := rec.Body.String(); strings.Contains(s, "sqlite") || strings.Contains(s, "secret") || strings.Contains(s, "SELECT") {
				t.Fatalf("store text leaked: %s", s)
			}
			if _, ok := m["index"]; ok {
				t.Fatalf("a store failure blames a record: %v", m)
			}
		})
	}
	// Nothing changed in memory.
	if p := props(t, doc(t, c.do(t, req{path: "/parts/" + codeCover}))); p["state"] != "破损" || p["version"] != 1.0 {
		t.Fatalf("a failed write changed the part: %v", p)
	}
	fs.fail.Store(false)
	expect(t, c.do(t, req{method: "PATCH", path: "/parts/" + codeCover, token: "admin", body: `{"properties":{"state":"丢失"}}`}), http.StatusOK, mediaGeoJSON)
}

// TestServeGraceful: cancelling Serve's context lets an in-flight request
// finish, then Serve returns nil.
func TestServeGraceful(t *testing.T) {
	c := newCity(t)
	started := make(chan struct{})
	c.srv.echo.GET("/slow", func(e echo.Context) error {
		close(started)
		time.Sleep(200 * time.Millisecond)
		return e.String(http.StatusOK, "done")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- c.srv.Serve(ctx, ln) }()
	type result struct {
		status int
		body   string
		err    error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- result{status: resp.StatusCode, body: string(b)}
	}()
	<-started
	cancel()
	r := <-got
	if r.err != nil || r.status != http.StatusOK || r.body != "done" {
		t.Fatalf("in-flight request: %+v", r)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		t.Fatal("still accepting after shutdown")
	}
}

func TestConfigValidate(t *testing.T) {
	tests := map[string]struct {
		change func(*Config)
		field  string
	}{
		"default":       {change: func(*Config) {}},
		"body limit":    {change: func(c *Config) { c.BodyLimit = 0 }, field: "BodyLimit"},
		"max limit":     {change: func(c *Config) { c.MaxLimit = 20000 }, field: "MaxLimit"},
		"default limit": {change: func(c *Config) { c.DefaultLimit = 20000 }, field: "DefaultLimit"},
		"max k":         {change: func(c *Config) { c.MaxK = 0 }, field: "MaxK"},
		"rate":          {change: func(c *Config) { c.RateLimit = RateLimit{PerSecond: 5} }, field: "RateLimit.Burst"},
		"empty origin":  {change: func(c *Config) { c.CORSOrigins = []string{""} }, field: "CORSOrigins"},
		"shutdown":      {change: func(c *Config) { c.ShutdownTimeout = -1 }, field: "ShutdownTimeout"},
		"few vertices":  {change: func(c *Config) { c.MaxVertices = 3 }, field: "MaxVertices"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.change(&cfg)
			err := cfg.Validate()
			var ce *ConfigError
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.field != "" && (!errors.As(err, &ce) || ce.Field != tc.field || !errors.Is(err, ErrConfig)):
				t.Fatalf("error %v, want a ConfigError on %s", err, tc.field)
			}
		})
	}
	if _, err := New(Config{}, nil, nil, nil); err == nil {
		t.Fatal("New accepted a zero Config")
	}
}

package api

import (
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// The tile cache's statistics are in /metrics.
func TestMetricsTileCache(t *testing.T) {
	c := newCity(t)
	// A tile of the test city, asked twice: a miss, then a hit.
	tile := tilePath("parts", maptile.At(orb.Point{lon0 + 0.0001, lat0 + 0.0001}, 18), "")
	for range 2 {
		if rec := c.do(t, req{path: tile}); rec.Code != http.StatusOK && rec.Code != http.StatusNoContent {
			t.Fatalf("tile: %d %s", rec.Code, rec.Body)
		}
	}
	body := c.do(t, req{path: "/metrics"}).Body.String()
	for _, want := range []string{
		`citytwin_tile_cache_hits_total 1`,
		`citytwin_tile_cache_misses_total 1`,
		`citytwin_tile_cache_entries 1`,
		`citytwin_tile_cache_evictions_total 0`,
		`citytwin_tile_cache_in_flight 0`,
		`citytwin_tile_cache_invalidations_total `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if !regexp.MustCompile(`(?m)^citytwin_tile_cache_bytes [1-9]`).MatchString(body) {
		t.Errorf("citytwin_tile_cache_bytes is not positive")
	}
}

// The access sampler logs at most perSecond lines a second, 5xx apart,
// and reports what it skipped in the next second.
func TestAccessSampler(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := newAccessSampler(3, func() time.Time { return now })
	logged := 0
	for range 10 {
		if ok, r := a.allow(200); ok {
			logged++
		} else if r != nil {
			t.Fatal("a report within the second")
		}
	}
	for range 5 {
		if ok, _ := a.allow(503); ok {
			logged++
		}
	}
	if logged != 6 {
		t.Fatalf("logged %d of 15, want 3 ordinary + 3 server errors", logged)
	}
	now = now.Add(time.Second)
	ok, r := a.allow(200)
	if !ok || r == nil || r.ordinary != 7 || r.serverErrors != 2 {
		t.Fatalf("next second: ok %v, report %+v, want 7 and 2 skipped", ok, r)
	}
	if _, r := a.allow(200); r != nil {
		t.Fatalf("reported twice: %+v", r)
	}
	if ok, _ := newAccessSampler(0, nil).allow(200); !ok {
		t.Fatal("no limit refuses a line")
	}
}

// A burst of requests writes at most AccessLogRate access lines and one
// line that counts the rest.
func TestAccessLogRate(t *testing.T) {
	var buf safeBuffer
	c := newCityWith(t, func(cfg *Config) {
		cfg.Logger = slog.New(slog.NewJSONHandler(&buf, nil))
		cfg.AccessLogRate = 5
	})
	// Requests within one second; a second boundary crossed mid-burst
	// allows 5 more, so count over the whole and allow two seconds.
	start := time.Now()
	for range 200 {
		c.do(t, req{path: "/parts/" + codeCover})
	}
	if time.Since(start) > time.Second {
		t.Skip("the burst took over a second")
	}
	time.Sleep(time.Until(start.Truncate(time.Second).Add(2 * time.Second)))
	c.do(t, req{path: "/healthz"}) // reports the skipped lines
	out := buf.String()
	requests := strings.Count(out, `"msg":"request"`)
	if requests > 11 || requests < 5 {
		t.Fatalf("%d access lines for 201 requests, want at most 5 a second", requests)
	}
	if !strings.Contains(out, `"msg":"access log skipped"`) {
		t.Fatalf("no summary of the skipped lines in\n%s", out)
	}
}

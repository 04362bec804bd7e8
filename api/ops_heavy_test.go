package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// While the slots for expensive queries are taken, an area query or a big
// search waits, then answers 503 busy with Retry-After; lookups and small
// boxes go on.
func TestHeavyQueriesBounded(t *testing.T) {
	c := newCityWith(t, func(cfg *Config) {
		cfg.HeavyQueries = 1
		cfg.HeavyQueueWait = 50 * time.Millisecond
	})
	held, release, done := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		done <- c.srv.heavy(context.Background(), "test", func() error { close(held); <-release; return nil })
	}()
	<-held
	area := `{"type":"Polygon","coordinates":[[[120.6,31.3],[120.61,31.3],[120.61,31.31],[120.6,31.31],[120.6,31.3]]]}`
	rec := c.do(t, req{method: "POST", path: "/parts/within", body: area})
	m := problem(t, rec, http.StatusServiceUnavailable)
	if !strings.HasSuffix(m["type"].(string), "/busy") || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("within while busy: %v, Retry-After %q", m, rec.Header().Get("Retry-After"))
	}
	problem(t, c.do(t, req{path: "/parts"}), http.StatusServiceUnavailable)           // the whole city
	problem(t, c.do(t, req{path: "/parts/counts"}), http.StatusServiceUnavailable)    // the whole city
	expect(t, c.do(t, req{path: "/parts/" + codeCover}), http.StatusOK, mediaGeoJSON) // a lookup
	expect(t, c.do(t, req{path: "/parts?bbox=120.6,31.3,120.601,31.301"}), http.StatusOK, mediaGeoJSON)
	if body := c.do(t, req{path: "/metrics"}).Body.String(); !strings.Contains(body, `citytwin_http_heavy_rejected_total{route="/parts/within"} 1`) {
		t.Error("the refusal is not counted in /metrics")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	expect(t, c.do(t, req{method: "POST", path: "/parts/within", body: area}), http.StatusOK, mediaGeoJSON)

	// A queued query whose deadline passes answers the deadline's 503.
	c2 := newCityWith(t, func(cfg *Config) {
		cfg.HeavyQueries = 1
		cfg.HeavyQueueWait = time.Second
		cfg.RouteTimeout = 50 * time.Millisecond
	})
	held2, release2 := make(chan struct{}), make(chan struct{})
	go func() {
		_ = c2.srv.heavy(context.Background(), "test", func() error { close(held2); <-release2; return nil })
	}()
	<-held2
	defer close(release2)
	m = problem(t, c2.do(t, req{method: "POST", path: "/parts/within", body: area}), http.StatusServiceUnavailable)
	if !strings.HasSuffix(m["type"].(string), "/timeout") {
		t.Fatalf("within past its deadline in the queue: %v", m)
	}
}

// The OpenAPI document names the 408 of a slow body on every operation
// with a body and the 503 (deadline, busy, store down; Retry-After) on
// every operation with problem answers.
func TestOpenAPIDocuments408And503(t *testing.T) {
	c := newCity(t)
	d := openAPIDocOf(t, c, "/openapi.json")
	rs := d["components"].(map[string]any)["responses"].(map[string]any)
	un := rs["Unavailable"].(map[string]any)
	if _, ok := un["headers"].(map[string]any)["Retry-After"]; !ok {
		t.Error("Unavailable has no Retry-After")
	}
	for _, word := range []string{"deadline", "busy", "store"} {
		if !strings.Contains(un["description"].(string), word) {
			t.Errorf("Unavailable does not mention %s", word)
		}
	}
	if _, ok := rs["RequestTimeout"]; !ok {
		t.Fatal("no RequestTimeout response")
	}
	for p, item := range d["paths"].(map[string]any) {
		for method, o := range item.(map[string]any) {
			om, ok := o.(map[string]any)
			if !ok || method == "parameters" {
				continue
			}
			resp := om["responses"].(map[string]any)
			if _, body := om["requestBody"]; body && resp["408"] == nil {
				t.Errorf("%s %s takes a body but documents no 408", method, p)
			}
			if resp["default"] != nil && resp["503"] == nil {
				t.Errorf("%s %s documents no 503", method, p)
			}
		}
	}
}

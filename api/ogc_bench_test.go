package api

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkOGCPartItems serves pages of 100 components through the whole
// handler stack (auth, OGC parsing, search, GeoJSON encoding; no gzip:
// the client does not ask for it).
func BenchmarkOGCPartItems(b *testing.B) {
	c := newCity(b)
	h := c.srv.Handler()
	r := httptest.NewRequest(http.MethodGet, "/ogc/collections/parts/items?limit=100&bbox=120.6,31.3,120.604,31.302", nil)
	var bytes int
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
		bytes = w.Body.Len()
	}
	b.ReportMetric(float64(bytes), "B/page")
}

// BenchmarkAuthCachedToken measures a request with a valid (cached) token
// on a small endpoint: the cost of authentication and rate limiting.
func BenchmarkAuthCachedToken(b *testing.B) {
	c := newTokenCity(b, func(cfg *Config) { cfg.RateLimit = RateLimit{PerSecond: 1e9, Burst: 1 << 30} })
	h := c.srv.Handler()
	r := httptest.NewRequest(http.MethodGet, "/ogc/conformance", nil)
	r.Header.Set("Authorization", "Bearer "+c.secret["admin"])
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

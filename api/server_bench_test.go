package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/paulmach/orb/maptile"
)

// benchRequest serves one request per iteration and reports the body size.
func benchRequest(b *testing.B, c *city, path string, header map[string]string) {
	b.Helper()
	h := c.srv.Handler()
	hr := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range header {
		hr.Header.Set(k, v)
	}
	var size int
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, hr)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
		size = rec.Body.Len()
	}
	b.ReportMetric(float64(size), "B/response")
}

func BenchmarkGetPart(b *testing.B) {
	benchRequest(b, newCity(b), "/parts/"+codeCover, nil)
}

func BenchmarkListParts(b *testing.B) {
	benchRequest(b, newCity(b), fmt.Sprintf("/parts?bbox=%v,%v,%v,%v&limit=100", lon0, lat0, lon0+0.004, lat0+0.002), nil)
}

func BenchmarkNearest(b *testing.B) {
	benchRequest(b, newCity(b), fmt.Sprintf("/parts/nearest?lon=%v&lat=%v&k=10", lon0+0.002, lat0+0.001), nil)
}

func BenchmarkTileCached(b *testing.B) {
	t := maptile.At(pointAt(0), 16)
	benchRequest(b, newCity(b), tilePath("parts", t, ""), map[string]string{"Accept-Encoding": "gzip"})
}

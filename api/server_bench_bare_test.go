package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchBare serves, as benchRequest does, the answer the server gives for
// path from a bare handler that only sets its headers and writes its
// bytes: the floor that BenchmarkGetPart and BenchmarkNearest compare to.
func benchBare(b *testing.B, path string) {
	c := newCity(b)
	rec := httptest.NewRecorder()
	c.srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d", rec.Code)
	}
	want := rec.Header().Clone()
	body := rec.Body.Bytes()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		for k, v := range want {
			hd[k] = append([]string(nil), v...)
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})
	hr := httptest.NewRequest(http.MethodGet, path, nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, hr)
	}
	b.ReportMetric(float64(len(body)), "B/response")
}

func BenchmarkGetPartBare(b *testing.B) { benchBare(b, "/parts/"+codeCover) }

func BenchmarkNearestBare(b *testing.B) {
	benchBare(b, fmt.Sprintf("/parts/nearest?lon=%v&lat=%v&k=10", lon0+0.002, lat0+0.001))
}

package api

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

// TestRouteDeadline runs a request past the deadline of its route: 503
// problem with a reason, counted by route in /metrics.
func TestRouteDeadline(t *testing.T) {
	c := newCityWith(t, func(cfg *Config) { cfg.RouteTimeout = time.Nanosecond })
	area := polygonJSON(orb.Polygon{{{lon0 - 1, lat0 - 1}, {lon0 + 1, lat0 - 1}, {lon0 + 1, lat0 + 1}, {lon0 - 1, lat0 + 1}, {lon0 - 1, lat0 - 1}}})
	rec := c.do(t, req{method: "POST", path: "/parts/within", body: area})
	m := problem(t, rec, http.StatusServiceUnavailable)
	if m["type"] != problemTypeBase+"timeout" || !strings.Contains(fmt.Sprint(m["reason"]), "/parts/within has a deadline of 1ns") {
		t.Fatalf("problem %v", m)
	}
	if rec.Header().Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	body := c.do(t, req{path: "/metrics"}).Body.String()
	if want := `citytwin_http_request_timeouts_total{route="/parts/within"} 1`; !strings.Contains(body, want) {
		t.Fatalf("/metrics lacks %s", want)
	}
}

// TestRouteDeadlineTiles gives tiles their own, shorter deadline.
func TestRouteDeadlineTiles(t *testing.T) {
	c := newCityWith(t, func(cfg *Config) { cfg.TileTimeout = time.Nanosecond })
	rec := c.do(t, req{path: "/tiles/parts/16/54321/26000.mvt"})
	problem(t, rec, http.StatusServiceUnavailable)
	expect(t, c.do(t, req{path: "/parts/" + codeCover}), http.StatusOK, mediaGeoJSON)
}

// TestVaryAuthorization: answers whose body depends on the caller say so.
func TestVaryAuthorization(t *testing.T) {
	c := newCity(t)
	for _, r := range []req{
		{path: "/parts/" + codeCover},
		{path: "/parts/" + codeCover, token: "insp"},
		{path: fmt.Sprintf("/parts?bbox=%v,%v,%v,%v", lon0, lat0, lon0+0.004, lat0+0.002)},
		{path: "/ogc/collections/parts/items/" + codeCover},
		{path: "/parts/" + codeUnknown},
	} {
		rec := c.do(t, r)
		if !strings.Contains(strings.Join(rec.Header().Values("Vary"), ","), "Authorization") {
			t.Errorf("%s (token %q): Vary %q lacks Authorization", r.path, r.token, rec.Header().Values("Vary"))
		}
	}
}

// TestSlowClientIsCutOff dribbles a request body one byte a second: the
// server gives up at ReadTimeout instead of waiting for the whole body.
func TestSlowClientIsCutOff(t *testing.T) {
	c := newCityWith(t, func(cfg *Config) { cfg.ReadTimeout = time.Second })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- c.srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-served })

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := polygonJSON(square(lon0, lat0, testCell))
	start := time.Now()
	fmt.Fprintf(conn, "POST /parts/within HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
	answered := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(conn) // until the server closes the connection
		answered <- string(b)
	}()
	sent := 0
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case got := <-answered:
			took := time.Since(start)
			if took > 4*time.Second || sent >= len(body) {
				t.Fatalf("cut off after %v and %d of %d bytes", took, sent, len(body))
			}
			t.Logf("cut off after %v, %d bytes sent: %.120q", took, sent, got)
			if !strings.HasPrefix(got, "HTTP/1.1 408") {
				t.Fatalf("answer to a slow body: %.200q", got)
			}
			return
		case <-tick.C:
			if _, err := conn.Write([]byte{body[sent]}); err == nil {
				sent++
			}
			if time.Since(start) > 10*time.Second {
				t.Fatalf("the server still reads a body dribbled for %v", time.Since(start))
			}
		}
	}
}

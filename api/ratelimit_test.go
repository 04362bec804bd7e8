package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	l := newLimiter(2, 3, clock) // 2/s, burst 3

	for i := range 3 {
		if ok, _ := l.allow("a"); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.allow("a")
	if ok {
		t.Fatal("4th request within the burst allowed")
	}
	if wait <= 0 || wait > 500*time.Millisecond {
		t.Errorf("wait = %v, want (0, 500ms] at 2/s", wait)
	}
	if got := retryAfterSeconds(wait); got != 1 {
		t.Errorf("Retry-After = %d, want 1", got)
	}
	if ok, _ := l.allow("b"); !ok {
		t.Error("another key was limited by a's bucket")
	}
	now = now.Add(500 * time.Millisecond)
	if ok, _ := l.allow("a"); !ok {
		t.Error("a request after the refill time was refused")
	}
	if ok, _ := l.allow("a"); ok {
		t.Error("refill gave more than one request in 500ms at 2/s")
	}
	// A long idle period refills to the burst, not beyond.
	now = now.Add(time.Hour)
	n := 0
	for {
		if ok, _ := l.allow("a"); !ok {
			break
		}
		n++
	}
	if n != 3 {
		t.Errorf("after an hour idle %d requests allowed, want the burst 3", n)
	}
}

func TestLimiterSweep(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(10, 10, func() time.Time { return now })
	for i := range 1000 {
		l.allow(fmt.Sprint("ip", i))
	}
	now = now.Add(2 * time.Minute)
	l.allow("late")
	if n := len(l.buckets); n != 1 {
		t.Errorf("after the sweep %d buckets remain, want 1", n)
	}
}

func TestLimiterOff(t *testing.T) {
	var l *limiter = newLimiter(0, 0, nil)
	for range 100 {
		if ok, _ := l.allow("x"); !ok {
			t.Fatal("a disabled limiter refused a request")
		}
	}
}

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := map[string]struct {
		peer    string
		xff     []string
		proxies []netip.Prefix
		want    string
	}{
		"no proxies, no header":       {"203.0.113.1:5000", nil, nil, "203.0.113.1"},
		"no proxies, header ignored":  {"203.0.113.1:5000", []string{"198.51.100.1"}, nil, "203.0.113.1"},
		"private peer is not trusted": {"192.168.1.2:5000", []string{"198.51.100.1"}, nil, "192.168.1.2"},
		"untrusted peer, header":      {"203.0.113.1:5000", []string{"198.51.100.1"}, trusted, "203.0.113.1"},
		"trusted peer":                {"10.1.2.3:5000", []string{"198.51.100.1"}, trusted, "198.51.100.1"},
		"trusted peer, spoofed left":  {"10.1.2.3:5000", []string{"1.2.3.4, 198.51.100.1"}, trusted, "198.51.100.1"},
		"two trusted hops":            {"10.1.2.3:5000", []string{"1.2.3.4, 198.51.100.1, 10.9.9.9"}, trusted, "198.51.100.1"},
		"headers in two lines":        {"10.1.2.3:5000", []string{"1.2.3.4", "198.51.100.1"}, trusted, "198.51.100.1"},
		"trusted peer, no header":     {"10.1.2.3:5000", nil, trusted, "10.1.2.3"},
		"every hop trusted":           {"10.1.2.3:5000", []string{"10.0.0.1, 10.0.0.2"}, trusted, "10.0.0.1"},
		"garbage right of the client": {"10.1.2.3:5000", []string{"198.51.100.1, junk"}, trusted, "10.1.2.3"},
		"garbage left of the client":  {"10.1.2.3:5000", []string{"junk, 198.51.100.1"}, trusted, "198.51.100.1"},
		"IPv6 proxy":                  {"[fd00::1]:5000", []string{"2001:db8::7"}, trusted, "2001:db8::7"},
		"IPv4-mapped peer":            {"[::ffff:10.1.2.3]:5000", []string{"198.51.100.1"}, trusted, "198.51.100.1"},
		"peer without port":           {"203.0.113.1", nil, trusted, "203.0.113.1"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.peer
			for _, h := range tc.xff {
				r.Header.Add("X-Forwarded-For", h)
			}
			if got := clientIP(r, tc.proxies); got != tc.want {
				t.Errorf("clientIP = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	l, err := ParseLimits(" tiles=100:200, Admin=5.5:10 ", DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if l.Tiles != (RateLimit{100, 200}) || l.Admin != (RateLimit{5.5, 10}) || l.Lookup != DefaultLimits().Lookup {
		t.Errorf("ParseLimits = %+v", l)
	}
	for _, bad := range []string{"tiles", "tiles=1", "nobody=1:2", "tiles=-1:2", "tiles=1:0", "tiles=x:1", "tiles=NaN:1"} {
		if _, err := ParseLimits(bad, Limits{}); !errors.Is(err, ErrConfig) {
			t.Errorf("ParseLimits(%q) = %v, want a ConfigError", bad, err)
		}
	}
	ps, err := ParsePrefixes("10.0.0.0/8, 192.0.2.1,fd00::/8")
	if err != nil || len(ps) != 3 || ps[1].Bits() != 32 {
		t.Errorf("ParsePrefixes = %v, %v", ps, err)
	}
	if _, err := ParsePrefixes("10.0.0.0/33"); !errors.Is(err, ErrConfig) {
		t.Errorf("ParsePrefixes(bad) = %v", err)
	}
}

// TestMapSession replays a map user with the default limits on a fake
// clock: 200 tiles within the first second (the first view of several
// layers on a HiDPI screen), then ten seconds of panning and zooming, a
// new view of 60 tiles every 200 ms (300 tiles/s), with API reads between.
// Nothing is refused, and the tiles leave the API bucket untouched.
func TestMapSession(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg := DefaultConfig()
	cfg.RateLimit = RateLimit{PerSecond: 200, Burst: 400} // serve's default
	ls := newLimiters(cfg)
	for _, l := range []*limiter{ls.tiles, ls.lookup, ls.api[RolePublic]} {
		l.now = func() time.Time { return now }
	}
	tile := ls.forRequest("/tiles/:layer/:z/:x/:y.mvt", RolePublic)
	api := ls.forRequest("/parts/:code", RolePublic)
	if tile == api {
		t.Fatal("tiles and API reads share a limiter")
	}
	key := "ip:203.0.113.1"
	for i := range 200 {
		now = now.Add(5 * time.Millisecond)
		if ok, _ := tile.allow(key); !ok {
			t.Fatalf("tile %d of the first view refused", i+1)
		}
	}
	for pan := range 50 {
		for i := range 60 {
			now = now.Add(200 * time.Millisecond / 60)
			if ok, _ := tile.allow(key); !ok {
				t.Fatalf("pan %d: tile %d refused", pan+1, i+1)
			}
		}
		for i := range 3 {
			if ok, _ := api.allow(key); !ok {
				t.Fatalf("pan %d: API read %d refused", pan+1, i+1)
			}
		}
	}
}

// TestMapSessionHTTP sends a map's first view, 200 tile requests in well
// under a second, from one address through the server with the default
// limits, then API reads: none is refused.
func TestMapSessionHTTP(t *testing.T) {
	c := newCityWith(t, func(*Config) {})
	cfg := DefaultConfig()
	cfg.Logger = nil
	srv, err := New(cfg, c.twin, c.tiles, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.SetReady(true)
	c.srv = srv
	n := 0
	for z := 14; z <= 16 && n < 200; z++ {
		for x := range 10 {
			for y := range 10 {
				if n == 200 {
					break
				}
				path := fmt.Sprintf("/tiles/parts/%d/%d/%d.mvt", z, 13000+x, 6000+y)
				if code := doFrom(c, "203.0.113.1", path, "").Code; code == http.StatusTooManyRequests {
					t.Fatalf("tile request %d refused", n+1)
				}
				n++
			}
		}
	}
	for i := range 50 {
		if code := doFrom(c, "203.0.113.1", "/ogc/conformance", "").Code; code != 200 {
			t.Fatalf("API read %d after the tiles: %d", i+1, code)
		}
	}
}

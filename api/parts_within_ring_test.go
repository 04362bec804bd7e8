package api_test

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"citytwin/app"
	"citytwin/internal/testcity"
	"citytwin/parts"
	"citytwin/spatial"
	"citytwin/tokens"
	"citytwin/twin"

	"github.com/paulmach/orb"
)

// The proof of issue 11: a thin ring polygon with a hole, ~5,000
// vertices, around the whole city (so every component is a candidate of
// the box search and none is in the ring) answers fast, and writes and
// lookups go on while four such queries run.

// ringCity serves a synthetic city of n components with the production
// wiring (testcity.ServeApp: app.New) and returns an admin token for the
// test's PATCHes.
func ringCity(t testing.TB, n int) (*httptest.Server, *twin.Twin, string) {
	t.Helper()
	hs, a := testcity.ServeApp(t, testcity.File(t, n, max(20, n/100), 1), func(cfg *app.Config) {
		if s := os.Getenv("CITYTWIN_RING_HEAVY"); s != "" {
			// The slots for expensive queries (default: half the CPUs);
			// 0 turns the bound off, to compare.
			h, err := strconv.Atoi(s)
			if err != nil || h < 0 {
				t.Fatalf("CITYTWIN_RING_HEAVY=%q is not a number of slots", s)
			}
			cfg.API.HeavyQueries = h
		}
	})
	return hs, a.Twin, testcity.Token(t, a, tokens.Admin, "")
}

// ring returns a ring polygon of two ellipses of perRing-1 vertices each
// (perRing positions with the closing one) around the centre of b, the
// inner one holding b when scale is 1 (scale < 1 shrinks both, so the
// ring crosses the city).
func ring(b orb.Bound, perRing int, scale float64) orb.Polygon {
	c := b.Center()
	rx, ry := (b.Max[0]-b.Min[0])/2*math.Sqrt2*1.02*scale, (b.Max[1]-b.Min[1])/2*math.Sqrt2*1.02*scale
	ellipse := func(k float64, ccw bool) orb.Ring {
		r := make(orb.Ring, 0, perRing)
		for i := range perRing - 1 {
			a := 2 * math.Pi * float64(i) / float64(perRing-1)
			if !ccw {
				a = -a
			}
			r = append(r, orb.Point{c[0] + k*rx*math.Cos(a), c[1] + k*ry*math.Sin(a)})
		}
		return append(r, r[0])
	}
	return orb.Polygon{ellipse(1.01, true), ellipse(1, false)}
}

func ringBody(p orb.Polygon) string {
	var b strings.Builder
	b.WriteString(`{"type":"Polygon","coordinates":[`)
	for i, r := range p {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('[')
		for j, pt := range r {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "[%s,%s]", strconv.FormatFloat(pt[0], 'f', -1, 64), strconv.FormatFloat(pt[1], 'f', -1, 64))
		}
		b.WriteByte(']')
	}
	b.WriteString("]}")
	return b.String()
}

// within pages through POST /parts/within and returns the codes.
func within(t testing.TB, hs *httptest.Server, body string) []string {
	t.Helper()
	var codes []string
	path := "/parts/within?limit=10000"
	for path != "" {
		res, err := http.Post(hs.URL+path, "application/geo+json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("within: %d %s", res.StatusCode, b)
		}
		s := string(b)
		for rest := s; ; {
			i := strings.Index(rest, `"code":"`)
			if i < 0 {
				break
			}
			rest = rest[i+8:]
			codes = append(codes, rest[:16])
		}
		path = ""
		if i := strings.Index(s, `"rel":"next"`); i >= 0 {
			j := strings.LastIndex(s[:i], `"href":"`)
			href := s[j+8:]
			href = href[:strings.IndexByte(href, '"')]
			path = strings.TrimPrefix(href, hs.URL)
			path = strings.ReplaceAll(path, `\u0026`, "&")
		}
	}
	slices.Sort(codes)
	return slices.Compact(codes)
}

// brute returns the codes of the live parts that the unprepared exact
// test finds in the area.
func brute(tw *twin.Twin, area orb.Geometry) []string {
	var codes []string
	tw.Parts().Each(func(p parts.Part) bool {
		if !p.Retired && p.Geometry != nil && spatial.IntersectsArea(p.Geometry, area) {
			codes = append(codes, p.Code.String())
		}
		return true
	})
	slices.Sort(codes)
	return codes
}

func TestWithinRing(t *testing.T) {
	hs, tw, admin := ringCity(t, 5000)
	b := tw.Parts().Bounds()
	around := ring(b, 2498, 1)
	if n := len(around[0]) + len(around[1]); n != 4996 {
		t.Fatalf("the ring has %d positions", n)
	}
	t.Run("around the city: nothing", func(t *testing.T) {
		if got, want := within(t, hs, ringBody(around)), brute(tw, around); !slices.Equal(got, want) || len(got) != 0 {
			t.Fatalf("%d codes, brute force %d", len(got), len(want))
		}
	})
	t.Run("across the city: as brute force", func(t *testing.T) {
		across := ring(b, 2498, 0.5)
		got, want := within(t, hs, ringBody(across)), brute(tw, across)
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Fatalf("%d codes, brute force %d", len(got), len(want))
		}
	})
	t.Run("a write gets through while four ring queries run", func(t *testing.T) {
		lat := ringLoad(t, hs, tw, admin, ringBody(around), 20)
		t.Logf("during 4 ring queries: PATCH p50 %v max %v, lookup p99 %v", lat.patch.q(0.5), lat.patch.q(1), lat.lookup.q(0.99))
		if m := lat.patch.q(1); m > 2*time.Second {
			t.Fatalf("a PATCH took %v while ring queries ran", m)
		}
	})
}

// durations are latencies.
type durations []time.Duration

func (d durations) q(f float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(f*float64(len(s))))]
}

// loadLatency is what ringLoad measured: the latencies of PATCHes and
// lookups, and the ring queries answered (200) and refused busy (503).
type loadLatency struct {
	patch, lookup      durations
	ringsOK, ringsBusy int64
}

// ringLoad runs 4 ring queries in a loop while it PATCHes n components and
// looks up 10 codes between two PATCHes, and returns the latencies.
func ringLoad(t testing.TB, hs *httptest.Server, tw *twin.Twin, admin, body string, n int) (lat loadLatency) {
	t.Helper()
	var codes []string
	tw.Parts().Each(func(p parts.Part) bool {
		if !p.Retired && len(codes) < 1000 {
			codes = append(codes, p.Code.String())
		}
		return len(codes) < 1000
	})
	var stop atomic.Bool
	var wg sync.WaitGroup
	var rings, ringsOK, ringsBusy atomic.Int64
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				res, err := http.Post(hs.URL+"/parts/within", "application/geo+json", strings.NewReader(body))
				if err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					rings.Add(1)
					switch res.StatusCode {
					case http.StatusOK:
						ringsOK.Add(1)
					case http.StatusServiceUnavailable:
						ringsBusy.Add(1)
					}
				}
			}
		})
	}
	defer func() {
		stop.Store(true)
		wg.Wait()
		lat.ringsOK, lat.ringsBusy = ringsOK.Load(), ringsBusy.Load()
	}()
	for rings.Load() == 0 {
		time.Sleep(time.Millisecond) // the ring queries are running
	}
	rng := rand.New(rand.NewPCG(1, 2))
	states := []string{"完好", "破损"}
	for i := range n {
		code := codes[rng.IntN(len(codes))]
		req, _ := http.NewRequest(http.MethodPatch, hs.URL+"/parts/"+code, strings.NewReader(`{"properties":{"state":"`+states[i%2]+`"}}`))
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		lat.patch = append(lat.patch, time.Since(start))
		if res.StatusCode != http.StatusOK {
			t.Fatalf("PATCH %s: %d %s", code, res.StatusCode, b)
		}
		for range 10 {
			start := time.Now()
			res, err := http.Get(hs.URL + "/parts/" + codes[rng.IntN(len(codes))])
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			lat.lookup = append(lat.lookup, time.Since(start))
			if res.StatusCode != http.StatusOK {
				t.Fatalf("lookup: %d", res.StatusCode)
			}
		}
	}
	return lat
}

// ringN is the city of BenchmarkWithinRing: CITYTWIN_RING_N components
// (default 200,000, the city of issue 11).
func ringN(b *testing.B) int {
	if s := os.Getenv("CITYTWIN_RING_N"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("CITYTWIN_RING_N=%q is not a positive number", s)
		}
		return n
	}
	return 200000
}

// BenchmarkWithinRing: the ring of 4,996 vertices around the city, alone
// (target: < 200 ms), and PATCHes and lookups while 4 ring queries run
// (targets: PATCH < 100 ms, lookup p99 < 50 ms, on a quiet machine). It
// fails over generous bounds only: ring p50 200 ms, p99 1 s; PATCH 2 s
// (a PATCH waiting for the queries would take their whole duration).
func BenchmarkWithinRing(b *testing.B) {
	hs, tw, admin := ringCity(b, ringN(b))
	body := ringBody(ring(tw.Parts().Bounds(), 2498, 1))
	b.Run("alone", func(b *testing.B) {
		var lat durations
		for b.Loop() {
			start := time.Now()
			res, err := http.Post(hs.URL+"/parts/within", "application/geo+json", strings.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			lat = append(lat, time.Since(start))
			if res.StatusCode != http.StatusOK {
				b.Fatalf("status %d", res.StatusCode)
			}
		}
		b.ReportMetric(float64(lat.q(0.5).Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat.q(0.99).Microseconds())/1000, "p99-ms")
		if lat.q(0.5) > 200*time.Millisecond || lat.q(0.99) > time.Second {
			b.Errorf("the ring takes p50 %v, p99 %v", lat.q(0.5), lat.q(0.99))
		}
	})
	b.Run("4-rings-patch-lookup", func(b *testing.B) {
		var lat loadLatency
		for b.Loop() {
			l := ringLoad(b, hs, tw, admin, body, 10)
			lat.patch = append(lat.patch, l.patch...)
			lat.lookup = append(lat.lookup, l.lookup...)
			lat.ringsOK += l.ringsOK
			lat.ringsBusy += l.ringsBusy
		}
		b.ReportMetric(float64(lat.ringsOK)/float64(b.N), "rings-ok/op")
		b.ReportMetric(float64(lat.ringsBusy)/float64(b.N), "rings-busy/op")
		b.ReportMetric(float64(lat.patch.q(0.5).Microseconds())/1000, "patch-p50-ms")
		b.ReportMetric(float64(lat.patch.q(1).Microseconds())/1000, "patch-max-ms")
		b.ReportMetric(float64(lat.lookup.q(0.99).Microseconds())/1000, "lookup-p99-ms")
		if m := lat.patch.q(1); m > 2*time.Second {
			b.Errorf("a PATCH took %v while 4 ring queries ran", m)
		}
	})
}

package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb/maptile"
)

// TestPlainAnswersAsGzhttp: a request that cannot take a compressed answer
// (no Accept-Encoding, HEAD) skips gzhttp's wrapper; its answer is, header
// for header and byte for byte, the one gzhttp's path gives it (s.gzip).
func TestPlainAnswersAsGzhttp(t *testing.T) {
	for _, cors := range []bool{false, true} {
		c := newCityWith(t, func(cfg *Config) {
			if cors {
				cfg.CORSOrigins = []string{"https://a.example"}
			}
		})
		paths := []string{
			"/parts/" + codeCover,
			"/parts/" + codeCover + "?x=1",
			"/parts/" + codeUnknown,
			"/parts/12",
			fmt.Sprintf("/parts/nearest?lon=%v&lat=%v&k=10", lon0+0.002, lat0+0.001),
			fmt.Sprintf("/parts?bbox=%v,%v,%v,%v&limit=100", lon0, lat0, lon0+0.004, lat0+0.002),
			fmt.Sprintf("/parts/counts?bbox=%v,%v,%v,%v", lon0, lat0, lon0+0.005, lat0+0.0045),
			tilePath("parts", maptile.At(pointAt(0), 16), ""),
			"/nothing",
			"/healthz",
		}
		headers := []map[string]string{
			nil,
			{"Authorization": "Bearer insp"},
			{"Authorization": "Bearer nope"},
			{"Accept-Encoding": "identity"},
			{"X-Request-Id": "trace-42"},
			{"If-None-Match": "*"},
			{"Origin": "https://a.example"},
			{"Origin": "https://b.example"},
		}
		for _, path := range paths {
			for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodOptions} {
				for _, h := range headers {
					newReq := func() *http.Request {
						r := httptest.NewRequest(method, path, nil)
						r.Header.Set("X-Request-Id", "fixed")
						for k, v := range h {
							r.Header.Set(k, v)
						}
						if method == http.MethodOptions {
							r.Header.Set("Access-Control-Request-Method", "GET")
						}
						return r
					}
					got, want := httptest.NewRecorder(), httptest.NewRecorder()
					c.srv.Handler().ServeHTTP(got, newReq())
					c.srv.gzip.ServeHTTP(want, newReq())
					name := fmt.Sprintf("cors %v %s %s %v", cors, method, path, h)
					if got.Code != want.Code {
						t.Fatalf("%s: status %d, gzhttp's %d", name, got.Code, want.Code)
					}
					for _, hd := range []http.Header{got.Header(), want.Header()} {
						if hd.Get("X-Request-Id") == "" {
							t.Fatalf("%s: no request id", name)
						}
						hd.Del("X-Request-Id") // "fixed" unless the client's is refused
					}
					if !headersEqual(got.Header(), want.Header()) {
						t.Fatalf("%s: headers\n%v\ngzhttp's\n%v", name, got.Header(), want.Header())
					}
					ts := regexp.MustCompile(`"timeStamp":"[^"]*"`)
					if g, w := ts.ReplaceAllString(got.Body.String(), ""), ts.ReplaceAllString(want.Body.String(), ""); g != w {
						t.Fatalf("%s: body\n%s\ngzhttp's\n%s", name, g, w)
					}
				}
			}
		}
	}
	// The shared Vary values were never written to.
	if !slices.Equal(varyAcceptEncoding, []string{"Accept-Encoding"}) || !slices.Equal(varyAcceptEncodingAuthorization, []string{"Accept-Encoding", "Authorization"}) {
		t.Fatalf("shared Vary values changed: %q, %q", varyAcceptEncoding, varyAcceptEncodingAuthorization)
	}
}

// headersEqual compares two headers, the order of each key's values included.
func headersEqual(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// rawRequest sends the bytes of a request to the city's handler over a
// real connection (closed with the test, reads bounded by 10 s) and reads
// the answer's head.
func rawRequest(t *testing.T, c *city, request string) *http.Response {
	t.Helper()
	hs := httptest.NewServer(c.srv.Handler())
	t.Cleanup(hs.Close)
	conn, err := net.Dial("tcp", hs.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestPlainAnswerOnTheWire: the bytes of a lookup without Accept-Encoding,
// headers in their order, as net/http sends them.
func TestPlainAnswerOnTheWire(t *testing.T) {
	resp := rawRequest(t, newCity(t), "GET /parts/"+codeCover+" HTTP/1.1\r\nHost: x\r\nX-Request-Id: trace-42\r\n\r\n")
	body, _ := io.ReadAll(resp.Body)
	var head strings.Builder
	_ = resp.Header.Write(&head)
	got := regexp.MustCompile(`Date: [^\r]*\r\n`).ReplaceAllString(head.String(), "")
	want := "Content-Length: " + fmt.Sprint(len(body)) + "\r\nContent-Type: application/geo+json\r\nEtag: \"1\"\r\n" +
		"Vary: Accept-Encoding\r\nVary: Authorization\r\nX-Request-Id: trace-42\r\n"
	if got != want {
		t.Fatalf("headers\n%q\nwant\n%q", got, want)
	}
	if !strings.HasPrefix(string(body), `{"type":"Feature","id":"`+codeCover+`"`) {
		t.Fatalf("body %s", body)
	}
}

// TestEventsWithoutAcceptEncoding: the live feed of a client that takes
// no compression does not leak gzhttp's No-Gzip-Compression marker.
func TestEventsWithoutAcceptEncoding(t *testing.T) {
	resp := rawRequest(t, newCity(t), "GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, %v", resp.StatusCode, resp.Header)
	}
	if v, ok := resp.Header["No-Gzip-Compression"]; ok {
		t.Fatalf("No-Gzip-Compression: %q sent", v)
	}
	if got := resp.Header.Values("Vary"); !slices.Equal(got, []string{"Accept-Encoding", "Authorization"}) {
		t.Fatalf("Vary %q", got)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "retry: ") {
		t.Fatalf("first line %q, %v", line, err)
	}
}

// TestRequestIDs: 24 lowercase hex digits, unique, apart between servers.
func TestRequestIDs(t *testing.T) {
	var a, b idGen
	a.init()
	b.init()
	seen := make(map[string]bool)
	hex := regexp.MustCompile(`^[0-9a-f]{24}$`)
	for i := 0; i < 100000; i++ {
		for _, g := range []*idGen{&a, &b} {
			v := g.next()
			if len(v) != 1 || cap(v) != 1 || !hex.MatchString(v[0]) || !validRequestID(v[0]) {
				t.Fatalf("id %q (cap %d)", v, cap(v))
			}
			if seen[v[0]] {
				t.Fatalf("id %s twice", v[0])
			}
			seen[v[0]] = true
		}
	}
	// The counter's bijection: distinct inputs, distinct outputs.
	rng := rand.New(rand.NewPCG(1, 2))
	outs := make(map[uint64]uint64)
	for i := 0; i < 100000; i++ {
		x := rng.Uint64()
		if y, ok := outs[mix64(x)]; ok && y != x {
			t.Fatalf("mix64(%d) = mix64(%d)", x, y)
		}
		outs[mix64(x)] = x
	}
}

// TestAppendDate holds the date writers to time's Format.
func TestAppendDate(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	zones := []*time.Location{time.UTC, time.FixedZone("CST", 8*3600), time.FixedZone("W", -11*3600)}
	times := []time.Time{
		{},
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 6, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 3, 0, 0, 0, time.FixedZone("CST", 8*3600)),
	}
	for i := 0; i < 20000; i++ {
		sec := rng.Int64N(400*365*86400) - 100*365*86400
		times = append(times, time.Unix(sec, rng.Int64N(1e9)).In(zones[rng.IntN(len(zones))]))
	}
	for _, tm := range times {
		if got, want := string(appendDate([]byte("x"), tm)), "x"+tm.UTC().Format(dateLayout); got != want {
			t.Fatalf("%v: date %s, want %s", tm, got, want)
		}
		if got, want := string(appendTimeStamp([]byte("x"), tm)), "x"+tm.UTC().Format(time.RFC3339); got != want {
			t.Fatalf("%v: time stamp %s, want %s", tm, got, want)
		}
	}
}

// TestAppendJSONStrMatches holds the string writer, its shortcuts for
// two- and three-byte sequences included, to encoding/json on strings of
// valid, invalid and special UTF-8.
func TestAppendJSONStrMatches(t *testing.T) {
	pieces := []string{"a", "<", ">", "&", `"`, `\`, "\n", "\x00", "\x1f", "\x7f", "é", "ß", "\u07ff", "上", "球墨",
		"\u2028", "\u2029", "\u2027", "\u202a", "“", "…", "\ufffd", "\uffff", "\ud7ff", "\ue000", "😀", "\U0010ffff",
		"\xe2\x80", "\xe2", "\xe0\x80\x80", "\xe0\xa0\x80", "\xed\xa0\x80", "\xed\x9f\xbf", "\xc0\x80", "\xc1\xbf",
		"\xc2", "\xdf\xbf", "\x80", "\xbf", "\xf0\x90\x80\x80", "\xf4\x90\x80\x80", "\xf5", "\xff", "\xe1\x80", "\xef\xbf\xbf"}
	rng := rand.New(rand.NewPCG(11, 12))
	for n := 0; n < 50000; n++ {
		var sb strings.Builder
		for k := rng.IntN(8); k >= 0; k-- {
			sb.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := sb.String()
		html, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var plain bytes.Buffer
		enc := json.NewEncoder(&plain)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got := appendJSONStr(nil, s, &jsonHTMLSafe); !bytes.Equal(got, html) {
			t.Fatalf("%q: got %s, want %s", s, got, html)
		}
		if got := appendJSONStr(nil, s, &jsonSafe); !bytes.Equal(got, bytes.TrimSuffix(plain.Bytes(), []byte("\n"))) {
			t.Fatalf("%q: got %s, want %s", s, got, plain.Bytes())
		}
	}
}

// TestObserverCache: every route, method and status has its histogram,
// however many goroutines add them at once.
func TestObserverCache(t *testing.T) {
	c := newCity(t)
	m := c.srv.m
	routes := []string{"/a", "/b", "/c"}
	methods := []string{"GET", "POST"}
	statuses := []int{200, 404, 500}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, r := range routes {
				for _, me := range methods {
					for _, st := range statuses {
						m.observeRequest(r, me, st, time.Millisecond)
					}
				}
			}
		}()
	}
	wg.Wait()
	mfs, err := c.srv.metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	samples := make(map[string]uint64)
	for _, mf := range mfs {
		if mf.GetName() != "citytwin_http_request_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			samples[strings.Join(labels, ",")] = m.GetHistogram().GetSampleCount()
		}
	}
	for _, r := range routes {
		for _, me := range methods {
			for _, st := range statuses {
				key := fmt.Sprintf("method=%s,route=%s,status=%d", me, r, st)
				if n := samples[key]; n != 8 {
					t.Fatalf("%s: %d samples, want 8 (all: %v)", key, n, samples)
				}
				if m.observer(r, me, st) != m.requests.WithLabelValues(r, me, fmt.Sprint(st)) {
					t.Fatalf("%s: another histogram cached", key)
				}
			}
		}
	}
}

func BenchmarkObserveRequest(b *testing.B) {
	m := newCity(b).srv.m
	for b.Loop() {
		m.observeRequest("/parts/:code", "GET", 200, time.Millisecond)
	}
}

func BenchmarkRequestID(b *testing.B) {
	var g idGen
	g.init()
	for b.Loop() {
		_ = g.next()
	}
}

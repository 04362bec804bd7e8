package api

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// sseMsg is one event read from /events.
type sseMsg struct {
	id, event, data string
	at              time.Time // when the test read it
}

func (m sseMsg) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(m.data), &v); err != nil {
		t.Fatalf("event %s data is not JSON: %v: %q", m.event, err, m.data)
	}
	return v
}

func (m sseMsg) idNum(t *testing.T) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(m.id, 10, 64)
	if err != nil {
		t.Fatalf("event %s id %q", m.event, m.id)
	}
	return n
}

// openEvents connects to base/events+query and streams its events; the
// connection closes with the test (before the server does).
func openEvents(t *testing.T, base, query string, header map[string]string) <-chan sseMsg {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/events"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("GET /events%s: %d %q %q", query, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Encoding"))
	}
	ch := make(chan sseMsg, 1024)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var m sseMsg
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if m.event != "" {
					m.at = time.Now()
					ch <- m
				}
				m = sseMsg{}
			case strings.HasPrefix(line, "id: "):
				m.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				m.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				m.data = line[6:]
			}
		}
	}()
	t.Cleanup(cancel)
	return ch
}

// waitEvent reads events until one of type typ, failing after timeout;
// it returns it and the events skipped on the way.
func waitEvent(t *testing.T, ch <-chan sseMsg, typ string, timeout time.Duration) (sseMsg, []sseMsg) {
	t.Helper()
	var skipped []sseMsg
	deadline := time.After(timeout)
	for {
		select {
		case m, ok := <-ch:
			if !ok {
				t.Fatalf("the stream ended before a %s event (got %v)", typ, skipped)
			}
			if m.event == typ {
				return m, skipped
			}
			skipped = append(skipped, m)
		case <-deadline:
			t.Fatalf("no %s event within %v (got %v)", typ, timeout, skipped)
		}
	}
}

func serveCity(t *testing.T, c *city) string {
	t.Helper()
	hs := httptest.NewServer(c.srv.Handler())
	t.Cleanup(hs.Close)
	return hs.URL
}

// TestEventsTilesChanged: a component edit is a tiles.changed event over
// its box (coalesced), to every public reader.
func TestEventsTilesChanged(t *testing.T) {
	c := newCity(t)
	ch := openEvents(t, serveCity(t, c), "?types=tiles.changed", nil)
	pt := pointAt(0)
	expect(t, c.do(t, req{method: http.MethodPatch, path: "/parts/" + codeCover, token: "water",
		body: `{"type":"Feature","properties":{"name":"moved"},"geometry":{"type":"Point","coordinates":[` +
			strconv.FormatFloat(pt[0]+0.00001, 'f', -1, 64) + `,` + strconv.FormatFloat(pt[1], 'f', -1, 64) + `]}}`}), http.StatusOK, mediaGeoJSON)
	m, skipped := waitEvent(t, ch, evTilesChanged, 5*time.Second)
	if len(skipped) > 0 {
		t.Errorf("types=tiles.changed let through %v", skipped)
	}
	d := m.json(t)
	bb := d["bbox"].([]any)
	if bb[0].(float64) > pt[0] || bb[2].(float64) < pt[0]+0.00001 || bb[1].(float64) > pt[1] || bb[3].(float64) < pt[1] {
		t.Errorf("bbox %v does not cover the old and new places around %v", bb, pt)
	}
	if ls := d["layers"].([]any); len(ls) != 2 || ls[0] != "city" || ls[1] != "parts" {
		t.Errorf("layers %v", ls)
	}
}

func TestEventsBadInput(t *testing.T) {
	c := newCity(t)
	for name, tc := range map[string]struct {
		path  string
		hdr   map[string]string
		field string
	}{
		"unknown type":        {"/events?types=alarm.raised,nonsense", nil, "types"},
		"bad Last-Event-ID":   {"/events", map[string]string{"Last-Event-ID": "abc"}, "Last-Event-ID"},
		"bad lastEventId":     {"/events?lastEventId=-1", nil, "lastEventId"},
		"unknown parameter":   {"/events?since=1", nil, "since"},
		"lastEventId twice":   {"/events?lastEventId=1&lastEventId=2", nil, "lastEventId"},
		"empty types is fine": {"", nil, ""},
	} {
		t.Run(name, func(t *testing.T) {
			if tc.path == "" {
				return
			}
			m := problem(t, c.do(t, req{path: tc.path, header: tc.hdr}), http.StatusBadRequest)
			if !containsField(problemFields(m), tc.field) {
				t.Errorf("fields %v, want %s", problemFields(m), tc.field)
			}
		})
	}
}

// TestEventHub checks the ring (resume, reset) and the dropping of slow
// clients without a server.
func TestEventHub(t *testing.T) {
	h := newEventHub(&Server{metrics: prometheus.NewRegistry(), log: slog.New(slog.DiscardHandler)})
	h.ring = make([]*sseEvent, 4)
	first := h.next
	for i := 0; i < 6; i++ {
		h.publish(evAlarmRaised, i)
	}
	ids := func(evs []*sseEvent) (out []uint64) {
		for _, e := range evs {
			out = append(out, e.id-first)
		}
		return out
	}
	newClient := func(n int, types ...string) *sseClient {
		return &sseClient{ch: make(chan *sseEvent, n), types: types, dropped: make(chan struct{})}
	}
	for name, tc := range map[string]struct {
		last    uint64
		want    []uint64
		reset   bool
		hasLast bool
	}{
		"no id: live only":         {0, nil, false, false},
		"resume inside the ring":   {first + 2, []uint64{3, 4, 5}, false, true},
		"resume at the oldest - 1": {first + 1, []uint64{2, 3, 4, 5}, false, true},
		"up to date":               {first + 5, nil, false, true},
		"too old: reset":           {first, nil, true, true},
		"another run's id: reset":  {first + 100, nil, true, true},
		"a very old id: reset":     {1, nil, true, true},
	} {
		t.Run(name, func(t *testing.T) {
			cl := newClient(8)
			defer h.unsubscribe(cl)
			backlog, reset, resetID, _ := h.subscribe(cl, tc.last, tc.hasLast)
			if got := ids(backlog); reset != tc.reset || len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) {
				t.Errorf("backlog %v reset %v, want %v reset %v", got, reset, tc.want, tc.reset)
			}
			if reset && resetID != first+5 {
				t.Errorf("reset id %d, want the last id %d", resetID-first, 5)
			}
		})
	}

	slow, picky := newClient(1), newClient(1, evAlarmCleared)
	h.subscribe(slow, 0, false)
	h.subscribe(picky, 0, false)
	h.publish(evAlarmRaised, 6)
	h.publish(evAlarmRaised, 7) // slow's queue is full: dropped, the publisher never waits
	select {
	case <-slow.dropped:
	default:
		t.Fatal("a client with a full queue was not dropped")
	}
	if _, ok := h.subs[slow]; ok {
		t.Error("a dropped client is still subscribed")
	}
	if len(picky.ch) != 0 {
		t.Error("types=alarm.cleared got an alarm.raised")
	}
	h.publish(evAlarmCleared, 8)
	if ev := <-picky.ch; ev.typ != evAlarmCleared || !strings.Contains(string(ev.frame), "event: alarm.cleared\ndata: 8\n\n") {
		t.Errorf("frame %q", ev.frame)
	}
}

// TestEventsEndAtShutdown: Serve's graceful shutdown ends open streams at
// once instead of waiting out its timeout.
func TestEventsEndAtShutdown(t *testing.T) {
	c := newCity(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.srv.Serve(ctx, ln) }()
	ch := openEvents(t, "http://"+ln.Addr().String(), "", nil)
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve waited for the event stream")
	}
	t.Logf("shutdown with an open stream took %v", time.Since(start))
	for range ch {
	}
}

// TestEventsOutliveRouteDeadline: the live feed is exempt from the
// per-route deadline (Config.RouteTimeout).
func TestEventsOutliveRouteDeadline(t *testing.T) {
	c := newCityWith(t, func(cfg *Config) { cfg.RouteTimeout = 200 * time.Millisecond })
	ch := openEvents(t, serveCity(t, c), "?types=tiles.changed", nil)
	time.Sleep(400 * time.Millisecond)
	expect(t, c.do(t, req{method: http.MethodPatch, path: "/parts/" + codeCover, token: "water",
		body: `{"type":"Feature","properties":{"name":"late"}}`}), http.StatusOK, mediaGeoJSON)
	waitEvent(t, ch, evTilesChanged, 5*time.Second)
}

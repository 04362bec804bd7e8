package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzhttp"
	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb"
	"github.com/prometheus/client_golang/prometheus"

	"citytwin/grid"
	"citytwin/incidents"
	"citytwin/parts"
	"citytwin/tiles"
	"citytwin/twin"
)

// Event types of GET /events.
const (
	evAlarmRaised     = "alarm.raised"
	evAlarmCleared    = "alarm.cleared"
	evAlarmUpdated    = "alarm.updated" // only when its component was retired
	evSensorChanged   = "sensor.changed"
	evIncidentCreated = "incident.created"
	evIncidentUpdated = "incident.updated"
	evTilesChanged    = "tiles.changed"
	evReset           = "reset" // control: events were missed, reload the state
)

// eventTypes are the types a client may ask for with ?types=.
var eventTypes = []string{evAlarmRaised, evAlarmCleared, evAlarmUpdated, evSensorChanged,
	evIncidentCreated, evIncidentUpdated, evTilesChanged}

// Defaults of the live feed.
const (
	eventBuffer     = 10000            // events kept for Last-Event-ID resume
	eventClientChan = 1024             // events queued per client before it is dropped
	eventHeartbeat  = 15 * time.Second // comment lines that keep proxies from closing the stream
	eventWriteLimit = 10 * time.Second // a client that takes longer to take a write is dropped
	eventTilesDelay = 100 * time.Millisecond
	eventRetryMS    = 2000 // the reconnection delay EventSource is told
)

// sseEvent is one event, framed once for every client.
type sseEvent struct {
	id    uint64
	typ   string
	frame []byte // "id: N\nevent: T\ndata: {...}\n\n"
}

// sseClient is one subscriber: a bounded queue the hub never blocks on.
type sseClient struct {
	ch      chan *sseEvent
	types   []string      // nil: every type
	dropped chan struct{} // closed when the hub dropped it for falling behind
}

func (c *sseClient) wants(typ string) bool { return c.types == nil || slices.Contains(c.types, typ) }

// eventHub turns the twin's changes into server-sent events: a ring of
// the last events with increasing ids (for Last-Event-ID), and the live
// subscribers. Publishing never blocks: a subscriber whose queue is full is
// dropped and resumes from the ring when it reconnects.
type eventHub struct {
	s         *Server
	clients   prometheus.Gauge
	drops     prometheus.Counter
	heartbeat time.Duration
	tileDelay time.Duration

	mu      sync.Mutex
	ring    []*sseEvent // circular; ring[(first+i)%len] is the i-th oldest
	first   int
	n       int
	next    uint64 // id of the next event
	subs    map[*sseClient]struct{}
	servers map[*http.Server]chan struct{} // closed when that server shuts down

	tmu     sync.Mutex // guards the pending tiles.changed event
	tLayers []string
	tBound  orb.Bound
	tHas    bool
}

// isLongLived reports whether a route streams for as long as the client
// stays: the per-route deadline must not apply to it.
func isLongLived(route string) bool { return route == "/events" }

// registerEvents registers GET /events, the live feed, and subscribes its
// hub to the twin's changes.
func (s *Server) registerEvents(e *echo.Echo, mw ...echo.MiddlewareFunc) {
	h := newEventHub(s)
	s.twin.OnChange(h.onChange)
	e.GET("/events", h.serve, mw...)
}

func newEventHub(s *Server) *eventHub {
	h := &eventHub{
		s: s,
		clients: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "citytwin", Subsystem: "events", Name: "clients",
			Help: "Clients connected to the live feed (GET /events).",
		}),
		drops: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "citytwin", Subsystem: "events", Name: "dropped_clients_total",
			Help: "Live feed clients dropped for falling behind.",
		}),
		heartbeat: eventHeartbeat,
		tileDelay: eventTilesDelay,
		ring:      make([]*sseEvent, eventBuffer),
		// Ids start at the boot time in microseconds, so that an id of an
		// earlier run is older than every id of this one (a reset, not a
		// wrong resume).
		next:    uint64(time.Now().UnixMicro()),
		subs:    map[*sseClient]struct{}{},
		servers: map[*http.Server]chan struct{}{},
	}
	s.metrics.MustRegister(h.clients, h.drops)
	return h
}

// onChange is the twin listener: quick, it runs in the writer's goroutine.
func (h *eventHub) onChange(c twin.Change) {
	switch {
	case c.Alarm != nil:
		typ := evAlarmUpdated
		switch c.Op {
		case twin.OpAdd:
			typ = evAlarmRaised
		case twin.OpRetire:
			typ = evAlarmCleared
		default:
			if !c.Alarm.Retired {
				return
			}
		}
		h.publish(typ, h.s.alarmFeatureOf(c.Alarm))
	case c.IsSensor():
		h.publish(evSensorChanged, h.sensorChange(c))
	case c.IsCase():
		typ := evIncidentUpdated
		if c.OldCase == nil {
			typ = evIncidentCreated
		}
		if c.NewCase != nil {
			h.publish(typ, caseEventOf(c.NewCase))
		}
	case c.IsPart():
		h.tilesChanged([]string{tiles.LayerParts, tiles.LayerCity}, partBound(c.OldPart), partBound(c.NewPart))
	case c.IsGrid():
		h.tilesChanged([]string{tiles.LayerGrids, tiles.LayerCity}, gridBound(c.OldGrid), gridBound(c.NewGrid))
	}
}

// sensorChangeEvent is the data of sensor.changed: the sensor (as it is
// now, or as it was when removed) at its component's place.
type sensorChangeEvent struct {
	Type       string        `json:"type"`
	ID         string        `json:"id"`
	Geometry   *geometryJSON `json:"geometry"`
	Properties struct {
		Op string `json:"op"` // add, modify or remove
		sensorProps
	} `json:"properties"`
}

func (h *eventHub) sensorChange(c twin.Change) sensorChangeEvent {
	sn, op := c.NewSensor, string(c.Op)
	if sn == nil {
		sn, op = c.OldSensor, "remove"
	}
	ev := sensorChangeEvent{Type: "Feature", ID: string(sn.ID), Geometry: h.s.placeOf(sn.Code)}
	ev.Properties.Op = op
	ev.Properties.sensorProps = sensorPropsOf(sn, nil, nil)
	return ev
}

// caseEvent is the data of incident.*: what the public may know of a case
// (no description, photos, reporters or notes).
type caseEvent struct {
	Type       string        `json:"type"`
	ID         string        `json:"id"`
	Geometry   *geometryJSON `json:"geometry"`
	Properties struct {
		ID      string `json:"id"`
		State   string `json:"state"`
		Dept    string `json:"dept"`
		Type    string `json:"type"`
		Class   string `json:"class"`
		Code    string `json:"code,omitempty"`
		Version uint64 `json:"version"`
	} `json:"properties"`
}

func caseEventOf(c *incidents.Case) caseEvent {
	ev := caseEvent{Type: "Feature", ID: string(c.ID), Geometry: geometryOf(c.Location)}
	p := &ev.Properties
	p.ID, p.State, p.Dept, p.Type, p.Class, p.Version = string(c.ID), string(c.State), c.Dept, string(c.Type), c.Class, c.Version
	if c.Code != 0 {
		p.Code = c.Code.String()
	}
	return ev
}

// tilesEvent is the data of tiles.changed: the layers whose tiles over
// bbox (minLon, minLat, maxLon, maxLat) changed.
type tilesEvent struct {
	Layers []string   `json:"layers"`
	BBox   [4]float64 `json:"bbox"`
}

func partBound(p *parts.Part) *orb.Bound {
	if p == nil || p.Geometry == nil {
		return nil
	}
	b := p.Geometry.Bound()
	return &b
}

func gridBound(g *grid.Grid) *orb.Bound {
	if g == nil || g.Geometry == nil {
		return nil
	}
	b := g.Geometry.Bound()
	return &b
}

// tilesChanged coalesces tile changes: a bulk change of thousands of
// components is one tiles.changed event per tileDelay over the union of
// their boxes, not thousands.
func (h *eventHub) tilesChanged(layers []string, bs ...*orb.Bound) {
	h.tmu.Lock()
	defer h.tmu.Unlock()
	pending := h.tHas
	for _, b := range bs {
		switch {
		case b == nil:
		case h.tHas:
			h.tBound = h.tBound.Union(*b)
		default:
			h.tBound, h.tHas = *b, true
		}
	}
	if !h.tHas {
		return
	}
	for _, l := range layers {
		if !slices.Contains(h.tLayers, l) {
			h.tLayers = append(h.tLayers, l)
		}
	}
	if !pending {
		time.AfterFunc(h.tileDelay, h.flushTiles)
	}
}

func (h *eventHub) flushTiles() {
	h.tmu.Lock()
	ev := tilesEvent{Layers: h.tLayers, BBox: [4]float64{h.tBound.Min[0], h.tBound.Min[1], h.tBound.Max[0], h.tBound.Max[1]}}
	h.tLayers, h.tHas = nil, false
	h.tmu.Unlock()
	slices.Sort(ev.Layers)
	h.publish(evTilesChanged, ev)
}

// publish frames an event, keeps it in the ring and queues it for every
// subscriber that wants it, dropping those whose queue is full.
func (h *eventHub) publish(typ string, data any) {
	b, err := json.Marshal(data)
	if err != nil {
		h.s.log.LogAttrs(context.Background(), slog.LevelError, "event not sent", slog.String("type", typ), slog.String("error", err.Error()))
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	ev := &sseEvent{id: h.next, typ: typ}
	h.next++
	ev.frame = appendFrame(make([]byte, 0, len(b)+len(typ)+40), ev.id, typ, b)
	if h.n < len(h.ring) {
		h.ring[(h.first+h.n)%len(h.ring)] = ev
		h.n++
	} else {
		h.ring[h.first] = ev
		h.first = (h.first + 1) % len(h.ring)
	}
	for c := range h.subs {
		if !c.wants(typ) {
			continue
		}
		select {
		case c.ch <- ev:
		default:
			delete(h.subs, c)
			close(c.dropped)
			h.drops.Inc()
		}
	}
}

func appendFrame(b []byte, id uint64, typ string, data []byte) []byte {
	b = append(b, "id: "...)
	b = strconv.AppendUint(b, id, 10)
	b = append(b, "\nevent: "...)
	b = append(b, typ...)
	b = append(b, "\ndata: "...)
	b = append(b, data...)
	return append(b, "\n\n"...)
}

// subscribe adds a client and returns, atomically with it, the events
// after last (when hasLast) from the ring. reset is true when some of
// them are gone (or last is not an id of this run): the client must reload
// the state; resetID is then the id to resume from later.
func (h *eventHub) subscribe(c *sseClient, last uint64, hasLast bool) (backlog []*sseEvent, reset bool, resetID uint64, full bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if max := h.s.cfg.MaxEventClients; max > 0 && len(h.subs) >= max {
		return nil, false, 0, true
	}
	h.subs[c] = struct{}{}
	if !hasLast {
		return nil, false, 0, false
	}
	oldest := h.next - uint64(h.n)
	if last >= h.next || last+1 < oldest {
		return nil, true, h.next - 1, false
	}
	for i := int(last + 1 - oldest); i < h.n; i++ {
		if ev := h.ring[(h.first+i)%len(h.ring)]; c.wants(ev.typ) {
			backlog = append(backlog, ev)
		}
	}
	return backlog, false, 0, false
}

func (h *eventHub) unsubscribe(c *sseClient) {
	h.mu.Lock()
	delete(h.subs, c)
	h.mu.Unlock()
}

// stopOf returns a channel closed when the http.Server serving r shuts
// down, so that Shutdown does not wait for endless streams (nil when r
// came from no http.Server).
func (h *eventHub) stopOf(r *http.Request) <-chan struct{} {
	hs, ok := r.Context().Value(http.ServerContextKey).(*http.Server)
	if !ok {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	ch, ok := h.servers[hs]
	if !ok {
		ch = make(chan struct{})
		h.servers[hs] = ch
		hs.RegisterOnShutdown(func() {
			h.mu.Lock()
			delete(h.servers, hs)
			h.mu.Unlock()
			close(ch)
		})
	}
	return ch
}

// serve: GET /events?types=a,b&lastEventId=N, a text/event-stream of the
// city's changes. Last-Event-ID (header, or the lastEventId parameter for
// clients that cannot set headers) resumes after that event from the last
// 10,000; when they no longer reach back so far, a reset event comes
// first. Comments every 15 s keep the stream open through proxies. The
// data is public: no photos, notes or case descriptions.
func (h *eventHub) serve(c echo.Context) error {
	q := c.QueryParams()
	if err := checkParams(q, []string{"types", "lastEventId"}); err != nil {
		return err
	}
	cl := &sseClient{ch: make(chan *sseEvent, eventClientChan), dropped: make(chan struct{})}
	var errs []error
	for _, t := range listParam(q, "types") {
		if !slices.Contains(eventTypes, t) {
			errs = append(errs, badInput("types", "%q is not an event type (%s)", clipString(t), strings.Join(eventTypes, ", ")))
			continue
		}
		cl.types = append(cl.types, t)
	}
	lastStr := strings.TrimSpace(c.Request().Header.Get("Last-Event-ID"))
	field := "Last-Event-ID"
	if lastStr == "" {
		v, err := oneParam(q, "lastEventId")
		lastStr, field = v, "lastEventId"
		errs = append(errs, err)
	}
	var last uint64
	if lastStr != "" {
		var err error
		if last, err = strconv.ParseUint(lastStr, 10, 64); err != nil {
			errs = append(errs, badInput(field, "%q is not an event id", clipString(lastStr)))
		}
	}
	if err := joinInput(errs...); err != nil {
		return err
	}

	backlog, reset, resetID, full := h.subscribe(cl, last, lastStr != "")
	if full {
		q := newProblem(http.StatusServiceUnavailable, "busy", "too many live-feed clients; try again after the time in Retry-After")
		q.Reason = fmt.Sprintf("%d clients, the most Config.MaxEventClients allows", h.s.cfg.MaxEventClients)
		q.header = http.Header{"Retry-After": {"5"}}
		return q
	}
	defer h.unsubscribe(cl)

	w := c.Response()
	hdr := w.Header()
	hdr.Set(echo.HeaderContentType, "text/event-stream")
	hdr.Set(echo.HeaderCacheControl, "no-cache")
	hdr.Set("X-Accel-Buffering", "no")       // nginx: do not buffer the stream
	hdr.Set(gzhttp.HeaderNoCompression, "1") // gzip would hold events back
	rc := http.NewResponseController(w)
	// A stream outlives the connection's read deadline, whose expiry
	// would cancel the request (net/http's background read).
	_ = rc.SetReadDeadline(time.Time{})
	stop := h.stopOf(c.Request())

	h.clients.Inc()
	defer h.clients.Dec()

	w.WriteHeader(http.StatusOK)
	buf := fmt.Appendf(nil, "retry: %d\n\n", eventRetryMS)
	if reset {
		buf = appendFrame(buf, resetID, evReset,
			fmt.Appendf(nil, `{"reason":"the events after %d are no longer kept; reload the state"}`, last))
	}
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(eventWriteLimit))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	for _, ev := range backlog {
		buf = append(buf, ev.frame...)
		if len(buf) > 64<<10 {
			if !write(buf) {
				return nil
			}
			buf = buf[:0]
		}
	}
	if !write(buf) {
		return nil
	}
	beat := time.NewTicker(h.heartbeat)
	defer beat.Stop()
	ctx := c.Request().Context()
	for {
		select {
		case ev := <-cl.ch:
			buf = append(buf[:0], ev.frame...)
			for more := true; more && len(buf) < 64<<10; { // take what queued meanwhile
				select {
				case ev := <-cl.ch:
					buf = append(buf, ev.frame...)
				default:
					more = false
				}
			}
			if !write(buf) {
				return nil
			}
		case <-beat.C:
			if !write([]byte(": heartbeat\n\n")) {
				return nil
			}
		case <-cl.dropped:
			return nil // too slow: it reconnects with its Last-Event-ID
		case <-stop:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

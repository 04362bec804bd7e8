package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"citytwin/tiles"
	"citytwin/twin"
)

// serverMetrics are the server's Prometheus metrics, on its own registry.
type serverMetrics struct {
	requests   *prometheus.HistogramVec // by route pattern, method, status
	storeWrite *prometheus.HistogramVec // by operation and result
	timeouts   *prometheus.CounterVec   // requests past their deadline, by route pattern

	heavyRejected *prometheus.CounterVec // expensive queries refused for want of a slot, by route
	heavyWait     prometheus.Histogram   // wait of expensive queries for a slot

	// observers caches the requests histogram of each route, method and
	// status: WithLabelValues hashes and looks up its labels, and formats
	// the status, on every call. The map is never changed once stored:
	// a new histogram is added to a copy, under obsMu.
	observers atomic.Pointer[map[string][]obsEntry] // by route
	obsMu     sync.Mutex
}

// obsEntry is the requests histogram of a method and status (of a route).
type obsEntry struct {
	method string
	status int
	o      prometheus.Observer
}

// newServerMetrics registers the server's metrics on reg: requests,
// writes, deadlines, the indexes and, when tm is not nil, the tile cache.
func newServerMetrics(reg *prometheus.Registry, tw *twin.Twin, tm *tiles.Map) (*serverMetrics, error) {
	m := &serverMetrics{
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "citytwin", Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Latency of HTTP requests by route pattern, method and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method", "status"}),
		storeWrite: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "citytwin", Subsystem: "store", Name: "write_duration_seconds",
			Help:    "Latency of writes through the twin (validate, persist, apply) by operation and result.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"op", "result"}),
		timeouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "citytwin", Subsystem: "http", Name: "request_timeouts_total",
			Help: "Requests that ran past the deadline of their route (answered 503), by route pattern.",
		}, []string{"route"}),
	}
	m.heavyRejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "citytwin", Subsystem: "http", Name: "heavy_rejected_total",
		Help: "Expensive queries (areas, big boxes) refused with 503 busy for want of a slot, by route pattern.",
	}, []string{"route"})
	m.heavyWait = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "citytwin", Subsystem: "http", Name: "heavy_wait_seconds",
		Help:    "Wait of the expensive queries that got a slot.",
		Buckets: []float64{.0005, .001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	})
	cs := []prometheus.Collector{
		m.requests, m.storeWrite, m.timeouts, m.heavyRejected, m.heavyWait,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "citytwin", Name: "parts_indexed", Help: "Components held in the in-memory index.",
		}, func() float64 { return float64(tw.Parts().Len()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "citytwin", Name: "grids_indexed", Help: "Unit grids held in the in-memory index.",
		}, func() float64 { return float64(tw.Grids().Len()) }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	}
	if tm != nil {
		cs = append(cs, newTileCacheCollector(tm))
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("api: register metrics: %w", err)
		}
	}
	return m, nil
}

// observeRequest records the latency of a request by route pattern,
// method and status.
func (m *serverMetrics) observeRequest(route, method string, status int, d time.Duration) {
	m.observer(route, methodLabel(method), status).Observe(d.Seconds())
}

// methodLabel is the method label of a request: the method when HTTP
// defines it, else "OTHER", so that a client inventing methods cannot
// grow the metrics without bound.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "OTHER"
}

// observer is the histogram of route, method and status: from the
// cache, or made and added to it.
func (m *serverMetrics) observer(route, method string, status int) prometheus.Observer {
	if p := m.observers.Load(); p != nil {
		for _, o := range (*p)[route] {
			if o.status == status && o.method == method {
				return o.o
			}
		}
	}
	m.obsMu.Lock()
	defer m.obsMu.Unlock()
	var old map[string][]obsEntry
	if p := m.observers.Load(); p != nil {
		old = *p
		for _, o := range old[route] { // added while this one waited
			if o.status == status && o.method == method {
				return o.o
			}
		}
	}
	o := m.requests.WithLabelValues(route, method, strconv.Itoa(status))
	next := make(map[string][]obsEntry, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[route] = append(slices.Clip(old[route]), obsEntry{method, status, o}) // a copy: old's slice is full
	m.observers.Store(&next)
	return o
}

// timeWrite runs a twin write and records its latency; the result label is
// ok, store (the store failed) or rejected (anything the twin refused).
func (s *Server) timeWrite(op string, fn func() error) error {
	start := time.Now()
	err := fn()
	result := "ok"
	switch {
	case errors.Is(err, twin.ErrStore):
		result = "store"
	case err != nil:
		result = "rejected"
	}
	s.m.storeWrite.WithLabelValues(op, result).Observe(time.Since(start).Seconds())
	return err
}

package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Phases of a run, as the workers see them.
const (
	phaseWarmup int32 = iota
	phaseMeasure
	phaseDone
)

// maxFailures is how many failures a run keeps to show.
const maxFailures = 5

// load is one run: a fixed number of keep-alive connections, each with one
// request in flight, cycling through the targets.
type load struct {
	Scenario    string
	Targets     []*url.URL
	Gzip        bool // send Accept-Encoding: gzip
	Connections int
	Warmup      time.Duration
	Duration    time.Duration
	MaxRequests int64
	Timeout     time.Duration
	// InOrder makes the connections take the targets in list order, from
	// one shared position, instead of each cycling from its own start.
	InOrder bool
}

// tally is what one worker saw while measuring.
type tally struct {
	hist     histogram
	requests uint64
	ok       uint64
	non2xx   uint64
	errors   uint64
	bytes    int64
	statuses map[int]uint64
	failures []string
}

func (t *tally) fail(msg string) {
	if len(t.failures) < maxFailures {
		t.failures = append(t.failures, msg)
	}
}

// newTransport is a client transport for conns keep-alive connections to
// one host: no proxy, no HTTP/2, no transparent decompression.
func newTransport(conns int, timeout time.Duration) *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		DialContext:           d.DialContext,
		MaxIdleConns:          conns,
		MaxIdleConnsPerHost:   conns,
		MaxConnsPerHost:       conns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: timeout,
		DisableCompression:    true,
		ReadBufferSize:        64 << 10,
	}
}

// run warms up, measures and returns the result. It ends early, marked
// interrupted, when ctx is done.
func (l load) run(ctx context.Context) result {
	tr := newTransport(l.Connections, l.Timeout)
	defer tr.CloseIdleConnections()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	var (
		phase   atomic.Int32
		counted atomic.Int64
		full    = make(chan struct{})
		once    sync.Once
		wg      sync.WaitGroup
	)
	tallies := make([]tally, l.Connections)
	var next atomic.Int64 // the shared position of InOrder
	if l.Warmup <= 0 {
		// No warm-up: the first answers count. Set before the workers
		// start, or an answer that beat the switch would be dropped and,
		// with --paths, its path never asked in the run.
		phase.Store(phaseMeasure)
	}
	for w := range l.Connections {
		wg.Go(func() {
			l.worker(runCtx, tr, w, &phase, &next, &tallies[w], func() bool {
				n := counted.Add(1)
				if n >= l.MaxRequests {
					once.Do(func() { close(full) })
				}
				return n <= l.MaxRequests
			})
		})
	}

	interrupted := false
	wait := func(d time.Duration) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-full:
		case <-ctx.Done():
			interrupted = true
		}
	}
	if l.Warmup > 0 {
		wait(l.Warmup)
	}
	phase.Store(phaseMeasure)
	start, cpu0 := time.Now(), cpuTime()
	if !interrupted {
		wait(l.Duration)
	}
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	phase.Store(phaseDone)
	cancel() // abort the requests in flight: they are not counted
	wg.Wait()

	var all tally
	all.statuses = map[int]uint64{}
	for i := range tallies {
		t := &tallies[i]
		all.hist.Merge(&t.hist)
		all.requests += t.requests
		all.ok += t.ok
		all.non2xx += t.non2xx
		all.errors += t.errors
		all.bytes += t.bytes
		for s, n := range t.statuses {
			all.statuses[s] += n
		}
		for _, f := range t.failures {
			all.fail(f)
		}
	}
	return newResult(l, all, elapsed, cpu, interrupted)
}

// worker sends requests one after another until the run is done, counting
// the answers that complete while measuring.
func (l load) worker(ctx context.Context, rt http.RoundTripper, w int, phase *atomic.Int32, next *atomic.Int64, t *tally, counted func() bool) {
	hdr := http.Header{"User-Agent": {"citytwin-load"}}
	if l.Gzip {
		hdr.Set("Accept-Encoding", "gzip")
	}
	n := len(l.Targets)
	i := w * n / l.Connections // workers start apart in the targets
	for phase.Load() != phaseDone && ctx.Err() == nil {
		if l.InOrder {
			i = int(next.Add(1) - 1)
			if l.Warmup <= 0 && int64(i) >= l.MaxRequests {
				// Every position taken is counted: past the last one, a
				// request would only race the ones still in flight for
				// the last counted answers (and a path it beat would be
				// cancelled unasked).
				return
			}
		}
		u := l.Targets[i%n]
		i++
		req := (&http.Request{
			Method: http.MethodGet, URL: u, Host: u.Host, Header: hdr,
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		}).WithContext(ctx)
		start := time.Now()
		status, nbytes, snippet, err := roundTrip(rt, req)
		d := time.Since(start)
		if err != nil && ctx.Err() != nil {
			return // stopping: an aborted request is not a failure
		}
		if phase.Load() != phaseMeasure {
			if err != nil {
				pause(ctx) // the server may be down: do not spin
			}
			continue
		}
		if !counted() {
			return // --max-requests reached
		}
		t.requests++
		t.bytes += nbytes
		switch {
		case err != nil:
			t.errors++
			t.fail(fmt.Sprintf("GET %s: %v", u, err))
			pause(ctx)
		case status < 200 || status > 299:
			t.non2xx++
			if t.statuses == nil {
				t.statuses = map[int]uint64{}
			}
			t.statuses[status]++
			t.hist.Record(d)
			t.fail(fmt.Sprintf("GET %s: %d %s: %s", u, status, http.StatusText(status), snippet))
		default:
			t.ok++
			t.hist.Record(d)
		}
	}
}

// roundTrip sends req and reads the whole body; a failed answer's first
// bytes are returned to show.
func roundTrip(rt http.RoundTripper, req *http.Request) (status int, n int64, snippet string, err error) {
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return 0, 0, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		n = int64(len(b))
		snippet = strconv.Quote(string(b))
	}
	m, err := io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, n + m, snippet, err
}

// pause waits a little after an error, or until ctx is done.
func pause(ctx context.Context) {
	t := time.NewTimer(10 * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"time"

	"github.com/paulmach/orb"
)

// bench learns the city (bounds, and codes for the code scenario), then runs
// every scenario at every connection count, in order, writing progress to
// log. It stops early, with the runs so far, when ctx is done.
func bench(ctx context.Context, o options, log io.Writer) (*report, error) {
	base := o.URL.String()
	tr := newTransport(4, o.Timeout)
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		Timeout:       time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	bounds := o.BBox
	if bounds == (orb.Bound{}) {
		var err error
		if bounds, err = discoverBounds(ctx, client, base); err != nil {
			return nil, err
		}
	}
	c := newCity(bounds, o.Centre, o.Sigma)
	rep := &report{
		URL: base, Seed: o.Seed, Duration: o.Duration.String(), Warmup: o.Warmup.String(), Gzip: o.Gzip,
		Bounds: [4]float64{bounds.Min[0], bounds.Min[1], bounds.Max[0], bounds.Max[1]},
		Centre: [2]float64{c.Centre[0], c.Centre[1]}, SigmaM: c.Sigma,
		CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		LoadBefore: loadAverage(), Started: time.Now().UTC().Truncate(time.Second),
	}

	var codes []string
	if slices.Contains(o.Scenarios, "code") {
		var err error
		if codes, err = sampleCodes(ctx, client, base, c, o.Seed, o.Codes); err != nil {
			return nil, err
		}
		rep.Codes = len(codes)
		fmt.Fprintf(log, "sampled %d component codes\n", len(codes))
	}

	var listed []string
	if o.Paths != "" {
		var err error
		if listed, err = readPaths(o.Paths); err != nil {
			return nil, err
		}
	}
	for _, name := range o.Scenarios {
		sc, _ := scenarioNamed(name)
		paths := listed
		if paths == nil {
			paths = targets(name, c, o, codes, o.Targets)
		}
		urls := make([]*url.URL, len(paths))
		for i, p := range paths {
			u, err := url.Parse(base + p)
			if err != nil {
				return nil, fmt.Errorf("target %q: %w", p, err)
			}
			urls[i] = u
		}
		for _, conns := range o.Connections {
			fmt.Fprintf(log, "%s: %d connections, %s warm-up, %s measured ...\n", name, conns, o.Warmup, o.Duration)
			l := load{
				Scenario: name, Targets: urls, Gzip: o.Gzip || sc.Gzip, Connections: conns,
				Warmup: o.Warmup, Duration: o.Duration, MaxRequests: o.MaxRequests, Timeout: o.Timeout,
				InOrder: listed != nil,
			}
			res := l.run(ctx)
			rep.Results = append(rep.Results, res)
			fmt.Fprintf(log, "  %.0f req/s, p50 %.2f ms, p99 %.2f ms, %d non-2xx, %d errors\n",
				res.RequestsPerSec, res.Latency.P50, res.Latency.P99, res.Non2xx, res.Errors)
			for _, f := range res.Failures {
				fmt.Fprintf(log, "  failure: %s\n", f)
			}
			if res.Interrupted {
				rep.Interrupted = true
				rep.LoadAfter = loadAverage()
				return rep, nil
			}
		}
	}
	rep.LoadAfter = loadAverage()
	return rep, nil
}

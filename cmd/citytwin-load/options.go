package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
)

// Limits that keep a run bounded whatever the flags say.
const (
	maxDuration    = 10 * time.Minute
	maxWarmup      = time.Minute
	maxConnections = 1024
	maxTargets     = 1 << 20
)

// options is what the flags ask for.
type options struct {
	URL         *url.URL      // base URL of the server, without a trailing slash
	AllowRemote bool          // allow a host that is not loopback
	Scenarios   []string      // in run order
	Duration    time.Duration // measured time of each run
	Warmup      time.Duration // unmeasured time before each run
	Connections []int         // one run per count, per scenario
	Seed        uint64        // seed of the targets
	Gzip        bool          // ask for gzip JSON (tiles always do)
	BBox        orb.Bound     // the city's box; zero: asked from the server
	Centre      orb.Point     // dense centre of the targets
	Sigma       float64       // spread of the targets around the centre, metres
	K           int           // k of nearest
	Limit       int           // page size of bbox
	MinSide     float64       // smallest bbox side, metres
	MaxSide     float64       // largest bbox side, metres
	Zoom        int           // zoom of tile
	Codes       int           // codes to sample for code
	Targets     int           // distinct targets per scenario
	Paths       string        // file of request paths that replace the scenario's targets
	MaxRequests int64         // stop a run after this many measured answers
	Timeout     time.Duration // per request, to the response headers
	JSON        bool          // print the summary as JSON
	CPUProfile  string        // write the generator's CPU profile here
}

// defaultOptions are the options without flags.
func defaultOptions() options {
	u, _ := url.Parse("http://127.0.0.1:8080")
	return options{
		URL:         u,
		Scenarios:   []string{"all"},
		Duration:    10 * time.Second,
		Warmup:      time.Second,
		Connections: []int{32},
		Seed:        1,
		Centre:      orb.Point{104.06, 30.66},
		Sigma:       5000,
		K:           10,
		Limit:       100,
		MinSide:     300,
		MaxSide:     500,
		Zoom:        14,
		Codes:       10000,
		Targets:     1 << 16,
		MaxRequests: 20_000_000,
		Timeout:     10 * time.Second,
	}
}

// parseOptions reads the flags; bad values are usage errors naming the flag.
func parseOptions(args []string, stderr io.Writer) (options, error) {
	o := defaultOptions()
	fs := flag.NewFlagSet("citytwin-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rawURL := fs.String("url", o.URL.String(), "base URL of the citytwin server")
	fs.BoolVar(&o.AllowRemote, "allow-remote", false, "allow a --url whose host is not loopback")
	scen := fs.String("scenario", "all", "nearest, bbox, code, tile or all (a comma list runs several)")
	fs.DurationVar(&o.Duration, "duration", o.Duration, "measured time of each run (at most 10m)")
	fs.DurationVar(&o.Warmup, "warmup", o.Warmup, "unmeasured warm-up before each run (at most 1m)")
	conns := fs.String("connections", "32", "keep-alive connections, one request in flight on each; a comma list (8,32,64) runs each")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "seed of the request targets: the same seed asks the same things")
	fs.BoolVar(&o.Gzip, "gzip", false, "ask for gzip-encoded JSON (bytes/s are then compressed bytes)")
	bbox := fs.String("bbox", "", "the city's box minLon,minLat,maxLon,maxLat (default: the bounds of /tiles/parts.json)")
	centre := fs.String("centre", "104.06,30.66", "dense centre of the targets lon,lat (the box's centre when outside it)")
	fs.Float64Var(&o.Sigma, "sigma", o.Sigma, "spread of the targets around the centre, metres (normal distribution)")
	fs.IntVar(&o.K, "k", o.K, "k of the nearest scenario")
	fs.IntVar(&o.Limit, "limit", o.Limit, "page size of the bbox scenario")
	fs.Float64Var(&o.MinSide, "min-side", o.MinSide, "smallest box side of the bbox scenario, metres")
	fs.Float64Var(&o.MaxSide, "max-side", o.MaxSide, "largest box side of the bbox scenario, metres")
	fs.IntVar(&o.Zoom, "zoom", o.Zoom, "zoom of the tile scenario")
	fs.IntVar(&o.Codes, "codes", o.Codes, "codes to sample from the city for the code scenario")
	fs.IntVar(&o.Targets, "targets", o.Targets, "distinct targets per scenario, cycled through")
	fs.StringVar(&o.Paths, "paths", "", "file of request paths (with query), one a line: the connections take them in order, each once per pass (with --max-requests set to their number, each once), instead of the scenario's targets")
	fs.Int64Var(&o.MaxRequests, "max-requests", o.MaxRequests, "end a run after this many measured answers")
	fs.DurationVar(&o.Timeout, "timeout", o.Timeout, "per-request time limit to the response headers")
	fs.BoolVar(&o.JSON, "json", false, "print the summary as JSON instead of a table")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write the load generator's own CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	var errs []error
	var err error
	if o.URL, err = parseBaseURL(*rawURL, o.AllowRemote); err != nil {
		errs = append(errs, err)
	}
	if o.Scenarios, err = parseScenarios(*scen); err != nil {
		errs = append(errs, err)
	}
	if o.Connections, err = parseConnections(*conns); err != nil {
		errs = append(errs, err)
	}
	if *bbox != "" {
		if o.BBox, err = parseBBox(*bbox); err != nil {
			errs = append(errs, err)
		}
	}
	if o.Centre, err = parseLonLat(*centre); err != nil {
		errs = append(errs, err)
	}
	if err := o.validate(); err != nil {
		errs = append(errs, err)
	}
	return o, errors.Join(errs...)
}

// validate checks the numeric options.
func (o options) validate() error {
	bad := func(name string, v any, reason string) error {
		return &flagError{Flag: name, Value: fmt.Sprint(v), Reason: reason}
	}
	var errs []error
	check := func(ok bool, name string, v any, reason string) {
		if !ok {
			errs = append(errs, bad(name, v, reason))
		}
	}
	check(o.Duration > 0 && o.Duration <= maxDuration, "duration", o.Duration, "must be above 0 and at most 10m")
	check(o.Warmup >= 0 && o.Warmup <= maxWarmup, "warmup", o.Warmup, "must be from 0 to 1m")
	check(o.Sigma > 0 && o.Sigma <= 1e6, "sigma", o.Sigma, "must be above 0 and at most 1,000,000 m")
	check(o.K >= 1 && o.K <= 1000, "k", o.K, "must be from 1 to 1000")
	check(o.Limit >= 1 && o.Limit <= 10000, "limit", o.Limit, "must be from 1 to 10000")
	check(o.MinSide > 0 && o.MinSide <= o.MaxSide && o.MaxSide <= 1e5, "min-side", o.MinSide, "must be above 0, at most --max-side, which is at most 100,000 m")
	check(o.Zoom >= 0 && o.Zoom <= 22, "zoom", o.Zoom, "must be from 0 to 22")
	check(o.Codes >= 1 && o.Codes <= 100000, "codes", o.Codes, "must be from 1 to 100000")
	check(o.Targets >= 1 && o.Targets <= maxTargets, "targets", o.Targets, fmt.Sprintf("must be from 1 to %d", maxTargets))
	check(o.MaxRequests >= 1, "max-requests", o.MaxRequests, "must be at least 1")
	check(o.Timeout > 0 && o.Timeout <= time.Minute, "timeout", o.Timeout, "must be above 0 and at most 1m")
	return errors.Join(errs...)
}

// parseBaseURL accepts an http URL of a loopback host (any host with
// allowRemote), without query or fragment.
func parseBaseURL(s string, allowRemote bool) (*url.URL, error) {
	bad := func(reason string) error { return &flagError{Flag: "url", Value: s, Reason: reason} }
	u, err := url.Parse(s)
	if err != nil {
		return nil, bad("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, bad("the scheme must be http or https")
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, bad("no host")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, bad("give the base URL only, without user, query or fragment")
	}
	if !allowRemote && !isLoopback(u.Hostname()) {
		return nil, bad("the host is not loopback; pass --allow-remote to load another machine")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// parseScenarios reads a comma list of scenarios; "all" is every one.
func parseScenarios(s string) ([]string, error) {
	var out []string
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "all":
			for _, sc := range knownScenarios() {
				if !slices.Contains(out, sc.Name) {
					out = append(out, sc.Name)
				}
			}
		case isScenario(name):
			if !slices.Contains(out, name) {
				out = append(out, name)
			}
		default:
			return nil, &flagError{Flag: "scenario", Value: s, Reason: fmt.Sprintf("%q is not one of nearest, bbox, code, tile, all", name)}
		}
	}
	return out, nil
}

// parseConnections reads a comma list of connection counts.
func parseConnections(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > maxConnections {
			return nil, &flagError{Flag: "connections", Value: s, Reason: fmt.Sprintf("%q is not a count from 1 to %d", f, maxConnections)}
		}
		out = append(out, n)
	}
	return out, nil
}

// parseBBox reads minLon,minLat,maxLon,maxLat.
func parseBBox(s string) (orb.Bound, error) {
	bad := func(reason string) error { return &flagError{Flag: "bbox", Value: s, Reason: reason} }
	f := strings.Split(s, ",")
	if len(f) != 4 {
		return orb.Bound{}, bad("want minLon,minLat,maxLon,maxLat")
	}
	var v [4]float64
	for i, x := range f {
		n, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return orb.Bound{}, bad(fmt.Sprintf("%q is not a number", x))
		}
		v[i] = n
	}
	b := orb.Bound{Min: orb.Point{v[0], v[1]}, Max: orb.Point{v[2], v[3]}}
	if err := checkBound(b); err != nil {
		return orb.Bound{}, bad(err.Error())
	}
	return b, nil
}

// checkBound accepts a non-empty lon/lat box.
func checkBound(b orb.Bound) error {
	switch {
	case b.Min[0] < -180 || b.Max[0] > 180 || b.Min[1] < -85.06 || b.Max[1] > 85.06:
		return errors.New("outside lon -180..180, lat -85.06..85.06")
	case !(b.Min[0] < b.Max[0]) || !(b.Min[1] < b.Max[1]):
		return errors.New("min must be below max")
	}
	return nil
}

// parseLonLat reads lon,lat.
func parseLonLat(s string) (orb.Point, error) {
	bad := func(reason string) error { return &flagError{Flag: "centre", Value: s, Reason: reason} }
	f := strings.Split(s, ",")
	if len(f) != 2 {
		return orb.Point{}, bad("want lon,lat")
	}
	lon, err1 := strconv.ParseFloat(strings.TrimSpace(f[0]), 64)
	lat, err2 := strconv.ParseFloat(strings.TrimSpace(f[1]), 64)
	if err1 != nil || err2 != nil || !(lon >= -180 && lon <= 180) || !(lat >= -85 && lat <= 85) {
		return orb.Point{}, bad("want lon in -180..180 and lat in -85..85")
	}
	return orb.Point{lon, lat}, nil
}

// isScenario reports whether name is a known scenario.
func isScenario(name string) bool {
	_, ok := scenarioNamed(name)
	return ok
}

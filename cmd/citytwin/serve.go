package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"citytwin/api"
	"citytwin/app"
	"citytwin/synth"
	"citytwin/tiles"
	"citytwin/web"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := api.DefaultConfig()
	fs := newFlags("serve", stderr)
	data := fs.String("data", "", "GeoPackage file of the city (default: a demo city in the user's data directory, made once)")
	pg := fs.String("pg", "", "serve the city in this PostgreSQL + PostGIS database instead of a file (fill it with 'citytwin copy')")
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	demoN := fs.Int("demo-components", 200000, "components of the demo city (only without --data)")
	demoM := fs.Int("demo-grids", 2000, "grids of the demo city (only without --data)")
	anon := fs.Bool("anonymous", true, "requests without a token are served as the public role")
	cacheMB := fs.Int("tile-cache-mb", 256, "tile cache size in MiB (0: no cache, every tile encoded afresh)")
	maxFeatures := fs.Int("tile-max-features", tiles.DefaultOptions().MaxFeatures, fmt.Sprintf("feature budget of a component tile at z%d-z%d: a tile with more components is thinned by class priority to about this many (1 to %d)", tiles.DefaultOptions().ThinZoom, tiles.DefaultOptions().DetailZoom-1, tiles.MaxBudget))
	fs.Float64Var(&cfg.RateLimit.PerSecond, "rate-limit", 200, "API requests (all but tiles) per second per token, or per address for the public; 0 turns every limit off")
	fs.IntVar(&cfg.RateLimit.Burst, "rate-burst", 400, "burst of the rate limit")
	rateLimits := fs.String("rate-limits", "", "more limits as NAME=PER_SECOND:BURST,...: public, inspector, department, admin (API, default --rate-limit), tiles (per client, default 400:800), lookup (token-store lookups per address, default 30:60)")
	trusted := fs.String("trusted-proxies", "", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For names the client (default none: the peer address is the client)")
	cors := fs.String("cors", "", "comma-separated origins allowed to call the API from browsers (* for any)")
	fs.BoolVar(&cfg.AccessLog, "access-log", true, "log every request (false: only server errors)")
	fs.IntVar(&cfg.AccessLogRate, "access-log-rate", cfg.AccessLogRate, "at most this many access log lines a second, and as many for server errors (5xx); the rest are counted in one \"access log skipped\" line a second (0: every request)")
	logFormat := fs.String("log-format", "text", "log format: text (key=value lines) or json (one object a line), to stderr")
	logLevel := fs.String("log-level", "info", "least level logged: debug, info, warn or error (the access log is info, server errors warn)")
	ac := app.DefaultConfig()
	fs.StringVar(&ac.MQTT.URL, "mqtt", "", "MQTT broker of the city's sensors (tcp://host:1883); default: an embedded broker on a free loopback port, printed at start")
	fs.BoolVar(&ac.MQTT.Off, "no-mqtt", false, "run without MQTT (no readings over MQTT; dispatches wait in the outbox)")
	fs.StringVar(&ac.MQTT.ClientID, "mqtt-client-id", "", "client id of this replica's persistent MQTT session (default: from the host name and --addr)")
	fs.BoolVar(&ac.MQTT.Shared, "mqtt-shared", false, "subscribe as $share/citytwin/... so that several replicas split the readings")
	fs.StringVar(&ac.MQTT.Prefix, "mqtt-prefix", "citytwin", "topic prefix: PREFIX/readings[/ID] in, PREFIX/dispatch/DEPT out")
	fs.StringVar(&ac.Cases.Link, "public-url", "", "base URL of this service in the links of dispatch notifications (default http://ADDR)")
	fs.DurationVar(&ac.Replica.PGWait, "pg-wait", ac.Replica.PGWait, "with --pg: how long to wait for a database that does not answer at start, retrying with backoff, before giving up")
	fs.IntVar(&ac.Replica.ChangeLogDays, "change-log-days", ac.Replica.ChangeLogDays, "with --pg: prune the change log of rows older than this many days, hourly (0: never)")
	simulate := fs.Int("simulate", 0, "bind this many simulated sensors to components and publish their readings (a demo; 0: none)")
	simRate := fs.Float64("simulate-rate", 50, "readings per second of --simulate")
	pprofAddr := fs.String("pprof", "", "serve Go's profiles (/debug/pprof/) on this address, apart from the API and without auth (loopback only, e.g. 127.0.0.1:6060; default off)")
	startProf := fs.String("start-profile", "", "write a CPU profile of the start, from process start to ready, to this file")
	gcPercent := fs.Int("gc-percent", 50, "Go's GOGC once the city is loaded: how far, in percent of the live heap, the heap may grow between collections (50 keeps the 2M city near 580 MB of RSS under load, 100 lets it reach ~800 MB for ~1 % less CPU; -1 turns the collector off); a GOGC environment variable is used instead unless this flag is given")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: serve: unexpected argument %q", errUsage, fs.Arg(0))
	}
	// The demo city is for no --data at all, not for an empty one (a
	// script's unset variable must not serve a made-up city).
	dataSet, gcSet := false, false
	fs.Visit(func(f *flag.Flag) {
		dataSet = dataSet || f.Name == "data"
		gcSet = gcSet || f.Name == "gc-percent"
	})
	if dataSet && *data == "" {
		return fmt.Errorf("%w: serve: --data is empty; give a GeoPackage file, or leave --data out for the demo city", errUsage)
	}
	if *gcPercent != -1 && (*gcPercent < 10 || *gcPercent > 10000) {
		return fmt.Errorf("%w: serve: --gc-percent %d is not -1 nor from 10 to 10000", errUsage, *gcPercent)
	}
	if *maxFeatures < 1 || *maxFeatures > tiles.MaxBudget {
		return fmt.Errorf("%w: serve: --tile-max-features %d is not from 1 to %d", errUsage, *maxFeatures, tiles.MaxBudget)
	}
	cfg.AllowAnonymous = *anon
	var err error
	if cfg.Limits, err = api.ParseLimits(*rateLimits, cfg.Limits); err != nil {
		return fmt.Errorf("%w: serve: --rate-limits: %v", errUsage, err)
	}
	if cfg.TrustedProxies, err = api.ParsePrefixes(*trusted); err != nil {
		return fmt.Errorf("%w: serve: --trusted-proxies: %v", errUsage, err)
	}
	if *cors != "" {
		cfg.CORSOrigins = strings.Split(*cors, ",")
	}
	log, err := newLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	cfg.Logger = log
	cfg.Static = web.Files()
	if !web.HasMapLibre() {
		log.Warn("the map page has no MapLibre GL JS: run scripts/web.sh and rebuild (scripts/run.sh does both)")
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%w: serve: %v", errUsage, err)
	}
	prog := newProgress(stderr)
	stopProfile := func() {}
	if *startProf != "" {
		stop, err := startProfile(*startProf)
		if err != nil {
			return err
		}
		stopProfile = func() {
			if stop != nil {
				if err := stop(); err != nil {
					log.Warn("start profile", "err", err)
				}
				stop = nil
			}
		}
		defer stopProfile()
	}
	if *pprofAddr != "" {
		stop, err := startPprof(*pprofAddr, log)
		if err != nil {
			return err
		}
		defer stop()
	}

	path := *data
	if path == "" && *pg == "" {
		var err error
		path, err = demoCity(ctx, *demoN, *demoM, log, prog)
		if err != nil {
			return err
		}
	}
	name := filepath.Base(path)
	if *pg != "" {
		name = "PostGIS"
	}
	ac.Data, ac.PG = path, *pg
	ac.API = cfg
	ac.Logger = log
	ac.Progress = prog.Update
	ac.Tiles.MaxFeatures = *maxFeatures
	ac.Tiles.CacheBytes = int64(*cacheMB) << 20
	if *cacheMB <= 0 {
		ac.Tiles.CacheBytes = -1 // 0 turns the cache off
	}
	if ac.Cases.Link == "" {
		ac.Cases.Link = "http://" + cfg.Addr
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	start := time.Now()
	a, err := app.New(ctx, ac)
	prog.Done()
	stopProfile()
	if err != nil {
		ln.Close()
		return err
	}
	defer a.Close()
	if useGCPercent(gcSet, os.Getenv("GOGC")) {
		// After the load, whose transient peak GOGC=100 suits: serving
		// allocates little but steadily, and every page the heap grows
		// into is a fault (costly on a virtual machine) and RSS.
		debug.SetGCPercent(*gcPercent)
	}
	tw := a.Twin
	log.Info("city loaded", "store", name, "parts", tw.Parts().Len(), "grids", tw.Grids().Len(),
		"sensors", tw.Sensors().Len(), "cases", tw.Cases().Len(), "seconds", time.Since(start).Seconds())
	if u := a.BrokerURL(); u != "" {
		fmt.Fprintf(stdout, "citytwin MQTT broker %s (readings on %s/readings/ID)\n", u, ac.MQTT.Prefix)
	}
	if *simulate > 0 {
		if err := startSimulation(ctx, a, *simulate, *simRate, ac.MQTT.Prefix, log); err != nil {
			ln.Close()
			return err
		}
	}
	fmt.Fprintf(stdout, "citytwin serving %s (%d components, %d grids) on http://%s/\n", name, tw.Parts().Len(), tw.Grids().Len(), ln.Addr())
	return a.Run(ctx, ln)
}

// useGCPercent tells whether serve sets --gc-percent: when the flag is
// given, or when no GOGC environment variable says otherwise.
func useGCPercent(flagSet bool, env string) bool { return flagSet || env == "" }

// demoCity returns the path of the demo city, generating it the first time.
func demoCity(ctx context.Context, n, m int, log *slog.Logger, prog *progress) (string, error) {
	dir := os.Getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("serve: no data directory for the demo city (set --data or XDG_DATA_HOME): %w", err)
		}
		dir = filepath.Join(home, ".local", "share")
	}
	dir = filepath.Join(dir, "citytwin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("serve: %w", err)
	}
	path := filepath.Join(dir, fmt.Sprintf("demo-%d-%d.gpkg", n, m))
	if _, err := os.Stat(path); err == nil {
		return path, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("serve: %w", err)
	}
	o := synth.DefaultOptions()
	o.Components, o.Grids = n, m
	if err := o.Validate(); err != nil {
		return "", fmt.Errorf("%w: serve: demo city: %v", errUsage, err)
	}
	log.Info("making the demo city (once)", "file", path, "components", n, "grids", m)
	if err := generate(ctx, o, path, prog); err != nil {
		return "", err
	}
	return path, nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"citytwin/api"
	"citytwin/synth"
	"citytwin/tiles"
	"citytwin/tokens"
	"citytwin/twin"
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
	cacheMB := fs.Int("tile-cache-mb", 256, "tile cache size in MiB")
	fs.Float64Var(&cfg.RateLimit.PerSecond, "rate-limit", 200, "requests per second per token (or per address for anonymous callers); 0 disables")
	fs.IntVar(&cfg.RateLimit.Burst, "rate-burst", 400, "burst of the rate limit")
	cors := fs.String("cors", "", "comma-separated origins allowed to call the API from browsers (* for any)")
	fs.BoolVar(&cfg.AccessLog, "access-log", true, "log every request (false: only server errors)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: serve: unexpected argument %q", errUsage, fs.Arg(0))
	}
	cfg.AllowAnonymous = *anon
	if *cors != "" {
		cfg.CORSOrigins = strings.Split(*cors, ",")
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	cfg.Logger = log
	cfg.Static = web.Files()
	if !web.HasMapLibre() {
		log.Warn("the map page has no MapLibre GL JS: run scripts/web.sh and rebuild (scripts/run.sh does both)")
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%w: serve: %v", errUsage, err)
	}
	prog := newProgress(stderr)

	path := *data
	if path == "" && *pg == "" {
		var err error
		path, err = demoCity(ctx, *demoN, *demoM, log, prog)
		if err != nil {
			return err
		}
	}
	st, closeStore, err := openStore(ctx, path, *pg)
	if err != nil {
		return err
	}
	defer closeStore()
	name := filepath.Base(path)
	if *pg != "" {
		name = "PostGIS"
	}

	start := time.Now()
	tw, err := twin.Open(ctx, st, twin.Options{Progress: prog.Update})
	prog.Done()
	if err != nil {
		return err
	}
	log.Info("city loaded", "store", name, "parts", tw.Parts().Len(), "grids", tw.Grids().Len(), "seconds", time.Since(start).Seconds())

	to := tiles.DefaultOptions()
	to.CacheBytes = int64(*cacheMB) << 20
	tm := tiles.New(tw.Parts(), tw.Grids(), to)
	// The low-zoom aggregates come from one scan of every component: built
	// in the background, with writes held, while reads are served. A tile
	// asked for meanwhile waits for it.
	go tw.Exclusive(func() {
		start := time.Now()
		if err := tm.Build(ctx); err != nil {
			log.Error("tile aggregates", "err", err)
			return
		}
		log.Info("tile aggregates built", "seconds", time.Since(start).Seconds())
	})
	tw.Follow(tm)

	srv, err := api.New(cfg, tw, tm, api.NewTokenAuth(st, tokens.VerifierOptions{}))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	srv.SetReady(true)
	fmt.Fprintf(stdout, "citytwin serving %s (%d components, %d grids) on http://%s/\n", name, tw.Parts().Len(), tw.Grids().Len(), ln.Addr())
	return srv.Serve(ctx, ln)
}

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

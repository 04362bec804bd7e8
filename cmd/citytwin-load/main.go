// Command citytwin-load is a closed-loop HTTP load generator for the citytwin
// API: a fixed number of keep-alive connections, each sending its next
// request as soon as the last answer is read, over targets drawn
// deterministically from the city's bounds.
//
//	go run ./cmd/citytwin-load --url http://127.0.0.1:8080 \
//	    --scenario nearest|bbox|code|tile|all --duration 10s --connections 32 [--seed 1]
//
// Scenarios:
//   - nearest: GET /parts/nearest?lon=&lat=&k=10 at points drawn from a
//     normal distribution around the dense centre (sigma 5 km).
//   - bbox: GET /parts?bbox=...&limit=100, boxes of 300 to 500 m around such
//     points.
//   - code: GET /parts/{code} for codes sampled beforehand from the city.
//   - tile: GET /tiles/parts/{z}/{x}/{y}.mvt at z14 around such points; tiles
//     always ask for gzip, as map clients do.
//
// --paths FILE replaces the targets by the request paths of a file, taken in
// order by all the connections together: with --max-requests set to their
// number, each is asked once (scripts/bench-http.sh asks every z14 tile of
// the city once this way).
//
// JSON is read raw (no Accept-Encoding) unless --gzip is given; bodies are
// read fully and never decompressed, so bytes/s are bytes on the wire. Each
// run warms up (1 s by default, not measured), then measures for --duration
// or until --max-requests answers. Every status is checked: non-2xx answers
// and transport errors are counted apart and the first few are printed.
//
// The generator talks only to the --url given, never follows redirects and
// uses no proxy; a host that is not loopback needs --allow-remote. Run the
// server with --rate-limit 0, or its per-client limit answers 429.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "citytwin-load:", err)
		}
		if errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// run parses args, runs the load and writes the summary (a table, or JSON
// with --json) to stdout; progress goes to stderr. It fails when any
// measured request failed, after writing the summary.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := bench(ctx, o, stderr)
	if err != nil {
		return err
	}
	if o.JSON {
		err = rep.writeJSON(stdout)
	} else {
		err = rep.writeTable(stdout)
	}
	if err != nil {
		return fmt.Errorf("writing the summary: %w", err)
	}
	if n := rep.failed(); n > 0 {
		return fmt.Errorf("%w: %d measured requests failed (see the first failures above)", errFailed, n)
	}
	return nil
}

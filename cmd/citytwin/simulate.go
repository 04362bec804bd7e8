package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"citytwin/mqtt"
	"citytwin/sensors"
)

// simConfig is the configuration of citytwin simulate.
type simConfig struct {
	Sensors  int
	Rate     float64 // readings per second
	MQTT     string
	API      string
	Token    string
	Prefix   string
	Duration time.Duration
	Seed     uint64
	Batch    int // readings per message
}

// simInFlight is how many messages wait for the broker's PUBACK at once.
const simInFlight = 64

// simReport is how often a summary line is printed.
const simReport = 10 * time.Second

// runSimulate plays a city's devices: it binds sensors to real components
// (or uses those bound) and publishes their readings over MQTT.
func runSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseSimulate(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	api := &simAPI{base: strings.TrimSuffix(cfg.API, "/"), token: cfg.Token, hc: &http.Client{Timeout: time.Minute}}
	bound, added, err := api.ensureSensors(ctx, cfg.Sensors)
	if err != nil {
		return fmt.Errorf("simulate: sensors: %w", err)
	}
	ss := append(bound, added...)
	if len(ss) == 0 {
		return fmt.Errorf("simulate: no sensors bound and no components to bind them to at %s", cfg.API)
	}
	vals := newSimValues(cfg.Seed, ss)
	fmt.Fprintf(stdout, "simulate: %d sensors (%d bound before, %d bound now), %d silent, %.0f readings/s to %s\n",
		len(ss), len(bound), len(added), vals.Silent(), cfg.Rate, cfg.MQTT)
	if len(ss) < cfg.Sensors {
		log.Warn("simulate: fewer components fit than sensors asked for", "asked", cfg.Sensors, "sensors", len(ss))
	}
	pub, err := mqtt.NewPublisher(ctx, mqtt.PublisherOptions{Broker: cfg.MQTT, Logger: log})
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	defer pub.Close()
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	return simulate(ctx, cfg, vals, pub, stdout)
}

// simPublisher is what simulate publishes with (a *mqtt.Publisher).
type simPublisher interface {
	Publish(ctx context.Context, topic string, payload []byte) error
}

type simMessage struct {
	topic    string
	payload  []byte
	readings int
}

// simulate publishes readings at cfg.Rate until ctx ends, messages spread
// evenly over each second, and prints a summary every simReport and at the
// end.
func simulate(ctx context.Context, cfg simConfig, vals *simValues, pub simPublisher, stdout io.Writer) error {
	var published, failed, faults atomic.Uint64
	msgs := make(chan simMessage, simInFlight)
	var wg sync.WaitGroup
	for range simInFlight {
		wg.Go(func() {
			for m := range msgs {
				// A message in flight when the run ends still gets its PUBACK.
				pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				if err := pub.Publish(pctx, m.topic, m.payload); err != nil {
					failed.Add(1)
				} else {
					published.Add(uint64(m.readings))
				}
				cancel()
			}
		})
	}
	summary := func(final bool) {
		word := "so far"
		if final {
			word = "in all"
		}
		fmt.Fprintf(stdout, "simulate: %s %d readings published, %d messages failed, %d faulty readings sent\n",
			word, published.Load(), failed.Load(), faults.Load())
	}
	perMsg := float64(cfg.Batch)
	msgRate := cfg.Rate / perMsg
	tick := max(time.Duration(float64(time.Second)/msgRate), 5*time.Millisecond)
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	report := time.NewTicker(simReport)
	defer report.Stop()
	start := time.Now()
	sent := 0.0 // messages handed to the publishers
	var err error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-report.C:
			summary(false)
		case now := <-ticker.C:
			due := now.Sub(start).Seconds() * msgRate
			for sent+1 <= due+1e-9 {
				m, nf, ok := nextMessage(cfg, vals, now)
				if !ok {
					err = errors.New("simulate: every device is silent")
					break loop
				}
				faults.Add(uint64(nf))
				select {
				case msgs <- m:
				case <-ctx.Done():
					break loop
				}
				sent++
			}
		}
	}
	close(msgs)
	wg.Wait()
	summary(true)
	return err
}

// nextMessage builds the next message: one reading on its sensor's topic,
// or cfg.Batch readings in an array on the batch topic.
func nextMessage(cfg simConfig, vals *simValues, now time.Time) (m simMessage, faults int, ok bool) {
	if cfg.Batch == 1 {
		r, ok := vals.Next()
		if !ok {
			return m, 0, false
		}
		if r.Fault != faultNone {
			faults++
		}
		return simMessage{topic: mqtt.SensorTopic(cfg.Prefix, string(r.Sensor)), payload: appendValue(nil, r, now), readings: 1}, faults, true
	}
	buf := make([]byte, 0, cfg.Batch*80)
	buf = append(buf, '[')
	for i := range cfg.Batch {
		r, ok := vals.Next()
		if !ok {
			return m, 0, false
		}
		if r.Fault != faultNone {
			faults++
		}
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendBatchElem(buf, r, now)
	}
	buf = append(buf, ']')
	return simMessage{topic: mqtt.ReadingsTopic(cfg.Prefix), payload: buf, readings: cfg.Batch}, faults, true
}

// parseSimulate reads and checks the flags of citytwin simulate.
func parseSimulate(args []string, stderr io.Writer) (simConfig, error) {
	var cfg simConfig
	fs := newFlags("simulate", stderr)
	fs.IntVar(&cfg.Sensors, "sensors", 1000, "sensors to simulate: the bound ones, and more bound to real components when fewer are")
	fs.Float64Var(&cfg.Rate, "rate", 100, "readings per second, spread evenly")
	fs.StringVar(&cfg.MQTT, "mqtt", "tcp://127.0.0.1:1883", "MQTT broker to publish to")
	fs.StringVar(&cfg.API, "api", "http://127.0.0.1:8080", "citytwin API to read and bind sensors with")
	fs.StringVar(&cfg.Token, "token", os.Getenv("CITYTWIN_TOKEN"), "admin or department token to bind sensors with (default $CITYTWIN_TOKEN)")
	fs.StringVar(&cfg.Prefix, "prefix", mqtt.DefaultPrefix, "topic prefix: PREFIX/readings[/ID]")
	fs.DurationVar(&cfg.Duration, "duration", 0, "how long to run (0: until interrupted)")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed of the simulated values")
	fs.IntVar(&cfg.Batch, "batch", 1, "readings per MQTT message: 1 on each sensor's topic, more as arrays on PREFIX/readings")
	if err := parseFlags(fs, args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("%w: simulate: unexpected argument %q", errUsage, fs.Arg(0))
	}
	bad := func(format string, a ...any) (simConfig, error) {
		return cfg, fmt.Errorf("%w: simulate: %s", errUsage, fmt.Sprintf(format, a...))
	}
	switch {
	case cfg.Sensors < 1 || cfg.Sensors > 10_000_000:
		return bad("--sensors %d: want 1 to 10,000,000", cfg.Sensors)
	case !(cfg.Rate > 0) || cfg.Rate > 10_000_000:
		return bad("--rate %v: want readings per second above 0 (at most 10,000,000)", cfg.Rate)
	case cfg.Batch < 1 || cfg.Batch > sensors.MaxBatch:
		return bad("--batch %d: want 1 to %d readings per message", cfg.Batch, sensors.MaxBatch)
	case cfg.Duration < 0:
		return bad("--duration %v: want 0 (until interrupted) or more", cfg.Duration)
	case cfg.Prefix == "" || strings.ContainsAny(cfg.Prefix, "+#\x00") || strings.HasPrefix(cfg.Prefix, "$") || strings.HasPrefix(cfg.Prefix, "/"):
		return bad("--prefix %q: want a topic prefix without + # or NUL, not starting with $ or /", cfg.Prefix)
	}
	if u, err := url.Parse(cfg.MQTT); err != nil || u.Host == "" || !slices.Contains([]string{"tcp", "mqtt", "ssl", "tls", "mqtts", "tcps", "ws", "wss"}, u.Scheme) {
		return bad("--mqtt %q: want a broker URL such as tcp://127.0.0.1:1883", cfg.MQTT)
	}
	if u, err := url.Parse(cfg.API); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return bad("--api %q: want the service's URL such as http://127.0.0.1:8080", cfg.API)
	}
	return cfg, nil
}

package live_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"citytwin/app"
	"citytwin/parts"
	"citytwin/store/gpkg"
	"citytwin/synth"
	"citytwin/tokens"
)

func envInt(tb testing.TB, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		tb.Fatalf("%s=%q is not a positive number", name, s)
	}
	return n
}

func randomName(prefix string) string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// mosquitto returns the URL of the real broker, failing when it is down.
func mosquitto(tb testing.TB) string {
	u := os.Getenv("CITYTWIN_MQTT_URL")
	if u == "" {
		u = "tcp://127.0.0.1:1883"
	}
	c, err := net.DialTimeout("tcp", u[len("tcp://"):], 2*time.Second)
	if err != nil {
		tb.Fatalf("Mosquitto is not reachable at %s (scripts/services.sh starts it): %v", u, err)
	}
	c.Close()
	return u
}

// cityFile returns a fresh copy of the benchmark city of n components,
// generated once into the temporary directory and kept for later runs.
func cityFile(tb testing.TB, n int) string {
	tb.Helper()
	ctx := context.Background()
	master := filepath.Join(os.TempDir(), fmt.Sprintf("citytwin-bench-live-%d.gpkg", n))
	if _, err := os.Stat(master); err != nil {
		o := synth.DefaultOptions()
		o.Components, o.Grids = n, max(n/125, 100)
		o.SizeKm = max(4, 40*math.Sqrt(float64(n)/2_000_000))
		w, err := gpkg.Create(ctx, master)
		if err != nil {
			tb.Fatal(err)
		}
		if err := synth.Generate(ctx, o, parts.DefaultCatalogue(), w, nil); err != nil {
			_ = w.Abort()
			tb.Fatal(err)
		}
		if err := w.Commit(); err != nil {
			tb.Fatal(err)
		}
	}
	dst := filepath.Join(tb.TempDir(), "city.gpkg")
	in, err := os.Open(master)
	if err != nil {
		tb.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		tb.Fatal(err)
	}
	if err := out.Close(); err != nil {
		tb.Fatal(err)
	}
	return dst
}

// service is a running app with its HTTP address and an admin token.
type service struct {
	app    *app.App
	base   string
	admin  string
	prefix string
	stop   func()
}

// start runs the service on data (a GeoPackage) or pg (a PostGIS URL) with
// MQTT on the real broker, as `citytwin serve` does, on a loopback port.
func start(tb testing.TB, data, pg string) *service {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := app.DefaultConfig()
	cfg.Data, cfg.PG = data, pg
	cfg.API.RateLimit.PerSecond = 0
	cfg.API.AccessLog = false
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.MQTT.URL = mosquitto(tb)
	cfg.MQTT.Prefix = randomName("ct-bench-")
	cfg.MQTT.ClientID = randomName("ct-")
	t0 := time.Now()
	a, err := app.New(ctx, cfg)
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	tb.Logf("loaded in %.1f s", time.Since(t0).Seconds())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = a.Run(ctx, ln)
	}()
	<-a.TilesReady()
	secret, _, err := tokens.Issue(ctx, a.Store(), tokens.Admin, "", time.Time{})
	if err != nil {
		tb.Fatal(err)
	}
	s := &service{app: a, base: "http://" + ln.Addr().String(), admin: secret, prefix: cfg.MQTT.Prefix}
	s.stop = func() {
		cancel()
		<-done
		a.Close()
	}
	tb.Cleanup(s.stop)
	// Wait for the subscriber and the publisher to connect.
	deadline := time.Now().Add(20 * time.Second)
	for !a.MQTTReady() {
		if time.Now().After(deadline) {
			tb.Fatal("MQTT did not connect within 20 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

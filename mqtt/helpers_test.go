package mqtt_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"citytwin/mqtt"
	"citytwin/sensors"
)

// systemBroker is the machine's Mosquitto (CITYTWIN_MQTT_URL, default
// tcp://127.0.0.1:1883). The test scripts start it; a test fails, never
// skips, when it is down.
func systemBroker(t testing.TB) string {
	t.Helper()
	u := os.Getenv("CITYTWIN_MQTT_URL")
	if u == "" {
		u = "tcp://127.0.0.1:1883"
	}
	hostport := u[strings.Index(u, "://")+3:]
	c, err := net.DialTimeout("tcp", hostport, 2*time.Second)
	if err != nil {
		t.Fatalf("Mosquitto is not reachable at %s (%v): start it with scripts/services.sh, or set CITYTWIN_MQTT_URL", u, err)
	}
	c.Close()
	return u
}

// embeddedBroker starts the package's own broker for the test.
func embeddedBroker(t testing.TB) string {
	t.Helper()
	b, err := mqtt.StartBroker(t.Context(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b.URL()
}

// brokers are the two brokers every transport test runs against.
func brokers() map[string]func(testing.TB) string {
	return map[string]func(testing.TB) string{"mosquitto": systemBroker, "embedded": embeddedBroker}
}

// mosquitto is a Mosquitto of the test's own, on a free port, with
// persistence in a temporary directory, that the test may stop and start.
type mosquitto struct {
	t    testing.TB
	bin  string
	conf string
	dir  string
	port int
	cmd  *exec.Cmd
	out  *os.File // Mosquitto's own stdout and stderr
}

// mosquittoConf is the configuration of a test's Mosquitto; extra lines
// come last and override it.
//
// Mosquitto started as root drops its privileges to the user "mosquitto",
// which cannot write into the test's temporary directory (0700, root): its
// persistence file and log were silently never written, so a restart lost
// every session and with it the readings queued for the Subscriber. As root
// the test therefore keeps the privileges ("user root").
//
// max_inflight_messages bounds the QoS 1 messages out to the Subscriber and
// not yet acknowledged; 1000 is enough to keep a loopback connection busy.
// max_queued_messages (per session, 1,000 by default) must hold every
// reading published while the Subscriber is away. autosave_interval saves
// the sessions every 10 s besides the save at a clean shutdown (SIGTERM).
const mosquittoConf = `listener %d 127.0.0.1
allow_anonymous true
persistence true
persistence_location %s/
autosave_interval 10
max_queued_messages 100000
max_inflight_messages 1000
log_dest file %s/mosquitto.log
%s
%s
`

func startMosquitto(t testing.TB, extra string) *mosquitto {
	t.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		bin = "/usr/sbin/mosquitto"
		if _, serr := os.Stat(bin); serr != nil {
			t.Fatalf("mosquitto is not installed (%v): install it (apt-get install mosquitto; scripts/deps.sh does)", err)
		}
	}
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	user := ""
	if os.Geteuid() == 0 {
		user = "user root"
	}
	conf := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, mosquittoConf, port, dir, dir, user, extra), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(dir, "mosquitto.out"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	m := &mosquitto{t: t, bin: bin, conf: conf, dir: dir, port: port, out: out}
	m.start()
	t.Cleanup(m.stop)
	return m
}

func (m *mosquitto) url() string { return fmt.Sprintf("tcp://127.0.0.1:%d", m.port) }

// logs returns what Mosquitto logged and printed.
func (m *mosquitto) logs() string {
	log, _ := os.ReadFile(filepath.Join(m.dir, "mosquitto.log"))
	out, _ := os.ReadFile(filepath.Join(m.dir, "mosquitto.out"))
	return string(log) + string(out)
}

func (m *mosquitto) start() {
	m.t.Helper()
	m.cmd = exec.Command(m.bin, "-c", m.conf)
	m.cmd.Stdout, m.cmd.Stderr = m.out, m.out
	if err := m.cmd.Start(); err != nil {
		m.t.Fatalf("start mosquitto: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", m.port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	m.t.Fatalf("mosquitto did not listen on %d within 10 s; log:\n%s", m.port, m.logs())
}

// stop ends the test's Mosquitto with SIGTERM: it saves its sessions to
// its persistence file first, which stop checks.
func (m *mosquitto) stop() {
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = m.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = m.cmd.Process.Kill()
		<-done
		m.t.Errorf("mosquitto did not stop within 10 s of SIGTERM: killed")
	}
	m.cmd = nil
	if _, err := os.Stat(filepath.Join(m.dir, "mosquitto.db")); err != nil {
		m.t.Errorf("mosquitto saved no persistence file at shutdown (%v); log:\n%s", err, m.logs())
	}
}

// collector is a Handler that keeps what it gets.
type collector struct {
	mu       sync.Mutex
	readings []sensors.Reading
	count    map[sensors.ID]int
	rejected map[string]int
	total    int
	nrej     int
	delay    time.Duration
}

func newCollector() *collector {
	return &collector{count: make(map[sensors.ID]int), rejected: make(map[string]int)}
}

func (c *collector) HandleReadings(rs []sensors.Reading) {
	if c.delay > 0 {
		time.Sleep(c.delay)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readings = append(c.readings, rs...)
	for _, r := range rs {
		c.count[r.Sensor]++
	}
	c.total += len(rs)
}

func (c *collector) Rejected(reason string) {
	c.mu.Lock()
	c.rejected[reason]++
	c.nrej++
	c.mu.Unlock()
}

func (c *collector) totals() (readings, rejected int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total, c.nrej
}

func (c *collector) distinct() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.count)
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// unique returns a name no other test run uses, for prefixes and client ids.
func unique(base string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return base + hex.EncodeToString(b[:])
}

// subscribe starts a Subscriber and, on the shared Mosquitto, removes its
// persistent session at the end of the test.
func subscribe(t testing.TB, o mqtt.Options, h mqtt.Handler) *mqtt.Subscriber {
	t.Helper()
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := mqtt.Subscribe(t.Context(), o, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		purgeSession(o.Broker, o.ClientID)
	})
	return s
}

// purgeSession ends the persistent session of id: a clean-session connect.
func purgeSession(broker, id string) {
	c := paho.NewClient(paho.NewClientOptions().AddBroker(broker).SetClientID(id).SetCleanSession(true).SetConnectTimeout(2 * time.Second))
	if tok := c.Connect(); tok.WaitTimeout(3*time.Second) && tok.Error() == nil {
		c.Disconnect(50)
	}
}

// device is a raw paho client playing a device.
func device(t testing.TB, broker, id string, clean bool) paho.Client {
	t.Helper()
	c := paho.NewClient(paho.NewClientOptions().AddBroker(broker).SetClientID(id).SetCleanSession(clean).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(100 * time.Millisecond).
		SetMaxReconnectInterval(500 * time.Millisecond).SetMaxResumePubInFlight(1000))
	tok := c.Connect()
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("device %s cannot connect to %s: %v", id, broker, tok.Error())
	}
	t.Cleanup(func() {
		c.Disconnect(100)
		if !clean {
			purgeSession(broker, id)
		}
	})
	return c
}

func publish(t testing.TB, c paho.Client, topic string, payload []byte) {
	t.Helper()
	tok := c.Publish(topic, 1, false, payload)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish to %s: %v", topic, tok.Error())
	}
}

var _ = context.Background

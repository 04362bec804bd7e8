package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"citytwin/api"
	"citytwin/mqtt"
	"citytwin/sensors"
	"citytwin/twin"
)

// mqttSide is the service's MQTT: the embedded broker when no city broker
// is given, the readings subscriber and the dispatch publisher. Both
// clients connect in the background and retry until the broker answers,
// so a broker that is down at start delays readings and dispatches (kept
// in the outbox) but never the service.
type mqttSide struct {
	cfg    MQTTConfig
	url    string
	id     string
	log    *slog.Logger
	broker *mqtt.Broker
	tw     *twin.Twin
	pub    *lazyPublisher

	mu     sync.Mutex
	sub    *mqtt.Subscriber
	rawPub *mqtt.Publisher
	cancel context.CancelFunc
	done   chan struct{}
	ingest sync.Pool
	// accepted and rejected count the readings of MQTT (source "mqtt"):
	// the same metric family as POST /readings'.
	accepted prometheus.Counter
	rejected *prometheus.CounterVec
}

func newMQTTSide(ctx context.Context, cfg MQTTConfig, listen string, tw *twin.Twin, log *slog.Logger) (*mqttSide, error) {
	if cfg.Off {
		return nil, nil
	}
	m := &mqttSide{cfg: cfg, url: cfg.URL, log: log, tw: tw, pub: &lazyPublisher{}}
	m.accepted, m.rejected = api.ReadingCounters("mqtt")
	m.ingest.New = func() any { return tw.NewIngester() }
	if m.url == "" {
		b, err := mqtt.StartBroker(ctx, cfg.BrokerAddr)
		if err != nil {
			return nil, fmt.Errorf("app: embedded MQTT broker: %w", err)
		}
		m.broker, m.url = b, b.URL()
	}
	m.id = cfg.ClientID
	if m.id == "" {
		host, _ := os.Hostname()
		m.id = mqtt.DefaultClientID(host, listen)
	}
	return m, nil
}

// start connects the subscriber and the publisher in the background.
func (m *mqttSide) start(ctx context.Context) error {
	ctx, m.cancel = context.WithCancel(ctx)
	m.done = make(chan struct{})
	go func() {
		defer close(m.done)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); m.connectSubscriber(ctx) }()
		go func() { defer wg.Done(); m.connectPublisher(ctx) }()
		wg.Wait()
	}()
	return nil
}

// retry calls fn until it succeeds or ctx ends, backing off up to 30 s.
func (m *mqttSide) retry(ctx context.Context, what string, fn func() error) {
	wait := time.Second
	for {
		err := fn()
		if err == nil || ctx.Err() != nil {
			return
		}
		m.log.Warn("MQTT: cannot connect, retrying", "what", what, "broker", m.url, "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

func (m *mqttSide) connectSubscriber(ctx context.Context) {
	m.retry(ctx, "readings subscriber", func() error {
		s, err := mqtt.Subscribe(ctx, mqtt.Options{
			Broker: m.url, ClientID: m.id, Prefix: m.cfg.Prefix, Shared: m.cfg.Shared, Logger: m.log,
		}, m)
		if err != nil {
			return err
		}
		m.mu.Lock()
		m.sub = s
		m.mu.Unlock()
		m.log.Info("MQTT readings subscribed", "broker", m.url, "client", m.id, "shared", m.cfg.Shared, "topics", mqtt.ReadingsTopic(m.cfg.Prefix)+"[/+]")
		return nil
	})
}

func (m *mqttSide) connectPublisher(ctx context.Context) {
	m.retry(ctx, "dispatch publisher", func() error {
		p, err := mqtt.NewPublisher(ctx, mqtt.PublisherOptions{Broker: m.url, ClientID: m.id + "-p", Logger: m.log})
		if err != nil {
			return err
		}
		m.mu.Lock()
		m.rawPub = p
		m.mu.Unlock()
		m.pub.p.Store(p)
		return nil
	})
}

// HandleReadings ingests a batch of readings from the subscriber's
// workers (concurrently: one ingester each).
func (m *mqttSide) HandleReadings(rs []sensors.Reading) {
	in := m.ingest.Get().(*twin.Ingester)
	res := in.Ingest(context.Background(), rs)
	m.ingest.Put(in)
	m.accepted.Add(float64(res.Accepted))
	for reason, n := range res.Rejected {
		m.rejected.WithLabelValues(reason).Add(float64(n))
	}
	if res.Err != nil {
		m.log.Warn("alarms not stored", "err", res.Err)
	}
}

// Rejected counts a message the subscriber refused.
func (m *mqttSide) Rejected(reason string) { m.rejected.WithLabelValues(reason).Inc() }

// Stats returns the subscriber's counts (zero before it connects).
func (m *mqttSide) Stats() (mqtt.Stats, bool) {
	m.mu.Lock()
	s := m.sub
	m.mu.Unlock()
	if s == nil {
		return mqtt.Stats{}, false
	}
	return s.Stats(), true
}

func (m *mqttSide) close() {
	if m.cancel != nil {
		m.cancel()
		<-m.done
	}
	m.mu.Lock()
	if m.sub != nil {
		m.sub.Close()
	}
	if m.rawPub != nil {
		m.rawPub.Close()
	}
	m.mu.Unlock()
	if m.broker != nil {
		_ = m.broker.Close()
	}
}

// lazyPublisher publishes through the publisher once it is connected.
type lazyPublisher struct {
	p atomic.Pointer[mqtt.Publisher]
}

// errNoBroker is the error of a publish before the broker answered.
var errNoBroker = errors.New("app: not connected to the MQTT broker yet")

// Ready reports whether the publisher is connected.
func (l *lazyPublisher) Ready() bool { return l.p.Load() != nil }

func (l *lazyPublisher) Publish(ctx context.Context, topic string, payload []byte) error {
	p := l.p.Load()
	if p == nil {
		return errNoBroker
	}
	return p.Publish(ctx, topic, payload)
}

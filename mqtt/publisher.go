package mqtt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// PublisherOptions configure a Publisher.
type PublisherOptions struct {
	// Broker is the broker URL, e.g. "tcp://127.0.0.1:1883".
	Broker string
	// ClientID of the publisher; it must differ from every Subscriber's.
	// Without one a random id is used. The session is always clean: a
	// message is published when Publish returns nil, and the caller (the
	// notification outbox) retries one that failed.
	ClientID string
	// Username and Password, when the broker wants them.
	Username, Password string
	// Timeout bounds the wait for the broker's PUBACK when the context
	// passed to Publish has no earlier deadline (default 10 s).
	Timeout time.Duration
	// ConnectTimeout bounds the first connection (default 10 s).
	ConnectTimeout time.Duration
	// MaxReconnectInterval caps the backoff between reconnections (default 5 s).
	MaxReconnectInterval time.Duration
	// Logger gets connection events (default slog.Default()).
	Logger *slog.Logger
}

// Publisher publishes QoS 1 messages and waits for the broker to accept
// them: the delivery step of the notification outbox.
//
// It does not let paho queue messages while reconnecting: paho completes
// the token of a queued message without an error when it resends it after
// the reconnection (messageIds.claimID), before the broker acknowledged
// anything, so Publish could report a message published that a second
// connection loss then drops. The Publisher therefore has a clean session
// and no automatic reconnection: a lost connection fails the messages in
// flight (paho's messageIds.cleanUp), Publish fails at once while
// disconnected, and the Publisher dials again by itself.
type Publisher struct {
	o         PublisherOptions
	client    paho.Client
	closed    atomic.Bool
	done      chan struct{} // closed by Close: stops redial
	rmu       sync.Mutex    // orders redialing.Add after Close's Wait
	redialing sync.WaitGroup
	published atomic.Uint64
	failed    atomic.Uint64
}

// NewPublisher connects to o.Broker. It fails when the first connection is
// not made within o.ConnectTimeout or before ctx ends; after that it
// reconnects by itself.
func NewPublisher(ctx context.Context, o PublisherOptions) (*Publisher, error) {
	if err := validateBroker(o.Broker); err != nil {
		return nil, err
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.MaxReconnectInterval <= 0 {
		o.MaxReconnectInterval = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ClientID == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		o.ClientID = "ct-pub-" + hex.EncodeToString(b[:])
	}
	log := o.Logger
	opts := paho.NewClientOptions().
		AddBroker(o.Broker).
		SetClientID(o.ClientID).
		SetUsername(o.Username).
		SetPassword(o.Password).
		SetCleanSession(true).
		SetCustomOpenConnectionFn(dial).
		SetAutoReconnect(false). // see Publisher: redial instead
		SetConnectRetry(false).
		SetConnectTimeout(o.ConnectTimeout).
		SetWriteTimeout(o.Timeout)
	p := &Publisher{o: o, done: make(chan struct{})}
	opts.SetConnectionLostHandler(func(_ paho.Client, err error) {
		log.Warn("mqtt: publisher connection lost, reconnecting", "broker", o.Broker, "client", o.ClientID, "error", err)
		p.rmu.Lock()
		defer p.rmu.Unlock()
		if p.closed.Load() {
			return
		}
		p.redialing.Add(1)
		go p.redial()
	})
	p.client = paho.NewClient(opts)
	tok := p.client.Connect()
	timer := time.NewTimer(o.ConnectTimeout)
	defer timer.Stop()
	var err error
	select {
	case <-tok.Done():
		err = tok.Error()
	case <-timer.C:
		err = fmt.Errorf("no connection within %v", o.ConnectTimeout)
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		p.client.Disconnect(0)
		return nil, fmt.Errorf("%w to %s as %q: %w", ErrConnect, o.Broker, o.ClientID, err)
	}
	return p, nil
}

// redial connects again after a lost connection, with a backoff up to
// MaxReconnectInterval, until it succeeds or the Publisher is closed.
func (p *Publisher) redial() {
	defer p.redialing.Done()
	wait := 100 * time.Millisecond
	for {
		select {
		case <-p.done:
			return
		case <-time.After(wait):
		}
		tok := p.client.Connect()
		select {
		case <-tok.Done():
		case <-p.done:
			return
		}
		if tok.Error() == nil {
			p.o.Logger.Info("mqtt: publisher reconnected", "broker", p.o.Broker, "client", p.o.ClientID)
			return
		}
		wait = min(2*wait, p.o.MaxReconnectInterval)
	}
}

// Publish sends payload to topic with QoS 1 and returns when the broker
// acknowledged it (PUBACK), or with an error wrapping ErrTimeout when ctx
// or the Timeout ends first. A message that timed out may still be
// delivered later: callers retry, receivers tolerate duplicates.
func (p *Publisher) Publish(ctx context.Context, topic string, payload []byte) error {
	if p.closed.Load() {
		return ErrClosed
	}
	if !validTopic(topic) {
		return fmt.Errorf("%w: %q", ErrTopic, topic)
	}
	ctx, cancel := context.WithTimeout(ctx, p.o.Timeout)
	defer cancel()
	tok := p.client.Publish(topic, 1, false, payload)
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			p.failed.Add(1)
			return fmt.Errorf("%w: %s: %w", ErrPublish, topic, err)
		}
		p.published.Add(1)
		return nil
	case <-ctx.Done():
		p.failed.Add(1)
		return fmt.Errorf("%w: %s: no PUBACK: %w", ErrTimeout, topic, ctx.Err())
	}
}

// PublisherStats are the Publisher's counters.
type PublisherStats struct {
	Connected bool
	Published uint64 // acknowledged by the broker
	Failed    uint64 // refused or timed out
}

// Stats returns the counters.
func (p *Publisher) Stats() PublisherStats {
	return PublisherStats{Connected: p.client.IsConnectionOpen(), Published: p.published.Load(), Failed: p.failed.Load()}
}

// Close disconnects, waiting up to 250 ms for messages in flight.
func (p *Publisher) Close() {
	p.rmu.Lock()
	if p.closed.Swap(true) {
		p.rmu.Unlock()
		return
	}
	p.rmu.Unlock()
	close(p.done)
	p.redialing.Wait()
	p.client.Disconnect(250)
}

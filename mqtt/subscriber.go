package mqtt

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// maxInFlight is the most unacknowledged QoS 1 messages a broker can have
// out to one client: MQTT packet ids are 16 bits.
const maxInFlight = 65535

// Subscriber receives readings from the broker and hands them to a Handler.
// See the package documentation for its delivery guarantees.
type Subscriber struct {
	o      Options
	h      Handler
	client paho.Client
	ctr    counters
	log    *rateLog
	seed   maphash.Seed

	mu     sync.RWMutex // guards closed against sends on queues
	closed bool
	queues []chan paho.Message
	wg     sync.WaitGroup

	ready     chan error // the outcome of the first subscription
	readyOnce sync.Once
}

// Subscribe connects to o.Broker, subscribes to the readings topics and
// starts handing readings to h. It returns when the first subscription is
// acknowledged, or fails after o.ConnectTimeout or when ctx ends; after that
// the Subscriber reconnects and resubscribes by itself until Close.
func Subscribe(ctx context.Context, o Options, h Handler) (*Subscriber, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, &OptionError{Field: "Handler", Reason: "nil"}
	}
	o = o.withDefaults()
	s := &Subscriber{
		o:     o,
		h:     h,
		log:   newRateLog(o.Logger, o.LogEvery),
		seed:  maphash.MakeSeed(),
		ready: make(chan error, 1),
	}
	s.queues = make([]chan paho.Message, o.Workers)
	for i := range s.queues {
		s.queues[i] = make(chan paho.Message, o.QueueSize+maxInFlight)
		s.wg.Add(1)
		go s.work(s.queues[i])
	}
	s.client = paho.NewClient(s.clientOptions())
	s.client.Connect() // retries until connected or Disconnect: the outcome arrives on s.ready

	timer := time.NewTimer(o.ConnectTimeout)
	defer timer.Stop()
	var err error
	select {
	case err = <-s.ready:
	case <-timer.C:
		err = fmt.Errorf("%w to %s as %q within %v", ErrConnect, o.Broker, o.ClientID, o.ConnectTimeout)
	case <-ctx.Done():
		err = fmt.Errorf("%w to %s: %w", ErrConnect, o.Broker, ctx.Err())
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Subscriber) clientOptions() *paho.ClientOptions {
	o := s.o
	return paho.NewClientOptions().
		AddBroker(o.Broker).
		SetClientID(o.ClientID).
		SetUsername(o.Username).
		SetPassword(o.Password).
		SetCleanSession(false). // the broker keeps the subscriptions and queues QoS 1 messages while away
		SetResumeSubs(true).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).
		SetMaxReconnectInterval(o.MaxReconnectInterval).
		SetConnectTimeout(o.ConnectTimeout).
		SetKeepAlive(o.KeepAlive).
		SetCustomOpenConnectionFn(dial).       // buffered reads
		SetOrderMatters(true).                 // the callback runs on paho's router goroutine and never blocks
		SetAutoAckDisabled(true).              // acknowledged once the Handler took the message
		SetDefaultPublishHandler(s.onMessage). // also gets the session's messages queued before the subscription is renewed
		SetOnConnectHandler(s.onConnect).
		SetConnectionLostHandler(s.onLost).
		SetReconnectingHandler(func(paho.Client, *paho.ClientOptions) {
			s.ctr.reconnects.Add(1)
		})
}

// onConnect (re)subscribes after every connection: a broker that lost the
// session (restarted without persistence) still gets the subscriptions.
func (s *Subscriber) onConnect(c paho.Client) {
	s.ctr.connected.Store(true)
	n := s.ctr.connects.Add(1)
	subs := make(map[string]byte)
	for _, f := range filters(s.o.Prefix, s.o.Shared) {
		subs[f] = 1
	}
	tok := c.SubscribeMultiple(subs, nil)
	var err error
	if !tok.WaitTimeout(s.o.ConnectTimeout) {
		err = fmt.Errorf("%w: no SUBACK within %v", ErrSubscribe, s.o.ConnectTimeout)
	} else if err = tok.Error(); err != nil {
		err = fmt.Errorf("%w: %w", ErrSubscribe, err)
	} else if st, ok := tok.(*paho.SubscribeToken); ok {
		for f, code := range st.Result() {
			if code > 2 {
				err = fmt.Errorf("%w: %s (return code %#x)", ErrSubscribe, f, code)
			}
		}
	}
	if err != nil {
		s.o.Logger.Error("mqtt: subscribing failed", "broker", s.o.Broker, "client", s.o.ClientID, "error", err)
	} else if n == 1 {
		s.o.Logger.Info("mqtt: subscribed", "broker", s.o.Broker, "client", s.o.ClientID, "shared", s.o.Shared, "prefix", s.o.Prefix)
	} else {
		s.o.Logger.Info("mqtt: reconnected", "broker", s.o.Broker, "client", s.o.ClientID, "connects", n)
	}
	s.readyOnce.Do(func() { s.ready <- err })
}

func (s *Subscriber) onLost(_ paho.Client, err error) {
	s.ctr.connected.Store(false)
	s.log.Warn("lost", "mqtt: connection lost, reconnecting", "broker", s.o.Broker, "client", s.o.ClientID, "error", err)
}

// onMessage is paho's callback. It must never block: it checks the
// message and queues it for a worker.
func (s *Subscriber) onMessage(_ paho.Client, m paho.Message) {
	s.ctr.messages.Add(1)
	if m.Duplicate() {
		s.ctr.redelivered.Add(1)
	}
	if len(m.Payload()) > MaxPayload {
		s.reject(rTooLarge, m.Topic(), fmt.Errorf("payload of %d bytes over %d", len(m.Payload()), MaxPayload))
		m.Ack()
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return // not acknowledged: the broker delivers it again to the next session
	}
	q := s.queues[maphash.String(s.seed, m.Topic())%uint64(len(s.queues))]
	if m.Qos() == 0 && len(q) >= s.o.QueueSize {
		s.reject(rQueueFull, m.Topic(), fmt.Errorf("QoS 0 message dropped: %d messages queued", len(q)))
		return
	}
	s.ctr.depth.Add(1)
	select {
	case q <- m:
	default:
		// Cannot happen with a broker that keeps to the packet id space;
		// left unacknowledged, the message comes again after a reconnect.
		s.ctr.depth.Add(-1)
		s.reject(rQueueFull, m.Topic(), fmt.Errorf("queue of %d messages full", cap(q)))
	}
}

// Stats returns the counters.
func (s *Subscriber) Stats() Stats { return s.ctr.snapshot() }

// ClientID is the client id the Subscriber connects with.
func (s *Subscriber) ClientID() string { return s.o.ClientID }

// Close disconnects, hands the messages already queued to the Handler and
// stops the workers. The broker keeps the session: messages published
// meanwhile wait for the next Subscriber with the same client id.
func (s *Subscriber) Close() {
	s.client.Disconnect(250)
	s.ctr.connected.Store(false)
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		for _, q := range s.queues {
			close(q)
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
}

package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"citytwin/incidents"
)

// outbox is what the notifier needs of the store: the notifications due
// and a place to write down each attempt. twin.Records has both.
type outbox interface {
	DueNotifications(ctx context.Context, now time.Time, limit int) ([]incidents.Notification, error)
	MarkNotifications(ctx context.Context, ns []incidents.Notification) error
}

// publisher sends one MQTT message and waits for the broker's
// acknowledgement. mqtt.Publisher is one.
type publisher interface {
	Publish(ctx context.Context, topic string, payload []byte) error
}

// NotifierStats counts deliveries since start.
type NotifierStats struct {
	Delivered, Retried, Dead uint64
}

// Notifier delivers the notification outbox at least once: it reads the
// notifications due from the store, claims each for a lease (so that a
// crash mid-delivery only delays it), delivers it over MQTT or its webhook,
// and writes the outcome: delivered, or retried later with exponential
// backoff, or dead after incidents.MaxAttempts.
type Notifier struct {
	box    outbox
	pub    publisher // nil: MQTT notifications wait for a broker
	client *http.Client
	log    *slog.Logger
	now    func() time.Time
	kick   chan struct{}
	Lease  time.Duration
	Poll   time.Duration

	delivered, retried, dead atomic.Uint64
}

// NewNotifier returns a notifier over box; pub may be nil.
func NewNotifier(box outbox, pub publisher, log *slog.Logger, now func() time.Time) *Notifier {
	if now == nil {
		now = time.Now
	}
	return &Notifier{
		box: box, pub: pub, log: log, now: now,
		client: &http.Client{Timeout: 10 * time.Second},
		kick:   make(chan struct{}, 1),
		Lease:  30 * time.Second,
		Poll:   time.Second,
	}
}

// pubReady reports whether MQTT notifications can be sent now.
func (n *Notifier) pubReady() bool {
	if n.pub == nil {
		return false
	}
	if r, ok := n.pub.(interface{ Ready() bool }); ok {
		return r.Ready()
	}
	return true
}

// Kick wakes the notifier up (after a dispatch) without waiting for the
// next poll.
func (n *Notifier) Kick() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// Stats returns the counts of deliveries since start.
func (n *Notifier) Stats() NotifierStats {
	return NotifierStats{Delivered: n.delivered.Load(), Retried: n.retried.Load(), Dead: n.dead.Load()}
}

// Run delivers until ctx is done.
func (n *Notifier) Run(ctx context.Context) {
	t := time.NewTicker(n.Poll)
	defer t.Stop()
	for {
		for n.round(ctx) {
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-n.kick:
		}
	}
}

// round delivers one batch of due notifications; it reports whether a full
// batch was found (more may be due). The batch is claimed in one
// transaction, delivered concurrently (the broker takes many QoS 1
// messages in flight), and its outcomes written in one transaction.
func (n *Notifier) round(ctx context.Context) bool {
	const batch = 200
	now := n.now().UTC()
	due, err := n.box.DueNotifications(ctx, now, batch)
	if err != nil {
		if ctx.Err() == nil {
			n.log.Warn("notification outbox", "err", err)
		}
		return false
	}
	claim := due[:0:0]
	for _, x := range due {
		if x.Channel == incidents.ChannelMQTT && !n.pubReady() {
			// Not the department's failure: it waits for the broker
			// without spending its attempts.
			continue
		}
		// Claimed for the lease: another replica, or this one after a
		// crash, tries again only when the lease is over.
		x.Next = now.Add(n.Lease)
		claim = append(claim, x)
	}
	if len(claim) == 0 || ctx.Err() != nil {
		return false
	}
	if err := n.box.MarkNotifications(ctx, claim); err != nil {
		n.log.Warn("claim notifications", "count", len(claim), "err", err)
		return false
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range claim {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			claim[i] = n.deliver(ctx, claim[i])
		})
	}
	wg.Wait()
	if err := n.box.MarkNotifications(context.WithoutCancel(ctx), claim); err != nil {
		n.log.Warn("mark notifications", "count", len(claim), "err", err)
	}
	return len(due) == batch && n.pubReady()
}

// deliver makes one attempt and returns the notification with its outcome.
func (n *Notifier) deliver(ctx context.Context, x incidents.Notification) incidents.Notification {
	err := n.send(ctx, x)
	now := n.now().UTC()
	if err == nil {
		n.delivered.Add(1)
		return x.Delivered()
	}
	x = x.Failed(err, now)
	if x.State == incidents.NotifyDead {
		n.dead.Add(1)
		n.log.Error("notification dead", "id", x.ID, "case", x.Case, "dept", x.Dept, "channel", x.Channel, "attempts", x.Attempts, "err", err)
	} else {
		n.retried.Add(1)
		n.log.Warn("notification retried", "id", x.ID, "case", x.Case, "channel", x.Channel, "attempts", x.Attempts, "next", x.Next, "err", err)
	}
	return x
}

func (n *Notifier) send(ctx context.Context, x incidents.Notification) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	switch x.Channel {
	case incidents.ChannelMQTT:
		if n.pub == nil {
			return fmt.Errorf("app: no MQTT broker to publish %s on", x.Target)
		}
		return n.pub.Publish(ctx, x.Target, x.Payload)
	case incidents.ChannelWebhook:
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, x.Target, bytes.NewReader(x.Payload))
		if err != nil {
			return fmt.Errorf("app: webhook %s: %w", x.Target, err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", x.ID)
		resp, err := n.client.Do(req)
		if err != nil {
			return fmt.Errorf("app: webhook: %w", err)
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("app: webhook %s answered %s", x.Target, resp.Status)
		}
		return nil
	}
	return fmt.Errorf("app: unknown channel %q", x.Channel)
}

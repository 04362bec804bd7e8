package incidents

import (
	"encoding/json"
	"fmt"
	"time"
)

// Channels of a Notification.
const (
	ChannelMQTT    = "mqtt"
	ChannelWebhook = "webhook"
)

// States of a Notification.
const (
	NotifyPending   = "pending"
	NotifyDelivered = "delivered"
	NotifyDead      = "dead"
)

// MaxAttempts is how many deliveries a notification gets before it is dead.
const MaxAttempts = 12

// Notification is one dispatch message to a department in the outbox:
// written in the same transaction as the case, delivered at least once.
type Notification struct {
	ID       string    `json:"id"` // "<case>/<version>/<channel>": one per channel and case version
	Case     ID        `json:"case"`
	Dept     string    `json:"dept"`
	Channel  string    `json:"channel"` // mqtt | webhook
	Target   string    `json:"target"`  // the MQTT topic or the webhook URL
	Payload  []byte    `json:"payload"` // JSON
	Attempts int       `json:"attempts"`
	Next     time.Time `json:"next"` // when the next attempt is due
	State    string    `json:"state"`
	Error    string    `json:"error,omitempty"` // the last failure
	Created  time.Time `json:"created"`
}

// Dispatch is the payload of a dispatch notification.
type Dispatch struct {
	Case Case   `json:"case"`
	Link string `json:"link,omitempty"` // where to see the case
}

// Notifications returns the outbox entries of a dispatch of c to d: one on
// d's MQTT topic (DispatchTopic(d.Code) unless d.Topic is set) and one to
// its webhook when it has one.
func Notifications(c Case, d Department, link string, now time.Time) ([]Notification, error) {
	payload, err := json.Marshal(Dispatch{Case: c, Link: link})
	if err != nil {
		return nil, fmt.Errorf("incidents: encoding the dispatch of %s: %w", c.ID, err)
	}
	topic := d.Topic
	if topic == "" {
		topic = DispatchTopic(d.Code)
	}
	mk := func(channel, target string) Notification {
		return Notification{
			ID: fmt.Sprintf("%s/%d/%s", c.ID, c.Version, channel), Case: c.ID, Dept: d.Code,
			Channel: channel, Target: target, Payload: payload, Next: now, State: NotifyPending, Created: now,
		}
	}
	out := []Notification{mk(ChannelMQTT, topic)}
	if d.Webhook != "" {
		out = append(out, mk(ChannelWebhook, d.Webhook))
	}
	return out, nil
}

// Backoff is the wait before attempt n+1 after n failed attempts: 2 s
// doubling to at most 10 minutes.
func Backoff(attempts int) time.Duration {
	d := 2 * time.Second
	for i := 1; i < attempts && d < 10*time.Minute; i++ {
		d *= 2
	}
	return min(d, 10*time.Minute)
}

// Failed returns n after a failed attempt at now: retried after Backoff,
// or dead after MaxAttempts.
func (n Notification) Failed(err error, now time.Time) Notification {
	n.Attempts++
	if err != nil {
		n.Error = err.Error()
	}
	if n.Attempts >= MaxAttempts {
		n.State = NotifyDead
		return n
	}
	n.Next = now.Add(Backoff(n.Attempts))
	return n
}

// Delivered returns n after a successful attempt.
func (n Notification) Delivered() Notification {
	n.Attempts++
	n.State = NotifyDelivered
	n.Error = ""
	return n
}

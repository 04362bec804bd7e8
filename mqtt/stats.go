package mqtt

import "sync/atomic"

// Reasons a message is rejected, as passed to Handler.Rejected and counted
// in Stats.Rejected.
const (
	ReasonTooLarge  = "too_large"  // payload over MaxPayload (1 MiB)
	ReasonMalformed = "malformed"  // not the JSON of a reading or of a batch
	ReasonBadValue  = "bad_value"  // NaN, infinite or missing value
	ReasonBadSensor = "bad_sensor" // a sensor id (in the topic or the payload) that is not a valid id
	ReasonBadTopic  = "bad_topic"  // a topic that is not a readings topic
	ReasonQueueFull = "queue_full" // a QoS 0 message while the queue was full
)

var reasons = [...]string{ReasonTooLarge, ReasonMalformed, ReasonBadValue, ReasonBadSensor, ReasonBadTopic, ReasonQueueFull}

type reason uint8

const (
	rTooLarge reason = iota
	rMalformed
	rBadValue
	rBadSensor
	rBadTopic
	rQueueFull
	nReasons
)

// Stats are the Subscriber's counters since it started, for /metrics.
type Stats struct {
	Connected   bool              // connected to the broker now
	Messages    uint64            // messages received (duplicates included)
	Redelivered uint64            // of which the broker marked as redelivered
	Accepted    uint64            // readings handed to the Handler
	Batches     uint64            // calls of Handler.HandleReadings
	Rejected    map[string]uint64 // rejected messages (or readings) by reason
	QueueDepth  int               // messages received and not yet acknowledged
	Floods      uint64            // seconds in which one sensor sent more than FloodLimit readings
	Connects    uint64            // successful connections, the first included
	Reconnects  uint64            // connections lost and retried
}

// counters are the live counters behind Stats.
type counters struct {
	connected   atomic.Bool
	messages    atomic.Uint64
	redelivered atomic.Uint64
	accepted    atomic.Uint64
	batches     atomic.Uint64
	rejected    [nReasons]atomic.Uint64
	depth       atomic.Int64
	floods      atomic.Uint64
	connects    atomic.Uint64
	reconnects  atomic.Uint64
}

func (c *counters) snapshot() Stats {
	s := Stats{
		Connected:   c.connected.Load(),
		Messages:    c.messages.Load(),
		Redelivered: c.redelivered.Load(),
		Accepted:    c.accepted.Load(),
		Batches:     c.batches.Load(),
		Rejected:    make(map[string]uint64, nReasons),
		QueueDepth:  int(c.depth.Load()),
		Floods:      c.floods.Load(),
		Connects:    c.connects.Load(),
		Reconnects:  c.reconnects.Load(),
	}
	for i := range c.rejected {
		s.Rejected[reasons[i]] = c.rejected[i].Load()
	}
	return s
}

// RejectedTotal is the sum of Rejected.
func (s Stats) RejectedTotal() uint64 {
	var n uint64
	for _, v := range s.Rejected {
		n += v
	}
	return n
}

package mqtt

import (
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// DefaultPrefix is the topic prefix when Options.Prefix is empty.
const DefaultPrefix = "citytwin"

// MaxPayload is the largest message the Subscriber decodes (1 MiB); larger
// ones are rejected as "too_large" and acknowledged.
const MaxPayload = 1 << 20

// Options configure a Subscriber. The zero value of every field but
// Broker and ClientID takes the default given with it.
type Options struct {
	// Broker is the broker URL, e.g. "tcp://127.0.0.1:1883".
	Broker string
	// ClientID is the stable client id of this replica; see DefaultClientID.
	// Its session on the broker (clean session off) keeps the subscriptions
	// and the QoS 1 messages that arrive while the replica is away.
	ClientID string
	// Username and Password, when the broker wants them.
	Username, Password string
	// Prefix of every topic (default "citytwin").
	Prefix string
	// Shared subscribes as $share/citytwin/... so that replicas split the
	// stream; each message then reaches one of them.
	Shared bool
	// Workers decoding and handling messages (default 2). A topic always
	// goes to the same worker, so the readings of one topic stay in order.
	Workers int
	// QueueSize is how many QoS 0 messages may wait per worker before new
	// ones are dropped (default 4096). QoS 1 messages are never dropped:
	// they wait unacknowledged, bounded by the broker's in-flight window.
	QueueSize int
	// MaxBatch is the most readings handed to the Handler at once
	// (default 2048); a bigger message is handed alone.
	MaxBatch int
	// FloodLimit is the number of readings per second of one sensor above
	// which it counts and logs a flood (default 100). Its readings are
	// still handed on: the rules decide what a duplicate is.
	FloodLimit int
	// KeepAlive of the connection (default 30 s).
	KeepAlive time.Duration
	// ConnectTimeout bounds the first connection and subscription
	// (default 10 s); later reconnections retry forever.
	ConnectTimeout time.Duration
	// MaxReconnectInterval caps the backoff between reconnections
	// (default 5 s).
	MaxReconnectInterval time.Duration
	// Logger gets connection events and rate-limited reports of bad input
	// (default slog.Default()).
	Logger *slog.Logger
	// LogEvery is the least time between two log lines about one kind of
	// bad input (default 10 s); the lines count what they summarise.
	LogEvery time.Duration
	// Now is the clock used for readings without a time (default time.Now).
	Now func() time.Time
}

// withDefaults returns o with its zero fields set to their defaults.
func (o Options) withDefaults() Options {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	o.Prefix = strings.TrimSuffix(o.Prefix, "/")
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 4096
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 2048
	}
	if o.FloodLimit <= 0 {
		o.FloodLimit = 100
	}
	if o.KeepAlive <= 0 {
		o.KeepAlive = 30 * time.Second
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
	if o.LogEvery <= 0 {
		o.LogEvery = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Validate checks the options; errors are *OptionError.
func (o Options) Validate() error {
	if err := validateBroker(o.Broker); err != nil {
		return err
	}
	if o.ClientID == "" {
		return &OptionError{Field: "ClientID", Reason: "empty: a persistent session needs a stable id (see DefaultClientID)"}
	}
	if len(o.ClientID) > 65535 {
		return &OptionError{Field: "ClientID", Reason: "longer than 65,535 bytes"}
	}
	return validatePrefix(o.Prefix)
}

func validateBroker(broker string) error {
	if broker == "" {
		return &OptionError{Field: "Broker", Reason: "empty"}
	}
	u, err := url.Parse(broker)
	if err != nil {
		return &OptionError{Field: "Broker", Reason: err.Error()}
	}
	switch u.Scheme {
	case "tcp", "mqtt", "ssl", "tls", "mqtts", "tcps", "ws", "wss":
	default:
		return &OptionError{Field: "Broker", Reason: "scheme " + u.Scheme + ": want tcp://, ssl:// or ws://"}
	}
	if u.Host == "" {
		return &OptionError{Field: "Broker", Reason: "no host"}
	}
	return nil
}

func validatePrefix(p string) error {
	if strings.ContainsAny(p, "+#\x00") || strings.HasPrefix(p, "$") || strings.HasPrefix(p, "/") {
		return &OptionError{Field: "Prefix", Reason: "must not hold + # or NUL, nor start with $ or /"}
	}
	return nil
}

package app

import (
	"fmt"
	"log/slog"
	"time"

	"citytwin/api"
	"citytwin/sensors"
	"citytwin/tiles"
	"citytwin/twin"
)

// Config is everything the service needs. Start from DefaultConfig.
type Config struct {
	// Data is the GeoPackage file of the city; PG a PostGIS database URL
	// instead. Exactly one is set.
	Data string
	PG   string
	// API configures the HTTP API (its Addr is where Run listens when no
	// listener is given).
	API api.Config
	// Tiles configures the tile map (CacheBytes -1 or 0 turns the cache off).
	Tiles tiles.Options
	// Sensors configures the sensor engine, Cases intake and routing.
	Sensors sensors.Options
	Cases   twin.CaseOptions
	// MQTT configures the readings subscriber, dispatch publisher and the
	// embedded broker.
	MQTT MQTTConfig
	// Replica configures the wait for the database at start and the
	// change feed of other replicas (PostGIS).
	Replica ReplicaConfig
	// Sweep is how often silence rules and the last-reading checkpoint run.
	Sweep time.Duration
	// Now is the clock (nil: time.Now); tests set it.
	Now func() time.Time
	// Logger receives the service's logs (nil: discarded).
	Logger *slog.Logger
	// Progress, when set, follows the load ("grids", "parts", ...).
	Progress func(stage string, done, total int)
}

// MQTTConfig configures MQTT.
type MQTTConfig struct {
	// URL of the city's broker (tcp://host:1883). Empty: an embedded
	// broker on a free loopback port (BrokerAddr), unless Off.
	URL string
	// Off runs without MQTT: no readings subscription, dispatches wait in
	// the outbox.
	Off bool
	// BrokerAddr is where the embedded broker listens (default
	// 127.0.0.1:0: a free port, never 1883).
	BrokerAddr string
	// ClientID is the persistent session's id (default: from the host
	// name and the listen address).
	ClientID string
	// Shared subscribes as $share/citytwin/... so replicas split the
	// stream.
	Shared bool
	// Prefix is the topic prefix (default "citytwin").
	Prefix string
}

// DefaultConfig returns the defaults: the API's defaults, a 256 MiB tile
// cache, an embedded broker, a sweep every second.
func DefaultConfig() Config {
	return Config{
		API:     api.DefaultConfig(),
		Tiles:   tiles.DefaultOptions(),
		MQTT:    MQTTConfig{BrokerAddr: "127.0.0.1:0", Prefix: "citytwin"},
		Sweep:   time.Second,
		Replica: DefaultReplicaConfig(),
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	switch {
	case c.Data == "" && c.PG == "":
		return &ConfigError{Field: "Data", Reason: "give a GeoPackage file or a PostGIS URL"}
	case c.Data != "" && c.PG != "":
		return &ConfigError{Field: "PG", Reason: "give a GeoPackage file or a PostGIS URL, not both"}
	case c.Sweep <= 0:
		return &ConfigError{Field: "Sweep", Reason: fmt.Sprintf("%v is not a positive duration", c.Sweep)}
	case c.MQTT.Prefix == "":
		return &ConfigError{Field: "MQTT.Prefix", Reason: "empty"}
	}
	return c.API.Validate()
}

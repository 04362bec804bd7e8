// Package app wires citytwin together: from one Config it opens the store,
// loads the twin, builds the tile map, the HTTP API, the MQTT subscriber
// and publisher (or an embedded broker), the silence sweeper and the
// notification outbox, and runs them. `citytwin serve` and the tests both
// start the service through New, so tests run what production runs.
package app

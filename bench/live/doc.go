// Package live holds the end-to-end benchmarks of the live side of
// citytwin: sensor readings over MQTT, alarms on the live feed, and cases
// through intake, routing, persistence and notification, on the whole
// synthetic city (2,000,000 components by default) with the service wired
// as `citytwin serve` wires it (app.New) and the real Mosquitto. It has no
// code of its own: the benchmarks are in its test files and run only with
// -bench (scripts/bench-live.sh).
//
// BenchmarkReadings binds CITYTWIN_BENCH_SENSORS sensors (100,000) to
// components and reports: the heap per bound sensor (engine, binding and
// place index), readings per second end to end (a paho publisher in the
// same process, arrays of CITYTWIN_BENCH_BATCH readings, QoS 1, through
// Mosquitto, the subscriber, decoding and rule evaluation), and the
// latency from publishing a reading over its threshold to its
// alarm.raised event read from GET /events, while 10,000 other readings a
// second flow (p50, p99).
//
// BenchmarkCases posts reports to POST /incidents from 16 clients over
// loopback HTTP for CITYTWIN_BENCH_SECONDS (10) on the GeoPackage store and,
// with PostgreSQL, on PostGIS: cases per second acknowledged (intake,
// routing, one transaction with the case and its outbox row), and
// notifications per second delivered to Mosquitto by the outbox.
//
// Environment: CITYTWIN_BENCH_N (components, default 2,000,000),
// CITYTWIN_BENCH_SENSORS, CITYTWIN_BENCH_READINGS (readings of the
// throughput run, default 1,000,000), CITYTWIN_BENCH_BATCH (default 100),
// CITYTWIN_MQTT_URL (default tcp://127.0.0.1:1883), CITYTWIN_PG_URL.
package live

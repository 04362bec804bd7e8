#!/usr/bin/env bash
# The live side's benchmarks at full size: sensor rule evaluation and memory
# (package sensors), routing decisions (package incidents), and end to end
# with the service wired as `citytwin serve` (bench/live): readings per
# second through Mosquitto, publish-to-alarm latency on /events at 10,000
# readings/s, cases per second through POST /incidents on GeoPackage and
# PostGIS. Writes docs/bench/live-<date>.txt (or $BENCH_OUT).
#
#   CITYTWIN_BENCH_N        components (default 2,000,000)
#   CITYTWIN_BENCH_SENSORS  sensors bound (default 100,000)
set -euo pipefail
cd "$(dirname "$0")/.."
export CITYTWIN_BENCH_N="${CITYTWIN_BENCH_N:-2000000}"
export CITYTWIN_BENCH_SENSORS="${CITYTWIN_BENCH_SENSORS:-100000}"
out="${BENCH_OUT:-docs/bench/live-$(date -u +%Y-%m-%d).txt}"
scripts/deps.sh
scripts/services.sh
{
  echo "# citytwin live benchmarks, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# $(go version); $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(free -g | awk '/^Mem:/ {print $2 " GiB RAM"}')"
  echo "# git $(git rev-parse --short HEAD 2>/dev/null || echo '?'); CITYTWIN_BENCH_N=$CITYTWIN_BENCH_N CITYTWIN_BENCH_SENSORS=$CITYTWIN_BENCH_SENSORS"
  echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "## rule evaluation, memory per sensor, payload parsing (package sensors)"
  go test -run '^$' -bench . -benchmem ./sensors/ 2>&1
  echo
  echo "## routing decisions on the city (package incidents)"
  go test -run '^$' -bench Route -benchmem ./incidents/ 2>&1
  echo
  echo "## end to end (bench/live: app.New, Mosquitto, HTTP on loopback)"
  go test -run '^$' -bench . -benchtime 1x -timeout 60m ./bench/live/ 2>&1
} | tee "$out"
echo "scripts/bench-live.sh: results in $out" >&2

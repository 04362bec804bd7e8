#!/usr/bin/env bash
# Load benchmark of the HTTP API (issue "HTTP API") on the 2,000,000-component
# city: generates the city once (reused when the file exists), serves it
# without a rate limit, runs every scenario of cmd/citytwin-load (nearest,
# bbox, code, tile) at each connection count, reports the server's load time
# and memory, and stops the server. The load generator runs on the same
# cores as the server. Results go to stdout and to $OUT.
#
#   DATA       city file (default /tmp/city2m.gpkg; generated when missing)
#   ADDR       listen address of the server (default 127.0.0.1:18090)
#   DURATION   measured time per run (default 10s, after a 1 s warm-up)
#   CONNS      connection counts, a comma list (default 8,32,64)
#   SCENARIO   scenarios (default all)
#   OUT        results file (default loadbench-results.txt)
#
# Targets (on 2 cores): nearest 10 >= 10,000 req/s; bbox pages of 100 >=
# 5,000 req/s with p99 < 20 ms; code lookups >= 20,000 req/s.
set -euo pipefail
cd "$(dirname "$0")/.."
data="${DATA:-/tmp/city2m.gpkg}"
addr="${ADDR:-127.0.0.1:18090}"
duration="${DURATION:-10s}"
conns="${CONNS:-8,32,64}"
scenario="${SCENARIO:-all}"
out="${OUT:-loadbench-results.txt}"
bin=/tmp/citytwin-bin
load=/tmp/citytwin-load

go build -o "$bin" ./cmd/citytwin
go build -o "$load" ./cmd/citytwin-load
if [ ! -f "$data" ]; then
  echo "generating the city into $data"
  "$bin" gen --out "$data"
fi

# The server logs every request at INFO; keep the rest of its log.
log="$(mktemp /tmp/citytwin-serve.XXXXXX.log)"
"$bin" serve --data "$data" --addr "$addr" --rate-limit 0 --access-log=false >/dev/null 2> >(awk '$3 != "msg=request" {print; fflush()}' >"$log") &
pid=$!
cleanup() {
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    wait "$pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

# cpu_ticks is the server's user+system CPU time in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

start=$(date +%s.%N)
for _ in $(seq 1 600); do
  if curl -fsS -o /dev/null "http://$addr/readyz" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "the server exited while loading:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.5
done
ready=$(date +%s.%N)
curl -fsS -o /dev/null "http://$addr/readyz"

{
  echo "# citytwin load benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# $(go version); $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(free -g | awk '/^Mem:/ {print $2 " GiB RAM"}')"
  echo "# git $(git rev-parse --short HEAD 2>/dev/null || echo '?'); city $data ($(du -h "$data" | cut -f1))"
  echo "# server: $(grep -m1 'city loaded' "$log" || echo 'no load line')"
  echo "# ready after $(awk -v a="$start" -v b="$ready" 'BEGIN {printf "%.1f", b - a}') s; RSS after load: $(awk '/^VmRSS/ {print $2, $3}' /proc/$pid/status)"
  echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  t0=$(date +%s.%N); c0=$(cpu_ticks)
  "$load" --url "http://$addr" --scenario "$scenario" --duration "$duration" --connections "$conns" || echo "citytwin-load failed: exit $?"
  t1=$(date +%s.%N); c1=$(cpu_ticks)
  echo
  echo "# server CPU during the runs (warm-ups and sampling included): $(awk -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f s of %.0f s wall, %.0f%% of one core", c/hz, b-a, 100*c/hz/(b-a)}')"
  echo "# server after load: $(awk '/^VmRSS|^VmHWM/ {printf "%s %s %s  ", $1, $2, $3}' /proc/$pid/status)"
  echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
} 2>&1 | tee "$out"

cleanup
trap - EXIT
warn=$(grep -c 'level=WARN\|level=ERROR' "$log" || true)
echo "server log: $log ($warn warnings or errors)"

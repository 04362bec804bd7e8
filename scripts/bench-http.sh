#!/usr/bin/env bash
# The HTTP benchmark of issue 13, measured from outside as a user meets it:
# the server and the load generators share this machine's cores.
#
#   1. start: process start to the first /readyz 200, and to "tile aggregates
#      built" in the server's log; RSS at ready, 60 s later, and the peak
#      (VmHWM) then and at the end;
#   2. cold tiles over HTTP: every z14 tile over the city's bounds
#      (/tiles/parts.json), each once, 4 connections (cmd/citytwin-load
#      --paths), on the server with its cache; the same list again (warm);
#   3. the query mix with wrk at 4 and 64 connections, random keys over the
#      whole city (scripts/wrk/random.lua): lookups by code (codes dumped from
#      the city), nearest 10 and 500 m counts (/parts/counts?bbox=) around
#      components drawn at random, bbox pages of 100 (300-500 m boxes); and
#      bench/httpbare, a bare net/http server sending the bytes of one lookup
#      answer (its body and headers), for the ratio of lookups to what
#      net/http alone does here (five rounds in turn, and the median);
#      each row also gives the server's CPU time per request;
#   4. a second server started with --tile-cache-mb 0: the z14 list once,
#      and the list in a loop for DURATION (every answer encoded), then
#      with wrk in random order for DURATION (a lighter client: citytwin-load
#      takes ~0.25 of a core at these rates); tile rows give the server's
#      CPU time per tile;
#   5. the start from PostGIS (serve --pg): to /readyz 200, RSS at ready and
#      30 s later, the peak.
#
# The figures go to stdout and to docs/bench/http-<date>.txt with the date,
# git hash and load average. Binaries and key files go to bin/ (ignored).
#
#   CITYTWIN_BENCH_N  components of the city (default 2000000)
#   DATA              city file (default: /tmp/city2m.gpkg for 2,000,000, as
#                     scripts/loadbench.sh; else ~/.local/share/citytwin/
#                     bench-N.gpkg); generated (gen --seed 1) when missing
#   DURATION          each wrk run and the cache-off tile loop (default 10s)
#   PORT              first of the three ports used (default 18090)
#   OUT               results file (default docs/bench/http-<date>.txt)
#   PG                a PostgreSQL server URL without database (default
#                     postgres://postgres@127.0.0.1:5432; "" skips step 5):
#                     step 5 copies the city once into its database
#                     citytwin_bench_N and measures the start from PostGIS
set -euo pipefail
cd "$(dirname "$0")/.."
n="${CITYTWIN_BENCH_N:-2000000}"
duration="${DURATION:-10s}"
port="${PORT:-18090}"
addr="127.0.0.1:$port"
addr_nocache="127.0.0.1:$((port + 1))"
addr_bare="127.0.0.1:$((port + 2))"
stamp="$(date -u +%Y-%m-%d)"
out="${OUT:-docs/bench/http-$stamp.txt}"
if [ -n "${DATA:-}" ]; then
  data="$DATA"
elif [ "$n" = 2000000 ]; then
  data=/tmp/city2m.gpkg
else
  data="${XDG_DATA_HOME:-$HOME/.local/share}/citytwin/bench-$n.gpkg"
fi
work=bin/bench-http
mkdir -p "$work" "$(dirname "$out")" "$(dirname "$data")"

# wrk (Debian package), installed like scripts/deps.sh installs the rest.
if ! command -v wrk >/dev/null 2>&1; then
  echo "scripts/bench-http.sh: installing wrk" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -qq wrk >/dev/null 2>&1 || { $SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq wrk >/dev/null; }
fi
command -v sqlite3 >/dev/null 2>&1 || { echo "scripts/bench-http.sh: needs sqlite3 (apt-get install sqlite3) to dump keys from the city" >&2; exit 1; }

go build -o bin/citytwin ./cmd/citytwin
go build -o bin/citytwin-load ./cmd/citytwin-load
go build -o bin/httpbare ./bench/httpbare
if [ ! -f "$data" ]; then
  echo "generating the city of $n components into $data (once)" >&2
  bin/citytwin gen --components "$n" --grids "$((n / 125))" --seed 1 --out "$data"
fi

# Keys over the whole city, dumped once per city file: random codes, and
# the box centres of random components.
keys="$work/$(basename "$data" .gpkg)"
if [ ! -s "$keys.codes.paths" ] || [ "$data" -nt "$keys.codes.paths" ]; then
  echo "dumping random keys from $data" >&2
  sqlite3 "$data" "SELECT '/parts/' || code FROM parts WHERE NOT retired ORDER BY random() LIMIT 100000" >"$keys.codes.paths"
  sqlite3 -separator ' ' "$data" "SELECT (minx + maxx) / 2, (miny + maxy) / 2 FROM rtree_parts_geom ORDER BY random() LIMIT 100000" >"$keys.points"
  awk 'BEGIN { srand(13) } {
    lon = $1; lat = $2; km = 111.32; c = cos(lat * 3.14159265358979 / 180)
    printf "/parts/nearest?lon=%.6f&lat=%.6f&k=10\n", lon, lat > "'"$keys"'.nearest.paths"
    h = 0.25; dy = h / km; dx = h / (km * c)
    printf "/parts/counts?bbox=%.6f,%.6f,%.6f,%.6f\n", lon - dx, lat - dy, lon + dx, lat + dy > "'"$keys"'.counts.paths"
    h = (0.3 + 0.2 * rand()) / 2; dy = h / km; dx = h / (km * c)
    printf "/parts?bbox=%.6f,%.6f,%.6f,%.6f&limit=100\n", lon - dx, lat - dy, lon + dx, lat + dy > "'"$keys"'.bbox.paths"
  }' "$keys.points"
fi

pids=()
cleanup() {
  for p in "${pids[@]}"; do
    if kill -0 "$p" 2>/dev/null; then
      kill "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
    fi
  done
}
trap cleanup EXIT

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
kb() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }
mb() { awk -v k="$2" '$1 == k":" { printf "%.0f MB", $2 / 1024 }' "/proc/$1/status"; }

# serve ADDR LOG [flags...] starts a server on the store of store_args (the
# city file unless set), waits for /readyz 200 and sets pid, ready (seconds
# from start), rss_ready and t0.
store_args=(--data "$data")
serve() {
  local a="$1" log="$2"
  shift 2
  t0=$(now)
  bin/citytwin serve "${store_args[@]}" --addr "$a" --no-mqtt --rate-limit 0 --access-log=false "$@" >/dev/null 2>"$log" &
  pid=$!
  pids+=("$pid")
  until curl -fsS -o /dev/null "http://$a/readyz" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "the server exited while loading:" >&2
      cat "$log" >&2
      exit 1
    fi
    sleep 0.02
  done
  ready=$(since "$t0")
  rss_ready=$(mb "$pid" VmRSS)
}

# aggregates LOG waits for the tile aggregates and sets agg (seconds from
# start, when this script saw the line) and agg_log (the server's figure).
aggregates() {
  local log="$1"
  for _ in $(seq 1 6000); do
    if grep -q 'tile aggregates built' "$log"; then
      break
    fi
    sleep 0.02
  done
  agg=$(since "$t0")
  agg_log=$(grep -m1 'tile aggregates built' "$log" | sed -n 's/.*seconds=\([0-9.]*\).*/\1/p')
}

# cputicks PID is the user+system CPU time of a process, in clock ticks.
cputicks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# tilepass LABEL ADDR LIST PID [MAX [DURATION]] asks the tiles of LIST in
# order with 4 connections, each once (MAX answers, default the list's
# length; at most DURATION), and prints one row with the server's (PID's)
# CPU time per tile.
tilepass() {
  local max="${5:-$(wc -l <"$3")}" c0 c1
  c0=$(cputicks "$4")
  bin/citytwin-load --url "http://$2" --scenario tile --paths "$3" --connections 4 --warmup 0 \
    --duration "${6:-10m}" --max-requests "$max" --json 2>/dev/null >"$work/tilepass.json"
  c1=$(cputicks "$4")
  jq -r --arg l "$1" '.results[0] | [$l, .requests, (.requests_per_second | round), .latency_ms.p50, .latency_ms.p99,
      ((.bytes / ([.requests, 1] | max) / 1024) | round), .non_2xx + .errors] | @tsv' "$work/tilepass.json" |
    awk -F'\t' -v dt="$((c1 - c0))" -v hz="$hz" '{ printf "%-30s %8d %9d %8.2f %8.2f %8d %8.2f %8d\n", $1, $2, $3, $4, $5, $6, ($2 > 0 ? dt / hz * 1e3 / $2 : 0), $7 }'
}

# tilewrk LABEL ADDR LIST PID: the tiles of LIST in random order with wrk
# (4 connections, gzip, DURATION after a 2 s warm-up), one row as tilepass
# (p50 and p99 from wrk's latency distribution; KB/tile from its transfer).
tilewrk() {
  local res c0 c1
  wrk -t2 -c4 -d2s -H 'Accept-Encoding: gzip' -s scripts/wrk/random.lua "http://$2" -- "$3" >/dev/null 2>&1 || true
  c0=$(cputicks "$4")
  res=$(wrk -t2 -c4 -d"$duration" --latency -H 'Accept-Encoding: gzip' -s scripts/wrk/random.lua "http://$2" -- "$3" 2>&1)
  c1=$(cputicks "$4")
  echo "$res" | awk -v name="$1" -v dt="$((c1 - c0))" -v hz="$hz" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    function kb(v) { if (v ~ /KB$/) return v + 0; if (v ~ /MB$/) return v * 1024; if (v ~ /GB$/) return v * 1048576; return v / 1024 }
    / requests in / { n = $1; bytes = kb($5) }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
    /Requests\/sec/ { rps = $2 } /Non-2xx/ { bad += $NF }
    /Socket errors/ { for (i = 3; i <= NF; i++) { v = $i; gsub(/,/, "", v); if (v ~ /^[0-9]+$/) bad += v } }
    END { printf "%-30s %8d %9.0f %8.2f %8.2f %8.0f %8.2f %8d\n", name, n, rps, p50, p99, (n > 0 ? bytes / n : 0), (n > 0 ? dt / hz * 1e3 / n : 0), bad }'
}

# wrkrun NAME ADDR PATHS CONNS PID prints one row of the wrk table: the
# rates, latencies, and the server's CPU time per request (PID's user +
# system time over the run / the requests wrk counted), which a busy
# machine sways less than the rates.
wrkrun() {
  local name="$1" a="$2" paths="$3" c="$4" spid="$5" res c0 c1
  wrk -t2 -c"$c" -d2s -s scripts/wrk/random.lua "http://$a" -- "$paths" >/dev/null 2>&1 || true
  c0=$(cputicks "$spid")
  res=$(wrk -t2 -c"$c" -d"$duration" --latency -s scripts/wrk/random.lua "http://$a" -- "$paths" 2>&1)
  c1=$(cputicks "$spid")
  echo "$res" | awk -v name="$name" -v c="$c" -v dt="$((c1 - c0))" -v hz="$hz" '
    /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
    /Requests\/sec/ { rps = $2 } /Non-2xx/ { bad = $NF } /Socket errors/ { err = $0 }
    / requests in / { n = $1 }
    /Transfer\/sec/ { tr = $2 }
    END { printf "%-26s %5d %9.0f %10s %10s %10s %8.1f %8d %s\n", name, c, rps, p50, p99, tr, (n > 0 ? dt / hz * 1e6 / n : 0), bad, err }'
  echo "$res" | awk '/Requests\/sec/ { print $2 }' >"$work/last.rps"
}

load0="$(cut -d' ' -f1-3 /proc/loadavg)"
git_hash="$(git rev-parse --short HEAD 2>/dev/null || echo '?')"
dirty="$(git status --porcelain 2>/dev/null | grep -c . || true)"

# 1. start and memory (server with its cache)
serve "$addr" "$work/serve.log"
aggregates "$work/serve.log"
sleep "$(awk -v r="$(since "$t0")" 'BEGIN { s = 60 - r; print (s > 0 ? s : 0) }')"
rss_60=$(mb "$pid" VmRSS)
hwm_60=$(mb "$pid" VmHWM)
main_pid=$pid main_ready=$ready main_rss=$rss_ready main_agg=$agg main_agg_log=$agg_log

# 2. the z14 tiles over the city's bounds
read -r minlon minlat maxlon maxlat < <(curl -fsS "http://$addr/tiles/parts.json" | jq -r '.bounds | map(tostring) | join(" ")')
awk -v z=14 -v a="$minlon" -v b="$minlat" -v c="$maxlon" -v d="$maxlat" 'function tx(lon) { return int((lon + 180) / 360 * 2^z) }
  function ty(lat, r) { r = lat * 3.14159265358979 / 180; return int((1 - log(sin(r) / cos(r) + 1 / cos(r)) / 3.14159265358979) / 2 * 2^z) }
  BEGIN { for (y = ty(d); y <= ty(b); y++) for (x = tx(a); x <= tx(c); x++) printf "/tiles/parts/%d/%d/%d.mvt\n", z, x, y }' >"$work/z14.paths"
ntiles=$(wc -l <"$work/z14.paths")
tiles_cold=$(tilepass "cold, cache on, each once" "$addr" "$work/z14.paths" "$pid")
tiles_warm=$(tilepass "warm: the same again" "$addr" "$work/z14.paths" "$pid")

# 3. the query mix, and the bare server with the bytes of one lookup
first_code=$(head -1 "$keys.codes.paths")
curl -fsS -D "$work/lookup.headers" -o "$work/lookup.body" "http://$addr$first_code"
ctype=$(awk 'tolower($1) == "content-type:" { sub(/\r$/, ""); print $2 }' "$work/lookup.headers")
bin/httpbare --addr "$addr_bare" --body "$work/lookup.body" --type "$ctype" --headers "$work/lookup.headers" &
bare_pid=$!
pids+=("$bare_pid")
until curl -fsS -o /dev/null "http://$addr_bare/"; do sleep 0.05; done
mix=$(
  printf "%-26s %5s %9s %10s %10s %10s %8s %8s %s\n" scenario conns req/s p50 p99 bytes/s "cpu us" non-2xx errors
  for c in 4 64; do
    # Lookups and the bare server in turn, five times: the machine's
    # speed drifts between runs, a ratio of neighbours drifts less.
    ratios=()
    for round in 1 2 3 4 5; do
      wrkrun "lookup by code ($round)" "$addr" "$keys.codes.paths" "$c" "$main_pid"
      lookup=$(cat "$work/last.rps")
      wrkrun "bare net/http ($round)" "$addr_bare" "$keys.codes.paths" "$c" "$bare_pid"
      bare=$(cat "$work/last.rps")
      ratios+=("$(awk -v a="$lookup" -v b="$bare" 'BEGIN { printf "%.0f", 100 * a / b }')")
    done
    printf "%-26s %5d %s%% (median %s%%)\n" "lookups / bare, by round" "$c" "$(IFS=/; echo "${ratios[*]}" | sed 's|/|%, |g')" \
      "$(printf "%s\n" "${ratios[@]}" | sort -n | sed -n 3p)"
    wrkrun "nearest 10" "$addr" "$keys.nearest.paths" "$c" "$main_pid"
    wrkrun "500 m counts" "$addr" "$keys.counts.paths" "$c" "$main_pid"
    wrkrun "bbox pages of 100" "$addr" "$keys.bbox.paths" "$c" "$main_pid"
  done
)
rss_end=$(mb "$main_pid" VmRSS)
hwm_end=$(mb "$main_pid" VmHWM)
cleanup
pids=()

# 4. a server without its tile cache
serve "$addr_nocache" "$work/serve-nocache.log" --tile-cache-mb 0
ready_nc=$ready
aggregates "$work/serve-nocache.log"
nocache_once=$(tilepass "--tile-cache-mb 0: each once" "$addr_nocache" "$work/z14.paths" "$pid")
nocache_loop=$(tilepass "--tile-cache-mb 0: $duration loop" "$addr_nocache" "$work/z14.paths" "$pid" 100000000 "$duration")
nocache_wrk=$(tilewrk "--tile-cache-mb 0: wrk $duration" "$addr_nocache" "$work/z14.paths" "$pid")
misses=$(curl -fsS "http://$addr_nocache/metrics" 2>/dev/null | awk '/^citytwin_tile_cache_(hits|misses)_total/ { printf "%s %s  ", $1, $2 }')
cleanup
pids=()

# 5. the start from PostGIS
pg_line="skipped (PG empty)"
pg="${PG-postgres://postgres@127.0.0.1:5432}"
if [ -n "$pg" ]; then
  db="citytwin_bench_$n"
  pg_url="$pg/$db?sslmode=disable" # loopback: no TLS (it costs ~0.5 s of the start)
  have=$(psql "$pg_url" -Atc "SELECT count(*) FROM parts" 2>/dev/null || echo 0)
  if [ "$have" != "$n" ]; then
    echo "copying $data into $pg_url (once)" >&2
    psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db" >/dev/null
    psql "$pg/postgres" -qc "CREATE DATABASE $db" >/dev/null
    bin/citytwin copy --data "$data" --pg "$pg_url" >&2
  fi
  store_args=(--pg "$pg_url")
  serve "$addr_nocache" "$work/serve-pg.log"
  pg_ready=$ready pg_rss=$rss_ready
  sleep 30
  pg_line="process start to /readyz 200:        $pg_ready s; RSS at ready $pg_rss, 30 s later $(mb "$pid" VmRSS) (peak, VmHWM: $(mb "$pid" VmHWM))"
  cleanup
  pids=()
fi

{
  echo "# citytwin HTTP benchmark (scripts/bench-http.sh), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# git $git_hash ($dirty uncommitted changes); $(go version | cut -d' ' -f3-4)"
  echo "# $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(free -g | awk '/^Mem:/ {print $2 " GiB RAM"}')"
  echo "# city $data: $n components ($(du -h "$data" | cut -f1)); server, wrk and citytwin-load share the machine"
  echo "# load average before: $load0; after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "## start and memory (serve --no-mqtt --rate-limit 0 --access-log=false)"
  echo "process start to /readyz 200:        $main_ready s (the server without its tile cache: $ready_nc s)"
  echo "process start to tile aggregates:    $main_agg s (seen in the log; the server's own figure, from ready: ${main_agg_log:-?} s)"
  echo "RSS at ready:                        $main_rss"
  echo "RSS 60 s after start:                $rss_60 (peak so far, VmHWM: $hwm_60)"
  echo "RSS after the benchmark:             $rss_end (peak, VmHWM: $hwm_end)"
  echo
  echo "## start and memory from PostGIS (serve --pg, the same city copied once, sslmode=disable on loopback)"
  echo "$pg_line"
  echo
  echo "## cold z14 tiles over HTTP: the $ntiles tiles over the city's bounds ($minlon,$minlat,$maxlon,$maxlat), 4 connections, layer parts, gzip"
  echo "cpu ms: the server's CPU time per tile; the passes by citytwin-load (Go, in list order), the last row by wrk (random order)"
  printf "%-30s %8s %9s %8s %8s %8s %8s %8s\n" pass tiles tiles/s "p50 ms" "p99 ms" "KB/tile" "cpu ms" failed
  printf "%s\n" "$tiles_cold" "$tiles_warm" "$nocache_once" "$nocache_loop" "$nocache_wrk"
  echo "the server without cache: $misses"
  echo
  echo "## query mix, wrk -t2, $duration per run after a 2 s warm-up, random keys over the whole city (scripts/wrk/random.lua)"
  echo "cpu us: the server's CPU time (user + system, /proc) per request over the run; lookups and the bare server in turn, five rounds"
  echo "the bare server sends the body and these headers of one lookup: $(awk -F: 'NR > 1 && NF > 1 { printf "%s; ", $1 }' "$work/lookup.headers")"
  echo "$mix"
} | tee "$out"
echo "written to $out" >&2

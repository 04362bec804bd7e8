#!/usr/bin/env bash
# Runs every benchmark of the project at full size (the 2,000,000-component
# city unless CITYTWIN_BENCH_N says otherwise) and times `citytwin gen` of
# the full city; writes everything to bench-results.txt (or $BENCH_OUT).
# Installs PostGIS first (scripts/deps.sh --bench) for the tile benchmark's
# ST_AsMVT comparison; PostgreSQL must be running at CITYTWIN_PG_URL
# (default postgres://postgres@127.0.0.1:5432/test?sslmode=disable).
#
#   BENCHTIME   -benchtime of the package benchmarks (default 1s)
#   BENCH       -bench pattern (default .)
#   BENCH_OUT   output file (default bench-results.txt)
#
# The end-to-end tile benchmark (./bench) runs one pass per list
# (-benchtime 1x): about 5-10 minutes on 2 cores, most of it PostGIS.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${BENCH_OUT:-bench-results.txt}"
benchtime="${BENCHTIME:-1s}"
pattern="${BENCH:-.}"
export CITYTWIN_BENCH_N="${CITYTWIN_BENCH_N:-2000000}"

scripts/deps.sh --bench

# Every package with a benchmark, the end-to-end ./bench last.
mapfile -t pkgs < <(grep -rl --include='*_test.go' --exclude-dir=node_modules --exclude-dir=testdata '^func Benchmark' . | xargs -n1 dirname | sort -u | grep -v '^\./bench$' | grep -v '^\./bench/live$')

{
  echo "# citytwin benchmarks, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# $(go version); $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(free -g | awk '/^Mem:/ {print $2 " GiB RAM"}')"
  echo "# git $(git rev-parse --short HEAD 2>/dev/null || echo '?'); CITYTWIN_BENCH_N=$CITYTWIN_BENCH_N"
  echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?') (other work on the machine slows every figure)"
  psql "${CITYTWIN_PG_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}" -Atc 'SELECT version()' 2>/dev/null | sed 's/^/# /' || echo "# PostgreSQL: not reachable (PostGIS comparison skipped)"
  echo
  echo "## citytwin gen of the full city ($CITYTWIN_BENCH_N components)"
  go build -o /tmp/citytwin-bench ./cmd/citytwin
  rm -f /tmp/bench-city.gpkg
  { time /tmp/citytwin-bench gen --components "$CITYTWIN_BENCH_N" --out /tmp/bench-city.gpkg; } 2>&1
  ls -l /tmp/bench-city.gpkg
  echo
  echo "## package benchmarks (-benchtime $benchtime)"
  go test -run '^$' -bench "$pattern" -benchmem -benchtime "$benchtime" -timeout 60m "${pkgs[@]}" 2>&1
  echo
  echo "## end-to-end tiles: citytwin vs PostGIS ST_AsMVT (./bench, -benchtime 1x)"
  go test -run '^$' -bench "$pattern" -benchmem -benchtime 1x -timeout 60m ./bench 2>&1
} | tee "$out"
echo "scripts/bench.sh: results in $out" >&2

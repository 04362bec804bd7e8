#!/usr/bin/env bash
# The test command of the README: installs what the tests need, starts the
# services they talk to (PostgreSQL with PostGIS, Mosquitto), builds the
# map page's vendored MapLibre, then vets and runs every test (unit, fuzz
# seeds, GDAL interoperability, the real broker, the map page in headless
# Chromium), the concurrent packages again under the race detector, and
# every fuzz target for 3,000 inputs each (FUZZTIME).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/services.sh
scripts/web.sh
go vet ./...
go test -count=1 -timeout 30m ./... "$@"
echo "scripts/test.sh: the concurrent packages under the race detector" >&2
go test -race -count=1 -timeout 20m ./sensors/ ./incidents/ ./twin/ ./mqtt/ ./parts/ ./spatial/ ./tiles/ ./app/ ./tokens/
echo "scripts/test.sh: fuzzing every target for ${FUZZTIME:-3000x}" >&2
FUZZTIME="${FUZZTIME:-3000x}" scripts/fuzz.sh

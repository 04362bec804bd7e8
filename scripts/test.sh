#!/usr/bin/env bash
# The test command of the README: installs what the tests need, starts the
# services they talk to (PostgreSQL with PostGIS), builds the
# map page's vendored MapLibre, then vets and runs every test (unit, fuzz
# seeds, GDAL interoperability, the map page in headless Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/services.sh
scripts/web.sh
go vet ./...
go test -count=1 -timeout 30m ./... "$@"

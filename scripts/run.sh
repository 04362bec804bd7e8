#!/usr/bin/env bash
# The run command of the README: builds the map page and serves a demo city
# (made once in the user's data directory, ~/.local/share/citytwin/) on
# http://127.0.0.1:8080/, with an embedded MQTT broker on a free loopback
# port and 2,000 simulated sensors publishing 100 readings a second to it,
# so the map shows live alarms and the cases they open. Flags are passed
# on to `citytwin serve` (e.g. scripts/run.sh --addr 127.0.0.1:9090, or
# --simulate 0 for no simulated sensors).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --run
scripts/web.sh
exec go run ./cmd/citytwin serve --simulate 2000 --simulate-rate 100 "$@"

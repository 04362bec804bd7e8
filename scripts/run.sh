#!/usr/bin/env bash
# The run command of the README: builds the map page and serves a demo city
# (made once in the user's data directory) on http://127.0.0.1:8080/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --run
scripts/web.sh
exec go run ./cmd/citytwin serve "$@"

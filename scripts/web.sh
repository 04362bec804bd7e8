#!/usr/bin/env bash
# Installs the map page's front-end packages (MapLibre GL JS) from the npm
# registry and copies them next to the page, where citytwin embeds and
# serves them. Nothing is loaded from a CDN: city intranets are offline.
set -euo pipefail
cd "$(dirname "$0")/../web"
if ! command -v npm >/dev/null 2>&1; then
  echo "scripts/web.sh: npm is needed for the map page (apt-get install -y nodejs npm)" >&2
  exit 1
fi
if [ ! -f static/vendor/maplibre-gl.js ] || [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt static/vendor/maplibre-gl.js ]; then
  npm ci --no-audit --no-fund --loglevel=error
  mkdir -p static/vendor
  cp node_modules/maplibre-gl/dist/maplibre-gl.js node_modules/maplibre-gl/dist/maplibre-gl.css \
     node_modules/maplibre-gl/LICENSE.txt static/vendor/
fi

#!/usr/bin/env bash
# Installs the system packages the tests talk to, from Debian's packages:
# Mosquitto (the MQTT tests' broker), GDAL (ogrinfo/ogr2ogr read our GeoPackage, tiles and OGC API) and Chromium
# (the map page test), PostGIS (store/postgis, the tile benchmark's peer).
# Does nothing for what is already there. With --run, only what running the
# service needs (npm, for the map page).
set -euo pipefail
want=()
if [ "${1:-}" = "--run" ]; then
  # Only what running the service needs: npm for the map page.
  command -v npm >/dev/null 2>&1 || want+=(nodejs npm)
else
command -v ogrinfo >/dev/null 2>&1 || want+=(gdal-bin)
command -v chromium >/dev/null 2>&1 || want+=(chromium)
command -v npm >/dev/null 2>&1 || want+=(nodejs npm)
# Mosquitto, the real broker of the MQTT tests (serve embeds its own).
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || want+=(mosquitto)
fc-list 2>/dev/null | grep -i "wqy\|noto.*cjk" >/dev/null || want+=(fonts-wqy-zenhei)
# PostGIS for store/postgis's tests and the tile benchmark's peer, into the
# PostgreSQL the machine runs (or PostgreSQL 15 when there is none yet).
pgver=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1)
command -v pg_ctlcluster >/dev/null 2>&1 || want+=(postgresql)
ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 || want+=("postgresql-${pgver:-15}-postgis-3")
fi
[ ${#want[@]} -eq 0 ] && exit 0
echo "scripts/deps.sh: installing ${want[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq "${want[@]}" >/dev/null

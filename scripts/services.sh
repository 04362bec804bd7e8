#!/usr/bin/env bash
# Makes sure the services the tests talk to are up: PostgreSQL on
# 127.0.0.1:5432 (started if it is down). Fails when it cannot start it.
set -euo pipefail
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  ver=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1)
  if [ -z "$ver" ]; then
    echo "scripts/services.sh: no PostgreSQL cluster on this machine" >&2
    exit 1
  fi
  echo "scripts/services.sh: starting PostgreSQL $ver" >&2
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  for _ in $(seq 1 30); do
    pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && break
    sleep 1
  done
fi
pg_isready -h 127.0.0.1 -p 5432 -q || { echo "scripts/services.sh: PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }
# Mosquitto on 127.0.0.1:1883 for the MQTT tests (the system configuration
# allows anonymous local clients and keeps sessions: persistence true).
if ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
  if ! command -v mosquitto >/dev/null && [ ! -x /usr/sbin/mosquitto ]; then
    echo "scripts/services.sh: mosquitto is not installed (apt-get install mosquitto)" >&2
    exit 1
  fi
  echo "scripts/services.sh: starting Mosquitto" >&2
  mkdir -p /run/mosquitto /var/lib/mosquitto /var/log/mosquitto
  chown mosquitto: /run/mosquitto /var/lib/mosquitto /var/log/mosquitto 2>/dev/null || true
  "$(command -v mosquitto || echo /usr/sbin/mosquitto)" -d -c /etc/mosquitto/mosquitto.conf
  for _ in $(seq 1 30); do
    (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null && break
    sleep 0.2
  done
fi
(exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null || { echo "scripts/services.sh: Mosquitto is not reachable on 127.0.0.1:1883" >&2; exit 1; }

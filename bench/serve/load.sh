#!/usr/bin/env bash
# Load test of `govcap serve` on loopback: 50 concurrent connections for 30 s on the public
# pages and GET /api/v1/runs/{id}/units/{code}, on SQLite and (when PG_URL is set) PostgreSQL.
# Prints wrk's latency distribution and the server's peak RSS. Usage:
#   bench/serve/load.sh [SECONDS]        (needs wrk: apt-get install wrk)
set -euo pipefail
SECS="${1:-30}"
BIN="${GOVCAP_BIN:-${CARGO_TARGET_DIR:-target}/release/govcap}"
HERE="$(cd "$(dirname "$0")" && pwd)"
WORK="$(mktemp -d)"
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
cd "$WORK"

"$BIN" demo --out demo --no-audit >/dev/null 2>&1

run_backend() {
  local db="$1" name="$2"
  printf 'load-test-password\n' | "$BIN" users add lead --role lead --password-stdin --db "$db" >/dev/null
  "$BIN" serve --db "$db" --listen 127.0.0.1:0 --plain-logs 2> serve.log &
  SERVER=$!
  local addr=""
  for _ in $(seq 1 100); do
    addr=$(grep -o 'listening on http://[0-9.:]*' serve.log | sed 's#listening on http://##' || true)
    [ -n "$addr" ] && break
    sleep 0.1
  done
  local base="http://$addr"
  # Publish the newest run through the API (a bearer token of the lead).
  local csrf cookie token run
  curl -s -c jar -H 'content-type: application/json' -d '{"username":"lead","password":"load-test-password"}' "$base/api/v1/session" > login.json
  csrf=$(python3 -c 'import json;print(json.load(open("login.json"))["csrf_token"])')
  token=$(curl -s -b jar -H "x-csrf-token: $csrf" -H 'content-type: application/json' -d '{"label":"load"}' "$base/api/v1/tokens" | python3 -c 'import json,sys;print(json.load(sys.stdin)["token"])')
  run=$(curl -s -H "authorization: Bearer $token" "$base/api/v1/runs" | python3 -c 'import json,sys;print(json.load(sys.stdin)["items"][0]["id"])')
  curl -s -o /dev/null -H "authorization: Bearer $token" -X POST "$base/api/v1/runs/$run/publish"
  # Warm the caches (parsed run, rendered report) as the first visitor would.
  for p in / "/runs/$run/" "/runs/$run/ranking.html" "/runs/$run/units/510100.html" "/api/v1/runs/$run/units/510100"; do
    curl -s -o /dev/null "$base$p"
  done
  echo "== $name: 50 connections, ${SECS}s, public pages + unit API (run $run)"
  RUN="$run" wrk -t2 -c50 -d"${SECS}s" --latency -s "$HERE/mix.lua" "$base" | tee "wrk-$name.txt"
  local rss
  rss=$(grep VmHWM /proc/$SERVER/status | awk '{print $2}')
  echo "peak RSS of the server: $((rss / 1024)) MiB"
  kill -TERM $SERVER; wait $SERVER || true
}

run_backend demo/govcap.db SQLite
if [ -n "${PG_URL:-}" ]; then
  psql "$PG_URL" -q -c 'DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;' >/dev/null
  "$BIN" demo --out demo-pg --no-audit --db "$PG_URL" >/dev/null 2>&1
  run_backend "$PG_URL" PostgreSQL
fi

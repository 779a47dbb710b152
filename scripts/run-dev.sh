#!/usr/bin/env bash
# Starts codeQ in development mode (`make run`). Until the embedded store lands, it also starts a
# private redis-server (port 6399, data in ./data/redis) and stops it when the server exits.
# Extra arguments go to `codeq serve`, e.g. `make run ARGS="--port 9090"`.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=build/codeq
REDIS_PORT=${CODEQ_DEV_REDIS_PORT:-6399}
mkdir -p data/redis

if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$PWD/data/redis" \
    --save 60 1 --appendonly yes --daemonize yes --pidfile "$PWD/data/redis/redis.pid" \
    --logfile "$PWD/data/redis/redis.log"
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  trap 'redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true' EXIT
fi

"$BIN" serve --dev --store "redis://127.0.0.1:$REDIS_PORT" "$@"

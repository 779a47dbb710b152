#!/usr/bin/env bash
# Starts codeQ in development mode (`make run`) on the embedded store in ./data: nothing else to
# run. Extra arguments go to `codeq serve`, e.g. `make run ARGS="--port 9090"` or, for Redis,
# `make run ARGS="--store redis://127.0.0.1:6379"`.
set -euo pipefail
cd "$(dirname "$0")/.."
exec build/codeq serve --dev "$@"

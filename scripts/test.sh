#!/usr/bin/env bash
# Runs every test suite (`make test`): unit, contract (against a real redis-server the tests start)
# and integration (a real `codeq serve` + redis-server, over HTTP).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v redis-server >/dev/null || { echo "redis-server missing: run scripts/install-deps.sh" >&2; exit 2; }
ctest --test-dir build --output-on-failure --timeout 900 "$@"

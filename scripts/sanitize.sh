#!/usr/bin/env bash
# Builds codeQ with sanitizers (CMake presets `asan` / `tsan`, build dirs build-asan/ build-tsan/)
# and runs the test subset chosen for each:
#
#   scripts/sanitize.sh asan   ASan + UBSan: unit, contract and integration suites (both stores),
#                              plus the fuzz corpus replays; the tests start an ASan `codeq serve`.
#   scripts/sanitize.sh tsan   ThreadSanitizer on the concurrent code: unit_service (ready signal),
#                              unit_http (an io_context per I/O thread), the Store contract suite (both backends; concurrent claims/creates,
#                              group commit) and the integration cases that drive a TSan
#                              `codeq serve` with parallel clients (Concurrency*, ClaimTest*, BatchTest*,
#                              LeaseNack*, Shutdown*), against both stores.
#
# Every sanitizer report (also from the `codeq serve` children the tests start) is written under
# build-<mode>/sanitizer-logs/ and fails the run, even when the test itself passed.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
case "$mode" in
  asan | tsan) ;;
  *) echo "usage: scripts/sanitize.sh asan|tsan" >&2; exit 2 ;;
esac
command -v redis-server >/dev/null || { echo "redis-server missing: run scripts/install-deps.sh" >&2; exit 2; }

export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
export CCACHE_BASEDIR="$PWD"
export CCACHE_NOHASHDIR=true
build=build-$mode
logs=$PWD/$build/sanitizer-logs
supp=$PWD/scripts/sanitizers

if [ "$mode" = asan ]; then
  build_targets=(codeq unit_domain unit_auth unit_config unit_metrics unit_service unit_webhooks unit_http contract_redis integration
                 replay_request_body replay_jwt replay_jwks replay_config replay_migrate_task)
  # Each entry: <ctest -R regex>@<GTEST_FILTER, empty = all>
  runs=('^(unit_|contract_|fuzz_replay_)@' '^integration@')
else
  build_targets=(codeq unit_service unit_http contract_redis integration)
  runs=('^(unit_service|unit_http|contract_redis)$@'
        '^integration@Concurrency*:ClaimTest*:BatchTest*:LeaseNack*:Shutdown*:Webhook*')
fi

start=$SECONDS
cmake --preset "$mode" >/dev/null
cmake --build "$build" -j "${JOBS:-2}" --target "${build_targets[@]}"
echo "sanitize.sh $mode: build took $((SECONDS - start)) s"

rm -rf "$logs"
mkdir -p "$logs"
common="halt_on_error=1:print_stacktrace=1:log_path=$logs/report"
export ASAN_OPTIONS="$common:abort_on_error=0:detect_leaks=1:detect_stack_use_after_return=0:strict_init_order=1"
export UBSAN_OPTIONS="$common"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp"
export TSAN_OPTIONS="$common:second_deadlock_stack=1:suppressions=$supp/tsan.supp"

rc=0
test_start=$SECONDS
for run in "${runs[@]}"; do
  regex=${run%@*}
  filter=${run##*@}
  echo "== sanitize.sh $mode: ctest -R '$regex' ${filter:+(GTEST_FILTER=$filter)}"
  GTEST_FILTER=${filter:-*} ctest --test-dir "$build" --output-on-failure --timeout 1800 --no-tests=error -R "$regex" || rc=1
done
echo "sanitize.sh $mode: tests took $((SECONDS - test_start)) s"

if compgen -G "$logs/report*" >/dev/null; then
  echo "sanitize.sh $mode: sanitizer reports:" >&2
  for f in "$logs"/report*; do
    echo "---- $f" >&2
    cat "$f" >&2
  done
  rc=1
fi
[ "$rc" -eq 0 ] && echo "sanitize.sh $mode: clean ($((SECONDS - start)) s)"
exit "$rc"

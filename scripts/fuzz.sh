#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (CMake preset `fuzz`: clang, ASan + UBSan, build-fuzz/) and
# runs each for a fixed time, printing its executions and any crash.
#
#   scripts/fuzz.sh [seconds-per-target] [target...]     (defaults: 600 s, every target)
#
# Targets: request_body jwt jwks config migrate_task (fuzz/<target>_fuzz.cpp). Seeds are read from
# fuzz/corpus/<target>/ (never written); new inputs go to build-fuzz/corpus/<target>/ and crash
# inputs to build-fuzz/artifacts/<target>/. To keep a crash as a regression test, fix the code and
# copy the input into fuzz/corpus/<target>/ (the fuzz_replay_<target> CTest entry replays it).
# Exit status 1 when any target crashed, leaked or hit undefined behaviour.
set -euo pipefail
cd "$(dirname "$0")/.."
ALL_TARGETS=(request_body jwt jwks config migrate_task)
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
for t in "${targets[@]}"; do
  [ -f "fuzz/${t}_fuzz.cpp" ] || { echo "fuzz.sh: unknown target '$t' (have: ${ALL_TARGETS[*]})" >&2; exit 2; }
done
command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ missing: run scripts/install-deps.sh" >&2; exit 2; }

export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
export CCACHE_BASEDIR="$PWD"
export CCACHE_NOHASHDIR=true
cmake --preset fuzz >/dev/null
cmake --build build-fuzz -j "${JOBS:-2}" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
failed=()
summary=()
for t in "${targets[@]}"; do
  work=build-fuzz/corpus/$t
  artifacts=build-fuzz/artifacts/$t
  log=build-fuzz/fuzz-$t.log
  mkdir -p "$work" "$artifacts"
  echo "== fuzz $t for ${seconds}s (log: $log)"
  rc=0
  "build-fuzz/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$work" "fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  line=$(printf '%-14s %12s execs %8s execs/s  cov %6s' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}")
  if [ "$rc" -ne 0 ]; then
    line+="  CRASH (exit $rc)"
    failed+=("$t")
    grep -E 'ERROR: |runtime error|FUZZ_CHECK|SUMMARY|Test unit written' "$log" | head -20 || true
  fi
  echo "$line"
  summary+=("$line")
done
echo "== fuzz summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: crashes in: ${failed[*]} (inputs under build-fuzz/artifacts/)" >&2
  exit 1
fi

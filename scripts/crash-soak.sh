#!/usr/bin/env bash
# Crash soak of the embedded store: runs the kill -9 crash test (tests/crash/crash_test.cpp) for
# many more rounds than CI does. Each round puts `codeq serve` under a load of creates, claims,
# results and nacks, SIGKILLs it at a random moment and restarts it; at the end every acknowledged
# task must exist exactly once, in a state consistent with what clients were told, and all
# non-terminal work must be claimable.
#
#   scripts/crash-soak.sh [ROUNDS]      # default 200; BUILD_DIR=build by default
#
# Builds the crash_tests and codeq targets first (ccache, -j2). Exit status: the test's.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-200}
BUILD_DIR=${BUILD_DIR:-build}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache} CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
[ -f "$BUILD_DIR/build.ninja" ] || cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$BUILD_DIR" -j "${JOBS:-2}" --target crash_tests codeq
start=$(date +%s)
echo "crash soak: $ROUNDS rounds of kill -9 under load"
CODEQ_CRASH_ROUNDS=$ROUNDS "$BUILD_DIR/crash_tests" --gtest_color=no \
  --gtest_filter='CrashTest.KillNineUnderLoadNeverLosesAcknowledgedWork'
echo "crash soak: $ROUNDS rounds passed in $(( $(date +%s) - start )) s"

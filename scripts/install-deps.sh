#!/usr/bin/env bash
# Installs every build, test and run dependency of codeQ from Debian's packages.
# Idempotent and non-interactive; run as root (or with sudo available).
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build ccache pkg-config git curl ca-certificates
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-system1.81-dev
  libssl-dev libhiredis-dev librocksdb-dev libspdlog-dev libfmt-dev libcli11-dev
  libyaml-cpp-dev libcurl4-openssl-dev libgtest-dev libgmock-dev libbenchmark-dev
  libgoogle-perftools-dev
  redis-server redis-tools
  clang libclang-rt-14-dev
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# The Debian redis-server package may start a system instance; codeQ's scripts start their own.

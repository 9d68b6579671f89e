#!/usr/bin/env bash
# Installs the Debian packages Sigil needs, only those missing (idempotent).
# Usage: scripts/install-deps.sh [build|test|all]
set -euo pipefail

build_pkgs=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libssl-dev libsecp256k1-dev libsodium-dev libcrypto++-dev libgmp-dev libabsl-dev
  libboost-dev libboost-system-dev nlohmann-json3-dev libsimdjson-dev libtoml11-dev
  libcli11-dev libspdlog-dev libfmt-dev prometheus-cpp-dev libsqlite3-dev libpqxx-dev
  libp11-kit-dev libtss2-dev liboath-dev libfido2-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)
test_pkgs=(
  nodejs npm python3 python3-pytest valgrind gdb
  softhsm2 opensc swtpm swtpm-tools tpm2-tools
)

want=("${build_pkgs[@]}")
case "${1:-build}" in
  build) ;;
  test|all) want+=("${test_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  # node and npm may come from outside Debian (e.g. a preinstalled toolchain).
  if [[ $p == nodejs || $p == npm ]] && command -v "${p/nodejs/node}" >/dev/null 2>&1; then continue; fi
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

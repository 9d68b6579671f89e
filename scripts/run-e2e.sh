#!/usr/bin/env bash
# Runs the end-to-end tests (real clients in node and python) against the built binary.
set -euo pipefail
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
export SIGIL_BIN="$build/sigil" SIGIL_BUILD="$build" SIGIL_VECTORS_DIR="$root/../shared/vectors"
cd "$root/tests/e2e"
shopt -s nullglob
tests=(*.test.mjs ../python/*.test.mjs)
if ((${#tests[@]} == 0)); then echo "no e2e tests"; exit 1; fi
node --test --test-concurrency=1 --test-timeout=600000 "${tests[@]}"

#!/usr/bin/env bash
# Runs the end-to-end tests (real clients in node) against the built binary.
set -euo pipefail
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
export SIGIL_BIN="$build/sigil" SIGIL_BUILD="$build" SIGIL_VECTORS_DIR="$root/../shared/vectors"
cd "$root/tests/e2e"
shopt -s nullglob
tests=(*.test.mjs)
if ((${#tests[@]} == 0)); then echo "no e2e tests"; exit 0; fi
node --test --test-concurrency=1 "${tests[@]}"

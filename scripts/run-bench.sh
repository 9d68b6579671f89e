#!/usr/bin/env bash
# Runs every benchmark binary and prints its figures.
set -euo pipefail
build=$(cd "$1" && pwd)
shopt -s nullglob
for b in "$build"/bench/bench_*; do
  [[ -x $b && -f $b ]] || continue
  echo "=== $(basename "$b")"
  "$b" ${BENCH_ARGS:-}
done

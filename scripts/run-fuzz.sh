#!/usr/bin/env bash
# Runs every libFuzzer target: scripts/run-fuzz.sh BUILD_DIR runs N | seconds S
set -euo pipefail
build=$1 mode=$2 amount=$3
root=$(cd "$(dirname "$0")/.." && pwd)
shopt -s nullglob
targets=("$build"/fuzz/fuzz_*)
if ((${#targets[@]} == 0)); then echo "no fuzz targets built" >&2; exit 1; fi
for t in "${targets[@]}"; do
  [[ -x $t && -f $t ]] || continue
  name=$(basename "$t")
  corpus="$build/corpus/$name"; mkdir -p "$corpus"
  seeds="$root/fuzz/corpus/${name#fuzz_}"
  args=(-rss_limit_mb=2048 -max_len=65536 -print_final_stats=0)
  if [[ $mode == runs ]]; then args+=(-runs="$amount"); else args+=(-max_total_time="$amount"); fi
  echo "fuzz: $name ($mode $amount)"
  if [[ -d $seeds ]]; then "$t" "${args[@]}" "$corpus" "$seeds" 2>"$build/$name.log" || { tail -50 "$build/$name.log"; exit 1; }
  else "$t" "${args[@]}" "$corpus" 2>"$build/$name.log" || { tail -50 "$build/$name.log"; exit 1; }; fi
done
echo "fuzz: all targets clean"

#!/bin/sh
# Runs a ctime_* check under valgrind memcheck with its secrets marked
# undefined, and fails if Sigil's code reports any secret-dependent
# branch or memory access that calling the libraries directly ("raw") does not.
#
# usage: run_ctime.sh path/to/ctime_X [valgrind]
set -eu
bin=${1:?usage: run_ctime.sh path/to/ctime_X [valgrind]}
valgrind=${2:-valgrind}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run() {
  # --error-exitcode is not used: the baseline is expected to have reports.
  "$valgrind" --tool=memcheck --track-origins=yes --num-callers=30 --log-file="$tmp/$1.log" "$bin" "$1" >/dev/null
  # One line per error: the error kind and the address of its top frame.
  awk '/Conditional jump or move depends on uninitialised|Use of uninitialised value|Syscall param .* uninitialised/ {
         kind = $0; sub(/^==[0-9]+== /, "", kind); getline; print kind " @ " $3 " " $0 }' "$tmp/$1.log" |
    sed 's/^\(.*\) @ \(0x[0-9A-Fa-f]*:\).*/\1 @ \2/' | sort -u > "$tmp/$1.sites"
}

run raw
run sigil

echo "baseline (libraries direct)  : $(wc -l < "$tmp/raw.sites") report site(s)"
echo "sigil::crypto:                $(wc -l < "$tmp/sigil.sites") report site(s)"
extra=$(comm -13 "$tmp/raw.sites" "$tmp/sigil.sites")
if [ -n "$extra" ]; then
  echo "FAIL: secret-dependent behaviour introduced by Sigil's wrapper:" >&2
  echo "$extra" >&2
  grep -A12 'uninitialised' "$tmp/sigil.log" >&2 || true
  exit 1
fi
echo "OK: the wrapper adds no secret-dependent branch or memory access"

#!/usr/bin/env bash
# Installs the pinned npm clients used by the end-to-end tests (lock file committed).
set -euo pipefail
cd "$(dirname "$0")/../tests/e2e"
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

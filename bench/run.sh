#!/usr/bin/env bash
# `npm run bench`: installs the benchmark's own dependencies (the other OAuth2 clients it compares
# with, from bench/package-lock.json) when missing, makes sure pkg/ is built, then runs the suite,
# which writes BENCHMARKS.md. Environment knobs are listed at the top of bench/bench.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f bench/node_modules/.package-lock.json ] || [ bench/package-lock.json -nt bench/node_modules/.package-lock.json ]; then
  echo "bench: installing the benchmark's dependencies"
  npm ci --prefix bench --no-audit --no-fund --loglevel=error
fi
bash scripts/setup.sh
bash scripts/build.sh
exec node bench/bench.mjs

#!/usr/bin/env bash
# `npm start`: installs what is missing, builds pkg/, then serves the demo page with the vendor
# emulator. Options go to scripts/serve.mjs: npm start -- --help
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup.sh
bash scripts/build.sh
exec node scripts/serve.mjs "$@"

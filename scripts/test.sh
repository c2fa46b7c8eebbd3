#!/usr/bin/env bash
# `npm test`: installs what is missing, builds pkg/, then runs every suite. Stops at the first
# failing step and says which.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"

bash scripts/setup.sh
bash scripts/setup-browser.sh
bash scripts/build.sh

step() {
  local name=$1; shift
  echo
  echo "=== $name: $*"
  if ! "$@"; then
    echo "=== FAILED: $name" >&2
    exit 1
  fi
}

step "rustfmt" cargo fmt --check
step "clippy (native)" cargo clippy --quiet --all-targets -- -D warnings
step "clippy (wasm32)" cargo clippy --quiet --lib --target wasm32-unknown-unknown -- -D warnings
step "core unit tests and property tests (native)" cargo test --quiet
step "type check of a TypeScript consumer" tsc -p tests/types/tsconfig.json
step "JavaScript suites against pkg/ and the emulator (Node)" node --test --test-reporter=spec tests/
step "the shared suite under Deno" deno test --quiet --no-remote --allow-net=127.0.0.1 --allow-read=pkg/dist/web/apm_oauth_bg.wasm tests/deno/shared.deno.mjs
step "size budget" node scripts/size.mjs --check
echo
echo "=== all suites passed"

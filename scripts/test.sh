#!/usr/bin/env bash
# `npm test`: installs what is missing, builds pkg/, then runs every suite. Stops at the first
# failing step and says which.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"

bash scripts/setup.sh
bash scripts/setup-browser.sh
bash scripts/build.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT

step() {
  local name=$1; shift
  echo
  echo "=== $name: $*"
  if ! "$@" 2>&1 | tee -a "$log"; then
    echo "=== FAILED: $name" >&2
    exit 1
  fi
}

step "rustfmt" cargo fmt --check
step "clippy (native)" cargo clippy --quiet --all-targets -- -D warnings
step "clippy (wasm32)" cargo clippy --quiet --lib --tests --target wasm32-unknown-unknown --features js -- -D warnings
step "core unit tests and property tests (native)" cargo test --quiet
step "the Rust API under Node (wasm-bindgen-test, emulator in its own process)" bash scripts/test-rust-api.sh
step "type check of a TypeScript consumer" tsc -p tests/types/tsconfig.json
step "JavaScript suites against pkg/ and the emulator (Node)" node --test --test-reporter=spec tests/
step "the shared suite under Deno" env NO_COLOR=1 deno test --quiet --no-remote --allow-net=127.0.0.1 --allow-read=pkg/dist/web/apm_oauth_bg.wasm tests/deno/shared.deno.mjs
step "size budget" node scripts/size.mjs --check
echo
echo "=== all suites passed"
# One closing line over the test runners: cargo ("test result: ok. N passed; M failed"), Node
# ("ℹ pass N" / "ℹ fail M") and Deno ("ok | N passed ... | M failed").
awk '
  /^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1) } }
  /^ℹ pass / { p += $3 } /^ℹ fail / { f += $3 }
  /^(ok|FAILED) \| / { for (i = 1; i <= NF; i++) { if ($(i) == "passed") p += $(i-1); if ($(i) == "failed") f += $(i-1) } }
  END { printf "%d passed, %d failed\n", p, f }
' "$log"

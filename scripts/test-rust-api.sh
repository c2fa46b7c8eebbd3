#!/usr/bin/env bash
# The Rust API suite (tests/rust_api.rs): wasm-bindgen-test under Node against the vendor emulator.
#
#   bash scripts/test-rust-api.sh [extra cargo test args, e.g. -- --nocapture or a test name filter]
#
# Starts `node tests/emulator/index.mjs --control` in the background, waits for its JSON line
# ({"urls": {..., "control": ...}, "credentials": {...}}), hands it to the test as
#   APM_OAUTH_EMULATOR       the whole JSON line (read by the wasm test through process.env:
#                            wasm-bindgen-test-runner starts `node` with the inherited environment)
#   APM_OAUTH_EMULATOR_FILE  a file holding the same line (fallback for runners that drop the env)
# runs `cargo test --target wasm32-unknown-unknown --test rust_api` with wasm-bindgen-test-runner,
# and always stops the emulator on exit.
# Env: EMULATOR_START_TIMEOUT (seconds, default 20), EMULATOR_PORT_BASE (fixed ports; default random).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

for tool in node cargo wasm-bindgen-test-runner; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "test-rust-api: $tool not found (run scripts/setup.sh)" >&2
    exit 1
  fi
done

workdir=$(mktemp -d)
emu_pid=""
cleanup() {
  local rc=$?
  if [ -n "$emu_pid" ] && kill -0 "$emu_pid" 2>/dev/null; then
    kill -TERM "$emu_pid" 2>/dev/null || true
    # The emulator closes its servers and exits on SIGTERM; do not wait forever.
    for _ in $(seq 1 50); do
      kill -0 "$emu_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$emu_pid" 2>/dev/null || true
    wait "$emu_pid" 2>/dev/null || true
  fi
  rm -rf "$workdir"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

emu_args=(--control)
if [ -n "${EMULATOR_PORT_BASE:-}" ]; then emu_args+=(--port-base "$EMULATOR_PORT_BASE"); fi
node tests/emulator/index.mjs "${emu_args[@]}" >"$workdir/emulator.out" 2>"$workdir/emulator.err" &
emu_pid=$!

timeout_s=${EMULATOR_START_TIMEOUT:-20}
deadline=$((SECONDS + timeout_s))
line=""
while :; do
  # A complete first line (ends with a newline) is the JSON the emulator prints once it listens.
  if [ "$(wc -l <"$workdir/emulator.out")" -ge 1 ]; then
    line=$(head -n 1 "$workdir/emulator.out")
    break
  fi
  if ! kill -0 "$emu_pid" 2>/dev/null; then
    echo "test-rust-api: the emulator exited before it printed its URLs:" >&2
    cat "$workdir/emulator.err" >&2
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "test-rust-api: no JSON line from the emulator within ${timeout_s}s" >&2
    cat "$workdir/emulator.err" >&2
    exit 1
  fi
  sleep 0.1
done

case "$line" in
  '{'*'"control"'*'}') ;;
  *)
    echo "test-rust-api: unexpected first line from the emulator: $line" >&2
    exit 1
    ;;
esac

printf '%s\n' "$line" >"$workdir/emulator.json"
export APM_OAUTH_EMULATOR="$line"
export APM_OAUTH_EMULATOR_FILE="$workdir/emulator.json"
echo "test-rust-api: emulator pid $emu_pid, control $(node -e 'console.log(JSON.parse(process.argv[1]).urls.control)' "$line")"

export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
# Unset on purpose: the suite must run under Node, not in a browser.
unset WASM_BINDGEN_USE_BROWSER WASM_BINDGEN_TEST_ONLY_WEB WASM_BINDGEN_USE_DENO || true
cargo test --target wasm32-unknown-unknown --test rust_api "$@"

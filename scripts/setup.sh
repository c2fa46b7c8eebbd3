#!/usr/bin/env bash
# Installs what building and testing need, once: the wasm target and the standard library's
# source, the wasm-bindgen CLI of exactly the version Cargo.toml pins, and the npm packages of
# package-lock.json. Quick when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  echo "setup: adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
# The npm build compiles the standard library with the crate (scripts/build.sh).
if ! rustup component list --installed 2>/dev/null | grep -qx rust-src; then
  echo "setup: adding the rust-src component"
  rustup component add rust-src
fi

wb_version=$(sed -n 's/^wasm-bindgen = .*"=\([0-9.]*\)".*/\1/p' Cargo.toml)
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wb_version" ]; then
  echo "setup: installing wasm-bindgen-cli $wb_version (about 2 minutes, once)"
  cargo install wasm-bindgen-cli --version "$wb_version"
fi

# npm packages when node_modules is missing or older than package.json or the lock file. This is
# `npm install` (which keeps to the lock file) rather than `npm ci`: with this machine's npm
# settings the lock holds only this platform's optional packages (deno's binaries), which
# `npm ci` refuses as out of sync.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] \
  || [ package.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages"
  npm install --no-audit --no-fund --loglevel=error
fi

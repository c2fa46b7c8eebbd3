#!/usr/bin/env bash
# Builds the npm package in pkg/: the crate for wasm32, wasm-bindgen's web build (browsers, Deno,
# bundlers) and Node build (CommonJS), each optimised for size with wasm-opt.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

cargo build --quiet --release --target wasm32-unknown-unknown
wasm=target/wasm32-unknown-unknown/release/apm_oauth.wasm
rm -rf pkg/dist
for target in web nodejs; do
  out=pkg/dist/$target
  wasm-bindgen --target "$target" --weak-refs --no-typescript --out-dir "$out" --out-name apm_oauth "$wasm"
  node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$out/apm_oauth_bg.wasm" -o "$out/apm_oauth_bg.wasm"
done
# The Node build is CommonJS inside an ESM package.
echo '{ "type": "commonjs" }' > pkg/dist/nodejs/package.json

#!/usr/bin/env bash
# Builds the npm package in pkg/: the crate for wasm32 with its `js` feature (the package's classes),
# wasm-bindgen's web build (browsers, Deno, bundlers) and Node build (CommonJS), each optimised for
# size with wasm-opt, and the small JavaScript part (pkg/src/api.js: the error class) for each.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

mkdir -p target
exec 9>target/.build.lock
flock 9
# The standard library is compiled with the crate for this build (cargo's build-std, from the
# toolchain's rust-src): optimised for size, with panics as an immediate trap (no message, no
# location: a panic was a trap before too, its message never reached JavaScript) and no `Debug`
# formatting, as nothing the package shows is written by `Debug` (docs/size.md: 14.4 KB gzipped);
# and with the MIR optimisations of level 3, which are sound but not yet the default (-297 bytes;
# the passes rustc calls unsound need -Zunsound-mir-opts, never given), whose inliner takes an
# `#[inline]` function of a cost up to 40 instead of 100 (-699 bytes; 30 to 42 measured alike, CPU
# per call unchanged) and any other function of a cost up to 135 instead of 50 (-262 bytes with
# wasm-opt's one-caller limit below; 120 to 150 measured alike, 55 to 100 and 200 or more larger,
# CPU per call unchanged). These are unstable options of the stable toolchain, enabled for this one
# build by RUSTC_BOOTSTRAP; a Rust app that depends on the crate builds it its own way. Own target
# directory, so that other builds keep their cache.
RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none -Zmir-opt-level=3 -Zinline-mir-hint-threshold=40 -Zinline-mir-threshold=135" CARGO_TARGET_DIR=target/npm \
  cargo build --quiet --release --target wasm32-unknown-unknown --features js \
  -Z build-std=std,panic_abort -Z build-std-features=optimize_for_size
wasm=target/npm/wasm32-unknown-unknown/release/apm_oauth.wasm
# The stack comes first in memory (what --low-memory-unused below relies on): the stack pointer
# starts where the first data segment does, so the stack grows down from there towards 0.
text=$(node_modules/.bin/wasm-opt "$wasm" --print | grep -m2 -E '^ \(global \$__stack_pointer |^ \(data ' || true)
stack=$(grep -oE '__stack_pointer \(mut i32\) \(i32.const [0-9]+' <<<"$text" | grep -oE '[0-9]+$' || true)
data=$(grep -oE '^ \(data \$[^ ]* \(i32.const [0-9]+' <<<"$text" | grep -oE '[0-9]+$' || true)
[ -n "$stack" ] && [ "$stack" = "$data" ] || { echo "build: the wasm's stack is not first in memory (stack pointer '$stack', data at '$data'); drop --low-memory-unused" >&2; exit 1; }
tmp=$(mktemp -d pkg/.dist.XXXXXX)
# mktemp makes it private (0700); it becomes pkg/dist, which every user of the package reads.
chmod 755 "$tmp"
for target in web nodejs; do
  out=$tmp/$target
  # web.js always passes the wasm's URL, and every supported runtime has TextEncoder.encodeInto.
  extra=(); [ "$target" = web ] && extra=(--omit-default-module-path --encode-into always)
  wasm-bindgen --target "$target" --weak-refs --no-typescript "${extra[@]}" --out-dir "$out" --out-name apm_oauth "$wasm"
  # -O2, not -Oz: the passes for size (binaryen's shrink level 2) make the wasm 2.2 KB smaller raw
  # but 381 bytes larger gzipped, and the gzipped size is what a page downloads (-Os measured
  # between them, -O1, -O3 and -O4 larger).
  # --low-memory-unused: the optimiser may fold constant offsets into loads and stores, assuming
  # no address below 1 KiB is used. It is not: the linker puts the stack first for this target
  # (it grows down from 1 MiB, the data above it), so that would take a stack 1 MiB deep.
  # --one-caller-inline-max-function-size=25: a function called from one place is inlined there
  # only when it is small (binaryen inlines it whatever its size by default, into the large async
  # state machines: the wasm is 1.8 KB larger raw this way, but 965 bytes smaller gzipped with -Oz,
  # 1.4 KB with -O2; 15 to 30 measured alike, 0 and 40 or more larger; CPU per cached-token call
  # unchanged);
  # --always-inline-max-function-size=3, a function of up to 3 bytes inlined everywhere (2 by
  # default; -48 bytes, 4 measured larger); and
  # three passes more after the pipeline: --optimize-added-constants-propagate (the form of the
  # offset folding that -O2 leaves to -O3/-Os, on the same --low-memory-unused assumption),
  # --code-folding and --precompute-propagate (-101 bytes together: -65, -26, -10).
  node_modules/.bin/wasm-opt -O2 --converge --low-memory-unused --one-caller-inline-max-function-size=25 --always-inline-max-function-size=3 --optimize-added-constants-propagate --code-folding --precompute-propagate --strip-producers --strip-target-features --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$out/apm_oauth_bg.wasm" -o "$out/apm_oauth_bg.wasm"
  # Short import and export names in the browser build's wasm and glue (scripts/short-names.mjs).
  if [ "$target" = web ]; then node scripts/short-names.mjs "$out" apm_oauth; fi
done
# The JavaScript part (pkg/src/api.js), once per build: minified ESM for the web build, where
# every byte is downloaded (and the glue minified with it), CommonJS for Node.
esbuild=node_modules/.bin/esbuild
"$esbuild" pkg/src/web.js --bundle --minify --format=esm --target=es2022 --log-level=warning \
  --alias:apm-oauth-glue="./$tmp/web/apm_oauth.js" --outfile="$tmp/web.js"
node scripts/minify.mjs "$tmp/web.js"
rm "$tmp/web/apm_oauth.js"
"$esbuild" pkg/src/api.js --log-level=warning --format=cjs --target=es2022 --outfile="$tmp/nodejs/api.cjs"
# The Node build is CommonJS inside an ESM package.
echo '{ "type": "commonjs" }' > "$tmp/nodejs/package.json"
# Swap in atomically, so suites running against pkg/ never see a half-written build.
mv "$tmp/web.js" pkg/.web.js.new
old=$(mktemp -d pkg/.old.XXXXXX); [ -d pkg/dist ] && mv pkg/dist "$old/"; mv "$tmp" pkg/dist; mv pkg/.web.js.new pkg/web.js; rm -rf "$old"
# The package's README is the project's.
cp README.md pkg/README.md

// Gives the imports and exports of the browser build's wasm short names, and the glue the same
// names. wasm-bindgen names each import after the JavaScript function and a hash
// (`__wbg_fetch_e5d2b0c1a5a4e5f3`), and each name is written twice, in the wasm and in the glue:
// about 5 KB of text that compresses poorly. binaryen's `--minify-imports-and-exports-and-modules`
// renames them in the wasm and prints the mapping, which this applies to the glue. It also exports
// each function once (the classes' shared methods had one export per class) and drops the glue's
// `Symbol.dispose` of each class, which pkg/src/api.js sets (below). Used by scripts/build.sh on
// the web build, before the glue is bundled.
//
//   node scripts/short-names.mjs <dir> <name>     (dir/<name>_bg.wasm and dir/<name>.js, in place)
import { readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import binaryen from 'binaryen';

const [dir, name] = process.argv.slice(2);
const wasm = join(dir, `${name}_bg.wasm`);
const glue = join(dir, `${name}.js`);
const features = ['bulk-memory', 'nontrapping-float-to-int', 'sign-ext', 'mutable-globals', 'reference-types', 'multivalue'];
const map = JSON.parse(execFileSync('node_modules/.bin/wasm-opt', [
  ...features.map((f) => `--enable-${f}`), '--minify-imports-and-exports-and-modules', wasm, '-o', wasm,
], { encoding: 'utf8' }));

// Methods that are the same function in every class (`getToken`, `stats`, `free`, …: the
// optimiser merged them) are exported once, by the first of their names, and the glue calls
// that one (binaryen's module API, which writes the module as wasm-opt does).
const mod = binaryen.readBinary(readFileSync(wasm));
const F = binaryen.Features;
mod.setFeatures(F.BulkMemory | F.NontrappingFPToInt | F.SignExt | F.MutableGlobals | F.ReferenceTypes | F.Multivalue);
const first = new Map();
const same = new Map();
for (let i = 0; i < mod.getNumExports(); i++) {
  const { kind, name: exported, value } = binaryen.getExportInfo(mod.getExportByIndex(i));
  if (kind !== binaryen.ExternalFunction) continue;
  if (first.has(value)) same.set(exported, first.get(value));
  else first.set(value, exported);
}
for (const exported of same.keys()) mod.removeExport(exported);
writeFileSync(wasm, mod.emitBinary());
mod.dispose();

// The one import module is renamed too; read its new name off the wasm itself.
const modules = new Set(WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(wasm))).map((i) => i.module));
if (modules.size !== 1) throw new Error(`short-names: expected one import module, found ${[...modules]}`);
const [module] = modules;

let js = readFileSync(glue, 'utf8');
const replace = (pattern, to, what) => {
  const before = js;
  js = js.replace(pattern, to);
  if (js === before) throw new Error(`short-names: ${what} not found in ${glue}`);
};
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// Imports are keys of the import object (`__wbg_fetch_…: function(…)`), and every one must be
// found, so that a change in wasm-bindgen's glue fails the build instead of a page; exports are
// read as `wasm.<name>`.
const oldModules = new Set(map.imports.map(([m]) => m));
for (const m of oldModules) replace(new RegExp(`(["'])${esc(m)}\\1\\s*:`, 'g'), JSON.stringify(module) + ':', `module ${m}`);
for (const [, from, to] of map.imports) replace(new RegExp(`\\b${esc(from)}(\\s*:)`, 'g'), `${JSON.stringify(to)}$1`, `import ${from}`);
// An export the glue never reads (e.g. a table only the wasm uses) has nothing to rename.
for (const [from, to] of map.exports) js = js.replace(new RegExp(`\\bwasm\\.${esc(from)}\\b`, 'g'), `wasm[${JSON.stringify(same.get(to) ?? to)}]`);
// wasm-bindgen makes each class's `Symbol.dispose` its `free`; pkg/src/api.js sets it again, to
// its own `free` (which does nothing on a freed client), for every class: the glue's is dropped.
replace(/^if \(Symbol\.dispose\) (\w+)\.prototype\[Symbol\.dispose\] = \1\.prototype\.free;\n/gm, '', 'Symbol.dispose');
writeFileSync(glue, js);

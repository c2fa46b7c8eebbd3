// Prints the compressed size of the browser build (pkg/dist/web + pkg/web.js): gzip -9 and brotli
// (quality 11) of the .wasm and of the JS glue, separately and together; the Node build for
// information. With --check, exits 1 when the browser build's total gzipped size is over the
// budget in size-budget.json. Only the browser build counts: the Node build (pkg/dist/nodejs,
// pkg/node.*) is a separate copy that browsers and bundlers never load.
//
//   node scripts/size.mjs            # the table
//   node scripts/size.mjs --check    # the table, then PASS/FAIL against the budget
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');

const gzip = (buf) => gzipSync(buf, { level: 9 }).length;
const brotli = (buf) =>
  brotliCompressSync(buf, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_GENERIC,
      [constants.BROTLI_PARAM_SIZE_HINT]: buf.length,
    },
  }).length;

function measure(files) {
  const missing = files.filter((f) => !existsSync(join(root, f)));
  if (missing.length) {
    console.error(`size: missing ${missing.join(', ')}: run bash scripts/build.sh first`);
    process.exit(2);
  }
  const bufs = files.map((f) => readFileSync(join(root, f)));
  // Glue files are measured one by one and summed: each is a separate download.
  return bufs.reduce(
    (acc, b) => ({ raw: acc.raw + b.length, gzip: acc.gzip + gzip(b), brotli: acc.brotli + brotli(b) }),
    { raw: 0, gzip: 0, brotli: 0 },
  );
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const row = (name, m) =>
  `${name.padEnd(34)} ${String(m.raw).padStart(8)} ${String(m.gzip).padStart(8)} ${String(m.brotli).padStart(8)}`;
const sum = (a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli });

// The browser entry and every module it imports by relative path (followed, so that a helper
// module added to the entry later is counted too).
function moduleGraph(entry) {
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file) || !existsSync(join(root, file))) return;
    seen.add(file);
    const src = readFileSync(join(root, file), 'utf8');
    for (const m of src.matchAll(/(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      visit(relative(root, join(root, dirname(file), m[1] ?? m[2])));
    }
  };
  visit(entry);
  return [...seen];
}

const web = {
  wasm: ['pkg/dist/web/apm_oauth_bg.wasm'],
  glue: moduleGraph('pkg/web.js'),
};
const node = {
  wasm: ['pkg/dist/nodejs/apm_oauth_bg.wasm'],
  glue: ['pkg/dist/nodejs/apm_oauth.js', 'pkg/dist/nodejs/api.cjs', 'pkg/node.cjs', 'pkg/node.mjs'].filter((f) =>
    existsSync(join(root, f)),
  ),
};

const webWasm = measure(web.wasm);
const webGlue = measure(web.glue);
const webTotal = sum(webWasm, webGlue);
const nodeWasm = measure(node.wasm);
const nodeGlue = measure(node.glue);

console.log(`${'bytes'.padEnd(34)} ${'raw'.padStart(8)} ${'gzip -9'.padStart(8)} ${'brotli'.padStart(8)}`);
console.log('browser build (what a page downloads)');
console.log(row(`  wasm  ${web.wasm.map((f) => relative('pkg', f)).join(' ')}`, webWasm));
console.log(row('  glue  (JS modules, listed below)', webGlue));
console.log(row('  total', webTotal));
console.log(`  glue modules: ${web.glue.map((f) => relative('pkg', f)).join(', ')}`);
console.log('node build (information only; not in the budget)');
console.log(row('  wasm  dist/nodejs/apm_oauth_bg.wasm', nodeWasm));
console.log(row('  glue  dist/nodejs + node entries', nodeGlue));
console.log(row('  total', sum(nodeWasm, nodeGlue)));

const budgetFile = join(root, 'size-budget.json');
const budget = JSON.parse(readFileSync(budgetFile, 'utf8')).browserGzipBytes;
if (!Number.isInteger(budget) || budget <= 0) {
  console.error('size: size-budget.json needs { "browserGzipBytes": <positive integer> }');
  process.exit(2);
}
const over = webTotal.gzip - budget;
const verdict =
  over > 0
    ? `FAIL: browser build is ${webTotal.gzip} bytes gzipped, ${over} bytes (${kb(over)}) over the budget of ${budget} (${kb(budget)})`
    : `PASS: browser build is ${webTotal.gzip} bytes gzipped, ${-over} bytes under the budget of ${budget} (${kb(budget)})`;
console.log();
console.log(`size budget: ${verdict}`);
if (check && over > 0) process.exit(1);

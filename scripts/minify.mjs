// Minifies the bundled browser entry in place with oxc (through rolldown), which compresses
// esbuild's output by another ~3 % (~300 bytes gzipped). Used by scripts/build.sh.
//
//   node scripts/minify.mjs <file.js>
import { readFileSync, writeFileSync } from 'node:fs';
import { minify } from 'rolldown/experimental';

const file = process.argv[2];
const out = await minify(file, readFileSync(file, 'utf8'), { compress: true, mangle: true });
if (out.errors?.length) {
  console.error(out.errors);
  process.exit(1);
}
writeFileSync(file, out.code);

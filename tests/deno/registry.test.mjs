// (Node) Every case module of tests/shared is registered by the Deno runner, so a new module
// cannot silently skip Deno. The runner itself needs Deno; this only reads its source.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';

const SHARED = new URL('../shared/', import.meta.url);
const runner = readFileSync(new URL('./shared.deno.mjs', import.meta.url), 'utf8');

test('the Deno runner imports and registers every exported *Cases function of tests/shared', () => {
  const found = [];
  for (const file of readdirSync(SHARED).filter((f) => f.endsWith('.mjs'))) {
    const source = readFileSync(new URL(file, SHARED), 'utf8');
    for (const [, name] of source.matchAll(/^export (?:async )?function (\w+Cases)\b/gm)) {
      found.push(name);
      const imported = new RegExp(`^import \\{ ${name} \\} from '\\.\\./shared/${file.replace('.', '\\.')}';$`, 'm');
      const listed = new RegExp(`^  \\w+: ${name},$`, 'm');
      assert.ok(imported.test(runner), `shared.deno.mjs imports ${name} from ${file}`);
      assert.ok(listed.test(runner), `shared.deno.mjs lists ${name} in CASE_MODULES`);
    }
  }
  assert.ok(found.length >= 6, `case modules found: ${found.join(', ')}`);
});

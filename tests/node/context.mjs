// What every Node runner gives the shared cases: node:test's registrars, node:assert/strict, the
// package as Node users import it (pkg/node.mjs) and the emulator. Also watches for unhandled
// rejections for the whole file; `finishNode()` registers the test that checks there were none.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import util from 'node:util';
import * as lib from '../../pkg/node.mjs';
import { startEmulator } from '../emulator/index.mjs';

const unhandled = [];
process.on('unhandledRejection', (reason) => {
  unhandled.push(reason);
});

/** The context object of tests/shared/harness.mjs. */
export function nodeContext(pkg = lib) {
  return {
    test: (name, fn, options) => test(name, options ?? {}, fn),
    before,
    after,
    assert,
    lib: pkg,
    startEmulator,
  };
}

/** The file's last test: no promise was rejected without a handler during the whole file. */
export function finishNode() {
  test('no unhandled rejection during the whole file', async () => {
    // Let late rejections (a token request nobody waits for any more) surface.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(unhandled.length, 0, `unhandled rejections: ${unhandled.map((r) => (r && r.code) || String(r)).join(', ')}`);
  });
}

export { lib, unhandled };

/** Every way Node prints a value (for the checks that no secret shows in any of them). */
export function inspections(value) {
  return [
    ['util.inspect', util.inspect(value)],
    ['util.inspect showHidden depth 5', util.inspect(value, { showHidden: true, depth: 5 })],
    ['util.inspect without custom inspect', util.inspect(value, { showHidden: true, depth: 5, customInspect: false })],
    ['util.format %o', util.format('%o', value)],
    ['util.format %j', util.format('%j', value)],
  ];
}

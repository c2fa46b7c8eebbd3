// The wasm's allocator (src/arena.rs) is a bump arena that starts over whenever no allocation is
// live, which holds after every call because the wasm keeps no state between calls. If any call
// left an allocation behind, the arena could never start over and the wasm memory would grow on
// every call: these tests make many large calls and assert that the memory stops growing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// Capture the instance the Node glue creates, to read its memory.
const Instance = WebAssembly.Instance;
let instance;
WebAssembly.Instance = function capture(module, imports) {
  instance = new Instance(module, imports);
  return instance;
};
const core = require('../../pkg/dist/nodejs/apm_oauth.js');
WebAssembly.Instance = Instance;
const memory = () => instance.exports.memory.buffer.byteLength;

const secret = 's3cr3t-value-that-is-long-enough';
const body = JSON.stringify({ error: 'invalid_client', error_description: `bad ${secret} `.repeat(2000) });
const html = `<html><head><title>Login</title></head><body>${'<p>x</p>'.repeat(6000)}</body></html>`;

function exercise(n) {
  for (let i = 0; i < n; i++) {
    core.tokenResponse(0, 400, 'application/json', body, NaN, 1.7e12, 30000, 'client', `${secret}\0other-secret-x`);
    core.tokenResponse(1, 200, 'text/html', html, NaN, 1.7e12, 30000, 'n@a', secret);
    core.tokenResponse(2, 200, 'application/json', '{"access_token":"t","token_type":"Bearer","expires_in":300}', NaN, 1.7e12, 30000, 'c', secret);
    core.tokenRequest(1, false, 3, 'name@account', secret, 'scope\0a b c\0resource\0urn:x');
    core.scrub(`could not reach: ${secret} ü ${'é'.repeat(500)}`, 'client', secret, 4, 120);
    core.retryDelay(503, 0, 2, NaN, 0.5);
    core.describeAttempt(i & 3);
  }
}

test('the wasm memory stops growing: every call frees what it allocated', () => {
  exercise(50);
  const warm = memory();
  exercise(2000);
  assert.equal(memory(), warm, 'the memory grew over 2,000 rounds of calls');
});

test('the answers stay right after many calls reuse the arena', () => {
  exercise(200);
  const f = core.tokenResponse(2, 200, 'application/json', '{"access_token":"abc","token_type":"bearer","expires_in":"120"}', NaN, 1000, 30000, 'c', secret).split('\0');
  assert.deepEqual(f, ['', 'abc', '121000', '91000', '', '']);
  const e = core.tokenResponse(0, 400, 'application/json', body, NaN, 0, 30000, 'client', secret).split('\0');
  assert.equal(e[0], 'invalid_client');
  assert.ok(!e.join(' ').includes(secret), 'the secret came back');
});

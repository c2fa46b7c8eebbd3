// The client keeps state in the wasm between calls (the token cache, the request in flight, the
// AppDynamics attempt that worked), and every call crosses into the wasm with JS values (the
// externref table) and closures (timers, abort listeners). A call that left an allocation or a
// table slot behind would make both grow without end: these tests make 100,000 calls of every
// kind and assert that the wasm memory and the externref table stop growing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// Capture the instance the Node glue creates, to read its memory and table.
const Instance = WebAssembly.Instance;
let instance;
WebAssembly.Instance = function capture(module, imports) {
  instance = new Instance(module, imports);
  return instance;
};
const { DynatraceClient, AppDynamicsClient, OAuthClient } = require('../../pkg/node.cjs');
WebAssembly.Instance = Instance;
const memory = () => instance.exports.memory.buffer.byteLength;
const table = () => instance.exports.__wbindgen_externrefs.length;

const SECRET = 's3cr3t-value-that-is-long-enough';
const TOKEN = JSON.stringify({ access_token: 'access-token-value', token_type: 'Bearer', expires_in: 300 });
let refuseNext = false;

/** An in-memory server: the token endpoint, an API, and a 401 or a network error on demand. */
async function fetch(url, init) {
  if (url.endsWith('/token') || url.endsWith('/access_token')) {
    if (refuseNext) {
      refuseNext = false;
      return new Response(JSON.stringify({ error: 'invalid_client', error_description: `bad ${SECRET}` }), { status: 401 });
    }
    return new Response(TOKEN, { status: 200, headers: { 'content-type': 'application/json' } });
  }
  if (url.includes('/unauthorized')) return new Response('no', { status: 401 });
  if (url.includes('/down')) throw new TypeError('fetch failed');
  if (url.includes('/applications')) return new Response('[{"id":5,"name":"a","description":""}]');
  return new Response('{}', { status: 200 });
}

const dt = new DynatraceClient({ clientId: 'c', clientSecret: SECRET, environmentUrl: 'https://abc.apps.dynatrace.com', tokenUrl: 'https://sso.example/token', fetch });
const appd = new AppDynamicsClient({ controllerUrl: 'https://c.example', clientName: 'n', accountName: 'a', clientSecret: SECRET, fetch });
const oauth = new OAuthClient({ tokenUrl: 'https://i.example/token', clientId: 'c', clientSecret: SECRET, baseUrl: 'https://api.example', fetch });

/** `n` rounds: cached-token calls, a 401 retry, a network error, an abort, a token error, a bad option. */
async function exercise(n) {
  for (let i = 0; i < n; i++) {
    const signal = new AbortController().signal;
    await (await dt.fetch('/platform/x', { signal, headers: { 'x-n': String(i) } })).text();
    await oauth.fetch('/y');
    if (i % 10 === 0) {
      await dt.fetch('/unauthorized');
      await dt.fetch('/down').catch(() => {});
      const ctl = new AbortController();
      const call = oauth.fetch('/y', { signal: ctl.signal });
      ctl.abort();
      await call.catch(() => {});
      await appd.listApplications();
      dt.invalidate();
      refuseNext = true;
      await dt.getToken().catch(() => {});
      try {
        new OAuthClient({ tokenUrl: 'https://i.example/token', clientId: 'c', clientSecret: SECRET, scopes: 'x' });
      } catch {}
    }
  }
}

test('the wasm memory and the externref table stay flat over 100,000 calls', { timeout: 300_000 }, async () => {
  await exercise(2_000);
  const warm = { memory: memory(), table: table() };
  await exercise(25_000);
  assert.deepEqual({ memory: memory(), table: table() }, warm, 'grew over 50,000 calls');
  await exercise(25_000);
  assert.deepEqual({ memory: memory(), table: table() }, warm, 'grew over 100,000 calls');
});

test('the answers stay right after many calls', async () => {
  await exercise(100);
  const t = await dt.getToken();
  assert.equal(t.accessToken, 'access-token-value');
  assert.deepEqual(await appd.listApplications(), [{ id: 5, name: 'a', description: '' }]);
  dt.invalidate();
  refuseNext = true;
  const e = await dt.getToken().catch((err) => err);
  assert.equal(e.code, 'invalid_client');
  assert.ok(!JSON.stringify({ ...e, message: e.message }).includes(SECRET), 'the secret came back');
});

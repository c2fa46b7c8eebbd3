// Node-only checks: util.inspect of clients and errors shows no secret, console output of a
// client shows none, and no call path leaves an unhandled rejection behind (aborted calls, token
// requests nobody waits for any more, errors of requests whose callers all left).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import util from 'node:util';
import { readFileSync } from 'node:fs';
import { DynatraceClient, AppDynamicsClient, OAuthClient, DynatraceAccountClient } from '../../pkg/node.mjs';
import { startEmulator } from '../emulator/index.mjs';
import { captureConsole, assertNoSecret, errorTexts, waitFor, sleep } from '../shared/harness.mjs';
import { finishNode, inspections } from './context.mjs';

const SECRET = 'dt0s02.INSPECT.^$.*+?()[]{}|\\/%&=#A1b2C3d4E5f6G7h8I9j0K1l2M3n4';
const APPD_SECRET = '3f2e1d0c-(a|b)*-[x]+?-{1,2}$^-9e8d7c6b5a49';

let emu;
let logs;
const secrets = [SECRET, APPD_SECRET];

before(async () => {
  logs = captureConsole({ quiet: true });
  emu = await startEmulator({
    dynatrace: { clients: [{ clientId: 'dt0s02.INSPECT', clientSecret: SECRET }] },
    appdynamics: { clients: [{ clientName: 'inspect', accountName: 'customer1', clientSecret: APPD_SECRET }] },
  });
  secrets.push(emu.credentials.appdynamics.temporaryToken);
});
after(async () => {
  logs.restore();
  await emu.close();
});

function dynatrace(extra) {
  return new DynatraceClient({ clientId: 'dt0s02.INSPECT', clientSecret: SECRET, environmentUrl: emu.urls.dynatrace, tokenUrl: emu.urls.ssoToken, ...extra });
}

test('util.inspect of every client, before and after it holds a token, shows no credential', async () => {
  emu.reset();
  const dt = dynatrace({ scope: 'storage:logs:read' });
  const ad = new AppDynamicsClient({ controllerUrl: emu.urls.appdynamicsLegacy, clientName: 'inspect', accountName: 'customer1', clientSecret: APPD_SECRET });
  const fixed = new AppDynamicsClient({ controllerUrl: emu.urls.appdynamics, accessToken: emu.credentials.appdynamics.temporaryToken });
  const oc = new OAuthClient({ tokenUrl: emu.urls.ssoToken, clientId: 'dt0s02.INSPECT', clientSecret: SECRET, baseUrl: emu.urls.dynatrace });
  const clients = [dt, ad, fixed, oc];
  for (const c of clients) assertNoSecret(assert, `${c} before`, inspections(c), secrets);
  for (const c of clients) secrets.push((await c.getToken()).accessToken);
  for (const c of clients) {
    assertNoSecret(assert, `${c} after`, inspections(c), secrets);
    assertNoSecret(assert, `${c} in an object`, inspections({ client: c, list: [c] }), secrets);
  }
  assert.match(util.inspect(dt), /^DynatraceClient \{.*"clientId":"dt0s02\.INSPECT"/);
  // What a user would log.
  console.log('client', dt, ad, fixed, oc);
  console.log(`${dt} ${JSON.stringify(ad)}`);
});

test('util.inspect of errors shows no credential', async () => {
  emu.reset();
  const errors = [];
  const wrong = `${SECRET}-wrong`;
  secrets.push(wrong);
  await dynatrace({ clientSecret: wrong }).getToken().catch((e) => errors.push(e));
  await dynatrace({ scope: 'account-idm-read' }).getToken().catch((e) => errors.push(e));
  emu.setFault('sso', 'token', { kind: 'json', status: 400, count: 1, body: { error: 'invalid_request', error_description: `echo ${SECRET}` } });
  await dynatrace().getToken().catch((e) => errors.push(e));
  const ad = new AppDynamicsClient({ controllerUrl: emu.urls.appdynamics, accessToken: emu.credentials.appdynamics.temporaryToken });
  emu.setFault('appdynamics', 'api', { kind: 'status', status: 401, count: 1, body: `bad ${emu.credentials.appdynamics.temporaryToken}` });
  await ad.listApplications().catch((e) => errors.push(e));
  try {
    new DynatraceClient({ clientId: 'x', clientSecret: SECRET, environmentUrl: 'http://insecure.example' });
  } catch (e) {
    errors.push(e);
  }
  assert.equal(errors.length, 5);
  for (const e of errors) {
    assert.equal(e.name, 'ApmOAuthError');
    assertNoSecret(assert, `error ${e.code}`, [...inspections(e), ...errorTexts(e)], secrets);
    // Node prints an Error whose name was changed as "Error [ApmOAuthError]: ...".
    assert.match(util.inspect(e), /^(Error \[ApmOAuthError\]|ApmOAuthError): /);
    console.error(e);
    console.warn('failed:', e.message, e.hint);
  }
});

test('console output of the two tests above holds no credential', () => {
  assert.ok(logs.lines.length >= 7, 'the tests above logged');
  assertNoSecret(assert, 'console output', logs.lines.map((l, i) => [`line ${i + 1}`, l]), secrets);
});

test('an aborted call leaves no unhandled rejection, whether or not the token request goes on', async () => {
  emu.reset();
  for (let round = 0; round < 2; round++) {
    emu.setFault('sso', 'token', { kind: 'delay', ms: 300, count: 1 });
    const dt = dynatrace();
    const ctl = new AbortController();
    const call = dt.fetch('/platform/management/v1/environment', { signal: ctl.signal });
    await waitFor(() => emu.counters.sso.token === round + 1, 'the token request');
    ctl.abort();
    await assert.rejects(call, { name: 'ApmOAuthError', code: 'aborted' });
  }
  // Abort while the API call itself is in flight, and abort with a reason.
  const dt = dynatrace();
  await dt.getToken();
  emu.setFault('dynatrace', 'api', { kind: 'delay', ms: 300, count: 1 });
  const ctl = new AbortController();
  const call = dt.fetch('/platform/management/v1/environment', { signal: ctl.signal });
  await waitFor(() => emu.counters.dynatrace.api === 1, 'the API call');
  ctl.abort(new Error('gone'));
  await assert.rejects(call, { code: 'aborted' });
  await waitFor(() => emu.counters.sso.issued === 3, 'the delayed token answers');
  await sleep(350);
});

test('a token request whose every caller left, twice, leaves no unhandled rejection', async () => {
  for (let round = 0; round < 2; round++) {
    emu.reset();
    // Both callers leave while the token request is on its way; its failure (it is aborted for
    // want of waiters) is awaited by nobody.
    emu.setFault('sso', 'token', { kind: 'delay', ms: 200, count: 1 });
    const dt = dynatrace({ maxRetries: 0 });
    const ctl = new AbortController();
    const calls = [dt.fetch('/platform/echo', { signal: ctl.signal }), dt.callAppFunction('my.emulator.app', 'echo', undefined, { signal: ctl.signal })];
    await waitFor(() => emu.counters.sso.token === 1, 'the token request');
    ctl.abort();
    const results = await Promise.allSettled(calls);
    assert.deepEqual(results.map((r) => r.reason?.code), ['aborted', 'aborted']);
    await waitFor(() => emu.counters.sso.issued === 1, 'the delayed answer');
  }
});

test('a token request that fails after one caller left and another stayed leaves no unhandled rejection', async () => {
  emu.reset();
  for (let round = 0; round < 2; round++) {
    // A fetch that answers 500 after a while, so the failure comes after the abort.
    const slow500 = () => sleep(100).then(() => new Response('{"error":"server_error"}', { status: 500, headers: { 'content-type': 'application/json' } }));
    const dt = dynatrace({ fetch: slow500, maxRetries: 0 });
    const ctl = new AbortController();
    const abandoned = dt.fetch('/platform/echo', { signal: ctl.signal });
    const stayed = dt.getToken();
    await sleep(10);
    ctl.abort();
    await assert.rejects(abandoned, { code: 'aborted' });
    await assert.rejects(stayed, { code: 'server_error', status: 500 });
  }
});

test('a timed-out request whose answer arrives later leaves no unhandled rejection', async () => {
  emu.reset();
  emu.setFault('sso', 'token', { kind: 'delay', ms: 250, count: 1 });
  await assert.rejects(dynatrace({ timeoutMs: 50, maxRetries: 0 }).getToken(), { code: 'timeout' });
  await waitFor(() => emu.counters.sso.issued === 1, 'the late answer');
  await sleep(50);
});

test('a custom fetch that throws synchronously, rejects with a non-Error, or returns garbage', async () => {
  emu.reset();
  const cases = [
    [() => { throw new TypeError('sync failure'); }, 'network'],
    [() => Promise.reject('a string'), 'network'],
    [() => Promise.reject(undefined), 'network'],
    [() => ({ status: 200 }), null],
    // Not a Response at all: refused before any member is read (reading one of null threw out of
    // the wasm, past every promise, and ended the process).
    [() => 42, 'invalid_config'],
    [async () => null, 'invalid_config'],
    [async () => undefined, 'invalid_config'],
  ];
  for (const [fetch, code] of cases) {
    const dt = dynatrace({ fetch, maxRetries: 0 });
    const err = await dt.getToken().then(
      () => null,
      (e) => e,
    );
    assert.ok(err, 'rejects');
    assert.equal(err.name, 'ApmOAuthError', String(err));
    if (code) assert.equal(err.code, code);
    assertNoSecret(assert, `custom fetch error ${err.code}`, errorTexts(err), secrets);
  }
});

test('a fetch option that answers a stand-in with odd members, or a Response already read: a typed error, never a crash or a hang', async () => {
  const tokenJson = JSON.stringify({ access_token: 'stand-in-token-0123', token_type: 'Bearer', expires_in: 300 });
  const headers = new Headers({ 'content-type': 'application/json' });
  const thrower = (what) => () => {
    throw new Error(what);
  };
  // Each of these once threw out of the wasm while the body was read (Node's process ended) or
  // left the call pending.
  const cases = [
    // A body to read needs text() at least.
    [{ status: 200 }, 'invalid_config'],
    [{ status: 200, headers, body: { getReader: thrower('getReader') } }, 'invalid_config'],
    [{ status: 200, headers, body: { getReader: () => ({ read: thrower('read'), cancel() {} }) } }, 'invalid_config'],
    // A stand-in is read with its text() alone: its other members are not touched.
    [{ status: 200, text: async () => tokenJson, get headers() { throw new Error('headers getter'); }, get body() { throw new Error('body getter'); } }, null],
    [{ status: 200, text: thrower('text failed'), headers }, 'network'],
  ];
  for (const [answer, code] of cases) {
    const dt = dynatrace({ fetch: async () => answer, maxRetries: 0 });
    const settled = await Promise.race([dt.getToken().then((t) => t, (e) => e), sleep(3000).then(() => 'pending')]);
    if (code) {
      assert.equal(settled?.name, 'ApmOAuthError', String(settled));
      assert.equal(settled.code, code, settled.message);
    } else {
      assert.equal(settled.accessToken, 'stand-in-token-0123');
    }
  }
  // A Response made of a stream of strings (a test's mock): chunks that are not bytes.
  const strings = new ReadableStream({ start(c) { c.enqueue(tokenJson); c.close(); } });
  const notBytes = dynatrace({ fetch: async () => new Response(strings, { status: 200 }), maxRetries: 0 });
  const e = await Promise.race([notBytes.getToken().then(() => null, (x) => x), sleep(3000).then(() => 'pending')]);
  assert.equal(e?.code, 'network', String(e));
  assert.match(e.message, /the body's chunks are not bytes/);
  // The same Response answered twice: the second time its body is locked.
  const res = new Response(tokenJson, { status: 200, headers });
  const dt = dynatrace({ fetch: async () => res, maxRetries: 0 });
  assert.equal((await dt.getToken()).accessToken, 'stand-in-token-0123');
  dt.invalidate();
  const err = await Promise.race([dt.getToken().then(() => null, (e) => e), sleep(3000).then(() => 'pending')]);
  assert.equal(err?.code, 'network', String(err));
  assert.match(err.message, /locked/);
});

test('a fetch option that answers null for an API call: an invalid_config rejection, and the client goes on', async () => {
  emu.reset();
  let answer = null;
  const dt = dynatrace({ fetch: (url, init) => (String(url).includes('/platform/') ? answer : fetch(url, init)) });
  const err = await dt.fetch('/platform/management/v1/environment').then(() => null, (e) => e);
  assert.equal(err?.code, 'invalid_config');
  assert.equal(err.message, 'DynatraceClient: the fetch option did not answer with a Response. Make it return a fetch Response (or a promise of one)');
  answer = new Response('{}');
  assert.equal((await dt.fetch('/platform/management/v1/environment')).status, 200);
});

test('a fetch option whose responses carry a Node stream as body (node-fetch): token, API call and the 401 retry work', async () => {
  const { Readable } = await import('node:stream');
  // node-fetch's Response: body is a Node Readable (no getReader, no cancel), text() reads it.
  const nodeLike = (status, json) => {
    const text = JSON.stringify(json);
    return { status, ok: status < 300, headers: new Headers({ 'content-type': 'application/json' }), body: Readable.from([Buffer.from(text)]), text: async () => text };
  };
  let tokens = 0;
  let api = 0;
  const dt = dynatrace({
    fetch: async (url) => {
      if (String(url) === emu.urls.ssoToken) return nodeLike(200, { access_token: `node-like-${++tokens}`, token_type: 'Bearer', expires_in: 300 });
      api++;
      return nodeLike(api === 1 ? 401 : 200, { ok: true });
    },
  });
  assert.equal((await dt.getToken()).accessToken, 'node-like-1');
  const res = await dt.fetch('/platform/management/v1/environment');
  assert.equal(res.status, 200);
  assert.equal(api, 2, 'retried once after the 401');
  assert.equal(tokens, 2, 'with a new token');
  // A token endpoint's refusal is read from such a body too.
  const refused = dynatrace({ fetch: async () => nodeLike(400, { error: 'invalid_client', error_description: 'bad secret' }), maxRetries: 0 });
  const err = await refused.getToken().then(() => null, (e) => e);
  assert.equal(err?.code, 'invalid_client');
  assert.equal(err.errorDescription, 'bad secret');
});

test('free() while a call is in flight neither breaks the call nor leaves a rejection', async () => {
  emu.reset();
  emu.setFault('sso', 'token', { kind: 'delay', ms: 100, count: 1 });
  const dt = dynatrace();
  const call = dt.fetch('/platform/management/v1/environment');
  dt.free();
  const res = await call;
  assert.equal(res.status, 200);
  // Freed, it shows as such, and no use of it leaves a rejection behind (the suite's hook fails
  // on one).
  assert.equal(util.inspect(dt), 'DynatraceClient (freed)');
  assert.equal(`${dt}`, 'DynatraceClient (freed)');
  dt.fetch('/platform/management/v1/environment').catch(() => {});
  await sleep(20);
});

test('after free(), the methods that index.d.ts types as returning a Promise reject, and only those', async () => {
  const types = readFileSync(new URL('../../pkg/index.d.ts', import.meta.url), 'utf8');
  const clients = [
    dynatrace({ redirectUri: 'https://app.example/cb' }),
    new AppDynamicsClient({ controllerUrl: emu.urls.appdynamics, accessToken: 't' }),
    new OAuthClient({ tokenUrl: emu.urls.ssoToken, clientId: 'c', clientSecret: 's' }),
    new DynatraceAccountClient({ accountUuid: 'u', clientId: 'c', clientSecret: 's' }),
  ];
  for (const c of clients) {
    c.free();
    const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(c)).filter((k) => !['constructor', 'free', 'toString', 'toJSON'].includes(k) && !k.startsWith('_'));
    for (const k of methods) {
      const typed = types.match(new RegExp(`^\\s+${k}\\(.*\\): (.+);$`, 'm'));
      assert.ok(typed, `index.d.ts declares ${k}`);
      let result;
      try {
        result = c[k]();
      } catch (e) {
        assert.equal(e.code, 'invalid_argument');
        assert.doesNotMatch(typed[1], /^Promise</, `${k} throws, as index.d.ts says`);
        continue;
      }
      assert.match(typed[1], /^Promise</, `${k} returns a Promise, as index.d.ts says`);
      await assert.rejects(result, (e) => e.code === 'invalid_argument');
    }
  }
});

finishNode();

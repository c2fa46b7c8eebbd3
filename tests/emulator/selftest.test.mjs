// Self-test of the vendor emulator with plain fetch. Run: node --test tests/emulator/
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { startEmulator } from './index.mjs';

let emu;

before(async () => {
  emu = await startEmulator({ tokenLifetimeSeconds: 300 });
});
after(async () => {
  await emu.close();
});
beforeEach(() => emu.reset());

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const VENDOR = { 'content-type': 'application/vnd.appd.cntrl+protobuf;v=1' };

function form(fields) {
  return new URLSearchParams(fields).toString();
}

function dtTokenRequest(fields = {}, headers = FORM) {
  const c = emu.credentials.dynatrace;
  const body = form({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret, ...fields });
  return fetch(emu.urls.ssoToken, { method: 'POST', headers, body });
}

async function dtToken(fields) {
  const res = await dtTokenRequest(fields);
  assert.equal(res.status, 200);
  return (await res.json()).access_token;
}

function appdBody(overrides = {}) {
  const c = emu.credentials.appdynamics;
  return form({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret, ...overrides });
}

function basic(user, pass) {
  return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
}

async function appdToken(base = emu.urls.appdynamics) {
  const res = await fetch(`${base}/controller/api/oauth/access_token`, { method: 'POST', headers: FORM, body: appdBody() });
  assert.equal(res.status, 200);
  return (await res.json()).access_token;
}

function bearer(token) {
  return { authorization: `Bearer ${token}` };
}

test('urls are on 127.0.0.1 with distinct ports; credentials have the documented shapes', () => {
  const ports = new Set();
  for (const key of ['sso', 'dynatrace', 'appdynamics', 'appdynamicsLegacy', 'elsewhere']) {
    const u = new URL(emu.urls[key]);
    assert.equal(u.hostname, '127.0.0.1');
    ports.add(u.port);
  }
  assert.equal(ports.size, 5);
  assert.equal(emu.urls.ssoToken, `${emu.urls.sso}/sso/oauth2/token`);
  const dt = emu.credentials.dynatrace;
  assert.equal(dt.clientId, 'dt0s02.EMULATOR');
  assert.match(dt.clientSecret, /^dt0s02\.EMULATOR\.[A-Z0-9]{64}$/);
  assert.equal(dt.accountUrn, 'urn:dtaccount:00000000-0000-4000-8000-00000000e001');
  assert.match(emu.credentials.appdynamics.clientSecret, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(emu.credentials.appdynamics.temporaryToken.split('.').length, 3);
});

test('Dynatrace SSO: success with scope and resource', async () => {
  const dt = emu.credentials.dynatrace;
  const res = await dtTokenRequest({ scope: 'storage:logs:read app-engine:apps:run', resource: dt.accountUrn });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  const json = await res.json();
  assert.equal(json.scope, 'storage:logs:read app-engine:apps:run');
  assert.equal(json.token_type, 'Bearer');
  assert.equal(json.expires_in, 300);
  assert.equal(json.resource, dt.accountUrn);
  const [h, p, s] = json.access_token.split('.');
  assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url')), { alg: 'RS256', typ: 'JWT' });
  const payload = JSON.parse(Buffer.from(p, 'base64url'));
  assert.deepEqual(payload.scp, ['storage:logs:read', 'app-engine:apps:run']);
  assert.equal(payload.sub, dt.clientId);
  assert.equal(payload.exp - payload.iat, 300);
  assert.ok(payload.jti && s.length > 10);
  assert.equal(emu.counters.sso.token, 1);
  assert.equal(emu.counters.sso.issued, 1);
});

test('Dynatrace SSO: no scope requested grants all, no resource echoed', async () => {
  const json = await (await dtTokenRequest()).json();
  assert.equal(json.scope, emu.credentials.dynatrace.scopes.join(' '));
  assert.equal('resource' in json, false);
});

test('Dynatrace SSO: HTTP Basic credentials (form-urlencoded, then base64)', async () => {
  const c = emu.credentials.dynatrace;
  const res = await fetch(emu.urls.ssoToken, {
    method: 'POST',
    headers: { ...FORM, authorization: basic(encodeURIComponent(c.clientId), encodeURIComponent(c.clientSecret)) },
    body: form({ grant_type: 'client_credentials' }),
  });
  assert.equal(res.status, 200);
});

function assertDtError(json, error, descriptionPattern) {
  assert.equal(json.errorCode, 400);
  assert.equal(json.message, 'Bad Request');
  assert.match(json.issueId, /^[A-Z0-9]{16}$/);
  assert.equal(json.error, error);
  assert.match(json.error_description, descriptionPattern);
}

test('Dynatrace SSO: each 400 shape', async () => {
  // wrong secret: 400, not 401
  let res = await dtTokenRequest({ client_secret: 'nope' });
  assert.equal(res.status, 400);
  assertDtError(
    await res.json(),
    'invalid_request',
    /^Invalid OAuth2 request\. UNSUCCESSFUL_OAUTH_ACCESS_TOKEN_VALIDATION_FAILED \| ClientId or clientSecret is not correct\.$/,
  );
  // wrong id
  res = await dtTokenRequest({ client_id: 'dt0s02.OTHER' });
  assert.equal(res.status, 400);
  assertDtError(await res.json(), 'invalid_request', /ClientId or clientSecret is not correct/);
  // missing scopes, listed comma+space
  res = await dtTokenRequest({ scope: 'storage:logs:read account-uac-read account-idm-read' });
  assert.equal(res.status, 400);
  assertDtError(await res.json(), 'invalid_request', /OAuth client is missing following scopes \[account-uac-read, account-idm-read\]$/);
  // wrong resource
  res = await dtTokenRequest({ resource: 'urn:dtaccount:ffffffff-0000-4000-8000-000000000000' });
  assert.equal(res.status, 400);
  assertDtError(await res.json(), 'invalid_request', /resource/);
  // grant type
  res = await dtTokenRequest({ grant_type: 'password' });
  assert.equal(res.status, 400);
  assertDtError(await res.json(), 'unsupported_grant_type', /grant_type/);
  // content type
  res = await dtTokenRequest({}, { 'content-type': 'application/json' });
  assert.equal(res.status, 400);
  assertDtError(await res.json(), 'invalid_request', /Content-Type/);
  assert.equal(emu.counters.sso.token, 6);
  assert.equal(emu.counters.sso.issued, 0);
});

test('Dynatrace SSO: other paths and methods', async () => {
  let res = await fetch(emu.urls.ssoToken);
  assert.equal(res.status, 405);
  assert.equal((await res.json()).errorCode, 405);
  res = await fetch(`${emu.urls.sso}/nothing`);
  assert.equal(res.status, 404);
  await res.json();
});

test('Dynatrace environment: bearer required; environment; settings scope 403', async () => {
  const env = `${emu.urls.dynatrace}/platform/management/v1/environment`;
  let res = await fetch(env);
  assert.equal(res.status, 401);
  let json = await res.json();
  assert.equal(json.error.code, 401);
  assert.equal(json.error.message, 'Unauthorized');
  assert.equal(typeof json.error.details, 'object');
  res = await fetch(env, { headers: bearer('made.up.token') });
  assert.equal(res.status, 401);
  await res.arrayBuffer();
  assert.equal(emu.counters.dynatrace.unauthorized, 2);

  const token = await dtToken({ scope: 'app-engine:apps:run' });
  res = await fetch(env, { headers: bearer(token) });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {
    environmentId: 'abc12345',
    createTime: '2023-01-01T00:00:00Z',
    blockTime: '2030-01-01T00:00:00Z',
    state: 'ACTIVE',
  });

  const settings = `${emu.urls.dynatrace}/platform/classic/environment-api/v2/settings/objects?schemaIds=builtin:alerting.profile`;
  res = await fetch(settings, { headers: bearer(token) });
  assert.equal(res.status, 403);
  json = await res.json();
  assert.equal(json.error.code, 403);
  assert.deepEqual(json.error.details.missingScopes, ['settings:objects:read']);
  assert.match(json.error.message, /settings:objects:read/);

  const full = await dtToken();
  res = await fetch(settings, { headers: bearer(full) });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { items: [], totalCount: 0, pageSize: 100 });
  assert.equal(emu.counters.dynatrace.api, 5);
});

test('Dynatrace environment: an AppDynamics token is not accepted', async () => {
  const token = await appdToken();
  const res = await fetch(`${emu.urls.dynatrace}/platform/management/v1/environment`, { headers: bearer(token) });
  assert.equal(res.status, 401);
  await res.arrayBuffer();
});

test('Dynatrace app functions: statuses', async () => {
  const token = await dtToken();
  const fn = (app, name) => `${emu.urls.dynatrace}/platform/app-engine/app-functions/v1/apps/${app}/api/${name}`;
  const post = (url, body) => fetch(url, { method: 'POST', headers: { ...bearer(token), 'content-type': 'application/json' }, body });

  let res = await post(fn('my.emulator.app', 'calculate'), JSON.stringify({ a: 2, b: 40 }));
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { result: 42 });

  res = await post(fn('my.emulator.app', 'calculate'), JSON.stringify({ a: 'x' }));
  assert.equal(res.status, 400);
  assert.equal((await res.json()).error.code, 400);

  res = await post(fn('my.emulator.app', 'echo'), JSON.stringify({ hello: ['wörld'] }));
  assert.deepEqual(await res.json(), { method: 'POST', payload: { hello: ['wörld'] } });
  res = await fetch(fn('my.emulator.app', 'echo'), { headers: bearer(token) });
  assert.deepEqual(await res.json(), { method: 'GET', payload: null });

  res = await fetch(fn('my.emulator.app', 'throws'), { headers: bearer(token) });
  assert.equal(res.status, 540);
  assert.equal((await res.json()).error.code, 540);
  res = await fetch(fn('my.emulator.app', 'crashes'), { headers: bearer(token) });
  assert.equal(res.status, 541);
  await res.json();
  res = await fetch(fn('my.deploying.app', 'echo'), { headers: bearer(token) });
  assert.equal(res.status, 409);
  await res.json();
  res = await fetch(fn('no.such.app', 'echo'), { headers: bearer(token) });
  assert.equal(res.status, 404);
  await res.json();
  res = await fetch(fn('my.emulator.app', 'nope'), { headers: bearer(token) });
  assert.equal(res.status, 404);
  await res.json();

  // Without app-engine:apps:run: 403 naming it.
  const narrow = await dtToken({ scope: 'storage:logs:read' });
  res = await fetch(fn('my.emulator.app', 'echo'), { headers: bearer(narrow) });
  assert.equal(res.status, 403);
  assert.deepEqual((await res.json()).error.details.missingScopes, ['app-engine:apps:run']);
});

test('Dynatrace echo and redirect', async () => {
  const token = await dtToken();
  let res = await fetch(`${emu.urls.dynatrace}/platform/echo?a=1&a=2&b=x%20y`, {
    method: 'PUT',
    headers: { ...bearer(token), 'x-custom': 'yes', 'content-type': 'text/plain' },
    body: 'hello',
  });
  const echo = await res.json();
  assert.equal(echo.method, 'PUT');
  assert.equal(echo.path, '/platform/echo');
  assert.deepEqual(echo.query, { a: ['1', '2'], b: 'x y' });
  assert.equal(echo.headers['x-custom'], 'yes');
  assert.equal(echo.headers.authorization, `Bearer ${token}`);
  assert.equal(echo.body, 'hello');

  res = await fetch(`${emu.urls.dynatrace}/platform/redirect?to=${encodeURIComponent(emu.urls.elsewhere + '/x')}`, {
    headers: bearer(token),
    redirect: 'manual',
  });
  assert.equal(res.status, 302);
  assert.equal(res.headers.get('location'), `${emu.urls.elsewhere}/x`);
});

test('Issued tokens really expire', async () => {
  emu.options.dynatrace.tokenLifetimeSeconds = 0.2;
  const res = await dtTokenRequest();
  const json = await res.json();
  assert.equal(json.expires_in, 0.2);
  const env = `${emu.urls.dynatrace}/platform/management/v1/environment`;
  assert.equal((await fetch(env, { headers: bearer(json.access_token) })).status, 200);
  await new Promise((r) => setTimeout(r, 300));
  const after = await fetch(env, { headers: bearer(json.access_token) });
  assert.equal(after.status, 401);
  await after.arrayBuffer();
  emu.reset();
  assert.equal(emu.options.dynatrace.tokenLifetimeSeconds, undefined);
});

test('AppDynamics modern: success, 415, 401', async () => {
  const url = emu.urls.appdynamicsToken;
  let res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' }, body: appdBody() });
  assert.equal(res.status, 200);
  const json = await res.json();
  assert.deepEqual(Object.keys(json).sort(), ['access_token', 'expires_in']);
  assert.equal(json.expires_in, 300);
  assert.equal(json.access_token.split('.').length, 3);

  res = await fetch(url, { method: 'POST', headers: VENDOR, body: appdBody() });
  assert.equal(res.status, 415);
  assert.match(res.headers.get('content-type'), /^text\/plain/);
  assert.equal(await res.text(), 'Invalid Content Type');

  res = await fetch(url, { method: 'POST', headers: FORM, body: appdBody({ client_secret: 'wrong' }) });
  assert.equal(res.status, 401);
  assert.equal(await res.text(), '');

  emu.options.appdynamics.tokenErrorBody = 'html';
  res = await fetch(url, { method: 'POST', headers: FORM, body: appdBody({ client_id: 'x@customer1' }) });
  assert.equal(res.status, 401);
  assert.match(res.headers.get('content-type'), /^text\/html/);
  await res.text();
  assert.equal(emu.counters.appdynamics.token, 4);
  assert.equal(emu.counters.appdynamics.issued, 1);
});

test('AppDynamics REST: 401 text, XML vs JSON, tiers, temporary token', async () => {
  const apps = `${emu.urls.appdynamics}/controller/rest/applications`;
  let res = await fetch(apps);
  assert.equal(res.status, 401);
  assert.match(res.headers.get('content-type'), /^text\/plain/);
  assert.equal(await res.text(), 'Failed to authenticate: invalid access token.');

  const token = await appdToken();
  res = await fetch(apps, { headers: bearer(token) });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/xml/);
  const xml = await res.text();
  assert.ok(xml.startsWith('<applications><application><id>5</id><name>ECommerce_E2E</name><description></description></application>'));

  res = await fetch(`${apps}?output=JSON`, { headers: bearer(token) });
  assert.match(res.headers.get('content-type'), /^application\/json/);
  assert.deepEqual(await res.json(), [
    { description: '', id: 5, name: 'ECommerce_E2E' },
    { description: 'Payment services', id: 7, name: 'Payments' },
    { description: '', id: 9, name: 'Inventory' },
  ]);

  res = await fetch(`${apps}/5/tiers?output=JSON`, { headers: bearer(emu.credentials.appdynamics.temporaryToken) });
  assert.equal(res.status, 200);
  const tiers = await res.json();
  assert.ok(tiers.length > 0 && tiers.every((t) => typeof t.id === 'number'));

  res = await fetch(`${emu.urls.appdynamics}/controller/echo`, { method: 'POST', headers: { ...bearer(token), 'x-a': 'b' }, body: 'q=1' });
  const echo = await res.json();
  assert.equal(echo.headers['x-a'], 'b');
  assert.equal(echo.body, 'q=1');

  // A token of the modern controller is not valid on the legacy one.
  res = await fetch(`${emu.urls.appdynamicsLegacy}/controller/rest/applications`, { headers: bearer(token) });
  assert.equal(res.status, 401);
  await res.text();
  assert.equal(emu.counters.appdynamicsLegacy.unauthorized, 1);
});

test('AppDynamics legacy: wants the vendor type and HTTP Basic', async () => {
  const url = emu.urls.appdynamicsLegacyToken;
  const c = emu.credentials.appdynamics;
  const auth = basic(c.clientId, c.clientSecret);

  let res = await fetch(url, { method: 'POST', headers: { ...FORM, authorization: auth }, body: appdBody() });
  assert.equal(res.status, 415);
  assert.equal(await res.text(), 'Invalid Content Type');

  res = await fetch(url, { method: 'POST', headers: VENDOR, body: appdBody() });
  assert.equal(res.status, 401);
  await res.text();

  res = await fetch(url, { method: 'POST', headers: { ...VENDOR, authorization: basic(c.clientId, 'wrong') }, body: appdBody() });
  assert.equal(res.status, 401);
  await res.text();

  res = await fetch(url, { method: 'POST', headers: { ...VENDOR, authorization: auth }, body: appdBody() });
  assert.equal(res.status, 200);
  const { access_token: token } = await res.json();
  res = await fetch(`${emu.urls.appdynamicsLegacy}/controller/rest/applications?output=JSON`, { headers: bearer(token) });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).length, 3);
  assert.equal(emu.counters.appdynamicsLegacy.token, 4);
  assert.equal(emu.counters.appdynamicsLegacy.api, 1);
});

test('Fault: status, then normal service', async () => {
  emu.setFault('sso', 'token', { kind: 'status', status: 503, count: 1 });
  let res = await dtTokenRequest();
  assert.equal(res.status, 503);
  assert.equal(await res.text(), 'Service Unavailable');
  res = await dtTokenRequest();
  assert.equal(res.status, 200);
  await res.json();
  assert.equal(emu.counters.sso.token, 2);
  assert.equal(emu.counters.sso.issued, 1);
});

test('Fault: rateLimit with count and Retry-After; queued faults apply in order', async () => {
  emu.setFault('appdynamics', 'token', { kind: 'rateLimit', retryAfter: '1', count: 2 });
  emu.setFault('appdynamics', 'token', { kind: 'rateLimit', count: 1 });
  const statuses = [];
  const retryAfter = [];
  for (let i = 0; i < 4; i++) {
    const res = await fetch(emu.urls.appdynamicsToken, { method: 'POST', headers: FORM, body: appdBody() });
    statuses.push(res.status);
    retryAfter.push(res.headers.get('retry-after'));
    await res.arrayBuffer();
  }
  assert.deepEqual(statuses, [429, 429, 429, 200]);
  assert.deepEqual(retryAfter, ['1', '1', null, null]);
  assert.equal(emu.counters.appdynamics.token, 4);
});

test('Fault: drop closes the connection without an answer', async () => {
  emu.setFault('sso', 'token', { kind: 'drop', count: 1 });
  await assert.rejects(dtTokenRequest(), TypeError);
  const res = await dtTokenRequest();
  assert.equal(res.status, 200);
  await res.json();
  assert.ok(emu.counters.sso.token >= 2);
});

test('Fault: json, truncatedJson, html, unauthorized, delay, redirect', async () => {
  emu.setFault('sso', 'token', { kind: 'json', body: { token_type: 'mac', access_token: 'x', expires_in: '300' }, count: 1 });
  emu.setFault('sso', 'token', { kind: 'truncatedJson', count: 1 });
  emu.setFault('sso', 'token', { kind: 'html', status: 200, count: 1 });
  let res = await dtTokenRequest();
  assert.equal((await res.json()).token_type, 'mac');
  res = await dtTokenRequest();
  await assert.rejects(res.json(), SyntaxError);
  res = await dtTokenRequest();
  assert.match(res.headers.get('content-type'), /^text\/html/);
  assert.match(await res.text(), /<html/);

  const token = await dtToken();
  emu.setFault('dynatrace', 'api', { kind: 'unauthorized', count: 1 });
  emu.setFault('dynatrace', 'api', { kind: 'delay', ms: 50, count: 1 });
  const env = `${emu.urls.dynatrace}/platform/management/v1/environment`;
  res = await fetch(env, { headers: bearer(token) });
  assert.equal(res.status, 401);
  assert.equal((await res.json()).error.code, 401);
  const t0 = Date.now();
  res = await fetch(env, { headers: bearer(token) });
  assert.equal(res.status, 200);
  await res.json();
  assert.ok(Date.now() - t0 >= 45);

  emu.setFault('appdynamics', 'api', { kind: 'redirect', location: `${emu.urls.elsewhere}/steal`, count: 1 });
  res = await fetch(`${emu.urls.appdynamics}/controller/rest/applications`, { redirect: 'manual' });
  assert.equal(res.status, 302);
  assert.equal(res.headers.get('location'), `${emu.urls.elsewhere}/steal`);

  assert.throws(() => emu.setFault('dynatrace', 'token', { kind: 'drop' }), TypeError);
  assert.throws(() => emu.setFault('sso', 'token', { kind: 'nope' }), TypeError);
});

test('Elsewhere counts requests and Authorization headers', async () => {
  let res = await fetch(`${emu.urls.elsewhere}/anything`);
  assert.equal(await res.text(), 'elsewhere');
  res = await fetch(emu.urls.elsewhere, { headers: { authorization: 'Bearer leaked' } });
  assert.equal(res.status, 200);
  await res.text();
  assert.deepEqual(emu.counters.elsewhere, { requests: 2, authorization: 1 });
  assert.ok(emu.requests.some((r) => r.role === 'elsewhere' && r.headers.authorization === 'Bearer leaked'));
});

test('CORS: headers on answers and preflight', async () => {
  const res = await fetch(emu.urls.ssoToken, {
    method: 'OPTIONS',
    headers: { origin: 'http://example.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
  });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.match(res.headers.get('access-control-allow-headers'), /Authorization/i);
  assert.equal(emu.counters.sso.token, 0);
  assert.equal(emu.counters.sso.preflight, 1);
  const r2 = await dtTokenRequest();
  assert.equal(r2.headers.get('access-control-allow-origin'), '*');
  await r2.json();
});

test('request log, reset', async () => {
  await (await dtTokenRequest()).json();
  assert.equal(emu.requests.length, 1);
  const entry = emu.requests[0];
  assert.equal(entry.role, 'sso');
  assert.equal(entry.method, 'POST');
  assert.equal(entry.path, '/sso/oauth2/token');
  assert.equal(entry.headers['content-type'], 'application/x-www-form-urlencoded');
  assert.match(entry.body, /grant_type=client_credentials/);
  assert.equal(typeof entry.at, 'number');

  const token = await dtToken();
  const counters = emu.counters;
  const log = emu.requests;
  emu.setFault('sso', 'token', { kind: 'status', status: 500 });
  emu.reset();
  assert.equal(counters.sso.token, 0);
  assert.equal(log.length, 0);
  // faults are gone and issued tokens forgotten
  const res = await dtTokenRequest();
  assert.equal(res.status, 200);
  await res.json();
  const r2 = await fetch(`${emu.urls.dynatrace}/platform/management/v1/environment`, { headers: bearer(token) });
  assert.equal(r2.status, 401);
  await r2.arrayBuffer();
});

test('fixed ports, close is quick and frees the ports', async () => {
  const probe = await startEmulator();
  const base = Number(new URL(probe.urls.sso).port);
  await probe.close();
  // Reuse a port range near one the OS just gave us; retry a few bases if something else holds one.
  let other;
  for (let attempt = 0; attempt < 5 && !other; attempt++) {
    try {
      other = await startEmulator({ portBase: 20000 + ((base + attempt * 97) % 40000) });
    } catch {
      other = undefined;
    }
  }
  assert.ok(other, 'could not start on fixed ports');
  const ports = ['sso', 'dynatrace', 'appdynamics', 'appdynamicsLegacy', 'elsewhere'].map((k) => Number(new URL(other.urls[k]).port));
  assert.deepEqual(ports, ports.map((_, i) => ports[0] + i));
  // keep-alive connection open, then close
  const res = await fetch(other.urls.elsewhere);
  await res.text();
  const t0 = Date.now();
  await other.close();
  assert.ok(Date.now() - t0 < 1000);
  await assert.rejects(fetch(other.urls.elsewhere));
});

test('control server: counters, requests, fault, clear-faults, expire-tokens, reset', async () => {
  const ctl = await startEmulator({ control: true });
  try {
    const base = ctl.urls.control;
    assert.equal(new URL(base).hostname, '127.0.0.1');
    assert.equal(emu.urls.control, undefined, 'no control server unless asked for');
    const call = async (method, path, body) => {
      const res = await fetch(`${base}${path}`, { method, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
      assert.match(res.headers.get('content-type'), /^application\/json/);
      return { status: res.status, json: await res.json() };
    };
    const c = ctl.credentials.dynatrace;
    const token = () =>
      fetch(ctl.urls.ssoToken, {
        method: 'POST',
        headers: FORM,
        body: form({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret }),
      });

    const t = await (await token()).json();
    let r = await call('GET', '/counters');
    assert.equal(r.status, 200);
    assert.equal(r.json.sso.token, 1);
    assert.equal(r.json.sso.issued, 1);
    r = await call('GET', '/requests');
    assert.equal(r.json.length, 1);
    assert.equal(r.json[0].role, 'sso');
    assert.equal(r.json[0].headers['content-type'], 'application/x-www-form-urlencoded');

    // fault: applies once (count 1), then normal service
    r = await call('POST', '/fault', { role: 'sso', where: 'token', fault: { kind: 'status', status: 503, count: 1 } });
    assert.deepEqual(r, { status: 200, json: { ok: true } });
    let res = await token();
    assert.equal(res.status, 503);
    await res.text();
    res = await token();
    assert.equal(res.status, 200);
    await res.json();

    // bad calls: 400 with {error}, nothing queued
    for (const body of [
      { role: 'dynatrace', where: 'token', fault: { kind: 'drop' } },
      { role: 'sso', where: 'token', fault: { kind: 'nope' } },
      { role: 'sso', where: 'token' },
      '{not json',
      '[1]',
      '',
    ]) {
      r = await call('POST', '/fault', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(typeof r.json.error, 'string');
    }
    res = await token();
    assert.equal(res.status, 200);
    await res.json();

    // clear-faults
    await call('POST', '/fault', { role: 'dynatrace', where: 'api', fault: { kind: 'unauthorized' } });
    assert.deepEqual(await call('POST', '/clear-faults'), { status: 200, json: { ok: true } });
    res = await fetch(`${ctl.urls.dynatrace}/platform/management/v1/environment`, { headers: bearer(t.access_token) });
    assert.equal(res.status, 200);
    await res.json();

    // expire-tokens
    assert.deepEqual(await call('POST', '/expire-tokens'), { status: 200, json: { ok: true } });
    res = await fetch(`${ctl.urls.dynatrace}/platform/management/v1/environment`, { headers: bearer(t.access_token) });
    assert.equal(res.status, 401);
    await res.text();

    // reset zeroes counters and the log; control calls are not logged
    assert.ok(ctl.requests.length > 0);
    assert.deepEqual(await call('POST', '/reset'), { status: 200, json: { ok: true } });
    r = await call('GET', '/counters');
    assert.equal(r.json.sso.token, 0);
    assert.equal(r.json.dynatrace.api, 0);
    assert.deepEqual((await call('GET', '/requests')).json, []);

    // unknown route 404, wrong method 405
    assert.equal((await call('GET', '/nope')).status, 404);
    assert.equal((await call('GET', '/reset')).status, 405);
  } finally {
    await ctl.close();
  }
});

/** An emulator with its control server on fixed ports from a random base (five tries, as a port may be taken). */
async function onFixedPorts() {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await startEmulator({ control: true, portBase: 30000 + Math.floor(Math.random() * 20000) });
    } catch {
      // That base was taken: another one.
    }
  }
  assert.fail('could not start on fixed ports');
}

test('control server on fixed ports: portBase+5, closed with the rest', async () => {
  const ctl = await onFixedPorts();
  assert.equal(Number(new URL(ctl.urls.control).port), Number(new URL(ctl.urls.sso).port) + 5);
  const res = await fetch(`${ctl.urls.control}/counters`);
  await res.json();
  await ctl.close();
  await assert.rejects(fetch(`${ctl.urls.control}/counters`));
});

// ---------------------------------------------------------------------------------------------
// Dynatrace user sign-in: authorization code + PKCE + rotating refresh tokens


const REDIRECT = 'http://127.0.0.1:3232/auth/login';

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

function authorizeUrl(fields = {}, e = emu) {
  const u = new URL(e.urls.ssoAuthorize);
  const all = {
    response_type: 'code',
    client_id: e.credentials.dynatraceUser.clientId,
    redirect_uri: REDIRECT,
    scope: 'openid app-engine:apps:run settings:objects:read',
    state: 'st-123',
    code_challenge_method: 'S256',
    resource: e.urls.dynatrace,
    ...fields,
  };
  for (const [k, v] of Object.entries(all)) if (v !== undefined) u.searchParams.set(k, v);
  return u.href;
}

/** authorize with autoLogin → the code of the 302 (asserts state and the redirect target). */
async function codeFor(challenge, fields = {}) {
  emu.options.dynatrace.autoLogin = true;
  const res = await fetch(authorizeUrl({ code_challenge: challenge, ...fields }), { redirect: 'manual' });
  assert.equal(res.status, 302);
  await res.arrayBuffer();
  const loc = new URL(res.headers.get('location'));
  assert.equal(`${loc.origin}${loc.pathname}`, fields.redirect_uri ?? REDIRECT);
  assert.equal(loc.searchParams.get('state'), 'st-123');
  return loc.searchParams.get('code');
}

function userToken(fields) {
  return fetch(emu.urls.dtToken, { method: 'POST', headers: FORM, body: form(fields) });
}

function codeGrant(code, verifier, extra = {}) {
  return userToken({
    grant_type: 'authorization_code',
    code,
    client_id: emu.credentials.dynatraceUser.clientId,
    redirect_uri: REDIRECT,
    code_verifier: verifier,
    ...extra,
  });
}

function refreshGrant(refreshToken) {
  return userToken({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: emu.credentials.dynatraceUser.clientId });
}

function jwtPayload(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}

async function assertOAuthError(res, error, pattern) {
  assert.equal(res.status, 400);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  const json = await res.json();
  assert.equal(json.error, error);
  if (pattern) assert.match(json.error_description, pattern);
}

test('sign-in: urls, credentials, port of dtToken', () => {
  assert.equal(emu.urls.ssoAuthorize, `${emu.urls.sso}/oauth2/authorize`);
  assert.equal(emu.urls.ssoUserInfo, `${emu.urls.sso}/sso/oauth2/userinfo`);
  const t = new URL(emu.urls.dtToken);
  assert.equal(t.hostname, '127.0.0.1');
  assert.equal(t.pathname, '/sso/oauth2/token');
  for (const key of ['sso', 'dynatrace', 'appdynamics', 'appdynamicsLegacy', 'elsewhere']) assert.notEqual(new URL(emu.urls[key]).port, t.port);
  assert.equal(emu.credentials.dynatraceUser.clientId, 'dt0s12.EMULATOR');
  assert.equal(emu.credentials.dynatraceUser.redirectUriRule, 'loopback');
  assert.equal(emu.credentials.dynatraceUser.user.email, 'emulator.user@example.com');
});

test('sign-in: full flow with the login form, refresh rotates, userinfo, environment API', async () => {
  const { verifier, challenge } = pkce();
  // 1. authorize → login page
  let res = await fetch(authorizeUrl({ code_challenge: challenge, nonce: 'n-1' }), { redirect: 'manual' });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/html/);
  const html = await res.text();
  assert.match(html, /<title>Sign in – Dynatrace emulator<\/title>/);
  assert.match(html, /<form id="login" method="post" action="\/oauth2\/authorize\/login">/);
  assert.match(html, /<button type="submit" id="sign-in"[^>]*>Sign in<\/button>/);
  assert.match(html, /<input id="user" name="user" value="emulator\.user@example\.com">/);
  // 2. submit the form as a browser would: hidden fields + user
  const fields = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields.append(m[1], m[2].replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
  }
  assert.equal(fields.get('code_challenge'), challenge);
  fields.set('user', 'jane.doe@example.com');
  res = await fetch(`${emu.urls.sso}/oauth2/authorize/login`, { method: 'POST', headers: FORM, body: fields.toString(), redirect: 'manual' });
  assert.equal(res.status, 302);
  await res.arrayBuffer();
  const loc = new URL(res.headers.get('location'));
  assert.equal(`${loc.origin}${loc.pathname}`, REDIRECT);
  assert.equal(loc.searchParams.get('state'), 'st-123');
  const code = loc.searchParams.get('code');
  assert.ok(code);

  // 3. code → tokens
  res = await codeGrant(code, verifier);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  const t1 = await res.json();
  assert.equal(t1.token_type, 'Bearer');
  assert.equal(t1.expires_in, 300);
  assert.equal(t1.scope, 'openid app-engine:apps:run settings:objects:read');
  assert.ok(t1.access_token && t1.refresh_token && t1.id_token);
  const [h, , sig] = t1.id_token.split('.');
  assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url')), { alg: 'none', typ: 'JWT' });
  assert.equal(sig, '');
  const id = jwtPayload(t1.id_token);
  assert.equal(id.email, 'jane.doe@example.com');
  assert.equal(id.name, 'Jane Doe');
  assert.equal(id.aud, 'dt0s12.EMULATOR');
  assert.equal(id.nonce, 'n-1');
  assert.ok(id.sub && id.iat && id.exp > id.iat);

  // 4. refresh rotates; the old refresh token is refused
  res = await refreshGrant(t1.refresh_token);
  assert.equal(res.status, 200);
  const t2 = await res.json();
  assert.ok(t2.refresh_token && t2.refresh_token !== t1.refresh_token);
  assert.notEqual(t2.access_token, t1.access_token);
  assert.equal(t2.scope, t1.scope);
  assert.equal(jwtPayload(t2.id_token).sub, id.sub);
  await assertOAuthError(await refreshGrant(t1.refresh_token), 'invalid_grant', /already been used/);
  res = await refreshGrant(t2.refresh_token);
  assert.equal(res.status, 200);
  const t3 = await res.json();

  // 5. userinfo
  res = await fetch(emu.urls.ssoUserInfo, { headers: bearer(t3.access_token) });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { sub: id.sub, email: 'jane.doe@example.com', name: 'Jane Doe' });
  res = await fetch(emu.urls.ssoUserInfo, { headers: bearer(await dtToken()) });
  assert.equal(res.status, 401);
  assert.equal((await res.json()).error, 'invalid_token');
  res = await fetch(emu.urls.ssoUserInfo);
  assert.equal(res.status, 401);
  await res.json();

  // 6. environment API with the user token (scopes from the sign-in)
  const env = `${emu.urls.dynatrace}/platform/management/v1/environment`;
  res = await fetch(env, { headers: bearer(t3.access_token) });
  assert.equal(res.status, 200);
  await res.json();
  res = await fetch(`${emu.urls.dynatrace}/platform/classic/environment-api/v2/settings/objects`, { headers: bearer(t3.access_token) });
  assert.equal(res.status, 200);
  await res.json();

  // counters and log
  assert.deepEqual(emu.counters.dtToken, { token: 4, code: 1, refresh: 3, issued: 3, preflight: 0 });
  assert.equal(emu.counters.sso.authorize, 1);
  assert.equal(emu.counters.sso.login, 1);
  assert.equal(emu.counters.sso.userinfo, 3);
  assert.ok(emu.requests.some((r) => r.role === 'dtToken' && r.path === '/sso/oauth2/token' && r.body.includes('grant_type=authorization_code')));

  // user tokens expire like the others
  emu.expireTokens();
  res = await fetch(env, { headers: bearer(t3.access_token) });
  assert.equal(res.status, 401);
  await res.json();
  res = await fetch(emu.urls.ssoUserInfo, { headers: bearer(t3.access_token) });
  assert.equal(res.status, 401);
  await res.json();
  // the refresh token still works after the access token expired
  res = await refreshGrant(t3.refresh_token);
  assert.equal(res.status, 200);
  await res.json();
});

test('sign-in: autoLogin redirects at once; the user token works on the environment API', async () => {
  const { verifier, challenge } = pkce();
  const code = await codeFor(challenge);
  const res = await codeGrant(code, verifier);
  assert.equal(res.status, 200);
  const t = await res.json();
  assert.equal(jwtPayload(t.id_token).email, 'emulator.user@example.com');
  const r2 = await fetch(`${emu.urls.dynatrace}/platform/app-engine/app-functions/v1/apps/my.emulator.app/api/echo`, { headers: bearer(t.access_token) });
  assert.equal(r2.status, 200);
  await r2.json();
  // reset() restores autoLogin
  emu.reset();
  assert.equal(emu.options.dynatrace.autoLogin, false);
});

test('sign-in: PKCE mismatch refused, and the code is then used up', async () => {
  const { verifier, challenge } = pkce();
  const code = await codeFor(challenge);
  await assertOAuthError(await codeGrant(code, pkce().verifier), 'invalid_grant', /PKCE/);
  await assertOAuthError(await codeGrant(code, verifier), 'invalid_grant', /already been used/);
  // a malformed or missing verifier is refused too
  const p2 = pkce();
  await assertOAuthError(await codeGrant(await codeFor(p2.challenge), 'short'), 'invalid_grant', /code_verifier/);
  const p3 = pkce();
  await assertOAuthError(await codeGrant(await codeFor(p3.challenge), undefined, { code_verifier: '' }), 'invalid_grant', /code_verifier/);
  assert.equal(emu.counters.dtToken.issued, 0);
});

test('sign-in: code reuse refused', async () => {
  const { verifier, challenge } = pkce();
  const code = await codeFor(challenge);
  const res = await codeGrant(code, verifier);
  assert.equal(res.status, 200);
  await res.json();
  await assertOAuthError(await codeGrant(code, verifier), 'invalid_grant', /already been used/);
  await assertOAuthError(await codeGrant('not-a-code', verifier), 'invalid_grant', /invalid/);
});

test('sign-in: redirect_uri mismatch refused at the token endpoint; unknown client; grant types', async () => {
  const { verifier, challenge } = pkce();
  const code = await codeFor(challenge);
  await assertOAuthError(await codeGrant(code, verifier, { redirect_uri: 'http://127.0.0.1:3232/other' }), 'invalid_grant', /redirect_uri/);
  const p2 = pkce();
  const code2 = await codeFor(p2.challenge);
  await assertOAuthError(await codeGrant(code2, p2.verifier, { client_id: 'dt0s12.UNKNOWN' }), 'invalid_client');
  await assertOAuthError(await userToken({ grant_type: 'client_credentials', client_id: 'dt0s12.EMULATOR' }), 'unsupported_grant_type');
  await assertOAuthError(await refreshGrant('nope'), 'invalid_grant', /invalid/);
  const res = await fetch(emu.urls.dtToken, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  await assertOAuthError(res, 'invalid_request', /Content-Type/);
});

test('sign-in: authorize validation: HTML 400 for client / redirect URI, error redirects for the rest', async () => {
  const { challenge } = pkce();
  emu.options.dynatrace.autoLogin = true;
  for (const fields of [
    { client_id: 'dt0s12.UNKNOWN' },
    { client_id: undefined },
    { redirect_uri: 'https://evil.example/cb' },
    { redirect_uri: 'http://192.168.1.2:3232/cb' },
    { redirect_uri: undefined },
  ]) {
    const res = await fetch(authorizeUrl({ code_challenge: challenge, ...fields }), { redirect: 'manual' });
    assert.equal(res.status, 400, JSON.stringify(fields));
    assert.equal(res.headers.get('location'), null);
    assert.match(res.headers.get('content-type'), /^text\/html/);
    await res.text();
  }
  // loopback hosts, any port
  for (const redirect_uri of ['http://localhost:5555/cb', 'http://[::1]:8080/x', 'http://127.0.0.1:1/']) {
    const res = await fetch(authorizeUrl({ code_challenge: challenge, redirect_uri }), { redirect: 'manual' });
    assert.equal(res.status, 302, redirect_uri);
    assert.ok(res.headers.get('location').startsWith(redirect_uri));
    await res.arrayBuffer();
  }
  for (const fields of [{ code_challenge: undefined }, { code_challenge_method: 'plain' }, { code_challenge_method: undefined }, { response_type: 'token' }]) {
    const res = await fetch(authorizeUrl({ code_challenge: challenge, ...fields }), { redirect: 'manual' });
    assert.equal(res.status, 302, JSON.stringify(fields));
    await res.arrayBuffer();
    const loc = new URL(res.headers.get('location'));
    assert.equal(`${loc.origin}${loc.pathname}`, REDIRECT);
    assert.equal(loc.searchParams.get('error'), 'invalid_request');
    assert.ok(loc.searchParams.get('error_description'));
    assert.equal(loc.searchParams.get('state'), 'st-123');
    assert.equal(loc.searchParams.get('code'), null);
  }
});

test('sign-in: registered clients with exact redirect URIs, confidential client', async () => {
  const other = await startEmulator({
    dynatrace: {
      autoLogin: true,
      publicClients: [
        { clientId: 'dt0s12.CLI', redirectUris: ['http://localhost:3232/auth/login'] },
        { clientId: 'dt0s12.CONF', redirectUris: ['https://app.example/cb'], clientSecret: 's3cret' },
      ],
    },
  });
  try {
    assert.equal(other.credentials.dynatraceUser.clientId, 'dt0s12.EMULATOR', 'the default client stays registered');
    const { verifier, challenge } = pkce();
    const auth = (clientId, redirectUri) =>
      fetch(authorizeUrl({ client_id: clientId, redirect_uri: redirectUri, code_challenge: challenge }, other), { redirect: 'manual' });
    let res = await auth('dt0s12.CLI', 'http://localhost:3233/auth/login');
    assert.equal(res.status, 400);
    await res.text();
    res = await auth('dt0s12.CLI', 'http://localhost:3232/auth/login');
    assert.equal(res.status, 302);
    await res.arrayBuffer();
    res = await auth('dt0s12.CONF', 'https://app.example/cb');
    assert.equal(res.status, 302);
    await res.arrayBuffer();
    const code = new URL(res.headers.get('location')).searchParams.get('code');
    const grant = (extra) =>
      fetch(other.urls.dtToken, {
        method: 'POST',
        headers: FORM,
        body: form({ grant_type: 'authorization_code', code, client_id: 'dt0s12.CONF', redirect_uri: 'https://app.example/cb', code_verifier: verifier, ...extra }),
      });
    res = await grant({});
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error, 'invalid_client');
    res = await grant({ client_secret: 's3cret' });
    assert.equal(res.status, 200);
    await res.json();
  } finally {
    await other.close();
  }
});

test('sign-in: discovery document', async () => {
  const res = await fetch(`${emu.urls.sso}/.well-known/openid-configuration`);
  assert.equal(res.status, 200);
  const doc = await res.json();
  assert.equal(doc.issuer, emu.urls.sso);
  assert.equal(doc.authorization_endpoint, emu.urls.ssoAuthorize);
  assert.equal(doc.token_endpoint, emu.urls.dtToken);
  assert.equal(doc.userinfo_endpoint, emu.urls.ssoUserInfo);
  assert.deepEqual(doc.code_challenge_methods_supported, ['S256']);
  assert.ok(doc.grant_types_supported.includes('authorization_code'));
  assert.ok(doc.grant_types_supported.includes('refresh_token'));
  emu.options.dynatrace.discovery = false;
  const r2 = await fetch(emu.urls.ssoDiscovery);
  assert.equal(r2.status, 404);
  await r2.json();
});

test('sign-in faults: errorRedirect on authorize', async () => {
  const { challenge } = pkce();
  emu.setFault('sso', 'authorize', { kind: 'errorRedirect', error: 'access_denied', description: 'The user said no', count: 1 });
  // an unverified redirect URI gets the HTML page, and the fault stays queued
  let res = await fetch(authorizeUrl({ code_challenge: challenge, redirect_uri: 'https://evil.example/' }), { redirect: 'manual' });
  assert.equal(res.status, 400);
  await res.text();
  res = await fetch(authorizeUrl({ code_challenge: challenge }), { redirect: 'manual' });
  assert.equal(res.status, 302);
  await res.arrayBuffer();
  const loc = new URL(res.headers.get('location'));
  assert.equal(loc.searchParams.get('error'), 'access_denied');
  assert.equal(loc.searchParams.get('error_description'), 'The user said no');
  assert.equal(loc.searchParams.get('state'), 'st-123');
  // used up: the login page again
  res = await fetch(authorizeUrl({ code_challenge: challenge }), { redirect: 'manual' });
  assert.equal(res.status, 200);
  await res.text();
  assert.equal(emu.counters.sso.authorize, 3);
  assert.throws(() => emu.setFault('sso', 'token', { kind: 'errorRedirect', error: 'x' }), TypeError);
  assert.throws(() => emu.setFault('sso', 'authorize', { kind: 'errorRedirect' }), TypeError);
});

test('sign-in faults: refuseRefresh and expiredCode only hit their grant; generic kinds on dtToken', async () => {
  const { verifier, challenge } = pkce();
  emu.setFault('dtToken', 'token', { kind: 'refuseRefresh', count: 1 });
  const code = await codeFor(challenge);
  let res = await codeGrant(code, verifier);
  assert.equal(res.status, 200, 'a code grant does not consume refuseRefresh');
  const t = await res.json();
  await assertOAuthError(await refreshGrant(t.refresh_token), 'invalid_grant', /refresh token expired/);
  // the refused refresh token stays dead
  await assertOAuthError(await refreshGrant(t.refresh_token), 'invalid_grant', /expired/);

  const p2 = pkce();
  emu.setFault('dtToken', 'token', { kind: 'expiredCode', count: 1 });
  await assertOAuthError(await codeGrant(await codeFor(p2.challenge), p2.verifier), 'invalid_grant', /authorization code expired/);

  emu.setFault('dtToken', 'token', { kind: 'status', status: 503, count: 1 });
  res = await refreshGrant('x');
  assert.equal(res.status, 503);
  await res.text();
  emu.setFault('dtToken', 'token', { kind: 'drop', count: 1 });
  await assert.rejects(refreshGrant('x'), TypeError);
  assert.equal(emu.counters.dtToken.token, 6);
  assert.equal(emu.counters.dtToken.code, 2);
  assert.equal(emu.counters.dtToken.refresh, 4);
  assert.throws(() => emu.setFault('sso', 'token', { kind: 'refuseRefresh' }), TypeError);
  assert.throws(() => emu.setFault('dtToken', 'api', { kind: 'drop' }), TypeError);
});

test('sign-in: rotateRefreshTokens false keeps the refresh token', async () => {
  emu.options.dynatrace.rotateRefreshTokens = false;
  const { verifier, challenge } = pkce();
  const t = await (await codeGrant(await codeFor(challenge), verifier)).json();
  for (let i = 0; i < 2; i++) {
    const res = await refreshGrant(t.refresh_token);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).refresh_token, undefined);
  }
});

test('sign-in: CORS on dtToken; control server counters and faults', async () => {
  const res = await fetch(emu.urls.dtToken, {
    method: 'OPTIONS',
    headers: { origin: 'http://example.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.equal(emu.counters.dtToken.preflight, 1);
  assert.equal(emu.counters.dtToken.token, 0);

  const ctl = await startEmulator({ control: true });
  try {
    const r = await fetch(`${ctl.urls.control}/fault`, {
      method: 'POST',
      body: JSON.stringify({ role: 'dtToken', where: 'token', fault: { kind: 'refuseRefresh', count: 1 } }),
    });
    assert.deepEqual(await r.json(), { ok: true });
    const r2 = await fetch(ctl.urls.dtToken, { method: 'POST', headers: FORM, body: form({ grant_type: 'refresh_token', refresh_token: 'x', client_id: 'dt0s12.EMULATOR' }) });
    await assertOAuthError(r2, 'invalid_grant', /refresh token expired/);
    const counters = await (await fetch(`${ctl.urls.control}/counters`)).json();
    assert.deepEqual(counters.dtToken, { token: 1, code: 0, refresh: 1, issued: 0, preflight: 0 });
    assert.equal(counters.sso.authorize, 0);
    assert.equal(counters.sso.userinfo, 0);
  } finally {
    await ctl.close();
  }
});

test('fixed ports: dtToken on portBase+6, control keeps portBase+5', async () => {
  const e = await onFixedPorts();
  try {
    const base = Number(new URL(e.urls.sso).port);
    assert.equal(Number(new URL(e.urls.control).port), base + 5);
    assert.equal(Number(new URL(e.urls.dtToken).port), base + 6);
    const doc = await (await fetch(`${e.urls.sso}/.well-known/openid-configuration`)).json();
    assert.equal(doc.token_endpoint, e.urls.dtToken);
  } finally {
    await e.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Dynatrace Account Management API (role account) and the platform token

function accountTokenRequest(fields = {}) {
  const a = emu.credentials.dynatraceAccount;
  const body = form({ grant_type: 'client_credentials', client_id: a.clientId, client_secret: a.clientSecret, scope: 'account-idm-read', resource: a.accountUrn, ...fields });
  return fetch(emu.urls.ssoToken, { method: 'POST', headers: FORM, body });
}

async function accountToken(fields) {
  const res = await accountTokenRequest(fields);
  assert.equal(res.status, 200);
  return (await res.json()).access_token;
}

function usersUrl(uuid = emu.credentials.dynatraceAccount.accountUuid, e = emu) {
  return `${e.urls.account}/iam/v1/accounts/${uuid}/users`;
}

async function assertAccountError(res, status, pattern) {
  assert.equal(res.status, status);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  const json = await res.json();
  assert.deepEqual(Object.keys(json), ['error']);
  assert.deepEqual(Object.keys(json.error).sort(), ['code', 'message']);
  assert.equal(json.error.code, status);
  if (pattern) assert.match(json.error.message, pattern);
  return json;
}

test('account: urls, credentials, fixtures', () => {
  const u = new URL(emu.urls.account);
  assert.equal(u.hostname, '127.0.0.1');
  assert.equal(emu.urls.account, u.origin, 'an origin, no path');
  const others = ['sso', 'dynatrace', 'appdynamics', 'appdynamicsLegacy', 'elsewhere', 'dtTokenOrigin'].map((k) => new URL(emu.urls[k]).port);
  assert.ok(!others.includes(u.port), 'its own port');
  const a = emu.credentials.dynatraceAccount;
  assert.equal(a.clientId, 'dt0s02.EMUACCNT');
  assert.match(a.clientSecret, /^dt0s02\.EMUACCNT\.[A-Z0-9]{64}$/);
  assert.equal(a.accountUrn, emu.credentials.dynatrace.accountUrn, 'the same account as the default client');
  assert.equal(a.accountUuid, '00000000-0000-4000-8000-00000000e001');
  assert.equal(`urn:dtaccount:${a.accountUuid}`, a.accountUrn);
  assert.ok(a.scopes.includes('account-idm-read'));
  assert.ok(!emu.credentials.dynatrace.scopes.includes('account-idm-read'), 'the environment client has no account scopes');
  assert.equal(emu.account.users.length, 3);
  assert.deepEqual(Object.keys(emu.account.users[0]), ['uid', 'email', 'name', 'surname', 'userStatus']);
  assert.equal(emu.account.users[0].uid, emu.credentials.dynatraceUser.user.sub, 'uid is the sign-in sub of the same email');
  assert.equal(emu.account.groups.length, 2);
  assert.match(emu.credentials.dynatrace.platformToken, /^dt0s16\.EMULATOR\.[A-Z0-9]{64}$/);
});

test('account: the SSO token carries the resource; users and groups lists', async () => {
  const a = emu.credentials.dynatraceAccount;
  const res = await accountTokenRequest();
  assert.equal(res.status, 200);
  const json = await res.json();
  assert.equal(json.resource, a.accountUrn);
  assert.equal(json.scope, 'account-idm-read');

  let r = await fetch(usersUrl(), { headers: bearer(json.access_token) });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^application\/json/);
  assert.deepEqual(await r.json(), { count: 3, items: emu.account.users });
  r = await fetch(`${usersUrl()}/?x=1`, { headers: bearer(json.access_token) });
  assert.equal(r.status, 200, 'trailing slash and query');
  await r.json();
  r = await fetch(`${emu.urls.account}/iam/v1/accounts/${a.accountUuid}/groups`, { headers: bearer(json.access_token) });
  assert.equal(r.status, 200);
  const groups = await r.json();
  assert.deepEqual(groups, { count: 2, items: emu.account.groups });
  assert.deepEqual(Object.keys(groups.items[0]).sort(), ['createdAt', 'description', 'federatedAttributeValues', 'name', 'owner', 'updatedAt', 'uuid']);
  assert.deepEqual(emu.counters.account, { api: 3, unauthorized: 0, forbidden: 0, preflight: 0 });
  assert.equal(emu.counters.sso.issued, 1);
});

test('account: 401 without a token, with a bad one, an expired one, the platform token, an AppD token', async () => {
  let res = await fetch(usersUrl());
  await assertAccountError(res, 401, /Bearer token is required/);
  assert.equal(res.headers.get('www-authenticate'), 'Bearer');
  await assertAccountError(await fetch(usersUrl(), { headers: bearer('made.up.token') }), 401, /not valid/);
  await assertAccountError(await fetch(usersUrl(), { headers: bearer(emu.credentials.dynatrace.platformToken) }), 401, /not valid/);
  await assertAccountError(await fetch(usersUrl(), { headers: bearer(await appdToken()) }), 401, /not valid/);
  const token = await accountToken();
  emu.expireTokens();
  await assertAccountError(await fetch(usersUrl(), { headers: bearer(token) }), 401, /expired/);
  // Without a token, an unknown /iam path is a 401 too (the token is checked first).
  await assertAccountError(await fetch(`${emu.urls.account}/iam/v1/nothing`), 401);
  assert.deepEqual(emu.counters.account, { api: 6, unauthorized: 6, forbidden: 0, preflight: 0 });
});

test('account: 403 for another account, no resource, or without account-idm-read', async () => {
  const a = emu.credentials.dynatraceAccount;
  const token = await accountToken();
  const other = 'ffffffff-ffff-4fff-8fff-ffffffffffff';
  let json = await assertAccountError(await fetch(usersUrl(other), { headers: bearer(token) }), 403, new RegExp(`not valid for account ${other}`));
  assert.match(json.error.message, new RegExp(`requested for ${a.accountUrn}`));
  // A token requested without any resource.
  const res = await fetch(emu.urls.ssoToken, {
    method: 'POST',
    headers: FORM,
    body: form({ grant_type: 'client_credentials', client_id: a.clientId, client_secret: a.clientSecret, scope: 'account-idm-read' }),
  });
  const bare = (await res.json()).access_token;
  json = await assertAccountError(await fetch(usersUrl(), { headers: bearer(bare) }), 403, /requested without a resource/);
  assert.match(json.error.message, new RegExp(`resource=${a.accountUrn}`));

  const noScope = await accountToken({ scope: 'account-env-read' });
  await assertAccountError(await fetch(usersUrl(), { headers: bearer(noScope) }), 403, /^Forbidden: missing scopes \[account-idm-read\]$/);
  // The environment client's token for the same account has no account-idm-read either.
  const envToken = await dtToken({ resource: a.accountUrn });
  await assertAccountError(await fetch(usersUrl(), { headers: bearer(envToken) }), 403, /missing scopes \[account-idm-read\]/);
  assert.equal(emu.counters.account.forbidden, 4);
  assert.equal(emu.counters.account.unauthorized, 0);
});

test('account: a client of another account (dynatrace.clients) is refused on this account, served on its own', async () => {
  const otherUrn = 'urn:dtaccount:11111111-2222-4333-8444-555555555555';
  const e = await startEmulator({
    dynatrace: { clients: [{ clientId: 'dt0s02.OTHERACC', clientSecret: 'dt0s02.OTHERACC.SECRET', accountUrn: otherUrn, scopes: ['account-idm-read'] }] },
  });
  try {
    assert.equal(e.credentials.dynatrace.clientId, 'dt0s02.OTHERACC');
    assert.equal(e.credentials.dynatraceAccount.clientId, 'dt0s02.EMUACCNT', 'the account client is still registered');
    const res = await fetch(e.urls.ssoToken, {
      method: 'POST',
      headers: FORM,
      body: form({ grant_type: 'client_credentials', client_id: 'dt0s02.OTHERACC', client_secret: 'dt0s02.OTHERACC.SECRET', resource: otherUrn }),
    });
    const token = (await res.json()).access_token;
    let r = await fetch(usersUrl(e.credentials.dynatraceAccount.accountUuid, e), { headers: bearer(token) });
    assert.equal(r.status, 403);
    assert.match((await r.json()).error.message, /11111111-2222-4333-8444-555555555555/);
    r = await fetch(usersUrl('11111111-2222-4333-8444-555555555555', e), { headers: bearer(token) });
    assert.equal(r.status, 200);
    assert.equal((await r.json()).count, 3);
  } finally {
    await e.close();
  }
});

test('account: 404 for unknown paths, 405 for other methods, CORS', async () => {
  const token = await accountToken();
  let res = await fetch(`${emu.urls.account}/nothing`);
  await assertAccountError(res, 404);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  await assertAccountError(await fetch(`${emu.urls.account}/`), 404);
  await assertAccountError(await fetch(`${emu.urls.account}/iam/v1/accounts/${emu.credentials.dynatraceAccount.accountUuid}/environments`, { headers: bearer(token) }), 404);
  await assertAccountError(await fetch(`${emu.urls.account}/iam/v1/accounts`, { headers: bearer(token) }), 404);
  res = await fetch(usersUrl(), { method: 'POST', headers: { ...bearer(token), 'content-type': 'application/json' }, body: '{}' });
  await assertAccountError(res, 405);
  assert.equal(res.headers.get('allow'), 'GET');

  res = await fetch(usersUrl(), {
    method: 'OPTIONS',
    headers: { origin: 'http://example.test', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
  });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.match(res.headers.get('access-control-allow-headers'), /Authorization/);
  res = await fetch(usersUrl(), { headers: bearer(token) });
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  await res.json();
  // 404s outside /iam are not api requests; preflights count only as preflight.
  assert.deepEqual(emu.counters.account, { api: 4, unauthorized: 0, forbidden: 0, preflight: 1 });
  assert.deepEqual(
    emu.requests.filter((r) => r.role === 'account').map((r) => r.method),
    ['GET', 'GET', 'GET', 'GET', 'POST', 'OPTIONS', 'GET'],
  );
});

test('account: faults at account:api (generic kinds); other places throw', async () => {
  const token = await accountToken();
  emu.setFault('account', 'api', { kind: 'status', status: 503, count: 1 });
  let res = await fetch(usersUrl(), { headers: bearer(token) });
  assert.equal(res.status, 503);
  await res.text();
  emu.setFault('account', 'api', { kind: 'unauthorized', count: 1 });
  await assertAccountError(await fetch(usersUrl(), { headers: bearer(token) }), 401);
  emu.setFault('account', 'api', { kind: 'json', status: 500, body: { error: { code: 500, message: 'boom' } }, count: 1 });
  res = await fetch(usersUrl(), { headers: bearer(token) });
  assert.equal(res.status, 500);
  assert.deepEqual(await res.json(), { error: { code: 500, message: 'boom' } });
  emu.setFault('account', 'api', { kind: 'rateLimit', retryAfter: 2, count: 1 });
  res = await fetch(usersUrl(), { headers: bearer(token) });
  assert.equal(res.status, 429);
  assert.equal(res.headers.get('retry-after'), '2');
  await res.text();
  res = await fetch(usersUrl(), { headers: bearer(token) });
  assert.equal(res.status, 200);
  await res.json();
  assert.deepEqual(emu.counters.account, { api: 5, unauthorized: 1, forbidden: 0, preflight: 0 });
  assert.throws(() => emu.setFault('account', 'token', { kind: 'drop' }), /no "token" place/);
  assert.throws(() => emu.setFault('account', 'api', { kind: 'refuseRefresh' }), /only to role dtToken/);
});

test('platform token: accepted by the environment API, nowhere else; revoke → 401; reset restores', async () => {
  const pt = emu.credentials.dynatrace.platformToken;
  const env = `${emu.urls.dynatrace}/platform/management/v1/environment`;
  let res = await fetch(env, { headers: bearer(pt) });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).environmentId, 'abc12345');
  res = await fetch(`${emu.urls.dynatrace}/platform/classic/environment-api/v2/settings/objects`, { headers: bearer(pt) });
  assert.equal(res.status, 200, 'the platform token has settings:objects:read');
  await res.json();
  res = await fetch(`${emu.urls.dynatrace}/platform/echo`, { headers: bearer(pt) });
  assert.equal((await res.json()).headers.authorization, `Bearer ${pt}`);
  // Never expires with expireTokens().
  emu.expireTokens();
  res = await fetch(env, { headers: bearer(pt) });
  assert.equal(res.status, 200);
  await res.json();

  // Not SSO: userinfo, the token endpoint as a bearer; not dtToken; not AppDynamics.
  res = await fetch(emu.urls.ssoUserInfo, { headers: bearer(pt) });
  assert.equal(res.status, 401);
  await res.json();
  res = await fetch(emu.urls.ssoToken, { method: 'POST', headers: { ...FORM, ...bearer(pt) }, body: form({ grant_type: 'client_credentials' }) });
  assert.equal(res.status, 400);
  await res.json();
  res = await fetch(`${emu.urls.appdynamics}/controller/rest/applications`, { headers: bearer(pt) });
  assert.equal(res.status, 401);
  await res.text();
  assert.equal(emu.counters.sso.issued, 0);

  emu.revokePlatformToken();
  res = await fetch(env, { headers: bearer(pt) });
  assert.equal(res.status, 401);
  const json = await res.json();
  assert.deepEqual(json, { error: { code: 401, message: 'Unauthorized', details: { reason: 'The provided token has been revoked.' } } });
  assert.equal(emu.counters.dynatrace.unauthorized, 1);
  // Other tokens are not affected.
  res = await fetch(env, { headers: bearer(await dtToken()) });
  assert.equal(res.status, 200);
  await res.json();

  emu.reset();
  assert.equal(emu.credentials.dynatrace.platformToken, pt, 'the same token after reset');
  res = await fetch(env, { headers: bearer(pt) });
  assert.equal(res.status, 200);
  await res.json();

  const other = await startEmulator();
  try {
    assert.notEqual(other.credentials.dynatrace.platformToken, pt, 'each emulator has its own');
    res = await fetch(`${other.urls.dynatrace}/platform/management/v1/environment`, { headers: bearer(pt) });
    assert.equal(res.status, 401);
    await res.json();
  } finally {
    await other.close();
  }
});

test('account and platform token through the control server; account on portBase+7', async () => {
  const e = await onFixedPorts();
  try {
    const base = Number(new URL(e.urls.sso).port);
    assert.equal(Number(new URL(e.urls.account).port), base + 7);
    assert.equal(Number(new URL(e.urls.dtToken).port), base + 6);
    assert.equal(Number(new URL(e.urls.control).port), base + 5);
    const post = async (path, body) => (await fetch(`${e.urls.control}${path}`, { method: 'POST', body: body && JSON.stringify(body) })).json();
    const env = `${e.urls.dynatrace}/platform/management/v1/environment`;
    const pt = e.credentials.dynatrace.platformToken;
    assert.deepEqual(await post('/revoke-platform-token'), { ok: true });
    let res = await fetch(env, { headers: bearer(pt) });
    assert.equal(res.status, 401);
    await res.json();
    assert.deepEqual(await post('/reset'), { ok: true });
    res = await fetch(env, { headers: bearer(pt) });
    assert.equal(res.status, 200);
    await res.json();
    assert.deepEqual(await post('/fault', { role: 'account', where: 'api', fault: { kind: 'status', status: 502, count: 1 } }), { ok: true });
    res = await fetch(`${e.urls.account}/iam/v1/accounts/x/users`);
    assert.equal(res.status, 502);
    await res.text();
    const counters = await (await fetch(`${e.urls.control}/counters`)).json();
    assert.deepEqual(counters.account, { api: 1, unauthorized: 0, forbidden: 0, preflight: 0 });
  } finally {
    await e.close();
  }
});

test('command line: --port-base puts account on N+7 and prints it', async () => {
  const { spawn } = await import('node:child_process');
  const base = 30000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, [new URL('./index.mjs', import.meta.url).pathname, '--port-base', String(base)], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const line = await new Promise((resolve, reject) => {
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      child.stderr.on('data', (d) => {
        err += d;
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
    });
    const json = JSON.parse(line);
    assert.equal(json.urls.account, `http://127.0.0.1:${base + 7}`);
    assert.match(json.credentials.dynatrace.platformToken, /^dt0s16\.EMULATOR\./);
    assert.equal(json.credentials.dynatraceAccount.clientId, 'dt0s02.EMUACCNT');
  } catch (err) {
    // Something else may hold a port of the range; that is not this test's business.
    if (!/EADDRINUSE/.test(String(err))) throw err;
  } finally {
    child.kill('SIGTERM');
  }
});

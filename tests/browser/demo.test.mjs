// The demo page (www/) in headless Chromium against the emulator, served by `startDemoServer`
// exactly as `npm start` serves it: both vendor flows, one token request for ten rapid calls
// (read from the emulator's counters), a wrong secret's error and hint, the /forward route and its
// guards, secrets kept out of the page and the console, and a layout that fits 375 px.
// Screenshots go to test-artifacts/ (README screenshots: node tests/browser/screenshots.mjs).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startDemoServer } from '../../scripts/serve.mjs';
import { DynatraceClient, AppDynamicsClient } from '../../pkg/node.mjs';
import {
  launchBrowser, openDemo, dynatraceFlow, appdynamicsFlow, timelineRows, summaryStat, waitForFinishedRows,
} from './demo-helpers.mjs';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const WRONG_DT_SECRET = 'dt0s02.EMULATOR.WRONGWRONGWRONGWRONGWRONGWRONGWRONGWRONGWRONGWRONGWRONGWRONGWRONG1';
const WRONG_APPD_SECRET = '00000000-dead-4bad-8bad-000000000bad';

let browser;
let server;
let emu;

before(async () => {
  browser = await launchBrowser();
  server = await startDemoServer({ port: 0 });
  emu = server.emu;
  mkdirSync(ARTIFACTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Copies of the emulator's counters, to compare before and after an action. */
function snapshot() {
  return structuredClone(emu.counters);
}

/** Every secret and token the page could leak: credentials, wrong secrets, every bearer sent. */
function secrets() {
  const c = emu.credentials;
  const bearers = emu.requests
    .map((r) => /^Bearer (\S+)$/i.exec(r.headers.authorization ?? '')?.[1])
    .filter(Boolean);
  return [...new Set([c.dynatrace.clientSecret, c.appdynamics.clientSecret, c.appdynamics.temporaryToken, WRONG_DT_SECRET, WRONG_APPD_SECRET, ...bearers])];
}

/** The page's text and markup and its console never hold a secret or a full token; no script error. */
async function assertNoSecrets(page) {
  const text = await page.evaluate(() => document.body.innerText);
  const html = await page.evaluate(() => document.documentElement.outerHTML);
  for (const secret of secrets()) {
    assert.ok(!text.includes(secret), 'a secret or token is in the page text');
    assert.ok(!html.includes(secret), 'a secret or token is in the page markup');
    for (const message of page.messages) assert.ok(!message.includes(secret), 'a secret or token is in a console message');
  }
  assert.deepEqual(page.messages.filter((m) => m.startsWith('pageerror')), []);
}

/** A request to the demo server with any headers (Host included); resolves to { status, json }. */
function rawRequest(path, { method = 'GET', headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${server.url.slice(0, -1)}${path}`, { method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, json, text });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const forwardUrl = (target) => `${server.url}forward?url=${encodeURIComponent(target)}`;

test('the page imports the package from /pkg/web.js, is prefilled for the emulator and labels every field', async () => {
  const served = new Map();
  const page = await openDemo(browser, server.url, {
    observe: (p) => p.on('response', (r) => served.set(new URL(r.url()).pathname, r.headers()['content-type'])),
  });
  try {
    assert.match(served.get('/pkg/web.js') ?? '', /^text\/javascript/);
    assert.equal(served.get('/pkg/dist/web/apm_oauth_bg.wasm'), 'application/wasm');

    assert.equal(await page.inputValue('#dt-env'), emu.urls.dynatrace);
    assert.equal(await page.inputValue('#dt-token-url'), emu.urls.ssoToken);
    assert.equal(await page.inputValue('#dt-client-id'), emu.credentials.dynatrace.clientId);
    assert.equal(await page.inputValue('#appd-controller'), emu.urls.appdynamics);
    // The emulator sends CORS headers: no forwarding by default.
    assert.equal(await page.isChecked('#dt-forward'), false);
    assert.equal(await page.isChecked('#appd-forward'), false);
    // A real host turns it on.
    await page.fill('#dt-env', 'https://abc12345.apps.dynatrace.com');
    assert.equal(await page.isChecked('#dt-forward'), true);

    const unlabelled = await page.$$eval('input, select, textarea', (els) => els.filter((e) => e.labels.length === 0).map((e) => e.id || e.name));
    assert.deepEqual(unlabelled, []);
    const secretTypes = await page.$$eval('#dt-secret, #appd-secret, #appd-temp-token', (els) => els.map((e) => e.type));
    assert.deepEqual(secretTypes, ['password', 'password', 'password']);
    await assertNoSecrets(page);
  } finally {
    await page.context().close();
  }
});

test('Dynatrace: Get token shows the token, then the platform API and an app function answer', async () => {
  const page = await openDemo(browser, server.url);
  try {
    const before = snapshot();
    const shown = await dynatraceFlow(page);

    assert.equal(shown.token.type, 'Bearer');
    assert.match(shown.token.scope, /app-engine:apps:run/);
    assert.match(shown.token.redacted, /^\S{6}…\S{4} \(\d+ characters\)$/);
    assert.match(shown.token.expires, /^[45] min \d+ s$/);
    assert.equal(JSON.parse(shown.token.claims).sub, emu.credentials.dynatrace.clientId);
    // The countdown is live.
    await page.waitForFunction((first) => document.querySelector('#dt-token [data-field=expires]').textContent !== first, shown.token.expires);

    assert.match(shown.api.status, /^200\b/);
    assert.equal(JSON.parse(shown.api.body).environmentId, 'abc12345');
    assert.match(shown.fn.status, /^200\b/);
    assert.deepEqual(JSON.parse(shown.fn.body), { result: 3 });

    assert.equal(emu.counters.sso.token - before.sso.token, 1);
    assert.equal(emu.counters.dynatrace.api - before.dynatrace.api, 2);
    assert.equal((await timelineRows(page, 'dt', 'token')).length, 1);
    assert.equal((await timelineRows(page, 'dt', 'api')).length, 2);

    await page.locator('#dt').screenshot({ path: `${ARTIFACTS}demo-dynatrace.png` });
    await assertNoSecrets(page);
  } finally {
    await page.context().close();
  }
});

test("AppDynamics: Get token, then List applications shows the controller's applications", async () => {
  const listed = await fetch(`${emu.urls.appdynamics}/controller/rest/applications?output=JSON`, {
    headers: { authorization: `Bearer ${emu.credentials.appdynamics.temporaryToken}` },
  }).then((r) => r.json());
  assert.ok(listed.length > 0);

  const page = await openDemo(browser, server.url);
  try {
    const before = snapshot();
    const shown = await appdynamicsFlow(page);
    assert.equal(shown.token.type, 'Bearer');
    assert.match(shown.token.redacted, /^\S{6}…\S{4} \(\d+ characters\)$/);
    assert.match(shown.token.expires, /^[45] min \d+ s$/);
    assert.deepEqual(shown.rows, listed.map((a) => [String(a.id), a.name, a.description]));
    assert.equal(emu.counters.appdynamics.token - before.appdynamics.token, 1);
    assert.equal(emu.counters.appdynamics.api - before.appdynamics.api, 1);

    await page.click('#appd-call-rest');
    await page.waitForFunction(() => document.querySelector('#appd-result h3')?.textContent.includes('/tiers'));
    assert.match(await page.textContent('#appd-result [data-field=status]'), /^200\b/);
    assert.ok(Array.isArray(JSON.parse(await page.textContent('#appd-result [data-field=body]'))));
    assert.equal(emu.counters.appdynamics.token - before.appdynamics.token, 1);

    await page.locator('#appd').screenshot({ path: `${ARTIFACTS}demo-appdynamics.png` });
    await page.screenshot({ path: `${ARTIFACTS}demo-full.png`, fullPage: true });
    await assertNoSecrets(page);
  } finally {
    await page.context().close();
  }
});

test('ten rapid "Call platform API" clicks make one token request; later calls are cache hits', async () => {
  const page = await openDemo(browser, server.url);
  try {
    const before = snapshot();
    // Ten clicks in one go, before any token exists: they all wait for the same token request.
    await page.evaluate(() => {
      const button = document.getElementById('dt-call-api');
      for (let i = 0; i < 10; i++) button.click();
    });
    await waitForFinishedRows(page, 'dt', 'api', 10);
    assert.equal(emu.counters.sso.token - before.sso.token, 1);
    assert.equal(emu.counters.dynatrace.api - before.dynatrace.api, 10);
    assert.equal((await timelineRows(page, 'dt', 'token')).length, 1);

    // Ten more, one after the other as a user clicks: the cached token serves them all.
    for (let i = 0; i < 10; i++) await page.click('#dt-call-api');
    await waitForFinishedRows(page, 'dt', 'api', 20);
    assert.equal(emu.counters.sso.token - before.sso.token, 1);
    assert.equal(emu.counters.dynatrace.api - before.dynatrace.api, 20);
    assert.equal((await timelineRows(page, 'dt', 'token')).length, 1);
    assert.equal(await summaryStat(page, 'dt', 'tokenRequests'), 1);
    assert.equal(await summaryStat(page, 'dt', 'apiCalls'), 20);
    assert.ok((await summaryStat(page, 'dt', 'cacheHits')) >= 10);
    const cacheRows = await page.$$eval('#dt-timeline li[data-kind=cache]', (lis) => lis.reduce((n, li) => n + Number(li.dataset.count), 0));
    assert.equal(cacheRows, await summaryStat(page, 'dt', 'cacheHits'));
    assert.ok((await timelineRows(page, 'dt', 'api')).every((row) => row.includes('200')));
    await assertNoSecrets(page);
  } finally {
    await page.context().close();
  }
});

test('the timeline shows a retry after a 401 and an early refresh', async () => {
  const page = await openDemo(browser, server.url);
  try {
    await page.click('#dt-call-api');
    await waitForFinishedRows(page, 'dt', 'api', 1);

    // The server forgets the token the client still holds: 401, a new token, the call retried.
    emu.expireTokens();
    const before = snapshot();
    await page.click('#dt-call-api');
    await waitForFinishedRows(page, 'dt', 'api', 3);
    await page.waitForSelector('#dt-timeline li[data-kind=retry]');
    assert.deepEqual(await page.$$eval('#dt-timeline li[data-kind=api]', (lis) => lis.map((li) => li.dataset.status)), ['200', '401', '200']);
    assert.equal(emu.counters.sso.token - before.sso.token, 1);
    assert.equal(emu.counters.dynatrace.unauthorized - before.dynatrace.unauthorized, 1);
    assert.equal(await summaryStat(page, 'dt', 'unauthorizedRetries'), 1);
    assert.match(await page.textContent('#dt-result [data-field=status]'), /^200\b/);

    // Tokens of 4 s are refreshed after 2 s (half their lifetime at most).
    emu.options.tokenLifetimeSeconds = 4;
    await page.fill('#dt-scope', 'app-engine:apps:run'); // new fields: a new client, a new token
    await page.click('#dt-call-api');
    await waitForFinishedRows(page, 'dt', 'api', 4);
    await page.waitForTimeout(2500);
    await page.click('#dt-call-api');
    await waitForFinishedRows(page, 'dt', 'api', 5);
    await page.waitForSelector('#dt-timeline li[data-kind=refresh]');
    assert.equal(await summaryStat(page, 'dt', 'refreshes'), 1);
    assert.equal((await timelineRows(page, 'dt', 'token')).length, 4);
    assert.match(await page.textContent('#dt-result [data-field=status]'), /^200\b/);
    await assertNoSecrets(page);
  } finally {
    emu.options.tokenLifetimeSeconds = 300;
    await page.context().close();
  }
});

test('a wrong secret shows invalid_client with its status and hint, never the secret', async () => {
  // The hints the package gives for these cases, from its Node build against the same emulator.
  const expected = {};
  for (const [vendor, make] of [
    ['dt', () => new DynatraceClient({ clientId: emu.credentials.dynatrace.clientId, clientSecret: WRONG_DT_SECRET, tokenUrl: emu.urls.ssoToken })],
    ['appd', () => new AppDynamicsClient({ controllerUrl: emu.urls.appdynamics, clientName: emu.credentials.appdynamics.clientName, accountName: emu.credentials.appdynamics.accountName, clientSecret: WRONG_APPD_SECRET })],
  ]) {
    const client = make();
    const err = await client.getToken().then(() => assert.fail('a wrong secret was accepted'), (e) => e);
    client.free();
    assert.equal(err.code, 'invalid_client');
    assert.ok(err.hint);
    expected[vendor] = err;
  }

  const page = await openDemo(browser, server.url);
  try {
    await page.fill('#dt-secret', WRONG_DT_SECRET);
    await page.click('#dt-get-token');
    await page.waitForSelector('#dt-error:not([hidden]) [data-field=code]');
    assert.equal(await page.textContent('#dt-error [data-field=code]'), 'invalid_client');
    assert.equal(await page.textContent('#dt-error [data-field=status]'), '400');
    assert.equal(await page.textContent('#dt-error [data-field=error]'), expected.dt.error);
    assert.match(await page.textContent('#dt-error [data-field=issueId]'), /^[A-Z0-9]{8,}$/);
    assert.equal(await page.textContent('#dt-error [data-field=hint]'), expected.dt.hint);
    assert.equal(await page.isHidden('#dt-token'), true);
    assert.doesNotMatch(await page.innerText('#dt-error'), /\bnull\b|\bundefined\b|\[object /);
    assert.deepEqual(await page.$$eval('#dt-timeline li[data-kind=token]', (lis) => lis.map((li) => li.dataset.status)), ['400']);

    await page.fill('#appd-secret', WRONG_APPD_SECRET);
    await page.click('#appd-get-token');
    await page.waitForSelector('#appd-error:not([hidden]) [data-field=code]');
    assert.equal(await page.textContent('#appd-error [data-field=code]'), 'invalid_client');
    assert.equal(await page.textContent('#appd-error [data-field=status]'), '401');
    assert.equal(await page.textContent('#appd-error [data-field=hint]'), expected.appd.hint);
    assert.doesNotMatch(await page.innerText('#appd-error'), /\bnull\b|\bundefined\b|\[object /);

    // The right secret again: a new client, and a token.
    await page.fill('#dt-secret', emu.credentials.dynatrace.clientSecret);
    await page.click('#dt-get-token');
    await page.waitForSelector('#dt-token:not([hidden]) [data-field=type]');
    assert.equal(await page.isHidden('#dt-error'), true);
    await page.locator('#dt').screenshot({ path: `${ARTIFACTS}demo-dynatrace-error-fixed.png` });
    await assertNoSecrets(page);
  } finally {
    await page.context().close();
  }
});

test('with "Route through this server" both flows go through /forward', async () => {
  const page = await openDemo(browser, server.url);
  try {
    await page.check('#dt-forward');
    await page.check('#appd-forward');
    const before = snapshot();
    const from = emu.requests.length;
    const dt = await dynatraceFlow(page);
    const appd = await appdynamicsFlow(page);
    assert.deepEqual(JSON.parse(dt.fn.body), { result: 3 });
    assert.ok(appd.rows.length > 0);

    const seen = emu.requests.slice(from);
    assert.deepEqual(seen.map((r) => r.role).sort(), ['appdynamics', 'appdynamics', 'dynatrace', 'dynatrace', 'sso']);
    for (const r of seen) {
      assert.match(r.headers.via ?? '', /apm-oauth-demo/, `${r.role} ${r.path} did not come through /forward`);
      assert.equal(r.headers.origin, undefined);
      assert.equal(r.headers.cookie, undefined);
    }
    // Same-origin requests: no CORS preflight anywhere.
    assert.equal(emu.counters.dynatrace.preflight, before.dynatrace.preflight);
    assert.equal(emu.counters.sso.preflight, before.sso.preflight);
    assert.equal(emu.counters.appdynamics.preflight, before.appdynamics.preflight);
    assert.match((await timelineRows(page, 'dt', 'client')).join('\n'), /through \/forward/);
    await assertNoSecrets(page);
  } finally {
    await page.context().close();
  }
});

test('a host that sends no CORS headers: the direct call fails with a network error naming CORS, /forward works', async () => {
  const page = await openDemo(browser, server.url);
  emu.options.cors = false;
  try {
    await page.click('#dt-get-token');
    await page.waitForSelector('#dt-error:not([hidden]) [data-field=code]');
    assert.equal(await page.textContent('#dt-error [data-field=code]'), 'network');
    assert.match(await page.textContent('#dt-error'), /CORS/);
    assert.match(await page.textContent('#dt-error'), /Route through this server/);
    assert.doesNotMatch(await page.innerText('#dt-error'), /\bnull\b|\bundefined\b|\[object /);
    assert.deepEqual(await page.$$eval('#dt-timeline li[data-kind=token]', (lis) => lis.map((li) => li.dataset.status)).then((s) => [...new Set(s)]), ['no answer']);

    await page.check('#dt-forward');
    const shown = await dynatraceFlow(page);
    assert.equal(shown.token.type, 'Bearer');
    assert.deepEqual(JSON.parse(shown.fn.body), { result: 3 });
    assert.equal(await page.isHidden('#dt-error'), true);
    await assertNoSecrets(page);
  } finally {
    emu.options.cors = true;
    await page.context().close();
  }
});

test('/forward refuses hosts nobody allowed, before connecting, and other guards', async () => {
  // A non-routable address: refused without any connection (one would hang, not answer 403).
  const refused = await fetch(forwardUrl('http://10.255.255.1/'));
  assert.equal(refused.status, 403);
  const body = await refused.json();
  assert.equal(body.error, 'forward_refused');
  assert.match(body.hint, /--allow-host 10\.255\.255\.1/);

  // An emulator origin that is not a vendor: refused, and it saw nothing.
  const elsewhereBefore = emu.counters.elsewhere.requests;
  assert.equal((await fetch(forwardUrl(`${emu.urls.elsewhere}/x`))).status, 403);
  assert.equal(emu.counters.elsewhere.requests, elsewhereBefore);

  assert.equal((await fetch(forwardUrl('file:///etc/passwd'))).status, 400);
  assert.equal((await fetch(`${server.url}forward`)).status, 400);
  assert.equal((await fetch(forwardUrl('http://user:pw@127.0.0.1:1/'))).status, 400);

  // Only this server's own pages: a foreign Origin or Host is refused.
  const ssoBefore = emu.counters.sso.token;
  const foreignOrigin = await rawRequest(`/forward?url=${encodeURIComponent(emu.urls.ssoToken)}`, { method: 'POST', headers: { origin: 'https://attacker.example' } });
  assert.equal(foreignOrigin.status, 403);
  const foreignHost = await rawRequest(`/forward?url=${encodeURIComponent(emu.urls.ssoToken)}`, { method: 'POST', headers: { host: `attacker.example:${server.port}` } });
  assert.equal(foreignHost.status, 403);
  assert.equal(emu.counters.sso.token, ssoBefore);
});

test('/forward passes method, headers and body, drops cookies and never follows redirects', async () => {
  const c = emu.credentials.dynatrace;
  const tokenAnswer = await fetch(forwardUrl(emu.urls.ssoToken), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: 'session=local' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret, scope: 'app-engine:apps:run' }),
  });
  assert.equal(tokenAnswer.status, 200);
  assert.match(tokenAnswer.headers.get('content-type'), /application\/json/);
  const { access_token: token } = await tokenAnswer.json();

  const echo = await fetch(forwardUrl(`${emu.urls.dynatrace}/platform/echo?q=1`), {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-demo': 'yes', cookie: 'session=local' },
    body: JSON.stringify({ hello: 'world' }),
  }).then((r) => r.json());
  assert.equal(echo.method, 'PUT');
  assert.equal(echo.path, '/platform/echo');
  assert.equal(echo.body, '{"hello":"world"}');
  assert.equal(echo.headers['x-demo'], 'yes');
  assert.equal(echo.headers.cookie, undefined);
  assert.match(echo.headers.via, /apm-oauth-demo/);

  const elsewhereBefore = emu.counters.elsewhere.requests;
  const redirect = await fetch(forwardUrl(`${emu.urls.appdynamics}/controller/redirect?to=${encodeURIComponent(`${emu.urls.elsewhere}/next`)}`), {
    headers: { authorization: `Bearer ${emu.credentials.appdynamics.temporaryToken}` },
    redirect: 'manual',
  });
  assert.equal(redirect.status, 302);
  assert.equal(redirect.headers.get('location'), `${emu.urls.elsewhere}/next`);
  assert.equal(emu.counters.elsewhere.requests, elsewhereBefore);
});

test('at 375 px the page fits the screen and works from the keyboard', async () => {
  const page = await openDemo(browser, server.url, { width: 375, height: 812 });
  try {
    // Enter in a field submits its panel's form: Get token.
    await page.focus('#dt-scope');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#dt-token:not([hidden]) [data-field=type]');
    await page.focus('#appd-secret');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#appd-token:not([hidden]) [data-field=type]');
    // A button reached with Tab and pressed with Enter.
    await page.focus('#appd-get-token');
    for (let i = 0; i < 5 && (await page.evaluate(() => document.activeElement.id)) !== 'appd-list-apps'; i++) {
      await page.keyboard.press('Tab');
    }
    assert.equal(await page.evaluate(() => document.activeElement.id), 'appd-list-apps');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#appd-apps:not([hidden]) tbody tr');

    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.equal(overflow, 0, 'the page scrolls sideways at 375 px');
    await page.screenshot({ path: `${ARTIFACTS}demo-375px.png`, fullPage: true });
    await assertNoSecrets(page);
  } finally {
    await page.context().close();
  }
});

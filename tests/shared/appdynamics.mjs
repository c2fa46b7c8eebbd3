// AppDynamicsClient against the emulated modern (24.10+) and legacy (before 4.5.9) controllers.
import { createSuite, appdOptions, requestsOf, decodeBasic } from './harness.mjs';

const FORM = 'application/x-www-form-urlencoded';
const VENDOR = 'application/vnd.appd.cntrl+protobuf;v=1';
const TOKEN_PATH = '/controller/api/oauth/access_token';

const APPLICATIONS = [
  { id: 5, name: 'ECommerce_E2E', description: '' },
  { id: 7, name: 'Payments', description: 'Payment services' },
  { id: 9, name: 'Inventory', description: '' },
];

export function appdynamicsCases(ctx) {
  const s = createSuite(ctx);
  const { assert } = ctx;
  const { AppDynamicsClient } = ctx.lib;
  const client = (options) => s.track(new AppDynamicsClient(options));
  const tokenBody = (emu) => {
    const c = emu.credentials.appdynamics;
    return new URLSearchParams([
      ['grant_type', 'client_credentials'],
      ['client_id', c.clientId],
      ['client_secret', c.clientSecret],
    ]).toString();
  };

  s.test('modern controller, clientName + accountName: one form-urlencoded token request, then listApplications()', async (emu) => {
    const ad = client(appdOptions(emu, emu.urls.appdynamics));
    const apps = await ad.listApplications();
    assert.deepEqual(apps, APPLICATIONS);
    const sent = requestsOf(emu, 'appdynamics', TOKEN_PATH);
    assert.equal(sent.length, 1);
    assert.equal(sent[0].method, 'POST');
    assert.equal(sent[0].headers['content-type'], FORM);
    assert.equal(sent[0].headers.authorization, undefined);
    assert.equal(sent[0].body, tokenBody(emu));
    assert.ok(sent[0].body.includes('client_id=apm-oauth-demo%40customer1&'), '@ is encoded');
    assert.equal(emu.counters.appdynamics.token, 1);
    assert.deepEqual(ad.stats(), { tokenRequests: 1, cacheHits: 0, refreshes: 0, unauthorizedRetries: 0, refreshTokenGrants: 0 });
    const [api] = requestsOf(emu, 'appdynamics', '/controller/rest/');
    assert.equal(api.path, '/controller/rest/applications?output=JSON');
    assert.match(api.headers.authorization, /^Bearer \S+$/);
  });

  s.test('modern controller, clientId "name@account": getToken() shape', async (emu) => {
    const c = emu.credentials.appdynamics;
    const ad = client({ controllerUrl: emu.urls.appdynamics, clientId: c.clientId, clientSecret: c.clientSecret });
    assert.equal(String(ad), `AppDynamicsClient(${c.clientId})`);
    assert.equal(ad.toJSON().controllerUrl, emu.urls.appdynamics);
    const before = Date.now();
    const t = await ad.getToken();
    const after = Date.now();
    assert.equal(t.tokenType, 'Bearer');
    assert.equal(typeof t.accessToken, 'string');
    assert.ok(t.expiresAt >= before + 300_000 && t.expiresAt <= after + 300_000);
    assert.equal(t.scope, undefined);
    assert.equal(requestsOf(emu, 'appdynamics', TOKEN_PATH)[0].body, tokenBody(emu));
    assert.deepEqual(await ad.listApplications(), APPLICATIONS);
    assert.equal(emu.counters.appdynamics.token, 1);
  });

  s.test('legacy controller: form → 415 → vendor type → 401 → vendor type + Basic, then the working way is remembered', async (emu) => {
    const c = emu.credentials.appdynamics;
    const ad = client(appdOptions(emu, emu.urls.appdynamicsLegacy));
    assert.deepEqual(await ad.listApplications(), APPLICATIONS);

    const sent = requestsOf(emu, 'appdynamicsLegacy', TOKEN_PATH);
    assert.deepEqual(
      sent.map((r) => [r.headers['content-type'], r.headers.authorization === undefined ? 'no auth' : 'basic']),
      [
        [FORM, 'no auth'],
        [VENDOR, 'no auth'],
        [VENDOR, 'basic'],
      ],
    );
    for (const r of sent) assert.equal(r.body, tokenBody(emu), 'the credentials always go in the body too');
    // The seed page's curl -u: raw name@account:secret.
    assert.equal(decodeBasic(sent[2].headers.authorization), `${c.clientId}:${c.clientSecret}`);
    assert.equal(ad.stats().tokenRequests, 3);

    ad.invalidate();
    await ad.getToken();
    const again = requestsOf(emu, 'appdynamicsLegacy', TOKEN_PATH);
    assert.equal(again.length, 4, 'one request: straight to the way that worked');
    assert.equal(again[3].headers['content-type'], VENDOR);
    assert.equal(decodeBasic(again[3].headers.authorization), `${c.clientId}:${c.clientSecret}`);
    assert.equal(ad.stats().tokenRequests, 4);
    assert.equal(emu.counters.appdynamicsLegacy.issued, 2);
  });

  s.test('tokenContentType "form" on a legacy controller: token_error naming tokenContentType, no fallback', async (emu) => {
    const ad = client(appdOptions(emu, emu.urls.appdynamicsLegacy, { tokenContentType: 'form' }));
    const e = await s.rejects(ad.getToken(), 'token_error', { status: 415 });
    assert.match(e.hint, /tokenContentType/);
    assert.match(e.message, /tokenContentType/, 'the hint is part of the message');
    assert.match(e.message, /Invalid Content Type/);
    assert.equal(emu.counters.appdynamicsLegacy.token, 1);
  });

  s.test('tokenContentType "vendor" with basicAuth true: one request to a legacy controller; refused by a modern one', async (emu) => {
    const legacy = client(appdOptions(emu, emu.urls.appdynamicsLegacy, { tokenContentType: 'vendor', basicAuth: true }));
    await legacy.getToken();
    assert.equal(emu.counters.appdynamicsLegacy.token, 1);

    const modern = client(appdOptions(emu, emu.urls.appdynamics, { tokenContentType: 'vendor', basicAuth: false }));
    const e = await s.rejects(modern.getToken(), 'token_error', { status: 415 });
    assert.match(e.hint, /tokenContentType/);
    assert.equal(emu.counters.appdynamics.token, 1);
  });

  s.test('basicAuth false on a legacy controller: refused after form and vendor type, and the message lists both', async (emu) => {
    const ad = client(appdOptions(emu, emu.urls.appdynamicsLegacy, { basicAuth: false }));
    const e = await s.rejects(ad.getToken(), 'invalid_client', { status: 401 });
    assert.match(e.message, /tried form-urlencoded, then vendor content type/);
    assert.equal(emu.counters.appdynamicsLegacy.token, 2);
  });

  s.test('wrong secret on a modern controller: invalid_client after form and form + Basic', async (emu) => {
    const ad = client(appdOptions(emu, emu.urls.appdynamics, { clientSecret: 'a1b2c3d4-0000-4000-8000-wrongwrong00' }));
    const e = await s.rejects(ad.listApplications(), 'invalid_client', { status: 401 });
    assert.match(e.hint, /clientName/);
    assert.match(e.hint, /accountName/);
    assert.equal(emu.counters.appdynamics.token, 2);
    assert.equal(emu.counters.appdynamics.api, 0);
  });

  s.test('a static accessToken: no token request; expiresAt is the JWT exp; calls carry it', async (emu) => {
    const token = emu.credentials.appdynamics.temporaryToken;
    const ad = client({ controllerUrl: emu.urls.appdynamics, accessToken: token });
    const t = await ad.getToken();
    assert.equal(t.accessToken, token);
    assert.equal(t.tokenType, 'Bearer');
    assert.equal(t.expiresAt, 4102444800 * 1000);
    assert.deepEqual(await ad.listApplications(), APPLICATIONS);
    const legacy = client({ controllerUrl: emu.urls.appdynamicsLegacy, accessToken: token });
    const echo = await (await legacy.fetch('/controller/echo')).json();
    assert.equal(echo.headers.authorization, `Bearer ${token}`);
    assert.equal(emu.counters.appdynamics.token + emu.counters.appdynamicsLegacy.token, 0);
    assert.equal(ad.stats().tokenRequests, 0);
    assert.equal(legacy.stats().tokenRequests, 0);
    assert.equal(JSON.stringify(ad).includes('tokenUrl'), false);
  });

  s.test('a static accessToken the controller refuses: the 401 is not retried', async (emu) => {
    const ad = client({ controllerUrl: emu.urls.appdynamics, accessToken: emu.credentials.appdynamics.temporaryToken });
    emu.setFault('appdynamics', 'api', { kind: 'unauthorized', count: 1 });
    const e = await s.rejects(ad.listApplications(), 'http_error', { status: 401 });
    assert.match(e.message, /Failed to authenticate: invalid access token\./);
    assert.equal(emu.counters.appdynamics.api, 1);
    assert.equal(ad.stats().unauthorizedRetries, 0);
  });

  s.test('a static accessToken whose JWT exp has passed: the refusal says when it expired', async (emu) => {
    const part = (o) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    const expired = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: 'c', exp: 1764547200 })}.c2ln`;
    const ad = client({ controllerUrl: emu.urls.appdynamics, accessToken: expired });
    assert.equal((await ad.getToken()).expiresAt, 1764547200 * 1000);
    const e = await s.rejects(ad.listApplications(), 'http_error', { status: 401 });
    assert.equal(e.hint, 'accessToken expired at 2025-12-01T00:00:00.000Z: generate a new temporary token in the Controller UI');
    // One that has not expired keeps the hint about the API client.
    const valid = client({ controllerUrl: emu.urls.appdynamics, accessToken: emu.credentials.appdynamics.temporaryToken });
    emu.setFault('appdynamics', 'api', { kind: 'unauthorized', count: 1 });
    const other = await s.rejects(valid.listApplications(), 'http_error', { status: 401 });
    assert.match(other.hint, /check that the API client still exists/);
  });

  s.test('fetch adds output=JSON to /controller/rest/ paths unless the query sets output', async (emu) => {
    const ad = client(appdOptions(emu, emu.urls.appdynamics));
    const json = await ad.fetch('/controller/rest/applications');
    assert.equal(json.status, 200);
    assert.match(json.headers.get('content-type'), /^application\/json/);
    assert.deepEqual(await json.json(), [
      { description: '', id: 5, name: 'ECommerce_E2E' },
      { description: 'Payment services', id: 7, name: 'Payments' },
      { description: '', id: 9, name: 'Inventory' },
    ]);

    const xml = await ad.fetch('/controller/rest/applications?output=XML');
    assert.equal(xml.status, 200);
    assert.match(xml.headers.get('content-type'), /^application\/xml/);
    assert.match(await xml.text(), /^<applications><application><id>5<\/id><name>ECommerce_E2E<\/name>/);

    const tiers = await ad.fetch('controller/rest/applications/Payments/tiers?time-range-type=BEFORE_NOW');
    assert.equal(tiers.status, 200);
    assert.equal((await tiers.json())[0].name, 'PaymentGateway');

    const echo = await ad.fetch('/controller/echo?x=1');
    assert.equal(echo.status, 200);
    assert.deepEqual((await echo.json()).query, { x: '1' });

    assert.deepEqual(
      requestsOf(emu, 'appdynamics', '/controller/').filter((r) => !r.path.startsWith(TOKEN_PATH)).map((r) => r.path),
      [
        '/controller/rest/applications?output=JSON',
        '/controller/rest/applications?output=XML',
        '/controller/rest/applications/Payments/tiers?time-range-type=BEFORE_NOW&output=JSON',
        '/controller/echo?x=1',
      ],
    );
  });

  s.test('listApplications on a 401 rejects http_error with the status and the controller\'s text', async (emu) => {
    const ad = client(appdOptions(emu, emu.urls.appdynamics));
    emu.setFault('appdynamics', 'api', { kind: 'unauthorized', count: 1000 });
    const e = await s.rejects(ad.listApplications(), 'http_error', { status: 401 });
    assert.match(e.message, /Failed to authenticate: invalid access token\./);
    assert.match(e.message, /401/);
    assert.equal(typeof e.hint, 'string');
    assert.equal(emu.counters.appdynamics.api, 2, 'retried once with a new token');
    assert.equal(emu.counters.appdynamics.token, 2);
    assert.equal(ad.stats().unauthorizedRetries, 1);
  });

  s.test('listApplications on another error status rejects http_error with that status', async (emu) => {
    const ad = client(appdOptions(emu, emu.urls.appdynamics));
    emu.setFault('appdynamics', 'api', { kind: 'status', status: 503, body: 'Controller is starting', count: 1 });
    const e = await s.rejects(ad.listApplications(), 'http_error', { status: 503 });
    assert.match(e.message, /Controller is starting/);
    assert.equal(emu.counters.appdynamics.api, 1, 'API calls are not retried');
  });

  s.test('a controller upgraded in place: the way that worked before is refused, and the fallbacks start again from form-urlencoded', async (emu) => {
    // The controller at controllerUrl answers as a legacy one until it is upgraded.
    let upgraded = false;
    const fetch = (url, init) => globalThis.fetch(upgraded ? url : String(url).replace(emu.urls.appdynamics, emu.urls.appdynamicsLegacy), init);
    const ad = client({ ...appdOptions(emu, emu.urls.appdynamics), fetch });
    await ad.getToken();
    assert.ok(requestsOf(emu, 'appdynamicsLegacy', TOKEN_PATH).length >= 2, 'the legacy controller needed the fallbacks');
    upgraded = true;
    ad.invalidate();
    assert.equal(typeof (await ad.getToken()).accessToken, 'string');
    const sent = requestsOf(emu, 'appdynamics', TOKEN_PATH);
    assert.deepEqual(sent.map((r) => r.headers['content-type']), [VENDOR, FORM], 'the learned way once, then form-urlencoded');
    ad.invalidate();
    await ad.getToken();
    assert.equal(requestsOf(emu, 'appdynamics', TOKEN_PATH).at(-1).headers['content-type'], FORM, 'form-urlencoded is learned');
  });

  s.test('invalid_client: a token answer that names the client as refused ends the fallbacks (no content type is tried after it)', async (emu) => {
    emu.setFault('appdynamics', 'token', { kind: 'json', status: 400, body: { error: 'invalid_client', error_description: 'Client authentication failed' }, count: 1 });
    const ad = client(appdOptions(emu, emu.urls.appdynamics));
    const e = await s.rejects(ad.getToken(), 'invalid_client', { status: 400, error: 'invalid_client' });
    assert.match(e.hint, /clientName, accountName/);
    assert.doesNotMatch(e.message, /Content Type|tried/);
    assert.equal(requestsOf(emu, 'appdynamics', TOKEN_PATH).length, 1);
  });

  s.test('listApplications: a body that stalls after the headers ends with timeout at timeoutMs, and the call\'s signal aborts it', async (emu) => {
    let apiInit;
    // The token as the controller answers it; the applications' headers, then part of the body, then nothing.
    const fetch = (url, init) => {
      if (String(url).includes(TOKEN_PATH)) return globalThis.fetch(url, init);
      apiInit = init;
      const body = new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode('[{"id":5,'));
        },
      });
      return Promise.resolve(new Response(body, { status: 200, headers: { 'content-type': 'application/json' } }));
    };
    const ad = client({ ...appdOptions(emu, emu.urls.appdynamics), timeoutMs: 300, fetch });
    const e = await s.rejects(ad.listApplications(), 'timeout', { message: /within 300 ms/ });
    assert.match(e.hint, /timeoutMs/);
    assert.equal(apiInit.signal.aborted, true, 'the stalled call was aborted');
    assert.equal(emu.counters.appdynamics.token, 1);
  });

  s.test('lenient token answers: token_type in any case, expires_in as a numeric string or missing', async (emu) => {
    emu.options.appdynamics.extraTokenFields = { token_type: 'bearer', expires_in: '120' };
    const a = client(appdOptions(emu, emu.urls.appdynamics));
    const before = Date.now();
    const t = await a.getToken();
    const after = Date.now();
    assert.ok(t.expiresAt >= before + 120_000 && t.expiresAt <= after + 120_000, 'expires_in "120" → 120 s');
    assert.equal(t.tokenType, 'Bearer');
    assert.equal((await a.fetch('/controller/rest/applications')).status, 200);

    emu.setFault('appdynamics', 'token', { kind: 'json', body: { access_token: 'opaque-token-value-1234', token_type: 'BEARER' } });
    const b = client(appdOptions(emu, emu.urls.appdynamics));
    const before2 = Date.now();
    const t2 = await b.getToken();
    const after2 = Date.now();
    assert.equal(t2.accessToken, 'opaque-token-value-1234');
    assert.ok(t2.expiresAt >= before2 + 300_000 && t2.expiresAt <= after2 + 300_000, 'no expires_in → 300 s');
  });

  s.finish();
}

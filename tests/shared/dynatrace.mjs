// DynatraceClient against the emulated SSO and platform environment.
import { createSuite, dynatraceOptions, requestsOf, decodeBasic } from './harness.mjs';

const FORM = 'application/x-www-form-urlencoded';

function form(pairs) {
  return new URLSearchParams(pairs).toString();
}

export function dynatraceCases(ctx) {
  const s = createSuite(ctx);
  const { assert } = ctx;
  const { DynatraceClient } = ctx.lib;
  const client = (emu, extra) => s.track(new DynatraceClient(dynatraceOptions(emu, extra)));

  s.test('scope as an array and a bare account UUID: the exact token request and getToken()', async (emu) => {
    const c = emu.credentials.dynatrace;
    const uuid = c.accountUrn.slice('urn:dtaccount:'.length);
    const dt = client(emu, { scope: ['app-engine:apps:run', 'storage:logs:read'], resource: uuid });
    const before = Date.now();
    const t = await dt.getToken();
    const after = Date.now();

    const sent = requestsOf(emu, 'sso');
    assert.equal(sent.length, 1);
    assert.equal(sent[0].method, 'POST');
    assert.equal(sent[0].path, '/sso/oauth2/token');
    assert.equal(sent[0].headers['content-type'], FORM);
    assert.equal(sent[0].headers.authorization, undefined, 'client_secret_post: no Authorization header');
    assert.equal(
      sent[0].body,
      form([
        ['grant_type', 'client_credentials'],
        ['client_id', c.clientId],
        ['client_secret', c.clientSecret],
        ['scope', 'app-engine:apps:run storage:logs:read'],
        ['resource', c.accountUrn],
      ]),
    );
    // The encoding itself, pinned: ':' as %3A, the scope separator as '+'.
    assert.ok(
      sent[0].body.endsWith(
        '&scope=app-engine%3Aapps%3Arun+storage%3Alogs%3Aread&resource=urn%3Adtaccount%3A00000000-0000-4000-8000-00000000e001',
      ),
    );

    assert.deepEqual(Object.keys(t).sort(), ['accessToken', 'expiresAt', 'resource', 'scope', 'tokenType']);
    assert.equal(typeof t.accessToken, 'string');
    assert.equal(t.accessToken.split('.').length, 3, 'the emulator issues JWTs');
    assert.equal(t.tokenType, 'Bearer');
    assert.equal(typeof t.expiresAt, 'number');
    assert.ok(t.expiresAt >= before + 300_000 && t.expiresAt <= after + 300_000, 'expiresAt is now + 300 s, in ms');
    assert.equal(t.scope, 'app-engine:apps:run storage:logs:read');
    assert.equal(t.resource, c.accountUrn);
    assert.equal(emu.counters.sso.issued, 1);
  });

  s.test('scope as a string and resource as a URN are sent as given', async (emu) => {
    const c = emu.credentials.dynatrace;
    const dt = client(emu, { scope: ' storage:logs:read   app-engine:apps:run\n', resource: c.accountUrn });
    const t = await dt.getToken();
    const [req] = requestsOf(emu, 'sso');
    assert.equal(
      req.body,
      form([
        ['grant_type', 'client_credentials'],
        ['client_id', c.clientId],
        ['client_secret', c.clientSecret],
        ['scope', 'storage:logs:read app-engine:apps:run'],
        ['resource', c.accountUrn],
      ]),
    );
    assert.equal(t.scope, 'storage:logs:read app-engine:apps:run');
    assert.equal(t.resource, c.accountUrn);
  });

  s.test('without scope and resource only the credentials are sent; the token carries every granted scope', async (emu) => {
    const c = emu.credentials.dynatrace;
    const dt = client(emu);
    const t = await dt.getToken();
    const [req] = requestsOf(emu, 'sso');
    assert.equal(
      req.body,
      form([
        ['grant_type', 'client_credentials'],
        ['client_id', c.clientId],
        ['client_secret', c.clientSecret],
      ]),
    );
    assert.equal(t.scope, c.scopes.join(' '));
    assert.equal('resource' in t, false, 'no resource when the server names none');
  });

  s.test('tokenUrl overrides the default SSO host, and toJSON shows it', async (emu) => {
    const dt = client(emu);
    assert.equal(dt.toJSON().tokenUrl, emu.urls.ssoToken);
    assert.equal(dt.toJSON().environmentUrl, emu.urls.dynatrace);
    assert.equal(dt.toJSON().clientId, emu.credentials.dynatrace.clientId);
    await dt.getToken();
    assert.equal(emu.counters.sso.token, 1);
    assert.equal(requestsOf(emu, 'sso', '/sso/oauth2/token').length, 1);
  });

  s.test('authMethod client_secret_basic sends the credentials as HTTP Basic only', async (emu) => {
    const c = emu.credentials.dynatrace;
    const dt = client(emu, { authMethod: 'client_secret_basic', scope: 'storage:logs:read' });
    await dt.getToken();
    const [req] = requestsOf(emu, 'sso');
    assert.equal(req.body, form([['grant_type', 'client_credentials'], ['scope', 'storage:logs:read']]));
    // RFC 6749 2.3.1: each part form-urlencoded, then base64.
    const raw = decodeBasic(req.headers.authorization);
    assert.equal(raw, `${encodeURIComponent(c.clientId)}:${new URLSearchParams({ s: c.clientSecret }).toString().slice(2)}`);
  });

  s.test('fetch of a platform path: 200, with Authorization: Bearer <the cached token>', async (emu) => {
    const dt = client(emu);
    const res = await dt.fetch('/platform/management/v1/environment');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      environmentId: 'abc12345',
      createTime: '2023-01-01T00:00:00Z',
      blockTime: '2030-01-01T00:00:00Z',
      state: 'ACTIVE',
    });
    const t = await dt.getToken();
    const echo = await (await dt.fetch('/platform/echo?a=1&b=x%20y')).json();
    assert.equal(echo.headers.authorization, `Bearer ${t.accessToken}`);
    assert.equal(echo.method, 'GET');
    assert.equal(echo.url, '/platform/echo?a=1&b=x%20y');
    assert.deepEqual(echo.query, { a: '1', b: 'x y' });
    assert.equal(emu.counters.sso.token, 1, 'one token for every call');
  });

  s.test('fetch keeps the caller\'s method, headers and body, and replaces any Authorization given', async (emu) => {
    const dt = client(emu);
    const t = await dt.getToken();
    for (const headers of [
      { 'X-Trace': 'abc', Authorization: 'Bearer not-mine', 'Content-Type': 'text/plain' },
      new Headers([['x-trace', 'abc'], ['content-type', 'text/plain']]),
      [['X-Trace', 'abc'], ['Content-Type', 'text/plain']],
    ]) {
      const res = await dt.fetch('platform/echo', { method: 'PUT', headers, body: 'hello body' });
      assert.equal(res.status, 200);
      const echo = await res.json();
      assert.equal(echo.method, 'PUT');
      assert.equal(echo.body, 'hello body');
      assert.equal(echo.headers['x-trace'], 'abc');
      assert.equal(echo.headers['content-type'], 'text/plain');
      assert.equal(echo.headers.authorization, `Bearer ${t.accessToken}`);
    }
  });

  s.test('fetch reads an init that is a Request or an instance of a class as the platform\'s fetch does: members on its prototype count', async (emu) => {
    const dt = client(emu);
    const t = await dt.getToken();
    // A Request holds method, body and headers on its prototype (getters); Object.assign would
    // copy none of them, and the call would go out as a GET without a body.
    const request = new Request(`${emu.urls.dynatrace}/ignored`, { method: 'POST', body: 'from a request', headers: { 'x-from': 'request' } });
    class Init {
      get method() {
        return 'PUT';
      }
      get body() {
        return 'from a class';
      }
    }
    for (const [init, method, body] of [[request, 'POST', 'from a request'], [new Init(), 'PUT', 'from a class']]) {
      const res = await dt.fetch('/platform/echo', init);
      assert.equal(res.status, 200);
      const echo = await res.json();
      assert.equal(echo.method, method);
      assert.equal(echo.body, body);
      assert.equal(echo.headers.authorization, `Bearer ${t.accessToken}`);
    }
    // callAppFunction too: the class's method is kept (the emulator's app functions take GET and
    // POST only, so it answers 405), and the payload is the body.
    const res = await dt.callAppFunction('my.emulator.app', 'echo', { a: 1 }, new Init());
    assert.equal(res.status, 405);
    assert.equal(emu.requests.at(-1).method, 'PUT');
    assert.equal(emu.requests.at(-1).body, '{"a":1}');
  });

  s.test('fetch accepts an absolute URL or a URL object of the environment origin', async (emu) => {
    const dt = client(emu);
    const a = await dt.fetch(`${emu.urls.dynatrace}/platform/echo?x=1`);
    assert.equal(a.status, 200);
    assert.equal((await a.json()).url, '/platform/echo?x=1');
    const b = await dt.fetch(new URL('/platform/echo?y=2', emu.urls.dynatrace));
    assert.equal(b.status, 200);
    assert.equal((await b.json()).url, '/platform/echo?y=2');
  });

  s.test('platformUrl builds <environmentUrl>/platform/<apiPath>', (emu) => {
    const dt = client(emu);
    const want = `${emu.urls.dynatrace}/platform/management/v1/environment`;
    assert.equal(dt.platformUrl('management/v1/environment'), want);
    assert.equal(dt.platformUrl('/management/v1/environment'), want);
    assert.equal(dt.platformUrl('platform/management/v1/environment'), want);
    assert.equal(dt.platformUrl('storage/query/v1/query:execute?enrich=metric-metadata'), `${emu.urls.dynatrace}/platform/storage/query/v1/query:execute?enrich=metric-metadata`);
    s.throws(() => dt.platformUrl(''), 'invalid_argument');
    const noEnv = s.track(new DynatraceClient({ clientId: 'dt0s02.X', clientSecret: emu.credentials.dynatrace.clientSecret, tokenUrl: emu.urls.ssoToken }));
    const e = s.throws(() => noEnv.platformUrl('management/v1/environment'), 'invalid_config');
    assert.match(e.message, /environmentUrl/);
    assert.equal(emu.requests.length, 0, 'no IO');
  });

  s.test('callAppFunction: GET without a payload, POST with a JSON body', async (emu) => {
    const dt = client(emu, { scope: 'app-engine:apps:run' });
    const get = await dt.callAppFunction('my.emulator.app', 'echo');
    assert.equal(get.status, 200);
    assert.deepEqual(await get.json(), { method: 'GET', payload: null });

    const post = await dt.callAppFunction('my.emulator.app', 'echo', { hello: ['wörld', 1, null] });
    assert.equal(post.status, 200);
    assert.deepEqual(await post.json(), { method: 'POST', payload: { hello: ['wörld', 1, null] } });

    const calc = await dt.callAppFunction('my.emulator.app', 'calculate', { a: 1, b: 2 });
    assert.equal(calc.status, 200);
    assert.deepEqual(await calc.json(), { result: 3 });

    const sent = requestsOf(emu, 'dynatrace', '/platform/app-engine/app-functions/v1/apps/my.emulator.app/api/');
    assert.deepEqual(sent.map((r) => r.method), ['GET', 'POST', 'POST']);
    assert.equal(sent[0].body, '');
    assert.equal(sent[2].path, '/platform/app-engine/app-functions/v1/apps/my.emulator.app/api/calculate');
    assert.equal(sent[2].body, '{"a":1,"b":2}');
    assert.match(sent[2].headers['content-type'], /^application\/json/);
    assert.equal(emu.counters.sso.token, 1);
  });

  s.test('callAppFunction passes init through (headers, an explicit method)', async (emu) => {
    const dt = client(emu, { scope: 'app-engine:apps:run' });
    const res = await dt.callAppFunction('my.emulator.app', 'echo', { n: 1 }, { headers: { 'X-Request-Id': 'r-1' } });
    assert.equal(res.status, 200);
    const [req] = requestsOf(emu, 'dynatrace', '/platform/app-engine/');
    assert.equal(req.headers['x-request-id'], 'r-1');
    assert.match(req.headers['content-type'], /^application\/json/);
    assert.match(req.headers.authorization, /^Bearer \S+$/);
  });

  s.test('callAppFunction answers 400/404/409/540/541 as Responses, not errors', async (emu) => {
    const dt = client(emu, { scope: 'app-engine:apps:run' });
    const cases = [
      [['my.emulator.app', 'calculate', { a: 'x' }], 400, /Expected a JSON body/],
      [['no.such.app', 'echo'], 404, /App no\.such\.app not found/],
      [['my.emulator.app', 'nope'], 404, /Function nope not found/],
      [['my.deploying.app', 'echo'], 409, /still being deployed/],
      [['my.emulator.app', 'throws'], 540, /JavaScript error/],
      [['my.emulator.app', 'crashes'], 541, /Runtime error/],
    ];
    for (const [args, status, message] of cases) {
      const res = await dt.callAppFunction(...args);
      assert.equal(res.status, status, `${args.join(' ')}`);
      assert.equal(res.ok, false);
      const body = await res.json();
      assert.match(body.error.message, message);
      assert.equal(body.error.code, status);
    }
    assert.equal(emu.counters.sso.token, 1, 'error statuses do not touch the token');
  });

  s.test('callAppFunction encodes the app id and function name as single path segments', async (emu) => {
    const dt = client(emu, { scope: 'app-engine:apps:run' });
    const res = await dt.callAppFunction('my.emulator.app/../../x', 'echo?x=1');
    assert.equal(res.status, 404);
    const [req] = requestsOf(emu, 'dynatrace', '/platform/app-engine/');
    assert.equal(req.path, '/platform/app-engine/app-functions/v1/apps/my.emulator.app%2F..%2F..%2Fx/api/echo%3Fx%3D1');
  });

  s.test('a route needing a scope the token lacks answers 403, returned as the Response', async (emu) => {
    const dt = client(emu, { scope: ['app-engine:apps:run'] });
    const res = await dt.fetch('/platform/classic/environment-api/v2/settings/objects');
    assert.equal(res.status, 403);
    const body = await res.json();
    assert.match(body.error.message, /settings:objects:read/);
    assert.equal(emu.counters.dynatrace.forbidden, 1);
    assert.equal(emu.counters.sso.token, 1, 'a 403 is not retried with a new token');
    assert.equal(dt.stats().unauthorizedRetries, 0);

    const full = client(emu, { scope: ['settings:objects:read'] });
    const ok = await full.fetch('/platform/classic/environment-api/v2/settings/objects');
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { items: [], totalCount: 0, pageSize: 100 });
  });

  s.finish();
}

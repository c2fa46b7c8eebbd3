// The rules of the JavaScript layer (pkg/src/client.js) that have exact answers: URL parsing and
// resolution, query parameters, option checking and its messages, Retry-After, JWT expiry. The
// helpers are imported from the source; the option messages are checked through the package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseUrl, resolveUrl, ensureQueryParam, isLoopback, suggest, retryAfterMs, jwtExpiry,
} from '../../pkg/src/client.js';
import { DynatraceClient, AppDynamicsClient, OAuthClient } from '../../pkg/node.mjs';

const origin = (u) => parseUrl(u).origin;
const code = (f) => {
  try {
    f();
  } catch (e) {
    return e.code;
  }
  return 'no error';
};

test('URLs: origins are normalised like URL.origin, the rest kept', () => {
  const p = parseUrl('HTTPS://ABC12345.Apps.Dynatrace.com:443/platform?x#y');
  assert.deepEqual(p, { origin: { scheme: 'https', host: 'abc12345.apps.dynatrace.com', port: undefined }, rest: '/platform?x#y' });
  assert.equal(parseUrl(' https://h.example\n').rest, '/');
  assert.equal(parseUrl('https://h.example?q').rest, '/?q');
  assert.deepEqual(origin('http://127.0.0.1:8090'), { scheme: 'http', host: '127.0.0.1', port: '8090' });
  assert.deepEqual(origin('http://[::1]:80/'), { scheme: 'http', host: '[::1]', port: undefined });
});

test('URLs: anything a WHATWG parser could read differently is refused', () => {
  const cases = {
    'ftp://x': 'scheme', 'https:x': 'scheme', 'https://u:p@host': 'userinfo', 'https://evil\\@good': 'malformed',
    'https://exämple.com': 'host', 'https://%65vil.com': 'host', 'https://h:99999': 'port', 'https://h:8a': 'port',
    'https://': 'host', 'https://a b': 'malformed', '': 'malformed',
  };
  for (const [input, problem] of Object.entries(cases)) assert.equal(parseUrl(input), problem, input);
});

test('URLs: loopback hosts, and plain http only to them unless allowed', () => {
  for (const h of ['localhost', '127.0.0.1', '127.9.8.7', '[::1]', 'app.localhost']) assert.ok(isLoopback(h), h);
  for (const h of ['127.0.0.1.evil.com', '128.0.0.1', 'localhost.evil.com', '0x7f.1', '127.0.0.256']) assert.ok(!isLoopback(h), h);
  const opts = { clientId: 'a', clientSecret: 'b' };
  assert.equal(code(() => new DynatraceClient({ ...opts, environmentUrl: 'http://abc.apps.dynatrace.com' })), 'insecure_url');
  assert.equal(code(() => new DynatraceClient({ ...opts, environmentUrl: 'http://abc.apps.dynatrace.com', allowInsecureHttp: true })), 'no error');
  assert.equal(code(() => new OAuthClient({ ...opts, tokenUrl: 'http://127.0.0.1:9/t' })), 'no error');
  assert.equal(code(() => new AppDynamicsClient({ controllerUrl: 'acme.saas.appdynamics.com', accessToken: 't' })), 'invalid_config');
});

test('URLs: a caller’s path or URL never leaves the configured origin', () => {
  const base = origin('https://abc.apps.dynatrace.com');
  assert.equal(resolveUrl(base, '/platform/x?y=1'), 'https://abc.apps.dynatrace.com/platform/x?y=1');
  assert.equal(resolveUrl(base, 'platform/x'), 'https://abc.apps.dynatrace.com/platform/x');
  assert.equal(resolveUrl(base, 'https://ABC.apps.dynatrace.com:443/p'), 'https://abc.apps.dynatrace.com/p');
  assert.equal(resolveUrl(base, '/@evil.com'), 'https://abc.apps.dynatrace.com/@evil.com');
  for (const other of ['https://evil.com/p', 'http://abc.apps.dynatrace.com/p', 'https://abc.apps.dynatrace.com:8443/',
    '//evil.com/x', '/\\evil.com', '\\\\evil.com', 'javascript:alert(1)', 'data:text/plain,x']) {
    assert.equal(code(() => resolveUrl(base, other)), 'insecure_url', other);
  }
  assert.equal(code(() => resolveUrl(base, '')), 'invalid_argument');
  assert.equal(code(() => resolveUrl(base, '/a\nb')), 'invalid_argument');
  assert.equal(code(() => resolveUrl(base, 'https://u@abc.apps.dynatrace.com/')), 'invalid_argument');
});

test('AppDynamics REST URLs get output=JSON unless a format is given', () => {
  assert.equal(ensureQueryParam('https://c/controller/rest/applications', 'output', 'JSON'), 'https://c/controller/rest/applications?output=JSON');
  assert.equal(ensureQueryParam('https://c/r?a=1#f', 'output', 'JSON'), 'https://c/r?a=1&output=JSON#f');
  assert.equal(ensureQueryParam('https://c/r?', 'output', 'JSON'), 'https://c/r?output=JSON');
  assert.equal(ensureQueryParam('https://c/r?output=XML', 'output', 'JSON'), 'https://c/r?output=XML');
});

test('options: unknown names get a suggestion, wrong types and ranges say what was expected', () => {
  const msg = (f) => {
    try {
      f();
    } catch (e) {
      return e.message;
    }
  };
  assert.equal(msg(() => new DynatraceClient({ client_id: 'x' })), 'DynatraceClient: unknown option "client_id" (did you mean "clientId"?)');
  assert.equal(suggest('scopes', ['scope', 'resource']), 'scope');
  assert.equal(suggest('timeout', ['timeoutMs']), 'timeoutMs');
  assert.equal(suggest('xyz', ['scope']), undefined);
  assert.equal(msg(() => new OAuthClient({ tokenUrl: 'https://i/t', clientId: 3 })), 'OAuthClient: clientId must be a string, not a number');
  assert.equal(msg(() => new OAuthClient({ tokenUrl: 'https://i/t', clientId: 'c', clientSecret: 's', timeoutMs: -1 })), 'OAuthClient: timeoutMs must be a number from 1 to 2147483647');
  assert.equal(msg(() => new DynatraceClient({ clientId: 'a' })), 'DynatraceClient: clientSecret is required');
  assert.equal(msg(() => new OAuthClient({ tokenUrl: 'https://i/t', clientId: 'c', clientSecret: 's', authMethod: 'private_key_jwt' })), 'OAuthClient: authMethod must be "client_secret_basic" or "client_secret_post"');
  assert.equal(msg(() => new OAuthClient({ tokenUrl: 'https://i/t', clientId: 'c', clientSecret: 's', extraParams: { client_id: 'x' } })), 'OAuthClient: extraParams must not set grant_type, client_id or client_secret');
  const c = 'https://c.example';
  for (const [o, want] of [
    [{ controllerUrl: c, clientId: 'noaccount', clientSecret: 'x' }, 'AppDynamicsClient: clientId must be apiClientName@accountName'],
    [{ controllerUrl: c, clientName: 'n', clientSecret: 'x' }, 'AppDynamicsClient: accountName is required with clientName (customer1 on single-tenant on-premises controllers)'],
    [{ controllerUrl: c, clientName: 'n', accountName: 'a' }, 'AppDynamicsClient: clientSecret is required (or accessToken, a temporary token from the Controller UI)'],
    [{ controllerUrl: c, accessToken: 't', tokenContentType: 'json' }, 'AppDynamicsClient: tokenContentType must be "auto", "form" or "vendor"'],
  ]) {
    assert.equal(msg(() => new AppDynamicsClient(o)), want);
  }
  assert.equal(new AppDynamicsClient({ controllerUrl: 'http://localhost:8090', clientId: 'n@a', clientSecret: 'x' }).toJSON().clientId, 'n@a');
});

test('Dynatrace: the SSO host follows the environment’s stage', () => {
  const sso = (env) => new DynatraceClient({ clientId: 'a', clientSecret: 'b', environmentUrl: env }).toJSON().tokenUrl;
  assert.equal(sso('https://abc12345.apps.dynatrace.com'), 'https://sso.dynatrace.com/sso/oauth2/token');
  assert.equal(sso('https://abc12345.sprint.apps.dynatracelabs.com'), 'https://sso-sprint.dynatracelabs.com/sso/oauth2/token');
  assert.equal(sso('https://abc12345.dev.apps.dynatracelabs.com'), 'https://sso-dev.dynatracelabs.com/sso/oauth2/token');
  assert.equal(new DynatraceClient({ clientId: 'a', clientSecret: 'b' }).toJSON().tokenUrl, 'https://sso.dynatrace.com/sso/oauth2/token');
});

test('Retry-After: delay-seconds or an IMF-fixdate, anything else ignored', () => {
  assert.equal(retryAfterMs('3', 0), 3000);
  assert.equal(retryAfterMs('Sun, 06 Nov 1994 08:49:37 GMT', 784111770000), 7000);
  assert.equal(retryAfterMs('Sun, 06 Nov 1994 08:49:37 GMT', 9e12), 0);
  for (const bad of ['', null, '-1', '1.5', 'soon', 'Sun, 06 Nov 1994 08:49:37 UTC', 'Sun, 32 Nov 1994 08:49:37 GMT']) {
    assert.ok(Number.isNaN(retryAfterMs(bad, 0)), String(bad));
  }
});

test('a static token’s expiry is its JWT exp, else unknown', () => {
  // {"alg":"none"}.{"exp":1700000000}
  assert.equal(jwtExpiry('eyJhbGciOiJub25lIn0.eyJleHAiOjE3MDAwMDAwMDB9.sig'), 1.7e12);
  assert.equal(jwtExpiry('opaque-token'), Infinity);
  assert.equal(jwtExpiry('a.!!!.c'), Infinity);
});

test('listApplications refuses a list that is not the JSON array expected', async () => {
  const client = new AppDynamicsClient({
    controllerUrl: 'https://c.example',
    accessToken: 'ui-token',
    fetch: async () => new Response('<applications/>', { status: 200 }),
  });
  await assert.rejects(client.listApplications(), { code: 'invalid_response' });
  const ok = new AppDynamicsClient({
    controllerUrl: 'https://c.example',
    accessToken: 'ui-token',
    fetch: async () => new Response('[{"description":"","id":5,"name":"ECommerce_E2E"},{"id":6,"name":"x"}]'),
  });
  assert.deepEqual(await ok.listApplications(), [
    { id: 5, name: 'ECommerce_E2E', description: '' },
    { id: 6, name: 'x', description: '' },
  ]);
});

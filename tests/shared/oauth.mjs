// OAuthClient (any RFC 6749 server) against the emulated Dynatrace SSO, which accepts client
// credentials in the body or as HTTP Basic.
import { createSuite, requestsOf, decodeBasic } from './harness.mjs';

function form(pairs) {
  return new URLSearchParams(pairs).toString();
}

/** RFC 6749 2.3.1: the form-urlencoding of one credential part. */
function formPart(s) {
  return form([['x', s]]).slice(2);
}

export function oauthCases(ctx) {
  const s = createSuite(ctx);
  const { assert } = ctx;
  const { OAuthClient } = ctx.lib;
  const options = (emu, extra) => ({
    tokenUrl: emu.urls.ssoToken,
    clientId: emu.credentials.dynatrace.clientId,
    clientSecret: emu.credentials.dynatrace.clientSecret,
    ...extra,
  });
  const client = (emu, extra) => s.track(new OAuthClient(options(emu, extra)));

  s.test('default authMethod is client_secret_basic: credentials in the header, form-encoded then base64', async (emu) => {
    const c = emu.credentials.dynatrace;
    const oc = client(emu, { scope: ['storage:logs:read', 'storage:buckets:read'] });
    const t = await oc.getToken();
    assert.equal(t.tokenType, 'Bearer');
    assert.equal(t.scope, 'storage:logs:read storage:buckets:read');
    const [req] = requestsOf(emu, 'sso');
    assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(decodeBasic(req.headers.authorization), `${formPart(c.clientId)}:${formPart(c.clientSecret)}`);
    assert.equal(req.body, form([['grant_type', 'client_credentials'], ['scope', 'storage:logs:read storage:buckets:read']]));
  });

  s.test('authMethod client_secret_post: credentials in the body, no Authorization header', async (emu) => {
    const c = emu.credentials.dynatrace;
    const oc = client(emu, { authMethod: 'client_secret_post', scope: 'storage:logs:read' });
    await oc.getToken();
    const [req] = requestsOf(emu, 'sso');
    assert.equal(req.headers.authorization, undefined);
    assert.equal(
      req.body,
      form([
        ['grant_type', 'client_credentials'],
        ['client_id', c.clientId],
        ['client_secret', c.clientSecret],
        ['scope', 'storage:logs:read'],
      ]),
    );
  });

  s.test('resource, audience and extraParams are sent in order after the scope', async (emu) => {
    const c = emu.credentials.dynatrace;
    const oc = client(emu, {
      authMethod: 'client_secret_post',
      scope: 'storage:logs:read',
      resource: c.accountUrn,
      audience: ['https://api.example/', 'urn:other'],
      extraParams: { tenant: 'a b&c', 'x-flag': 'on' },
    });
    const t = await oc.getToken();
    assert.equal(t.resource, c.accountUrn);
    const [req] = requestsOf(emu, 'sso');
    assert.equal(
      req.body,
      form([
        ['grant_type', 'client_credentials'],
        ['client_id', c.clientId],
        ['client_secret', c.clientSecret],
        ['scope', 'storage:logs:read'],
        ['resource', c.accountUrn],
        ['audience', 'https://api.example/'],
        ['audience', 'urn:other'],
        ['tenant', 'a b&c'],
        ['x-flag', 'on'],
      ]),
    );
  });

  s.test('extraParams may be a Map (its pairs in order); a Set or an array is refused by name', async (emu) => {
    const c = emu.credentials.dynatrace;
    const oc = client(emu, { authMethod: 'client_secret_post', extraParams: new Map([['tenant', 't1'], ['x-flag', 'on']]) });
    await oc.getToken();
    const [req] = requestsOf(emu, 'sso');
    assert.equal(
      req.body,
      form([
        ['grant_type', 'client_credentials'],
        ['client_id', c.clientId],
        ['client_secret', c.clientSecret],
        ['tenant', 't1'],
        ['x-flag', 'on'],
      ]),
    );
    for (const [bad, kind] of [[new Set(['a']), 'a value of another type'], [['a=b'], 'an array']]) {
      const e = s.throws(() => new OAuthClient(options(emu, { extraParams: bad })), 'invalid_config');
      assert.equal(e.message, `OAuthClient: extraParams must be an object of string values, not ${kind}`);
    }
  });

  s.test('extraParams cannot override the credentials or the grant', (emu) => {
    for (const key of ['grant_type', 'client_id', 'client_secret']) {
      const e = s.throws(() => new OAuthClient(options(emu, { extraParams: { [key]: 'x' } })), 'invalid_config');
      assert.match(e.message, /extraParams/);
    }
    s.throws(() => new OAuthClient(options(emu, { extraParams: { n: 1 } })), 'invalid_config');
    assert.equal(emu.requests.length, 0);
  });

  s.test('baseUrl: fetch resolves paths against it and sends the bearer token', async (emu) => {
    const oc = client(emu, { baseUrl: emu.urls.dynatrace });
    assert.equal(oc.toJSON().baseUrl, emu.urls.dynatrace);
    const res = await oc.fetch('/platform/management/v1/environment');
    assert.equal(res.status, 200);
    assert.equal((await res.json()).environmentId, 'abc12345');
    const t = await oc.getToken();
    const echo = await (await oc.fetch('platform/echo', { method: 'POST', body: 'x=1' })).json();
    assert.equal(echo.headers.authorization, `Bearer ${t.accessToken}`);
    assert.equal(echo.body, 'x=1');
    assert.equal(emu.counters.sso.token, 1);
    await s.rejects(oc.fetch(`${emu.urls.elsewhere}/x`), 'insecure_url');
    assert.equal(emu.counters.elsewhere.requests, 0);
  });

  s.test('baseUrl is an origin: one with a path or a query is refused, not cut to its origin without a word', (emu) => {
    for (const baseUrl of [`${emu.urls.dynatrace}/api/v1/`, `${emu.urls.dynatrace}/api`, `${emu.urls.dynatrace}/?x=1`]) {
      s.throws(() => client(emu, { baseUrl }), 'invalid_config', { message: /^OAuthClient: baseUrl is the API's origin \(scheme, host and port\)/ });
    }
    assert.equal(client(emu, { baseUrl: `${emu.urls.dynatrace}/` }).toJSON().baseUrl, emu.urls.dynatrace);
    assert.equal(emu.requests.length, 0);
  });

  s.test('without baseUrl fetch is refused with invalid_config, before any request', async (emu) => {
    const oc = client(emu);
    const e = await s.rejects(oc.fetch('/platform/echo'), 'invalid_config');
    assert.match(e.message, /baseUrl/);
    assert.equal(emu.requests.length, 0);
  });

  s.test('a generic client with a wrong secret: invalid_client with the server\'s fields', async (emu) => {
    const oc = client(emu, { clientSecret: 'generic-wrong-secret-0123456789' });
    s.addSecret('generic-wrong-secret-0123456789');
    const e = await s.rejects(oc.getToken(), 'invalid_client', { status: 400, error: 'invalid_request' });
    assert.match(e.hint, /authMethod/);
    assert.match(e.issueId, /^[A-Z0-9]{16}$/);
  });

  s.finish();
}

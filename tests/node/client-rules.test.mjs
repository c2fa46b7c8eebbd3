// Exact answers of the package through its classes: option checking and its messages, the
// SSO host per stage, plain http to loopback only, a static token's expiry, listApplications.
// The URL rules themselves are unit-tested in Rust (src/core/url.rs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DynatraceClient, AppDynamicsClient, OAuthClient } from '../../pkg/node.mjs';

const code = (f) => {
  try {
    f();
  } catch (e) {
    return e.code;
  }
  return 'no error';
};

test('URLs: plain http only to loopback hosts unless allowed', () => {
  const opts = { clientId: 'a', clientSecret: 'b' };
  assert.equal(code(() => new DynatraceClient({ ...opts, environmentUrl: 'http://abc.apps.dynatrace.com' })), 'insecure_url');
  assert.equal(code(() => new DynatraceClient({ ...opts, environmentUrl: 'http://abc.apps.dynatrace.com', allowInsecureHttp: true })), 'no error');
  assert.equal(code(() => new OAuthClient({ ...opts, tokenUrl: 'http://127.0.0.1:9/t' })), 'no error');
  assert.equal(code(() => new AppDynamicsClient({ controllerUrl: 'acme.saas.appdynamics.com', accessToken: 't' })), 'invalid_config');
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
  assert.equal(msg(() => new DynatraceClient({ scopes: 'x' })), 'DynatraceClient: unknown option "scopes" (did you mean "scope"?)');
  assert.equal(msg(() => new DynatraceClient({ timeout: 1 })), 'DynatraceClient: unknown option "timeout" (did you mean "timeoutMs"?)');
  assert.equal(msg(() => new DynatraceClient({ xyz: 1 })), 'DynatraceClient: unknown option "xyz"');
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

test('a static token’s expiry is its JWT exp, else unknown', async () => {
  const expiry = (accessToken) => new AppDynamicsClient({ controllerUrl: 'https://c.example', accessToken }).getToken().then((t) => t.expiresAt);
  // {"alg":"none"}.{"exp":1700000000}
  assert.equal(await expiry('eyJhbGciOiJub25lIn0.eyJleHAiOjE3MDAwMDAwMDB9.sig'), 1.7e12);
  assert.equal(await expiry('opaque-token'), Infinity);
  assert.equal(await expiry('a.!!!.c'), Infinity);
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

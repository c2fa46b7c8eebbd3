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

test('options are read by name, once each, getters and inherited members included; a getter that throws throws as it is', async () => {
  const base = { tokenUrl: 'https://issuer.example/t', clientSecret: 's', authMethod: 'client_secret_post' };
  class Options {
    constructor() {
      Object.assign(this, base);
    }
    get clientId() {
      return 'from-a-getter';
    }
  }
  const seen = [];
  const fetch = async (url, init) => {
    seen.push(new URLSearchParams(init.body).get('client_id'));
    return new Response(JSON.stringify({ access_token: 't', token_type: 'Bearer', expires_in: 60 }), { headers: { 'content-type': 'application/json' } });
  };
  const inherited = Object.assign(new Options(), { fetch });
  const t = await new OAuthClient(inherited).getToken();
  assert.equal(t.accessToken, 't');
  assert.deepEqual(seen, ['from-a-getter']);

  // Each option is read once: a getter runs once per construction.
  let reads = 0;
  const counted = { ...base, clientId: 'c' };
  Object.defineProperty(counted, 'scope', { enumerable: true, get: () => (reads++, 'a b') });
  new OAuthClient(counted);
  assert.equal(reads, 1);
  // A refused construction too, whether it was refused after reading the options (a value) or
  // before (an unknown name); its error is scrubbed of the secret all the same.
  for (const [extra, quoted] of [
    [{ tokenUrl: 'http://the-secret-value.example/t' }, 'uses http:// to [redacted].example'],
    [{ 'the-secret-value': 1 }, 'unknown option "[redacted]"'],
  ]) {
    let secretReads = 0;
    const refused = { ...base, clientId: 'c', ...extra };
    delete refused.clientSecret;
    Object.defineProperty(refused, 'clientSecret', { enumerable: true, get: () => (secretReads++, ' the-secret-value ') });
    assert.throws(() => new OAuthClient(refused), (e) => e.message.includes(quoted) && !e.message.includes('the-secret-value'));
    assert.equal(secretReads, 1);
  }

  const boom = new Error('the getter failed');
  const own = { ...base, clientId: 'c' };
  Object.defineProperty(own, 'timeoutMs', { enumerable: true, get: () => { throw boom; } });
  assert.throws(() => new OAuthClient(own), (e) => e === boom);
  class Throws extends Options {
    get maxRetries() {
      throw boom;
    }
  }
  assert.throws(() => new OAuthClient(new Throws()), (e) => e === boom);
  // Nothing is left half done: the next client is built as usual.
  assert.equal(code(() => new OAuthClient({ ...base, clientId: 'c' })), 'no error');
});

test('Dynatrace: the SSO host follows the environment’s stage', () => {
  const sso = (env) => new DynatraceClient({ clientId: 'a', clientSecret: 'b', environmentUrl: env }).toJSON().tokenUrl;
  assert.equal(sso('https://abc12345.apps.dynatrace.com'), 'https://sso.dynatrace.com/sso/oauth2/token');
  assert.equal(sso('https://abc12345.sprint.apps.dynatracelabs.com'), 'https://sso-sprint.dynatracelabs.com/sso/oauth2/token');
  assert.equal(sso('https://abc12345.dev.apps.dynatracelabs.com'), 'https://sso-dev.dynatracelabs.com/sso/oauth2/token');
  // A lab stage's classic environment hosts belong to its SSO too; look-alike hosts do not.
  assert.equal(sso('https://abc12345.sprint.dynatracelabs.com'), 'https://sso-sprint.dynatracelabs.com/sso/oauth2/token');
  assert.equal(sso('https://abc12345.dev.dynatracelabs.com'), 'https://sso-dev.dynatracelabs.com/sso/oauth2/token');
  assert.equal(sso('https://abc12345.live.dynatrace.com'), 'https://sso.dynatrace.com/sso/oauth2/token');
  assert.equal(sso('https://gateway.example.dev'), 'https://sso.dynatrace.com/sso/oauth2/token');
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

test('sign-in options: redirectUri instead of clientSecret, endpoints, stores; what is refused and why', () => {
  const codeAndMessage = (f) => {
    try {
      f();
    } catch (e) {
      return [e.code, e.message];
    }
    return ['no error', ''];
  };
  const user = { clientId: 'dt0s12.XXXXXXXX', redirectUri: 'https://console.example.com/callback', scope: ['openid'] };
  assert.equal(code(() => new DynatraceClient(user)), 'no error', 'a public client needs no clientSecret');
  assert.equal(code(() => new DynatraceClient({ ...user, environmentUrl: 'https://abc12345.apps.dynatrace.com', clientSecret: 'confidential' })), 'no error');
  assert.equal(
    code(() =>
      new DynatraceClient({
        ...user,
        authorizationUrl: 'https://sso.example/oauth2/authorize',
        tokenUrl: 'https://token.example/sso/oauth2/token',
        userInfoUrl: 'https://sso.example/sso/oauth2/userinfo',
        authorizationParams: { prompt: 'consent' },
        stateStorage: { getItem: () => null, setItem() {}, removeItem() {} },
        tokenStore: { get: () => null, set() {} },
      }),
    ),
    'no error',
  );
  const refused = [
    [{ redirectUri: 5 }, /redirectUri must be a string/],
    [{ redirectUri: 'console.example.com/callback' }, /redirectUri is not a valid URL/],
    [{ authorizationUrl: 'not a url' }, /authorizationUrl is not a valid URL/],
    [{ userInfoUrl: 7 }, /userInfoUrl must be a string/],
    [{ authorizationParams: 'prompt=consent' }, /authorizationParams/],
    [{ authorizationParams: { prompt: 1 } }, /authorizationParams/],
    [{ stateStorage: {} }, /stateStorage/],
    [{ stateStorage: { getItem() {}, setItem() {} } }, /stateStorage/],
    [{ tokenStore: {} }, /tokenStore/],
    [{ tokenStore: { get() {} } }, /tokenStore/],
  ];
  for (const [extra, message] of refused) {
    const [c, m] = codeAndMessage(() => new DynatraceClient({ ...user, ...extra }));
    assert.equal(c, 'invalid_config', `${JSON.stringify(Object.keys(extra))}: ${m}`);
    assert.match(m, message);
  }
  assert.equal(codeAndMessage(() => new DynatraceClient({ ...user, redirectURI: 'x' }))[1], 'DynatraceClient: unknown option "redirectURI" (did you mean "redirectUri"?)');
  assert.equal(codeAndMessage(() => new OAuthClient({ ...user, tokenUrl: 'https://i/t', Issuer: 'x' }))[1], 'OAuthClient: unknown option "Issuer" (did you mean "issuer"?)');
  assert.equal(codeAndMessage(() => new DynatraceClient({ ...user, redirect_uri: 'x' }))[1], 'DynatraceClient: unknown option "redirect_uri" (did you mean "redirectUri"?)');
  assert.equal(codeAndMessage(() => new DynatraceClient({ ...user, tokenstore: {} }))[1], 'DynatraceClient: unknown option "tokenstore" (did you mean "tokenStore"?)');
  assert.equal(code(() => new DynatraceClient({ ...user, authorizationUrl: 'http://sso.example/oauth2/authorize' })), 'insecure_url');
  assert.equal(code(() => new DynatraceClient({ ...user, userInfoUrl: 'http://sso.example/userinfo' })), 'insecure_url');
  assert.equal(code(() => new DynatraceClient({ ...user, authorizationUrl: 'http://127.0.0.1:9/oauth2/authorize' })), 'no error');

  // OAuthClient: issuer, or the endpoints.
  const o = { clientId: 'c', redirectUri: 'http://127.0.0.1:8765/callback', scope: 'openid' };
  assert.equal(code(() => new OAuthClient({ ...o, issuer: 'https://idp.example' })), 'no error');
  assert.equal(code(() => new OAuthClient({ ...o, authorizationUrl: 'https://idp.example/authorize', tokenUrl: 'https://idp.example/token' })), 'no error');
  assert.equal(code(() => new OAuthClient({ ...o, issuer: 'http://idp.example' })), 'insecure_url');
  const [c, m] = codeAndMessage(() => new OAuthClient(o));
  assert.equal(c, 'invalid_config');
  assert.match(m, /issuer|authorizationUrl|tokenUrl/);
  assert.equal(code(() => new OAuthClient({ ...o, issuer: 'not a url' })), 'invalid_config');
  assert.equal(code(() => new OAuthClient({ ...o, issuer: 'https://idp.example', isuer: 'x' })), 'invalid_config');
});

test('a client-credentials client has the sign-in methods too, and its stats() gains refreshTokenGrants', () => {
  const dt = new DynatraceClient({ clientId: 'a', clientSecret: 'b' });
  for (const m of ['buildAuthorizationUrl', 'signIn', 'handleRedirect', 'userInfo', 'isSignedIn', 'signOut']) {
    assert.equal(typeof dt[m], 'function', m);
  }
  assert.deepEqual(dt.stats(), { tokenRequests: 0, cacheHits: 0, refreshes: 0, unauthorizedRetries: 0, refreshTokenGrants: 0 });
  assert.equal(dt.isSignedIn(), false);
});

/** `code: message` of what `make` throws, or 'no error'. */
function refusal(make) {
  try {
    make();
  } catch (e) {
    return `${e.code}: ${e.message}`;
  }
  return 'no error';
}

test('a platform token refuses the options of token requests instead of ignoring them', () => {
  const base = { environmentUrl: 'https://abc12345.apps.dynatrace.com', platformToken: 'dt0s16.EXAMPLE.token-value-long-enough' };
  const message = (extra) => refusal(() => new DynatraceClient({ ...base, ...extra }));
  assert.equal(message({}), 'no error');
  assert.equal(message({ clientId: 'dt0s02.X' }), 'no error', 'a client id only names the client');
  for (const [extra, name] of [
    [{ scope: 'storage:logs:read' }, 'scope'],
    [{ resource: 'urn:dtaccount:x' }, 'resource'],
    [{ tokenUrl: 'https://sso.example/t' }, 'tokenUrl'],
    [{ tokenStore: { get() {}, set() {} } }, 'tokenStore'],
    [{ authMethod: 'client_secret_basic' }, 'authMethod'],
    [{ refreshSkewSeconds: 60 }, 'refreshSkewSeconds'],
    [{ maxRetries: 0 }, 'maxRetries'],
  ]) {
    assert.equal(message(extra), `invalid_config: DynatraceClient: ${name} has no use with platformToken (it is sent as it is; no token is requested): leave it out`);
  }
  assert.ok(!message({ scope: 'x' }).includes(base.platformToken));
  // The options of API calls serve a platform token as any token.
  assert.equal(message({ timeoutMs: 5000, allowInsecureHttp: true, fetch: async () => new Response() }), 'no error');
});

test("an AppDynamics accessToken refuses the options of token requests instead of ignoring them", () => {
  const base = { controllerUrl: 'https://acme.saas.appdynamics.com', accessToken: 'ui-token' };
  const message = (extra) => refusal(() => new AppDynamicsClient({ ...base, ...extra }));
  assert.equal(message({ tokenContentType: 'auto', basicAuth: 'auto', timeoutMs: 5000 }), 'no error');
  for (const [extra, name] of [
    [{ tokenContentType: 'form' }, 'tokenContentType'],
    [{ basicAuth: false }, 'basicAuth'],
    [{ refreshSkewSeconds: 0 }, 'refreshSkewSeconds'],
    [{ maxRetries: 5 }, 'maxRetries'],
  ]) {
    assert.equal(message(extra), `invalid_config: AppDynamicsClient: ${name} has no use with accessToken (it is sent as it is; no token is requested): leave it out`);
  }
  // With a client secret, the same options serve its token requests.
  assert.equal(
    message({ accessToken: undefined, clientName: 'n', accountName: 'a', clientSecret: 's', tokenContentType: 'form', basicAuth: false, maxRetries: 5 }),
    'no error',
  );
});

test('isSignedIn(): a platform token is a token the client holds, before any call and after signOut()', async () => {
  const dt = new DynatraceClient({ environmentUrl: 'https://abc12345.apps.dynatrace.com', platformToken: 'dt0s16.EXAMPLE.token-value-long-enough' });
  assert.equal(dt.isSignedIn(), true);
  await dt.signOut();
  assert.equal(dt.isSignedIn(), true, 'signing out does not forget the token given in the options');
  assert.equal((await dt.getToken()).accessToken, 'dt0s16.EXAMPLE.token-value-long-enough');
});

// Dynatrace platform tokens (`new DynatraceClient({ environmentUrl, platformToken })`) and the Account
// Management API client (`DynatraceAccountClient`) against the emulated environment, SSO and
// account API (`urls.account`, `credentials.dynatraceAccount`, `credentials.dynatrace.platformToken`).
import { createSuite, dynatraceOptions, requestsOf } from './harness.mjs';

const URN = 'urn:dtaccount:';
const ENVIRONMENT = '/platform/management/v1/environment';
const ENVIRONMENT_JSON = {
  environmentId: 'abc12345',
  createTime: '2023-01-01T00:00:00Z',
  blockTime: '2030-01-01T00:00:00Z',
  state: 'ACTIVE',
};

export function accountCases(ctx) {
  const s = createSuite(ctx);
  const { assert } = ctx;
  const { DynatraceClient, DynatraceAccountClient } = ctx.lib;

  /** The platform token and the account client's secret are secrets of this module too. */
  const remember = (emu) => {
    s.addSecret(emu.credentials.dynatrace.platformToken);
    s.addSecret(emu.credentials.dynatraceAccount.clientSecret);
  };
  const platform = (emu, extra) => {
    remember(emu);
    return s.track(new DynatraceClient({ environmentUrl: emu.urls.dynatrace, platformToken: emu.credentials.dynatrace.platformToken, ...extra }));
  };
  const accountOptions = (emu, extra) => {
    remember(emu);
    const a = emu.credentials.dynatraceAccount;
    return {
      accountUuid: a.accountUuid,
      clientId: a.clientId,
      clientSecret: a.clientSecret,
      scope: ['account-idm-read'],
      tokenUrl: emu.urls.ssoToken,
      accountApiUrl: emu.urls.account,
      ...extra,
    };
  };
  const account = (emu, extra) => s.track(new DynatraceAccountClient(accountOptions(emu, extra)));
  const usersPath = (emu) => `/iam/v1/accounts/${emu.credentials.dynatraceAccount.accountUuid}/users`;

  // -------------------------------------------------------------------------------------------
  // Platform tokens

  s.test('platform token: fetch sends it as the bearer, with no token request', async (emu) => {
    const pt = emu.credentials.dynatrace.platformToken;
    const dt = platform(emu);
    const res = await dt.fetch(ENVIRONMENT);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), ENVIRONMENT_JSON);
    const [req] = requestsOf(emu, 'dynatrace', ENVIRONMENT);
    assert.equal(req.headers.authorization, `Bearer ${pt}`);
    const echo = await (await dt.fetch('/platform/echo')).json();
    assert.equal(echo.headers.authorization, `Bearer ${pt}`);
    assert.equal(requestsOf(emu, 'sso').length, 0, 'no SSO request');
    assert.equal(emu.counters.sso.token, 0);
    assert.equal(dt.stats().tokenRequests, 0);
  });

  s.test('platform token: getToken() is the token itself, expiresAt Infinity', async (emu) => {
    const dt = platform(emu);
    const t = await dt.getToken();
    assert.deepEqual(t, { accessToken: emu.credentials.dynatrace.platformToken, tokenType: 'Bearer', expiresAt: Infinity });
    assert.deepEqual(await dt.getToken({ forceRefresh: true }), t, 'forceRefresh has nothing to renew');
    dt.invalidate();
    assert.deepEqual(await dt.getToken(), t, 'invalidate() does not lose it');
    assert.equal(emu.requests.length, 0, 'no IO at all');
  });

  s.test('platform token: platformUrl and callAppFunction work as with client credentials', async (emu) => {
    const dt = platform(emu);
    assert.equal(dt.platformUrl('management/v1/environment'), `${emu.urls.dynatrace}${ENVIRONMENT}`);
    const res = await dt.callAppFunction('my.emulator.app', 'calculate', { a: 2, b: 3 });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { result: 5 });
    const settings = await dt.fetch('/platform/classic/environment-api/v2/settings/objects');
    assert.equal(settings.status, 200);
    await settings.json();
    assert.equal(emu.counters.sso.token, 0);
  });

  s.test('platform token: a 401 (revoked) is returned as the Response, with no retry and no token request', async (emu) => {
    const dt = platform(emu);
    assert.equal((await dt.fetch(ENVIRONMENT)).status, 200);
    emu.revokePlatformToken();
    const res = await dt.fetch(ENVIRONMENT);
    assert.equal(res.status, 401);
    const body = await res.json();
    assert.equal(body.error.code, 401);
    assert.match(body.error.details.reason, /revoked/);
    assert.equal(emu.counters.dynatrace.api, 2, 'the 401 call was not repeated');
    assert.equal(emu.counters.dynatrace.unauthorized, 1);
    assert.equal(emu.counters.sso.token, 0, 'no token request');
    assert.equal(requestsOf(emu, 'sso').length, 0);
    const st = dt.stats();
    assert.equal(st.unauthorizedRetries, 0);
    assert.equal(st.tokenRequests, 0);
    // The next call sends the same token again (there is nothing else to send).
    const again = await dt.fetch(ENVIRONMENT);
    assert.equal(again.status, 401);
    await again.arrayBuffer();
    assert.equal(emu.requests.filter((r) => r.role === 'dynatrace').length, 3);
  });

  s.test('platform token together with a client secret is invalid_config, thrown by the constructor', (emu) => {
    remember(emu);
    const c = emu.credentials.dynatrace;
    const both = { environmentUrl: emu.urls.dynatrace, platformToken: c.platformToken, clientId: c.clientId, clientSecret: c.clientSecret };
    const e = s.throws(() => new DynatraceClient(both), 'invalid_config');
    assert.match(e.message, /platformToken/);
    assert.match(e.message, /clientSecret/);
    const noId = { environmentUrl: emu.urls.dynatrace, platformToken: c.platformToken, clientSecret: c.clientSecret };
    s.throws(() => new DynatraceClient(noId), 'invalid_config');
    assert.equal(emu.requests.length, 0);
  });

  s.test('platform token: unknown options still get a suggestion', (emu) => {
    remember(emu);
    const e = s.throws(
      () => new DynatraceClient({ environmentUrl: emu.urls.dynatrace, platform_token: emu.credentials.dynatrace.platformToken }),
      'invalid_config',
    );
    assert.match(e.message, /unknown option "platform_token" \(did you mean "platformToken"\?\)/);
  });

  s.test('platform token: never in String, JSON, toJSON, own keys or errors of the client', async (emu) => {
    const pt = emu.credentials.dynatrace.platformToken;
    const dt = platform(emu);
    await dt.fetch(ENVIRONMENT);
    for (const text of [String(dt), `${dt}`, JSON.stringify(dt), JSON.stringify(dt.toJSON()), Object.keys(dt).join(',')]) {
      assert.equal(text.includes(pt), false, 'the platform token is shown');
      assert.equal(text.includes(pt.split('.')[2]), false, 'the secret part of the platform token is shown');
    }
    assert.equal(JSON.parse(JSON.stringify(dt)).client, 'DynatraceClient');
    assert.equal(JSON.parse(JSON.stringify(dt)).environmentUrl, emu.urls.dynatrace);
    s.checkClient(dt, 'a platform-token client');
    // Errors on its paths: another origin, an aborted call, a closed port.
    await s.rejects(dt.fetch(`${emu.urls.elsewhere}/x`), 'insecure_url');
    await s.rejects(dt.fetch(ENVIRONMENT, { signal: AbortSignal.abort() }), 'aborted');
    emu.setFault('dynatrace', 'api', { kind: 'drop', count: 2 });
    await s.rejects(dt.fetch(ENVIRONMENT), 'network');
    assert.equal(emu.counters.elsewhere.requests, 0);
  });

  // -------------------------------------------------------------------------------------------
  // DynatraceAccountClient

  s.test('account client: the token request carries resource=urn:dtaccount:<uuid> and the scope', async (emu) => {
    const a = emu.credentials.dynatraceAccount;
    const ac = account(emu);
    const t = await ac.getToken();
    const sent = requestsOf(emu, 'sso');
    assert.equal(sent.length, 1);
    assert.equal(sent[0].path, '/sso/oauth2/token');
    assert.equal(sent[0].method, 'POST');
    const params = Object.fromEntries(new URLSearchParams(sent[0].body));
    assert.deepEqual(params, {
      grant_type: 'client_credentials',
      client_id: a.clientId,
      client_secret: a.clientSecret,
      scope: 'account-idm-read',
      resource: `${URN}${a.accountUuid}`,
    });
    assert.equal(t.tokenType, 'Bearer');
    assert.equal(t.scope, 'account-idm-read');
    assert.equal(t.resource, a.accountUrn);
    assert.ok(t.expiresAt > Date.now() + 200_000 && Number.isFinite(t.expiresAt));
  });

  s.test('account client: listUsers() is the parsed JSON of GET /iam/v1/accounts/<uuid>/users', async (emu) => {
    const ac = account(emu);
    const users = await ac.listUsers();
    assert.deepEqual(users, { count: emu.account.users.length, items: emu.account.users });
    const [req] = requestsOf(emu, 'account');
    assert.equal(req.method, 'GET');
    assert.equal(req.path, usersPath(emu));
    const t = await ac.getToken();
    assert.equal(req.headers.authorization, `Bearer ${t.accessToken}`);
    assert.equal(emu.counters.account.api, 1);
    assert.equal(emu.counters.sso.token, 1);
  });

  s.test('account client: accountPath(rest)', (emu) => {
    const uuid = emu.credentials.dynatraceAccount.accountUuid;
    const ac = account(emu);
    assert.equal(ac.accountPath('users'), `/iam/v1/accounts/${uuid}/users`);
    assert.equal(ac.accountPath('/users'), `/iam/v1/accounts/${uuid}/users`);
    assert.equal(ac.accountPath('groups'), `/iam/v1/accounts/${uuid}/groups`);
    assert.equal(ac.accountPath('users?service-user=true'), `/iam/v1/accounts/${uuid}/users?service-user=true`);
    assert.equal(emu.requests.length, 0, 'no IO');
  });

  s.test('account client: fetch resolves paths against the account API origin', async (emu) => {
    const ac = account(emu);
    const groups = await ac.fetch(ac.accountPath('groups'));
    assert.equal(groups.status, 200);
    assert.deepEqual(await groups.json(), { count: emu.account.groups.length, items: emu.account.groups });
    const abs = await ac.fetch(`${emu.urls.account}${usersPath(emu)}`);
    assert.equal(abs.status, 200);
    assert.equal((await abs.json()).count, emu.account.users.length);
    const url = await ac.fetch(new URL(usersPath(emu), emu.urls.account));
    assert.equal(url.status, 200);
    await url.json();
    // Error statuses of fetch are Responses, as for every client.
    const missing = await ac.fetch('/iam/v1/accounts/nope/environments');
    assert.equal(missing.status, 404);
    await missing.json();
    assert.equal(emu.counters.account.api, 4);
    assert.equal(emu.counters.sso.token, 1);
  });

  s.test('account client: the environment origin (and any other) is refused with insecure_url, nothing sent', async (emu) => {
    const ac = account(emu);
    for (const target of [`${emu.urls.dynatrace}${ENVIRONMENT}`, new URL('/platform/echo', emu.urls.dynatrace), `${emu.urls.elsewhere}/x`, `${emu.urls.sso}/sso/oauth2/userinfo`]) {
      const e = await s.rejects(ac.fetch(target), 'insecure_url');
      assert.match(e.message, /another origin/);
    }
    assert.equal(emu.counters.dynatrace.api, 0);
    assert.equal(emu.counters.elsewhere.requests, 0);
    assert.equal(emu.counters.sso.userinfo, 0);
    assert.equal(emu.counters.sso.token, 0, 'refused before a token is fetched');
  });

  s.test('DynatraceClient refuses the account API origin (client credentials and platform token)', async (emu) => {
    const dt = s.track(new DynatraceClient(dynatraceOptions(emu)));
    await s.rejects(dt.fetch(`${emu.urls.account}${usersPath(emu)}`), 'insecure_url');
    await s.rejects(platform(emu).fetch(new URL(usersPath(emu), emu.urls.account)), 'insecure_url');
    assert.equal(emu.counters.account.api, 0);
    assert.equal(requestsOf(emu, 'account').length, 0);
  });

  s.test('account client: accountUuid in URN form is accepted, and the URN is not doubled', async (emu) => {
    const a = emu.credentials.dynatraceAccount;
    const ac = account(emu, { accountUuid: a.accountUrn });
    assert.equal(ac.accountPath('users'), usersPath(emu));
    const users = await ac.listUsers();
    assert.equal(users.count, emu.account.users.length);
    const [req] = requestsOf(emu, 'sso');
    assert.equal(new URLSearchParams(req.body).get('resource'), a.accountUrn);
  });

  s.test('account client: an error status rejects listUsers() with http_error and its status', async (emu) => {
    const ac = account(emu);
    emu.setFault('account', 'api', { kind: 'status', status: 503, count: 1 });
    let e = await s.rejects(ac.listUsers(), 'http_error', { status: 503 });
    assert.match(e.message, /users/);
    assert.equal(emu.counters.account.api, 1, 'an API error status is not retried');

    emu.setFault('account', 'api', { kind: 'json', status: 500, body: { error: { code: 500, message: 'account backend down' } }, count: 1 });
    e = await s.rejects(ac.listUsers(), 'http_error', { status: 500 });

    // A token without account-idm-read: the API's 403 is an http_error too.
    const noScope = account(emu, { scope: 'account-env-read' });
    e = await s.rejects(noScope.listUsers(), 'http_error', { status: 403 });
    assert.match(e.message, /403/);
    assert.equal(typeof e.hint, 'string');
    assert.equal(emu.counters.account.forbidden, 1);

    // Another account's path with this account's token.
    const other = account(emu, { accountUuid: 'ffffffff-ffff-4fff-8fff-ffffffffffff' });
    // The SSO refuses a resource the client does not belong to: a token error, before any API call.
    await s.rejects(other.listUsers(), 'token_error');
    assert.equal(emu.counters.account.api, 3);
  });

  s.test('account client: one 401 from the account API renews the token once', async (emu) => {
    const ac = account(emu);
    await ac.getToken();
    emu.setFault('account', 'api', { kind: 'unauthorized', count: 1 });
    const users = await ac.listUsers();
    assert.equal(users.count, emu.account.users.length);
    assert.equal(emu.counters.sso.token, 2);
    assert.equal(ac.stats().unauthorizedRetries, 1);

    emu.setFault('account', 'api', { kind: 'unauthorized' });
    await s.rejects(ac.listUsers(), 'http_error', { status: 401 });
  });

  s.test('account client: a missing or empty accountUuid, clientId or clientSecret is invalid_config', (emu) => {
    const base = accountOptions(emu);
    for (const [options, pattern] of [
      [{ ...base, accountUuid: undefined }, /accountUuid/],
      [{ ...base, accountUuid: '' }, /accountUuid/],
      [{ ...base, accountUuid: '   ' }, /accountUuid/],
      [{ ...base, accountUuid: URN }, /accountUuid/],
      [{ ...base, clientId: undefined }, /clientId/],
      [{ ...base, clientSecret: undefined }, /clientSecret/],
      [{ ...base, clientSecret: '' }, /clientSecret/],
    ]) {
      const e = s.throws(() => new DynatraceAccountClient(options), 'invalid_config');
      assert.match(e.message, pattern);
      assert.match(e.message, /DynatraceAccountClient/);
    }
    // http:// to a host that is not loopback, as for every client.
    const e = s.throws(() => new DynatraceAccountClient({ ...base, accountApiUrl: 'http://account.example.com' }), 'insecure_url');
    assert.match(e.hint, /allowInsecureHttp/);
    assert.equal(emu.requests.length, 0);
  });

  s.test('account client: unknown options are invalid_config with a suggestion', (emu) => {
    // Suggestions cover case and separator slips (as for every class), not misspellings.
    const base = accountOptions(emu);
    for (const [typo, meant] of [
      ['account_uuid', 'accountUuid'],
      ['accountUUID', 'accountUuid'],
      ['accountApiURL', 'accountApiUrl'],
      ['account_api_url', 'accountApiUrl'],
      ['client_secret', 'clientSecret'],
      ['scopes', 'scope'],
    ]) {
      const e = s.throws(() => new DynatraceAccountClient({ ...base, [typo]: 'x' }), 'invalid_config');
      assert.match(e.message, new RegExp(`unknown option "${typo}" \\(did you mean "${meant}"\\?\\)`), e.message);
    }
    // Options of the environment client are not account client options.
    for (const name of ['environmentUrl', 'platformToken', 'resource']) {
      const e = s.throws(() => new DynatraceAccountClient({ ...base, [name]: 'x' }), 'invalid_config');
      assert.match(e.message, new RegExp(`unknown option "${name}"`));
    }
  });

  s.test('account client: toJSON, String and JSON show what it is, never the secret', async (emu) => {
    const a = emu.credentials.dynatraceAccount;
    const ac = account(emu);
    await ac.listUsers();
    assert.deepEqual(ac.toJSON(), { client: 'DynatraceAccountClient', clientId: a.clientId, tokenUrl: emu.urls.ssoToken, accountApiUrl: emu.urls.account });
    assert.deepEqual(JSON.parse(JSON.stringify(ac)), ac.toJSON());
    assert.equal(String(ac), `DynatraceAccountClient(${a.clientId})`);
    s.checkClient(ac, String(ac));

    // The defaults: the production SSO and api.dynatrace.com (no IO to check them).
    const defaults = new DynatraceAccountClient({ accountUuid: a.accountUuid, clientId: a.clientId, clientSecret: a.clientSecret });
    s.track(defaults);
    assert.deepEqual(defaults.toJSON(), {
      client: 'DynatraceAccountClient',
      clientId: a.clientId,
      tokenUrl: 'https://sso.dynatrace.com/sso/oauth2/token',
      accountApiUrl: 'https://api.dynatrace.com',
    });
  });

  s.test('account client: stats()', async (emu) => {
    const ac = account(emu);
    assert.deepEqual(ac.stats(), { tokenRequests: 0, cacheHits: 0, refreshes: 0, unauthorizedRetries: 0, refreshTokenGrants: 0 });
    await ac.listUsers();
    await ac.listUsers();
    await ac.fetch(ac.accountPath('groups')).then((r) => r.json());
    const st = ac.stats();
    assert.equal(st.tokenRequests, 1);
    assert.ok(st.cacheHits >= 2, `cacheHits ${st.cacheHits}`);
    assert.equal(st.unauthorizedRetries, 0);
    ac.invalidate();
    await ac.listUsers();
    assert.equal(ac.stats().tokenRequests, 2);
    assert.equal(emu.counters.sso.token, 2);
  });

  s.test('account client: 10 concurrent listUsers() on a cold cache make one token request', async (emu) => {
    const ac = account(emu);
    const all = await Promise.all(Array.from({ length: 10 }, () => ac.listUsers()));
    for (const users of all) assert.equal(users.count, emu.account.users.length);
    assert.equal(emu.counters.sso.token, 1);
    assert.equal(emu.counters.account.api, 10);
    assert.equal(ac.stats().tokenRequests, 1);
    const bearers = new Set(requestsOf(emu, 'account').map((r) => r.headers.authorization));
    assert.equal(bearers.size, 1, 'every call sent the same token');
  });

  s.test('account client: token errors are the usual ApmOAuthErrors, without the secret', async (emu) => {
    const a = emu.credentials.dynatraceAccount;
    const wrong = `${a.clientSecret}X`;
    s.addSecret(wrong);
    await s.rejects(account(emu, { clientSecret: wrong }).listUsers(), 'invalid_client', { status: 400 });
    // The environment client has no account scopes: the SSO refuses the scope.
    const env = emu.credentials.dynatrace;
    const e = await s.rejects(account(emu, { clientId: env.clientId, clientSecret: env.clientSecret }).listUsers(), 'invalid_scope');
    assert.match(e.message, /account-idm-read/);
    assert.equal(emu.counters.account.api, 0);
  });

  s.finish();
}

// No secret anywhere: client secrets (one full of regex and URL metacharacters) and access tokens
// never reach an error's message, stack, hint, fields or serialisations, a client's String() or
// JSON, or the console, on every path that can fail, including servers that echo what they got.
import { createSuite, requestsOf, errorTexts, assertNoSecret, waitFor } from './harness.mjs';

// Regex metacharacters, URL delimiters and quotes: a scrubber that builds a RegExp from the secret,
// or compares encoded forms, gets these wrong.
export const META_DT_SECRET = 'dt0s02.METACHARS.^$.*+?()[]{}|\\/%&=#;"\'<>`~!:,A1b2C3d4E5f6G7h8';
export const META_APPD_SECRET = '9f8e7d6c-^$.*+?()[]{}|\\/%25&=#:@-b6e2-5d8a0f3c9e17';

const DT_CLIENTS = [
  {
    clientId: 'dt0s02.METACHARS',
    clientSecret: META_DT_SECRET,
    accountUrn: 'urn:dtaccount:00000000-0000-4000-8000-00000000e002',
    scopes: ['app-engine:apps:run', 'storage:logs:read', 'settings:objects:read'],
  },
];
const APPD_CLIENTS = [{ clientName: 'meta-client', accountName: 'customer1', clientSecret: META_APPD_SECRET }];

function formPart(s) {
  return new URLSearchParams({ x: s }).toString().slice(2);
}

export function secretCases(ctx) {
  const s = createSuite(ctx, { dynatrace: { clients: DT_CLIENTS }, appdynamics: { clients: APPD_CLIENTS } });
  const { assert } = ctx;
  const { DynatraceClient, AppDynamicsClient, OAuthClient } = ctx.lib;
  const dt = (emu, extra) =>
    s.track(
      new DynatraceClient({
        clientId: DT_CLIENTS[0].clientId,
        clientSecret: META_DT_SECRET,
        environmentUrl: emu.urls.dynatrace,
        tokenUrl: emu.urls.ssoToken,
        ...extra,
      }),
    );
  const appd = (emu, url, extra) =>
    s.track(new AppDynamicsClient({ controllerUrl: url, clientName: 'meta-client', accountName: 'customer1', clientSecret: META_APPD_SECRET, ...extra }));

  s.test('the metacharacter secrets work: they are encoded, not mangled', async (emu) => {
    const client = dt(emu, { scope: 'storage:logs:read' });
    const t = await client.getToken();
    s.addSecret(t.accessToken);
    const [req] = requestsOf(emu, 'sso');
    assert.ok(req.body.includes(`&client_secret=${formPart(META_DT_SECRET)}&`));
    assert.equal((await client.fetch('/platform/management/v1/environment')).status, 200);

    const basic = s.track(new OAuthClient({ tokenUrl: emu.urls.ssoToken, clientId: DT_CLIENTS[0].clientId, clientSecret: META_DT_SECRET, baseUrl: emu.urls.dynatrace }));
    assert.equal((await basic.fetch('/platform/echo')).status, 200);

    for (const url of [emu.urls.appdynamics, emu.urls.appdynamicsLegacy]) {
      const ad = appd(emu, url);
      assert.equal((await ad.listApplications()).length, 3);
      s.addSecret((await ad.getToken()).accessToken);
    }
    for (const c of [client, basic]) s.checkClient(c, String(c));
  });

  s.test('wrong secrets, near misses and swapped credentials: no form of either secret in the errors', async (emu) => {
    const wrongs = [
      `${META_DT_SECRET}x`,
      META_DT_SECRET.slice(0, -1),
      META_DT_SECRET.replace('METACHARS', 'METACHARZ'),
      'dt0s02.METACHARS.(.*)$[^]+?|{2,}\\d\\w%00%0a',
    ];
    for (const wrong of wrongs) {
      s.addSecret(wrong);
      const client = dt(emu, { clientSecret: wrong });
      const e = await s.rejects(client.getToken(), 'invalid_client', { status: 400 });
      s.checkClient(client, 'a client with a wrong secret');
      assert.match(e.message, /client id or secret is wrong/);
    }
    // Not tracked: its String() shows the client id, which here is the secret.
    const swapped = (new DynatraceClient({ clientId: META_DT_SECRET, clientSecret: DT_CLIENTS[0].clientId + '.not-the-secret', tokenUrl: emu.urls.ssoToken }));
    s.addSecret(DT_CLIENTS[0].clientId + '.not-the-secret');
    await s.rejects(swapped.getToken(), 'invalid_client');

    for (const url of [emu.urls.appdynamics, emu.urls.appdynamicsLegacy]) {
      for (const body of ['empty', 'text', 'html']) {
        emu.options.appdynamics.tokenErrorBody = body;
        const wrong = `${META_APPD_SECRET}-${body}`;
        s.addSecret(wrong);
        const e = await s.rejects(appd(emu, url, { clientSecret: wrong }).listApplications(), 'invalid_client', { status: 401 });
        // Whatever the body (a login page too), what to check is the credentials, not the URL.
        assert.match(e.message, /client id or secret is wrong/);
        assert.match(e.hint, /clientName, accountName/);
      }
    }
  });

  s.test('every token failure path with a metacharacter secret', async (emu) => {
    const faults = [
      [{ kind: 'html', status: 200 }, 'invalid_response'],
      [{ kind: 'html', status: 400 }, 'token_error'],
      [{ kind: 'truncatedJson' }, 'invalid_response'],
      [{ kind: 'emptyBody' }, 'invalid_response'],
      [{ kind: 'status', status: 500 }, 'server_error'],
      [{ kind: 'status', status: 404, body: 'Not Found' }, 'token_error'],
      [{ kind: 'rateLimit', retryAfter: 3 }, 'rate_limited'],
      [{ kind: 'drop' }, 'network'],
      [{ kind: 'redirect', location: `${emu.urls.elsewhere}/` }, 'token_error'],
      [{ kind: 'json', body: { access_token: 'x y', token_type: 'Bearer' } }, 'invalid_response'],
      [{ kind: 'json', body: { access_token: 'mac-token-abcdefgh', token_type: 'mac' } }, 'invalid_response'],
    ];
    for (const [fault, code] of faults) {
      // Twice: some runtimes retry a dropped request once by themselves.
      emu.setFault('sso', 'token', { ...fault, count: 2 });
      await s.rejects(dt(emu, { maxRetries: 0 }).getToken(), code);
      emu.clearFaults();
    }
    await s.rejects(dt(emu, { scope: 'account-idm-read' }).getToken(), 'invalid_scope');
    await s.rejects(dt(emu, { resource: 'urn:dtaccount:ffffffff-ffff-4fff-8fff-ffffffffffff' }).getToken(), 'token_error');
    await s.rejects(dt(emu, { tokenUrl: 'http://127.0.0.1:1/sso/oauth2/token', maxRetries: 0 }).getToken(), 'network');

    emu.setFault('sso', 'token', { kind: 'delay', ms: 400, count: 1 });
    await s.rejects(dt(emu, { timeoutMs: 100, maxRetries: 0 }).getToken(), 'timeout');
    await waitFor(() => emu.counters.sso.issued === 1, 'the emulator to finish the delayed answer');

    await s.rejects(dt(emu).fetch('/platform/echo', { signal: AbortSignal.abort() }), 'aborted');
    await s.rejects(appd(emu, emu.urls.appdynamicsLegacy, { tokenContentType: 'form' }).getToken(), 'token_error');
  });

  s.test('a token endpoint that echoes the secret it was sent: the echo is scrubbed from every field', async (emu) => {
    emu.setFault('sso', 'token', {
      kind: 'json',
      status: 400,
      count: 1,
      body: { errorCode: 400, message: `client_secret=${META_DT_SECRET} is not valid`, issueId: 'ECHOECHOECHOECHO', error: 'invalid_request', error_description: `client_secret=${META_DT_SECRET} is not valid` },
    });
    await s.rejects(dt(emu).getToken(), 'token_error', { status: 400 });
    emu.setFault('sso', 'token', { kind: 'status', status: 400, count: 1, body: `bad request: ${META_DT_SECRET}` });
    await s.rejects(dt(emu).getToken(), 'token_error');
    emu.setFault('sso', 'token', { kind: 'status', status: 503, count: 1, body: { error: 'temporarily_unavailable', error_description: META_DT_SECRET } });
    await s.rejects(dt(emu, { maxRetries: 0 }).getToken(), 'server_error');
    emu.setFault('appdynamics', 'token', { kind: 'status', status: 401, count: 2, body: `Failed to authenticate ${META_APPD_SECRET}` });
    await s.rejects(appd(emu, emu.urls.appdynamics).getToken(), 'invalid_client');
  });

  s.test(
    'a token endpoint that echoes the request as it was encoded on the wire: no encoded form of the secret passes either',
    async (emu) => {
      const basic = btoa(`${formPart(DT_CLIENTS[0].clientId)}:${formPart(META_DT_SECRET)}`);
      s.addSecret(basic);
      const echoes = [
        // The form body as sent (what a server that cannot parse it is most likely to quote).
        `could not parse grant_type=client_credentials&client_id=dt0s02.METACHARS&client_secret=${formPart(META_DT_SECRET)}`,
        `bad secret ${encodeURIComponent(META_DT_SECRET)}`,
        `rejected Authorization: Basic ${basic}`,
      ];
      for (const echo of echoes) {
        emu.setFault('sso', 'token', { kind: 'json', status: 400, count: 1, body: { error: 'invalid_request', error_description: echo } });
        await s.rejects(dt(emu).getToken(), 'token_error', { status: 400 });
      }
    },
  );

  s.test('an API that echoes the access token: listApplications errors do not carry it', async (emu) => {
    const ad = appd(emu, emu.urls.appdynamics);
    const t = await ad.getToken();
    s.addSecret(t.accessToken);
    emu.setFault('appdynamics', 'api', { kind: 'status', status: 500, count: 1, body: `token ${t.accessToken} broke us` });
    await s.rejects(ad.listApplications(), 'http_error', { status: 500 });
    emu.setFault('appdynamics', 'api', { kind: 'status', status: 403, count: 1, body: `forbidden:${t.accessToken.slice(0, 20)}` });
    await s.rejects(ad.listApplications(), 'http_error', { status: 403 });

    const token = emu.credentials.appdynamics.temporaryToken;
    const fixed = s.track(new AppDynamicsClient({ controllerUrl: emu.urls.appdynamics, accessToken: token }));
    emu.setFault('appdynamics', 'api', { kind: 'status', status: 401, count: 1, body: `invalid access token ${token}` });
    await s.rejects(fixed.listApplications(), 'http_error', { status: 401 });
    const wrong = `${token.slice(0, -4)}AAAA`;
    s.addSecret(wrong);
    const wrongClient = s.track(new AppDynamicsClient({ controllerUrl: emu.urls.appdynamics, accessToken: wrong }));
    await s.rejects(wrongClient.listApplications(), 'http_error', { status: 401 });
    s.checkClient(wrongClient, 'a client with a static token');
    s.checkClient(fixed, 'a client with a static token');
  });

  s.test('configuration errors never quote the secret', (emu) => {
    const base = { clientId: 'dt0s02.METACHARS', clientSecret: META_DT_SECRET };
    const cases = [
      [{ ...base, environmentUrl: 'http://abc12345.apps.dynatrace.com' }, 'insecure_url'],
      [{ ...base, tokenUrl: 'ftp://sso.example/' }, 'invalid_config'],
      [{ ...base, tokenUrl: `https://x:${encodeURIComponent(META_DT_SECRET)}@sso.example/` }, 'invalid_config'],
      [{ ...base, client_secret: META_DT_SECRET }, 'invalid_config'],
      [{ ...base, clientSecret: [META_DT_SECRET] }, 'invalid_config'],
      [{ ...base, scope: { secret: META_DT_SECRET } }, 'invalid_config'],
      [{ ...base, authMethod: META_DT_SECRET }, 'invalid_config'],
      [{ ...base, resource: 5 }, 'invalid_config'],
    ];
    for (const [options, code] of cases) s.throws(() => new DynatraceClient(options), code);
    const appdCases = [
      { controllerUrl: 'http://controller.example:8090', clientId: 'meta-client@customer1', clientSecret: META_APPD_SECRET },
      { controllerUrl: emu.urls.appdynamics, clientSecret: META_APPD_SECRET },
      { controllerUrl: emu.urls.appdynamics, clientId: 'meta-client@customer1', clientSecret: META_APPD_SECRET, accessToken: emu.credentials.appdynamics.temporaryToken },
      { controllerUrl: emu.urls.appdynamics, accessToken: emu.credentials.appdynamics.temporaryToken, tokenContentType: META_APPD_SECRET },
    ];
    for (const options of appdCases) {
      const e = s.throws(() => new AppDynamicsClient(options), options.controllerUrl.startsWith('http://controller') ? 'insecure_url' : 'invalid_config');
      assert.ok(e.message.length > 0);
    }
    s.throws(() => new OAuthClient({ tokenUrl: 'https://idp.example/t', clientId: 'c', clientSecret: META_DT_SECRET, extraParams: { client_secret: META_DT_SECRET } }), 'invalid_config');
    assert.equal(emu.requests.length, 0);
  });

  s.test('String(), JSON.stringify() and toJSON() of every client show what it is, never a credential', async (emu) => {
    const ad = appd(emu, emu.urls.appdynamics);
    await ad.getToken();
    const fixed = s.track(new AppDynamicsClient({ controllerUrl: emu.urls.appdynamics, accessToken: emu.credentials.appdynamics.temporaryToken }));
    const client = dt(emu);
    await client.getToken();
    assert.equal(String(client), 'DynatraceClient(dt0s02.METACHARS)');
    assert.deepEqual(JSON.parse(JSON.stringify(client)), {
      client: 'DynatraceClient',
      clientId: 'dt0s02.METACHARS',
      tokenUrl: emu.urls.ssoToken,
      environmentUrl: emu.urls.dynatrace,
    });
    assert.equal(String(ad), 'AppDynamicsClient(meta-client@customer1)');
    assert.deepEqual(Object.keys(fixed.toJSON()).sort(), ['client', 'controllerUrl']);
    assert.equal(`${fixed}`, 'AppDynamicsClient()');
    for (const c of [client, ad, fixed]) s.checkClient(c, String(c));
  });

  s.finish();
}

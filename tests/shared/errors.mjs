// Every error code, each from a realistic cause, with the properties a caller relies on.
import { createSuite, dynatraceOptions, appdOptions, waitFor } from './harness.mjs';
import { REDIRECT, followAuthorize, signinOptions } from './signin.mjs';

const ENV = '/platform/management/v1/environment';

export function errorCases(ctx) {
  const s = createSuite(ctx);
  const { assert } = ctx;
  const { DynatraceClient, AppDynamicsClient, OAuthClient, ERROR_CODES } = ctx.lib;
  const dynatrace = (emu, extra) => s.track(new DynatraceClient(dynatraceOptions(emu, extra)));

  s.test('ERROR_CODES lists the fifteen codes in documentation order and cannot be changed', () => {
    assert.deepEqual(
      [...ERROR_CODES],
      [
        'invalid_config',
        'invalid_argument',
        'insecure_url',
        'invalid_client',
        'invalid_scope',
        'token_error',
        'invalid_response',
        'rate_limited',
        'server_error',
        'network',
        'timeout',
        'aborted',
        'http_error',
        'login_required',
        'authorization_error',
      ],
    );
    assert.ok(Object.isFrozen(ERROR_CODES));
  });

  s.test('invalid_config: constructors throw synchronously for bad options', (emu) => {
    const c = emu.credentials.dynatrace;
    const base = { clientId: c.clientId, clientSecret: c.clientSecret, tokenUrl: emu.urls.ssoToken };

    let e = s.throws(() => new DynatraceClient({ clientId: c.clientId }), 'invalid_config');
    assert.match(e.message, /clientSecret is required/);
    e = s.throws(() => new DynatraceClient({ ...base, clientSecret: '   ' }), 'invalid_config');
    assert.match(e.message, /clientSecret is empty/);

    const typos = [
      ['client_id', 'clientId'],
      ['scopes', 'scope'],
      ['timeout', 'timeoutMs'],
      ['environmentURL', 'environmentUrl'],
    ];
    for (const [typo, meant] of typos) {
      e = s.throws(() => new DynatraceClient({ ...base, [typo]: 'x' }), 'invalid_config');
      assert.match(e.message, new RegExp(`unknown option "${typo}" \\(did you mean "${meant}"\\?\\)`));
    }
    e = s.throws(() => new DynatraceClient({ ...base, wibble: 1 }), 'invalid_config');
    assert.match(e.message, /unknown option "wibble"/);
    assert.doesNotMatch(e.message, /did you mean/);

    const wrongTypes = [
      [{ clientId: 123 }, /clientId must be a string, not a number/],
      [{ scope: 5 }, /scope must be a string or an array of strings/],
      [{ scope: ['a', 1] }, /scope must be/],
      [{ timeoutMs: '100' }, /timeoutMs must be a number, not a string/],
      [{ timeoutMs: 0 }, /timeoutMs must be a number from 1/],
      [{ maxRetries: 11 }, /maxRetries must be a number from 0 to 10/],
      [{ refreshSkewSeconds: -1 }, /refreshSkewSeconds/],
      [{ allowInsecureHttp: 'yes' }, /allowInsecureHttp must be true or false/],
      [{ timeoutMs: Symbol('t') }, /timeoutMs must be a number, not a value of another type/],
      [{ timeoutMs: 0n }, /timeoutMs must be a number from 1/],
      [{ fetch: 'globalThis.fetch' }, /fetch must be a function/],
      [{ authMethod: 'private_key_jwt' }, /authMethod must be/],
      [{ environmentUrl: 'abc12345.apps.dynatrace.com' }, /environmentUrl is not a valid URL/],
      [{ tokenUrl: 'https://user:pw@sso.example/token' }, /tokenUrl is not a valid URL/],
    ];
    for (const [extra, message] of wrongTypes) {
      e = s.throws(() => new DynatraceClient({ ...base, ...extra }), 'invalid_config');
      assert.match(e.message, message);
    }
    // A BigInt reads as the number it holds.
    assert.doesNotThrow(() => new DynatraceClient({ ...base, timeoutMs: 5000n }));

    for (const notAnObject of [undefined, null, 'dt0s02.X', 42, [], true]) {
      e = s.throws(() => new DynatraceClient(notAnObject), 'invalid_config');
      assert.match(e.message, /needs an options object/);
    }
    s.throws(() => new OAuthClient(), 'invalid_config');
    s.throws(() => new AppDynamicsClient(null), 'invalid_config');
    assert.equal(emu.requests.length, 0);
  });

  s.test('invalid_config: a static token that no Authorization header can carry (a pasted line break) is refused, never quoted', (emu) => {
    // A line break once reached the platform's Headers, which threw out of the wasm with the
    // token in its message: the call never settled and the process ended.
    for (const token of ['static-token-0123456789\nabcdef', 'static-token-0123456789\u0001x', 'static token 0123456789', 'static-tökén-0123456789']) {
      s.addSecret(token);
      const pattern = /has characters an Authorization header cannot carry/;
      const a = s.throws(() => new AppDynamicsClient({ controllerUrl: emu.urls.appdynamics, accessToken: token }), 'invalid_config', { message: pattern });
      assert.match(a.message, /^AppDynamicsClient: accessToken /);
      const d = s.throws(() => new DynatraceClient({ environmentUrl: emu.urls.dynatrace, platformToken: token }), 'invalid_config', { message: pattern });
      assert.match(d.message, /^DynatraceClient: platformToken /);
    }
    // The header's whole value pasted: the message says what to leave out.
    const pasted = 'Bearer dt0s16.SAMPLE.0123456789abcdef';
    s.addSecret('dt0s16.SAMPLE.0123456789abcdef');
    s.throws(() => new DynatraceClient({ environmentUrl: emu.urls.dynatrace, platformToken: pasted }), 'invalid_config', {
      message: /^DynatraceClient: platformToken is the token alone, without "Bearer "$/,
    });
    s.throws(() => new AppDynamicsClient({ controllerUrl: emu.urls.appdynamics, accessToken: 'bearer x.y.z' }), 'invalid_config', {
      message: /^AppDynamicsClient: accessToken is the token alone, without "Bearer "$/,
    });
    assert.equal(emu.requests.length, 0);
  });

  s.test('invalid_config: maxRetries is a count (a fraction is refused, not rounded)', (emu) => {
    for (const maxRetries of [1.5, 0.1, 9.99]) {
      s.throws(() => dynatrace(emu, { maxRetries }), 'invalid_config', {
        message: 'DynatraceClient: maxRetries must be a number from 0 to 10, with no fraction',
      });
    }
    for (const maxRetries of [0, 3, 10, 2n]) assert.equal(typeof dynatrace(emu, { maxRetries }).stats().tokenRequests, 'number');
  });

  s.test('invalid_config: AppDynamics and OAuthClient combinations', (emu) => {
    const a = emu.credentials.appdynamics;
    const url = emu.urls.appdynamics;
    const cases = [
      [{ controllerUrl: url, clientSecret: a.clientSecret }, /clientName/],
      [{ controllerUrl: url, clientName: a.clientName, clientSecret: a.clientSecret }, /accountName is required/],
      [{ controllerUrl: url, accountName: a.accountName, clientSecret: a.clientSecret }, /clientName is required/],
      [{ controllerUrl: url, clientId: 'no-at-sign', clientSecret: a.clientSecret }, /apiClientName@accountName/],
      // name@account as clientName with the account again would build name@account@account.
      [{ controllerUrl: url, clientName: a.clientId, accountName: a.accountName, clientSecret: a.clientSecret }, /^AppDynamicsClient: clientName is the API client's name alone: give name@account as clientId instead$/],
      [{ controllerUrl: url, clientId: a.clientId, clientName: a.clientName, clientSecret: a.clientSecret }, /alternatives/],
      [{ controllerUrl: url, clientId: a.clientId }, /clientSecret is required/],
      [{ controllerUrl: url, accessToken: a.temporaryToken, clientSecret: a.clientSecret, clientId: a.clientId }, /alternatives/],
      [{ controllerUrl: url, clientId: a.clientId, clientSecret: a.clientSecret, tokenContentType: 'json' }, /tokenContentType/],
      [{ controllerUrl: url, clientId: a.clientId, clientSecret: a.clientSecret, basicAuth: 'yes' }, /basicAuth/],
      [{ clientId: a.clientId, clientSecret: a.clientSecret }, /controllerUrl is required/],
      [{ controllerUrl: url, client_secret: a.clientSecret, clientId: a.clientId }, /did you mean "clientSecret"/],
    ];
    for (const [options, message] of cases) {
      const e = s.throws(() => new AppDynamicsClient(options), 'invalid_config');
      assert.match(e.message, message);
    }
    let e = s.throws(() => new OAuthClient({ clientId: 'c', clientSecret: 'some-secret-value' }), 'invalid_config');
    assert.match(e.message, /tokenUrl is required/);
    e = s.throws(() => new OAuthClient({ tokenUrl: emu.urls.ssoToken, clientId: 'c', clientSecret: 'some-secret-value', authMethod: 'none' }), 'invalid_config');
    assert.match(e.message, /authMethod/);
  });

  s.test('invalid_argument: fetch and callAppFunction reject bad arguments (as a rejected Promise)', async (emu) => {
    const dt = dynatrace(emu);
    const p = dt.fetch(123);
    assert.ok(p instanceof Promise, 'fetch returns a Promise even for a bad argument');
    await s.rejects(p, 'invalid_argument');
    for (const bad of [undefined, null, {}, '', 'platform/\u0000x']) {
      await s.rejects(() => dt.fetch(bad), 'invalid_argument');
    }
    await s.rejects(() => dt.callAppFunction('', 'echo'), 'invalid_argument');
    await s.rejects(() => dt.callAppFunction('my.emulator.app', ''), 'invalid_argument');
    await s.rejects(() => dt.callAppFunction('my.emulator.app', '..'), 'invalid_argument');
    await s.rejects(() => dt.callAppFunction(7, 'echo'), 'invalid_argument');
    await s.rejects(() => dt.callAppFunction('my.emulator.app', 'echo', { n: 1n }), 'invalid_argument');
    assert.equal(emu.requests.length, 0, 'checked before any IO');
  });

  s.test(
    'invalid_argument: init.headers that are not headers, and a signal that is not an AbortSignal, are refused before any token request',
    async (emu) => {
      const dt = dynatrace(emu);
      await s.rejects(() => dt.fetch(ENV, { headers: 5 }), 'invalid_argument');
      await s.rejects(() => dt.fetch(ENV, { headers: [['a']] }), 'invalid_argument');
      // As the platform's fetch refuses them (an object that only looks like a signal once ended
      // the process: the platform threw out of the wasm).
      for (const signal of [{}, { aborted: false, addEventListener() {} }, 'x', new EventTarget()]) {
        await s.rejects(() => dt.fetch(ENV, { signal }), 'invalid_argument', { message: 'the signal is not an AbortSignal' });
        await s.rejects(() => dt.getToken({ signal }), 'invalid_argument', { message: 'the signal is not an AbortSignal' });
      }
      assert.equal(emu.requests.length, 0, 'checked before any IO');
      assert.equal((await dt.fetch(ENV, { signal: null })).status, 200);
      assert.equal(typeof (await dt.getToken({ signal: undefined })).accessToken, 'string');
    },
  );

  s.test(
    'invalid_argument: an init whose getter throws, and an init the platform refuses as a request, are refused as such (not a crash, not a network error)',
    async (emu) => {
      const dt = dynatrace(emu);
      // Copying such an init once threw out of the wasm, past every promise: the call never
      // settled and the process ended.
      const throwing = {
        get method() {
          throw new Error('no method today');
        },
      };
      await s.rejects(() => dt.fetch(ENV, throwing), 'invalid_argument', { message: 'init could not be read: no method today' });
      await s.rejects(() => dt.callAppFunction('my.emulator.app', 'echo', { a: 1 }, throwing), 'invalid_argument', {
        message: 'init could not be read: no method today',
      });
      // A signal getter that throws: refused as such, not taken for an absent signal.
      const noSignal = {
        get signal() {
          throw new Error('no signal today');
        },
      };
      for (const call of [() => dt.getToken(noSignal), () => dt.fetch(ENV, noSignal)]) {
        await s.rejects(call, 'invalid_argument', { message: 'the signal could not be read: no signal today' });
      }
      // The platform's fetch refuses these with the TypeError of a network failure.
      for (const init of [{ method: 'BAD METHOD' }, { method: 'GET', body: 'x' }, { mode: 'nonsense' }]) {
        const e = await s.rejects(() => dt.fetch(ENV, init), 'invalid_argument', { message: /^init is not a valid request: \S/ });
        assert.equal(e.hint, undefined, 'no network hint');
      }
      // A header value with a control character: Headers takes it, the HTTP layer refuses it.
      for (const [headers, name] of [[{ 'x-a': 'a\x01b' }, 'x-a'], [[['X-B', 'c\x7f']], 'x-b']]) {
        const e = await s.rejects(() => dt.fetch(ENV, { headers }), 'invalid_argument', {
          message: `init is not a valid request: header ${name} has a control character in its value`,
        });
        assert.equal(e.hint, undefined, 'no network hint');
      }
      assert.equal(emu.requests.filter((r) => r.role === 'dynatrace').length, 0, 'no API request was sent');
      // A stream body without duplex: Node (as browsers) refuses it as a network failure; Deno
      // sends it.
      const body = new ReadableStream({ start: (c) => { c.enqueue(new TextEncoder().encode('x')); c.close(); } });
      const streamed = await dt.fetch('/platform/echo', { method: 'POST', body }).then((r) => r, (e) => e);
      if (typeof Deno === 'undefined') {
        const e = s.checkApmError(streamed, 'invalid_argument', { message: 'init is not a valid request: a stream body needs duplex: "half"' });
        assert.equal(e.hint, undefined, 'no network hint');
      } else {
        assert.equal(streamed.status, 200);
      }
      assert.equal((await dt.fetch(ENV)).status, 200, 'the client still works');
    },
  );

  s.test('invalid_argument: a client used after free() says so (a rejected Promise where the method returns one); free() again does nothing', async (emu) => {
    const { DynatraceAccountClient } = ctx.lib;
    const a = emu.credentials.dynatraceAccount;
    const clients = [
      new DynatraceClient(dynatraceOptions(emu, { redirectUri: 'https://app.example/cb' })),
      new AppDynamicsClient(appdOptions(emu, emu.urls.appdynamics)),
      new OAuthClient({ tokenUrl: emu.urls.ssoToken, clientId: 'c', clientSecret: 's', baseUrl: emu.urls.dynatrace }),
      new DynatraceAccountClient({ accountUuid: a.accountUuid, clientId: a.clientId, clientSecret: a.clientSecret, tokenUrl: emu.urls.ssoToken }),
    ];
    // The methods that answer at once (index.d.ts); every other one returns a Promise.
    const sync = ['invalidate', 'stats', 'platformUrl', 'accountPath', 'isSignedIn'];
    let checked = 0;
    for (const c of clients) {
      const name = c.constructor.name;
      c.free();
      c.free();
      if (Symbol.dispose) c[Symbol.dispose]();
      assert.equal(String(c), `${name} (freed)`);
      assert.equal(JSON.stringify(c), '{}');
      const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(c)).filter(
        (k) => !['constructor', 'free', 'toString', 'toJSON'].includes(k) && !k.startsWith('_'),
      );
      for (const k of methods) {
        const props = { message: `${name}.${k}: this client was freed. Create a new ${name}`, hint: `create a new ${name}` };
        if (sync.includes(k)) {
          s.throws(() => c[k]('x'), 'invalid_argument', props);
        } else {
          const p = c[k]('/x');
          assert.ok(p instanceof Promise, `${name}.${k} returns a Promise after free()`);
          await s.rejects(p, 'invalid_argument', props);
        }
        checked++;
      }
    }
    // getToken, fetch, invalidate, stats of all four; the sign-in methods of two; the vendors' own.
    assert.ok(checked >= 30, `${checked} methods checked`);
    assert.equal(emu.requests.length, 0);
  });

  s.test('insecure_url: another origin', async (emu) => {
    const dt = dynatrace(emu);
    await s.rejects(dt.fetch(`${emu.urls.elsewhere}/x`), 'insecure_url');
    assert.equal(emu.counters.elsewhere.requests, 0);
  });

  s.test('invalid_client: Dynatrace SSO refuses the secret with HTTP 400, and every field is surfaced', async (emu) => {
    const wrong = 'dt0s02.EMULATOR.WRONGWRONGWRONGWRONGWRONGWRONGWRONGWRONGWRONGWRONGWRONGWRONGWRONGWR';
    s.addSecret(wrong);
    const dt = dynatrace(emu, { clientSecret: wrong });
    const e = await s.rejects(dt.getToken(), 'invalid_client', { status: 400, error: 'invalid_request' });
    assert.match(e.message, /client id or secret is wrong/);
    assert.match(e.issueId, /^[A-Z0-9]{16}$/);
    assert.ok(e.message.includes(e.issueId), 'the issueId is quoted in the message');
    assert.match(e.errorDescription, /ClientId or clientSecret is not correct/);
    assert.match(e.hint, /clientSecret/);
    assert.equal(e.retryAfter, undefined);
  });

  s.test('invalid_scope: the message names the missing scope', async (emu) => {
    const dt = dynatrace(emu, { scope: ['storage:logs:read', 'account-idm-read'] });
    const e = await s.rejects(dt.getToken(), 'invalid_scope', { status: 400, error: 'invalid_request' });
    assert.match(e.message, /\[account-idm-read\]/);
    assert.doesNotMatch(e.message, /storage:logs:read/);
    assert.match(e.errorDescription, /missing following scopes \[account-idm-read\]/);
    assert.match(e.hint, /scope/);
  });

  s.test('token_error: a resource of another account', async (emu) => {
    const dt = dynatrace(emu, { resource: 'urn:dtaccount:ffffffff-ffff-4fff-8fff-ffffffffffff' });
    const e = await s.rejects(dt.getToken(), 'token_error', { status: 400, error: 'invalid_request' });
    // The server's code word and the account's UUID are quoted (they look long, but are no
    // secrets), and one full stop ends the server's sentence before the hint.
    assert.match(e.message, /UNSUCCESSFUL_OAUTH_ACCESS_TOKEN_VALIDATION_FAILED \| The requested resource "urn:dtaccount:ffffffff-ffff-4fff-8fff-ffffffffffff" is not a valid account for this OAuth client\. Check /);
    assert.match(e.hint, /resource/);
    assert.match(e.issueId, /^[A-Z0-9]{16}$/);
  });

  s.test('token_error: a form-only request to a legacy AppDynamics controller', async (emu) => {
    const ad = s.track(new AppDynamicsClient(appdOptions(emu, emu.urls.appdynamicsLegacy, { tokenContentType: 'form' })));
    const e = await s.rejects(ad.getToken(), 'token_error', { status: 415 });
    assert.match(e.hint, /tokenContentType/);
  });

  s.test('invalid_response: an HTML page with 200 names the cause and points at the SSO', async (emu) => {
    emu.setFault('sso', 'token', { kind: 'html', status: 200, count: 1 });
    const dt = dynatrace(emu);
    const e = await s.rejects(dt.getToken(), 'invalid_response', { status: 200 });
    assert.match(e.message, /answered with HTML/);
    assert.match(e.hint, /SSO/);
    assert.doesNotMatch(e.message, /<html|<body|<form/i, 'no markup in the message');

    emu.setFault('sso', 'token', { kind: 'html', status: 400, count: 1 });
    const e400 = await s.rejects(dt.getToken(), 'token_error', { status: 400 });
    assert.match(e400.message, /answered with HTML/);
  });

  s.test('invalid_response: truncated JSON, an empty body, no access_token, a non-Bearer token_type', async (emu) => {
    const dt = dynatrace(emu);
    emu.setFault('sso', 'token', { kind: 'truncatedJson', count: 1 });
    let e = await s.rejects(dt.getToken(), 'invalid_response', { status: 200 });
    assert.match(e.message, /not JSON/);
    assert.doesNotMatch(e.message, /eyJ/, 'no part of the cut token is quoted');

    emu.setFault('sso', 'token', { kind: 'emptyBody', count: 1 });
    e = await s.rejects(dt.getToken(), 'invalid_response');
    assert.match(e.message, /empty body/);

    emu.setFault('sso', 'token', { kind: 'json', count: 1, body: { token_type: 'Bearer', expires_in: 300 } });
    e = await s.rejects(dt.getToken(), 'invalid_response');
    assert.match(e.message, /access_token/);

    emu.setFault('sso', 'token', { kind: 'json', count: 1, body: { access_token: 'mac-token-value-123456', token_type: 'mac', expires_in: 300 } });
    e = await s.rejects(dt.getToken(), 'invalid_response');
    assert.match(e.message, /token_type "mac"/);
    assert.match(e.message, /Bearer/);

    emu.setFault('sso', 'token', { kind: 'json', count: 1, body: '[1,2]' });
    await s.rejects(dt.getToken(), 'invalid_response');

    emu.setFault('sso', 'token', { kind: 'json', count: 1, body: { access_token: 'has space', token_type: 'Bearer' } });
    await s.rejects(dt.getToken(), 'invalid_response');
    assert.equal(emu.counters.sso.token, 6, 'invalid answers are not retried');
  });

  s.test('rate_limited: 429 with Retry-After and no retries left carries retryAfter', async (emu) => {
    emu.setFault('sso', 'token', { kind: 'rateLimit', retryAfter: 7 });
    const dt = dynatrace(emu, { maxRetries: 0 });
    const e = await s.rejects(dt.getToken(), 'rate_limited', { status: 429, retryAfter: 7 });
    assert.match(e.message, /retry after 7 s/);
    assert.equal(emu.counters.sso.token, 1);
    // An HTTP date: whole seconds from now, rounded up, as the message has them.
    const at = new Date(Math.floor(Date.now() / 1000) * 1000 + 90_000).toUTCString();
    emu.clearFaults();
    emu.setFault('sso', 'token', { kind: 'rateLimit', retryAfter: at });
    const d = await s.rejects(dt.getToken(), 'rate_limited', { status: 429 });
    assert.ok(Number.isInteger(d.retryAfter) && d.retryAfter >= 88 && d.retryAfter <= 90, String(d.retryAfter));
    assert.match(d.message, new RegExp(`retry after ${d.retryAfter} s`));
  });

  s.test('rate_limited: a Retry-After beyond 30 s is reported at once instead of slept on', async (emu) => {
    emu.setFault('sso', 'token', { kind: 'rateLimit', retryAfter: 120 });
    const dt = dynatrace(emu);
    await s.rejects(dt.getToken(), 'rate_limited', { status: 429, retryAfter: 120 });
    assert.equal(emu.counters.sso.token, 1);
  });

  s.test('429, 502/503/504 and network errors on the token request are retried (maxRetries)', async (emu) => {
    const dt = dynatrace(emu);
    emu.setFault('sso', 'token', { kind: 'rateLimit', retryAfter: 0, count: 1 });
    await dt.getToken();
    assert.equal(emu.counters.sso.token, 2);

    emu.reset();
    // A network failure the runtime cannot retry by itself: the first fetch throws, as a refused
    // connection does.
    let calls = 0;
    const flaky = (url, init) => (++calls === 2 ? Promise.reject(new TypeError('fetch failed')) : fetch(url, init));
    const dt2 = dynatrace(emu, { fetch: flaky });
    emu.setFault('sso', 'token', { kind: 'status', status: 503, count: 1 });
    await dt2.getToken();
    assert.equal(calls, 3);
    assert.equal(emu.counters.sso.token, 2, '503, (network failure), then the token');
    assert.equal(dt2.stats().tokenRequests, 3);

    emu.reset();
    const dt3 = dynatrace(emu, { maxRetries: 1 });
    emu.setFault('sso', 'token', { kind: 'status', status: 502 });
    const e = await s.rejects(dt3.getToken(), 'server_error', { status: 502 });
    assert.equal(emu.counters.sso.token, 2);
    // A retry of the same request is no other attempt: the message lists none.
    assert.doesNotMatch(e.message, /tried/);
  });

  s.test('server_error: 500 is reported with its status (and not retried)', async (emu) => {
    emu.setFault('sso', 'token', { kind: 'status', status: 500, body: { errorCode: 500, message: 'Internal Server Error', issueId: 'ABCDEFGHIJKLMNOP' } });
    const dt = dynatrace(emu, { maxRetries: 0 });
    const e = await s.rejects(dt.getToken(), 'server_error', { status: 500, issueId: 'ABCDEFGHIJKLMNOP' });
    assert.match(e.message, /500/);
    const again = dynatrace(emu);
    await s.rejects(again.getToken(), 'server_error', { status: 500 });
    assert.equal(emu.counters.sso.token, 2, '500 is not retried even with retries allowed');
  });

  s.test('network: a token URL where nothing listens, and a dropped connection', async (emu) => {
    // A port that was just in use and is closed now.
    const gone = await ctx.startEmulator();
    const closedTokenUrl = gone.urls.ssoToken;
    await gone.close();
    const dt = dynatrace(emu, { tokenUrl: closedTokenUrl, maxRetries: 0 });
    const e = await s.rejects(dt.getToken(), 'network');
    assert.ok(e.message.includes(new URL(closedTokenUrl).host), 'the message names the host');
    assert.equal(typeof e.hint, 'string');
    if (typeof document !== 'undefined') assert.match(e.hint, /CORS/);
    assert.equal(e.status, undefined);

    // Every connection closed without an answer (some runtimes retry a dropped request once by
    // themselves, so the fault stays for all of them).
    emu.setFault('sso', 'token', { kind: 'drop' });
    const dropped = dynatrace(emu, { maxRetries: 0 });
    await s.rejects(dropped.getToken(), 'network');

    emu.reset();
    const api = dynatrace(emu);
    await api.getToken();
    emu.setFault('dynatrace', 'api', { kind: 'drop' });
    await s.rejects(api.fetch(ENV), 'network');
    emu.clearFaults();
    assert.equal((await api.fetch(ENV)).status, 200, 'the client still works');
  });

  s.test('timeout: the token endpoint answers later than timeoutMs', async (emu) => {
    emu.setFault('sso', 'token', { kind: 'delay', ms: 700 });
    const dt = dynatrace(emu, { timeoutMs: 200, maxRetries: 0 });
    const e = await s.rejects(dt.getToken(), 'timeout');
    assert.match(e.message, /200 ms/);
    assert.match(e.hint, /timeoutMs/);
    assert.equal(emu.counters.sso.issued, 0, 'gave up before the answer');
    // Let the emulator finish the abandoned request, so that it cannot count into the next test.
    await waitFor(() => emu.counters.sso.issued === 1, 'the emulator to finish the delayed answer');
  });

  s.test('timeout: an API call answers later than timeoutMs', async (emu) => {
    const dt = dynatrace(emu, { timeoutMs: 300 });
    await dt.getToken();
    emu.setFault('dynatrace', 'api', { kind: 'delay', ms: 800, count: 1 });
    await s.rejects(dt.fetch(ENV), 'timeout');
    assert.equal((await dt.fetch(ENV)).status, 200, 'the client still works');
  });

  s.test('timeout and aborted: a fetch option that ignores the signal and never answers still ends the call', async (emu) => {
    let calls = 0;
    // Answers the token request, then never again (and never looks at the signal).
    const fetch = (url, init) => (calls++ === 0 ? globalThis.fetch(url, init) : new Promise(() => {}));
    const dt = dynatrace(emu, { timeoutMs: 200, maxRetries: 0, fetch });
    await s.rejects(dt.getToken({ signal: undefined }).then(() => dt.fetch(ENV)), 'timeout');
    const ac = new AbortController();
    const call = dt.fetch(ENV, { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await s.rejects(call, 'aborted');
    const silent = dynatrace(emu, { timeoutMs: 200, maxRetries: 0, fetch: () => new Promise(() => {}) });
    await s.rejects(silent.getToken(), 'timeout');
    assert.equal(calls, 3);
  });

  s.test('aborted: a signal that has already fired, before any IO', async (emu) => {
    const dt = dynatrace(emu);
    const plain = await s.rejects(dt.fetch(ENV, { signal: AbortSignal.abort() }), 'aborted');
    assert.equal(plain.cause?.name, 'AbortError', 'the signal\'s reason is the cause, as native fetch rejects with it');
    const ctl = new AbortController();
    const reason = new Error('user navigated away');
    ctl.abort(reason);
    assert.equal((await s.rejects(dt.fetch(ENV, { signal: ctl.signal }), 'aborted')).cause, reason);
    assert.equal((await s.rejects(dt.callAppFunction('my.emulator.app', 'echo', undefined, { signal: ctl.signal }), 'aborted')).cause, reason);
    assert.equal((await s.rejects(dt.getToken({ signal: ctl.signal }), 'aborted')).cause, reason);
    assert.equal(emu.requests.length, 0);
  });

  s.test('aborted: a signal that fires while the API call is in flight', async (emu) => {
    const dt = dynatrace(emu);
    await dt.getToken();
    emu.setFault('dynatrace', 'api', { kind: 'delay', ms: 2000, count: 1 });
    const ctl = new AbortController();
    const call = dt.fetch(ENV, { signal: ctl.signal });
    await waitFor(() => emu.counters.dynatrace.api === 1, 'the call to reach the emulator');
    ctl.abort('navigated away');
    assert.equal((await s.rejects(call, 'aborted')).cause, 'navigated away');
    // The caller's own timeout tells itself apart from timeoutMs (code timeout) by its cause.
    emu.setFault('dynatrace', 'api', { kind: 'delay', ms: 2000, count: 1 });
    const timedOut = await s.rejects(dt.fetch(ENV, { signal: AbortSignal.timeout(50) }), 'aborted');
    assert.equal(timedOut.cause?.name, 'TimeoutError');
    assert.equal((await dt.fetch(ENV)).status, 200);
  });

  s.test('aborted: a signal that fires while the token is being fetched rejects at once; other waiters still get the token', async (emu) => {
    emu.setFault('sso', 'token', { kind: 'delay', ms: 1000, count: 1 });
    const dt = dynatrace(emu);
    const ctl = new AbortController();
    const aborted = dt.fetch(ENV, { signal: ctl.signal });
    const other = dt.fetch(ENV, { signal: new AbortController().signal });
    const plain = dt.getToken();
    await waitFor(() => emu.counters.sso.token === 1, 'the token request to reach the emulator');
    const reason = new Error('closed');
    ctl.abort(reason);
    assert.equal((await s.rejects(aborted, 'aborted')).cause, reason);
    assert.equal(emu.counters.sso.issued, 0, 'rejected before the token arrived');
    assert.equal((await other).status, 200);
    await plain;
    assert.equal(emu.counters.sso.token, 1, 'the shared request went on for the others');
    assert.equal(emu.counters.dynatrace.api, 1);
  });

  s.test('aborted: when its only waiter is aborted the token request is dropped, and the next call starts afresh', async (emu) => {
    emu.setFault('sso', 'token', { kind: 'delay', ms: 1000, count: 1 });
    const dt = dynatrace(emu);
    const ctl = new AbortController();
    const call = dt.fetch(ENV, { signal: ctl.signal });
    await waitFor(() => emu.counters.sso.token === 1, 'the token request to reach the emulator');
    ctl.abort();
    await s.rejects(call, 'aborted');
    assert.equal(emu.counters.sso.issued, 0, 'rejected before the token arrived');
    assert.equal((await dt.fetch(ENV)).status, 200);
    // The emulator still answers the abandoned request (to a closed connection); wait for it.
    await waitFor(() => emu.counters.sso.issued === 2, 'the emulator to finish the delayed answer');
  });

  s.test('http_error: listApplications on an error status', async (emu) => {
    const ad = s.track(new AppDynamicsClient(appdOptions(emu, emu.urls.appdynamics)));
    emu.setFault('appdynamics', 'api', { kind: 'unauthorized', count: 1000 });
    const e = await s.rejects(ad.listApplications(), 'http_error', { status: 401 });
    assert.match(e.message, /Failed to authenticate: invalid access token\./);
    emu.reset();
    emu.setFault('appdynamics', 'api', { kind: 'status', status: 404, count: 1 });
    await s.rejects(ad.listApplications(), 'http_error', { status: 404 });
  });

  s.test('login_required: a sign-in client that never signed in, and a refused refresh', async (emu) => {
    const dt = s.track(new DynatraceClient(signinOptions(emu, { scope: ['openid'] })));
    let e = await s.rejects(dt.getToken(), 'login_required');
    assert.match(e.message, /signIn\(\)/);
    assert.equal(e.status, undefined);
    await s.rejects(dt.fetch(ENV), 'login_required');
    assert.equal(emu.requests.length, 0);

    emu.options.dynatrace.autoLogin = true;
    const location = await followAuthorize(emu, await dt.buildAuthorizationUrl());
    s.addSecret(new URL(location).searchParams.get('code'));
    s.addSecret((await dt.handleRedirect(location)).accessToken);
    emu.setFault('dtToken', 'token', { kind: 'refuseRefresh', count: 1 });
    dt.invalidate();
    e = await s.rejects(dt.getToken(), 'login_required');
    assert.match(e.message, /signIn\(\)/);
    assert.equal(dt.isSignedIn(), false);
  });

  s.test('authorization_error: an error redirect, a state not issued, a refused code exchange', async (emu) => {
    const dt = s.track(new DynatraceClient(signinOptions(emu, { scope: ['openid'], userInfoUrl: undefined })));
    const state = new URL(await dt.buildAuthorizationUrl()).searchParams.get('state');
    let e = await s.rejects(
      dt.handleRedirect(`${REDIRECT}?error=access_denied&error_description=The+user+said+no.&state=${encodeURIComponent(state)}`),
      'authorization_error',
      { error: 'access_denied', errorDescription: 'The user said no.' },
    );
    assert.match(e.message, /access_denied/);
    await s.rejects(dt.handleRedirect(`${REDIRECT}?code=abcdefghijklmnop&state=not-issued-by-this-client`), 'authorization_error');

    emu.options.dynatrace.autoLogin = true;
    emu.setFault('dtToken', 'token', { kind: 'expiredCode', count: 1 });
    const location = await followAuthorize(emu, await dt.buildAuthorizationUrl());
    s.addSecret(new URL(location).searchParams.get('code'));
    e = await s.rejects(dt.handleRedirect(location), 'authorization_error', { status: 400, error: 'invalid_grant', errorDescription: 'The authorization code expired.' });
    assert.equal(emu.counters.dtToken.code, 1);
  });

  s.test('every code of ERROR_CODES was produced by this module', () => {
    const seen = new Set(s.errors.map((e) => e.code));
    for (const code of seen) assert.ok(ERROR_CODES.includes(code), `${code} is listed`);
    assert.deepEqual([...ERROR_CODES].filter((c) => !seen.has(c)), []);
  });

  s.finish();
}

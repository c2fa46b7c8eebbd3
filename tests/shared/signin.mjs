// Signing a user in (issue 10): authorization code + PKCE (S256) against the emulator's Dynatrace
// SSO (authorize page, token.dynatrace.com code and refresh grants, userinfo, discovery), the
// refresh token grant (single flight, rotation, the 401 retry, a refused refresh), stateStorage
// across a reload, tokenStore (sign-in and client credentials), OAuthClient with `issuer`, the new
// error codes, and that no code, verifier, refresh token, ID token or access token leaks.
import { createSuite, requestsOf, waitFor, sleep } from './harness.mjs';

const ENV = '/platform/management/v1/environment';
/** Any loopback redirect URI is allowed for the emulator's public client; nothing listens there. */
export const REDIRECT = 'http://127.0.0.1:8765/callback';
const SCOPE = ['openid', 'storage:logs:read'];
const DEFAULT_USER = 'emulator.user@example.com';

/** Options of a Dynatrace sign-in client on the emulator (endpoints passed explicitly). */
export function signinOptions(emu, extra = {}) {
  return {
    environmentUrl: emu.urls.dynatrace,
    clientId: emu.credentials.dynatraceUser.clientId,
    redirectUri: REDIRECT,
    scope: SCOPE,
    authorizationUrl: emu.urls.ssoAuthorize,
    tokenUrl: emu.urls.dtToken,
    userInfoUrl: emu.urls.ssoUserInfo,
    ...extra,
  };
}

function xmlUnescape(s) {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/**
 * Plays the browser between the authorize URL and the redirect back: GET the authorize URL
 * (a 302 at once with autoLogin or an error redirect, else the login page, whose form is posted
 * like a user would) and returns the Location of the redirect back to the app.
 */
export async function followAuthorize(emu, url, { user = DEFAULT_USER, deny = false } = {}) {
  const res = await fetch(url, { redirect: 'manual' });
  if (res.status === 302 || res.status === 303) {
    await res.arrayBuffer();
    return res.headers.get('location');
  }
  const html = await res.text();
  if (res.status !== 200) throw new Error(`the authorize page answered ${res.status}: ${html.slice(0, 300)}`);
  const form = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) form.append(m[1], xmlUnescape(m[2]));
  const action = /<form id="login" method="post" action="([^"]+)">/.exec(html);
  if (!action) throw new Error('no login form on the authorize page');
  form.set('user', user);
  form.set('action', deny ? 'deny' : 'sign-in');
  const post = await fetch(new URL(xmlUnescape(action[1]), url), { method: 'POST', body: form, redirect: 'manual' });
  await post.arrayBuffer();
  if (post.status !== 302) throw new Error(`the login form post answered ${post.status}`);
  return post.headers.get('location');
}

/** base64url(SHA-256(text)) with WebCrypto, as RFC 7636 S256. */
export async function s256(text) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return btoa(String.fromCharCode(...digest)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The id_token's header as the emulator writes it (unsigned JWT): no text may hold it. */
const ID_TOKEN_HEADER = `${btoa(JSON.stringify({ alg: 'none', typ: 'JWT' })).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}.`;

/** A Storage-like object over a Map, recording the calls. */
export function memoryStorage() {
  const map = new Map();
  const calls = [];
  return {
    map,
    calls,
    getItem(k) {
      calls.push(['getItem', k]);
      return map.has(k) ? map.get(k) : null;
    },
    setItem(k, v) {
      calls.push(['setItem', k]);
      map.set(k, String(v));
    },
    removeItem(k) {
      calls.push(['removeItem', k]);
      map.delete(k);
    },
  };
}

/** A tokenStore recording what it is given; `async` makes both methods return Promises. */
export function recordingStore(initial = null, { async = false } = {}) {
  const store = {
    value: initial,
    sets: [],
    gets: 0,
    get() {
      store.gets += 1;
      const v = store.value === null ? null : { ...store.value };
      return async ? Promise.resolve(v) : v;
    },
    set(tokens) {
      store.sets.push(tokens === null ? null : { ...tokens });
      store.value = tokens === null ? null : { ...tokens };
      return async ? Promise.resolve() : undefined;
    },
  };
  return store;
}

export function signinCases(ctx) {
  const s = createSuite(ctx);
  const { assert } = ctx;
  const { DynatraceClient, AppDynamicsClient, OAuthClient } = ctx.lib;
  s.addSecret(ID_TOKEN_HEADER);

  const signin = (emu, extra) => s.track(new DynatraceClient(signinOptions(emu, extra)));

  /** Every code, verifier and refresh token the emulator was sent joins the secrets. */
  function harvest(emu) {
    for (const r of requestsOf(emu, 'dtToken')) {
      const p = new URLSearchParams(r.body);
      for (const k of ['code', 'code_verifier', 'refresh_token']) s.addSecret(p.get(k));
    }
  }
  function rememberStore(store) {
    for (const t of store.sets) if (t) for (const k of ['accessToken', 'refreshToken']) s.addSecret(t[k]);
  }
  function rememberLocation(location) {
    const u = new URL(location);
    s.addSecret(u.searchParams.get('code'));
  }

  /** Signs `client` in through the login form; returns { url, location, token }. */
  async function signIn(emu, client, opts) {
    const url = await client.buildAuthorizationUrl();
    const location = await followAuthorize(emu, url, opts);
    rememberLocation(location);
    const token = await client.handleRedirect(location);
    harvest(emu);
    if (token) s.addSecret(token.accessToken);
    return { url, location, token };
  }

  /** The one request of a grant to the dtToken role, as form parameters. */
  /**
   * Two clients on `store`, the user signed in with the first and the second holding the same
   * tokens; both tokens then expire, and both clients ask for one at once: the clients and the
   * tokens they got.
   */
  async function refreshAtOnce(emu, store) {
    const a = signin(emu, { tokenStore: store });
    await signIn(emu, a);
    const b = signin(emu, { tokenStore: store });
    await b.getToken();
    emu.expireTokens();
    a.invalidate();
    b.invalidate();
    const [ra, rb] = await Promise.all([a.getToken(), b.getToken()]);
    harvest(emu);
    rememberStore(store);
    return { a, b, ra, rb };
  }

  function grantRequests(emu, grant) {
    return requestsOf(emu, 'dtToken')
      .map((r) => ({ ...r, params: new URLSearchParams(r.body) }))
      .filter((r) => r.params.get('grant_type') === grant);
  }

  // ------------------------------------------------------------------------------------------
  // The authorize URL

  s.test('buildAuthorizationUrl: the authorize URL with PKCE S256, a fresh state, resource and authorizationParams; no request', async (emu) => {
    const dt = signin(emu, { authorizationParams: { prompt: 'consent', login_hint: 'jane.doe@example.com' } });
    const a = await dt.buildAuthorizationUrl();
    const b = await dt.buildAuthorizationUrl();
    assert.equal(typeof a, 'string');
    for (const url of [a, b]) {
      const u = new URL(url);
      assert.equal(`${u.origin}${u.pathname}`, emu.urls.ssoAuthorize);
      const q = u.searchParams;
      assert.equal(q.get('response_type'), 'code');
      assert.equal(q.get('client_id'), 'dt0s12.EMULATOR');
      assert.equal(q.get('redirect_uri'), REDIRECT);
      assert.equal(q.get('scope'), 'openid storage:logs:read', 'scope is space separated');
      assert.equal(q.get('code_challenge_method'), 'S256');
      assert.match(q.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
      assert.match(q.get('state'), /^[A-Za-z0-9_~.-]{16,}$/, 'state is long enough and URL safe');
      assert.equal(q.get('resource'), emu.urls.dynatrace);
      assert.equal(q.get('prompt'), 'consent');
      assert.equal(q.get('login_hint'), 'jane.doe@example.com');
      assert.equal(q.getAll('state').length, 1);
      assert.equal(q.has('client_secret'), false);
      assert.equal(q.has('code_verifier'), false, 'the verifier never goes to the authorize endpoint');
    }
    const qa = new URL(a).searchParams;
    const qb = new URL(b).searchParams;
    assert.notEqual(qa.get('state'), qb.get('state'), 'a fresh state per call');
    assert.notEqual(qa.get('code_challenge'), qb.get('code_challenge'), 'a fresh verifier per call');
    assert.equal(emu.requests.length, 0, 'building the URL makes no request');
    assert.equal(dt.isSignedIn(), false);
    // Without scope, openid (Dynatrace's SSO signs users in with OpenID Connect).
    const bare = signin(emu, { scope: undefined });
    assert.equal(new URL(await bare.buildAuthorizationUrl()).searchParams.get('scope'), 'openid');
  });

  s.test('signIn() without a location (Node, Deno) resolves to the authorize URL', async (emu) => {
    const dt = signin(emu);
    const url = await dt.signIn();
    assert.equal(typeof url, 'string');
    const u = new URL(url);
    assert.equal(`${u.origin}${u.pathname}`, emu.urls.ssoAuthorize);
    assert.equal(u.searchParams.get('response_type'), 'code');
    assert.equal(u.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(u.searchParams.get('resource'), emu.urls.dynatrace);
    // The state it issued is redeemable by the same client.
    const location = await followAuthorize(emu, url);
    rememberLocation(location);
    const token = await dt.handleRedirect(location);
    harvest(emu);
    assert.equal(token.tokenType, 'Bearer');
    assert.equal(dt.isSignedIn(), true);
  });

  s.test('the endpoints default to the stage of environmentUrl (authorize, token, userinfo)', async () => {
    const stages = [
      ['https://abc12345.apps.dynatrace.com', 'https://sso.dynatrace.com/oauth2/authorize', 'https://token.dynatrace.com/sso/oauth2/token', 'https://sso.dynatrace.com/sso/oauth2/userinfo'],
      ['https://abc12345.sprint.apps.dynatracelabs.com', 'https://sso-sprint.dynatracelabs.com/oauth2/authorize', 'https://hard.token.dynatracelabs.com/sso/oauth2/token', 'https://sso-sprint.dynatracelabs.com/sso/oauth2/userinfo'],
      ['https://abc12345.dev.apps.dynatracelabs.com', 'https://sso-dev.dynatracelabs.com/oauth2/authorize', 'https://dev.token.dynatracelabs.com/sso/oauth2/token', 'https://sso-dev.dynatracelabs.com/sso/oauth2/userinfo'],
      // A sprint environment's classic host.
      ['https://abc12345.sprint.dynatracelabs.com', 'https://sso-sprint.dynatracelabs.com/oauth2/authorize', 'https://hard.token.dynatracelabs.com/sso/oauth2/token', 'https://sso-sprint.dynatracelabs.com/sso/oauth2/userinfo'],
    ];
    for (const [environmentUrl, authorize, token, userinfo] of stages) {
      const seen = [];
      // No network: a transport that answers like the endpoints would.
      const transport = async (input, init) => {
        const url = String(input instanceof Request ? input.url : input);
        seen.push(url);
        if (url.startsWith(token)) {
          return new Response(JSON.stringify({ access_token: 'stage-access-token-0123456789', token_type: 'Bearer', expires_in: 300, refresh_token: 'stage-refresh-token-0123456789', scope: 'openid' }), {
            status: 200,
            headers: { 'content-type': 'application/json' },
          });
        }
        if (url.startsWith(userinfo)) return new Response(JSON.stringify({ sub: 's', email: 'e@example.com', name: 'E' }), { headers: { 'content-type': 'application/json' } });
        return new Response('unexpected', { status: 599 });
      };
      s.addSecret('stage-access-token-0123456789');
      s.addSecret('stage-refresh-token-0123456789');
      const dt = s.track(new DynatraceClient({ environmentUrl, clientId: 'dt0s12.STAGE', redirectUri: 'https://console.example.com/callback', scope: 'openid', fetch: transport }));
      const url = await dt.buildAuthorizationUrl();
      assert.ok(url.startsWith(`${authorize}?`), `${environmentUrl}: ${url.split('?')[0]}`);
      const state = new URL(url).searchParams.get('state');
      const t = await dt.handleRedirect(`https://console.example.com/callback?code=stage-code-0123456789&state=${encodeURIComponent(state)}`);
      assert.equal(t.accessToken, 'stage-access-token-0123456789');
      assert.equal(seen.length, 1);
      assert.ok(seen[0].startsWith(token), `${environmentUrl}: token URL ${seen[0]}`);
      assert.deepEqual(await dt.userInfo(), { sub: 's', email: 'e@example.com', name: 'E' });
      assert.ok(seen[1].startsWith(userinfo), `${environmentUrl}: userinfo URL ${seen[1]}`);
    }
  });

  // ------------------------------------------------------------------------------------------
  // The redirect back

  s.test('the login form, the code exchange with the verifier, then fetch and userInfo as the user', async (emu) => {
    const dt = signin(emu);
    assert.equal(dt.isSignedIn(), false);
    const before = Date.now();
    const { url, location, token } = await signIn(emu, dt, { user: 'jane.doe@example.com' });
    assert.equal(emu.counters.sso.login, 1, 'signed in through the form');
    const back = new URL(location);
    assert.equal(`${back.origin}${back.pathname}`, REDIRECT);
    assert.equal(back.searchParams.get('state'), new URL(url).searchParams.get('state'));

    assert.deepEqual(Object.keys(token).sort().filter((k) => !['resource'].includes(k)), ['accessToken', 'expiresAt', 'scope', 'tokenType']);
    assert.equal(token.tokenType, 'Bearer');
    assert.equal(typeof token.accessToken, 'string');
    assert.equal(token.scope, 'openid storage:logs:read');
    assert.ok(token.expiresAt >= before + 299_000 && token.expiresAt <= Date.now() + 300_000, `expiresAt ${token.expiresAt - Date.now()} ms ahead`);
    assert.equal(dt.isSignedIn(), true);

    // The code grant on the wire: public client, no secret, the verifier matches the challenge.
    const [grant] = grantRequests(emu, 'authorization_code');
    assert.equal(emu.counters.dtToken.code, 1);
    assert.equal(emu.counters.dtToken.issued, 1);
    assert.equal(emu.counters.sso.token, 0, 'the code grant goes to token.dynatrace.com, not to the client-credentials endpoint');
    assert.equal(grant.params.get('code'), back.searchParams.get('code'));
    assert.equal(grant.params.get('redirect_uri'), REDIRECT);
    assert.equal(grant.params.get('client_id'), 'dt0s12.EMULATOR');
    assert.equal(grant.params.has('client_secret'), false);
    assert.equal(grant.headers.authorization, undefined, 'a public client sends no Authorization');
    assert.match(grant.headers['content-type'], /^application\/x-www-form-urlencoded/);
    const verifier = grant.params.get('code_verifier');
    assert.match(verifier, /^[A-Za-z0-9\-._~]{43,128}$/);
    assert.equal(await s256(verifier), new URL(url).searchParams.get('code_challenge'));

    const res = await dt.fetch(ENV);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).environmentId, 'abc12345');
    const [api] = requestsOf(emu, 'dynatrace');
    assert.equal(api.headers.authorization, `Bearer ${token.accessToken}`);

    const info = await dt.userInfo();
    assert.deepEqual(info, { sub: info.sub, email: 'jane.doe@example.com', name: 'Jane Doe' });
    assert.match(info.sub, /^[0-9a-f]{8}-/);
    const [infoRequest] = requestsOf(emu, 'sso', '/sso/oauth2/userinfo');
    assert.equal(infoRequest.headers.authorization, `Bearer ${token.accessToken}`);
    assert.equal(emu.counters.sso.userinfo, 1);

    const again = await dt.getToken();
    assert.equal(again.accessToken, token.accessToken, 'the cached user token');
    const st = dt.stats();
    assert.equal(st.tokenRequests, 1);
    assert.equal(st.refreshTokenGrants, 0);
    assert.equal(emu.counters.dtToken.token, 1);
  });

  s.test('autoLogin: the authorize request redirects back at once', async (emu) => {
    emu.options.dynatrace.autoLogin = true;
    const dt = signin(emu);
    const { token } = await signIn(emu, dt);
    assert.equal(emu.counters.sso.login, 0);
    assert.equal(emu.counters.sso.authorize, 1);
    assert.equal(token.tokenType, 'Bearer');
    const info = await dt.userInfo();
    assert.deepEqual(info, { sub: info.sub, email: DEFAULT_USER, name: 'Emulator User' });
  });

  s.test('userInfo: a 2xx answer without claims (HTML, a JSON array, an empty object) is invalid_response; a body that stalls ends with timeout at timeoutMs', async (emu) => {
    let answer;
    let userInfoInit;
    const fetch = (input, init) => {
      if (String(input) !== emu.urls.ssoUserInfo) return globalThis.fetch(input, init);
      userInfoInit = init;
      return Promise.resolve(answer());
    };
    const dt = signin(emu, { fetch, timeoutMs: 300 });
    await signIn(emu, dt);
    const json = { 'content-type': 'application/json' };
    answer = () => new Response('<html><title>Sign in</title></html>', { status: 200, headers: { 'content-type': 'text/html' } });
    await s.rejects(dt.userInfo(), 'invalid_response', { status: 200 });
    answer = () => new Response('[1,2]', { status: 200, headers: json });
    await s.rejects(dt.userInfo(), 'invalid_response', { status: 200 });
    answer = () => new Response('{}', { status: 200, headers: json });
    await s.rejects(dt.userInfo(), 'invalid_response', { status: 200 });
    answer = () => new Response('{}', { status: 500, headers: json });
    await s.rejects(dt.userInfo(), 'http_error', { status: 500 });
    answer = () => new Response(new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode('{"sub":')) }), { status: 200, headers: json });
    await s.rejects(dt.userInfo(), 'timeout', { message: /within 300 ms/ });
    assert.equal(userInfoInit.signal.aborted, true, 'the stalled call was aborted');
    answer = () => new Response('{"sub":"s"}', { status: 200, headers: json });
    assert.deepEqual(await dt.userInfo(), { sub: 's' });
  });

  s.test('userInfo: a 401 gets one refresh and one retry, as every authenticated call; a second 401 is http_error', async (emu) => {
    let refusals = 0;
    const sent = [];
    const fetch = (input, init) => {
      if (String(input) !== emu.urls.ssoUserInfo) return globalThis.fetch(input, init);
      sent.push(new Headers(init.headers).get('authorization'));
      if (refusals-- > 0) {
        return Promise.resolve(new Response('{"error":"invalid_token"}', { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } }));
      }
      return globalThis.fetch(input, init);
    };
    const dt = signin(emu, { fetch });
    const { token } = await signIn(emu, dt);
    refusals = 1;
    const info = await dt.userInfo();
    assert.equal(info.email, DEFAULT_USER);
    assert.equal(sent.length, 2);
    assert.equal(sent[0], `Bearer ${token.accessToken}`);
    assert.notEqual(sent[1], sent[0], 'the retry carries the new token');
    harvest(emu);
    assert.equal(dt.stats().refreshTokenGrants, 1);
    assert.equal(dt.stats().unauthorizedRetries, 1);
    refusals = 2;
    await s.rejects(dt.userInfo(), 'http_error', { status: 401, error: 'invalid_token', hint: /sign in again/ });
    harvest(emu);
    assert.equal(sent.length, 4, 'one retry only');
    assert.equal(dt.stats().refreshTokenGrants, 2);
  });

  s.test("userInfo: a refusal carries the error of its WWW-Authenticate Bearer challenge (RFC 6750), else of its JSON body, and a hint to match", async (emu) => {
    let answer;
    const fetch = (input, init) => (String(input) === emu.urls.ssoUserInfo ? Promise.resolve(answer()) : globalThis.fetch(input, init));
    const dt = signin(emu, { fetch });
    await signIn(emu, dt);
    const refusal = (status, challenge, body = '') => () =>
      new Response(body, { status, headers: { 'content-type': 'application/json', ...(challenge && { 'www-authenticate': challenge }) } });
    answer = refusal(403, 'Basic realm="sso", Bearer realm="sso", error="insufficient_scope", error_description="The \\"openid\\" scope is required", scope="openid"');
    await s.rejects(dt.userInfo(), 'http_error', {
      status: 403,
      error: 'insufficient_scope',
      errorDescription: 'The "openid" scope is required',
      message: /HTTP 403 without the user's claims \(insufficient_scope: The "openid" scope is required\)/,
      hint: /^include openid \(and profile or email for those claims\) in scope/,
    });
    answer = refusal(401, 'Bearer error="invalid_token", error_description="The access token was revoked"', '{"error":"other"}');
    await s.rejects(dt.userInfo(), 'http_error', { status: 401, error: 'invalid_token', errorDescription: 'The access token was revoked', hint: /even after a refresh/ });
    // No challenge with an error: the body's fields.
    answer = refusal(401, 'Bearer realm="sso"', '{"error":"invalid_token","error_description":"expired"}');
    await s.rejects(dt.userInfo(), 'http_error', { status: 401, error: 'invalid_token', errorDescription: 'expired' });
    // Neither: the status alone, and the scope hint.
    answer = refusal(401, '', 'nope');
    const e = await s.rejects(dt.userInfo(), 'http_error', { status: 401, hint: /include the openid scope/ });
    assert.equal(e.error, undefined);
  });

  s.test('handleRedirect: null for a URL with neither code nor error, without any request', async (emu) => {
    const dt = signin(emu);
    await dt.buildAuthorizationUrl();
    for (const href of [REDIRECT, `${REDIRECT}?foo=1`, `${REDIRECT}#x`, `${emu.urls.dynatrace}/app/page?tab=2`]) {
      assert.equal(await dt.handleRedirect(href), null, href);
    }
    assert.equal(emu.requests.length, 0);
    assert.equal(dt.isSignedIn(), false);
  });

  s.test('handleRedirect on a page load (no code): the tokenStore is read, so isSignedIn() knows a user signed in before; nothing is requested', async (emu) => {
    const store = recordingStore(null, { async: true });
    const first = signin(emu, { tokenStore: store });
    await signIn(emu, first);
    rememberStore(store);
    const tokenRequests = emu.counters.dtToken.token;
    // The next page load: a new client on the same store.
    const page = signin(emu, { tokenStore: store });
    assert.equal(page.isSignedIn(), false, 'nothing read yet');
    assert.equal(await page.handleRedirect(`${REDIRECT}?tab=2`), null);
    assert.equal(page.isSignedIn(), true);
    assert.equal((await page.getToken()).accessToken, store.value.accessToken);
    // A stale stored token with its refresh token: signed in too (the refresh comes with the first call).
    store.value = { ...store.value, expiresAt: Date.now() - 1000 };
    const later = signin(emu, { tokenStore: store });
    assert.equal(await later.handleRedirect(REDIRECT), null);
    assert.equal(later.isSignedIn(), true);
    assert.equal(emu.counters.dtToken.token, tokenRequests, 'no token request');
    // An empty store: signed out.
    const empty = signin(emu, { tokenStore: recordingStore() });
    assert.equal(await empty.handleRedirect(REDIRECT), null);
    assert.equal(empty.isSignedIn(), false);
  });

  s.test('authorization_error: an error redirect keeps error and errorDescription, and exchanges nothing', async (emu) => {
    emu.setFault('sso', 'authorize', { kind: 'errorRedirect', error: 'access_denied', description: 'The user said no.', count: 1 });
    const dt = signin(emu);
    const location = await followAuthorize(emu, await dt.buildAuthorizationUrl());
    assert.equal(new URL(location).searchParams.get('error'), 'access_denied');
    const e = await s.rejects(dt.handleRedirect(location), 'authorization_error', { error: 'access_denied', errorDescription: 'The user said no.' });
    assert.match(e.message, /access_denied/);
    assert.equal(emu.counters.dtToken.token, 0);
    assert.equal(dt.isSignedIn(), false);

    // The user pressing Cancel on the login page.
    const denied = await followAuthorize(emu, await dt.buildAuthorizationUrl(), { deny: true });
    await s.rejects(dt.handleRedirect(denied), 'authorization_error', { error: 'access_denied', errorDescription: /cancelled/ });
    assert.equal(emu.counters.dtToken.token, 0);
  });

  s.test('authorization_error: a state this client did not issue, or none, is refused before any token request', async (emu) => {
    // Each with its own state storage (Deno has a process-wide sessionStorage, the default there).
    const dt = signin(emu, { stateStorage: memoryStorage() });
    const other = signin(emu, { stateStorage: memoryStorage() });
    // Never started a sign-in.
    await s.rejects(dt.handleRedirect(`${REDIRECT}?code=forged-code-0123456789&state=forged-state-0123456789`), 'authorization_error');
    // Started one, and the redirect carries another state.
    await dt.buildAuthorizationUrl();
    await s.rejects(dt.handleRedirect(`${REDIRECT}?code=forged-code-0123456789&state=forged-state-0123456789`), 'authorization_error');
    await s.rejects(dt.handleRedirect(`${REDIRECT}?code=forged-code-0123456789`), 'authorization_error');
    // A real code and state, issued for another client instance (another state storage).
    const location = await followAuthorize(emu, await other.buildAuthorizationUrl());
    rememberLocation(location);
    await s.rejects(dt.handleRedirect(location), 'authorization_error');
    assert.equal(emu.counters.dtToken.token, 0, 'nothing was exchanged');
    assert.equal(dt.isSignedIn(), false);
    // The rightful client can still redeem it.
    const t = await other.handleRedirect(location);
    harvest(emu);
    assert.equal(t.tokenType, 'Bearer');
    // An error with a state this client did not issue (a crafted link) is no refusal by the
    // server: the state is what is wrong, and the pending sign-in still stands.
    const third = signin(emu, { stateStorage: memoryStorage() });
    const url = await third.buildAuthorizationUrl();
    const crafted = await s.rejects(third.handleRedirect(`${REDIRECT}?error=access_denied&error_description=Your+account+is+locked&state=forged-state-0123456789`), 'authorization_error', {
      message: /a state this client did not issue/,
    });
    assert.equal(crafted.error, undefined);
    assert.equal(crafted.errorDescription, undefined);
    const pending = await followAuthorize(emu, url);
    rememberLocation(pending);
    assert.equal((await third.handleRedirect(pending)).tokenType, 'Bearer');
    harvest(emu);
  });

  s.test('invalid_config: a redirectUri with a fragment is refused (RFC 6749 §3.1.2)', (emu) => {
    for (const redirectUri of [`${REDIRECT}#done`, `${REDIRECT}#`]) {
      s.throws(() => signin(emu, { redirectUri }), 'invalid_config', { message: /^DynatraceClient: redirectUri must have no fragment/ });
      s.throws(() => s.track(new OAuthClient({ issuer: emu.urls.sso, clientId: 'c', redirectUri })), 'invalid_config', { message: /^OAuthClient: redirectUri must have no fragment/ });
    }
    assert.equal(emu.requests.length, 0);
  });

  s.test('authorization_error: a state is single use (the same redirect handled twice)', async (emu) => {
    const dt = signin(emu);
    const { location } = await signIn(emu, dt);
    await s.rejects(dt.handleRedirect(location), 'authorization_error');
    assert.equal(emu.counters.dtToken.code, 1, 'the used state does not reach the token endpoint again');
    assert.equal(dt.isSignedIn(), true, 'the first sign-in stands');
    assert.equal((await dt.fetch(ENV)).status, 200);
    // Handled twice at once (a framework that runs its effect twice): both calls read the
    // storage before either removes the state; one exchange, and the other call is refused
    // before any token request.
    const twice = signin(emu, { stateStorage: memoryStorage() });
    const back = await followAuthorize(emu, await twice.buildAuthorizationUrl());
    rememberLocation(back);
    const [a, b] = await Promise.allSettled([twice.handleRedirect(back), twice.handleRedirect(back)]);
    assert.equal(a.status, 'fulfilled');
    assert.equal(b.status, 'rejected');
    s.checkApmError(b.reason, 'authorization_error');
    assert.equal(grantRequests(emu, 'authorization_code').length, 2, 'one more code exchange sent, not two');
    assert.match(b.reason.message, /state/, 'refused for its state, not by the token endpoint');
  });

  s.test('invalid_client: a code exchange refused for the client\'s credentials says so, not that the code expired', async (emu) => {
    const fetch = (input, init) =>
      String(input) === emu.urls.dtToken
        ? Promise.resolve(
            new Response(JSON.stringify({ error: 'invalid_client', error_description: 'Client authentication failed' }), {
              status: 401,
              headers: { 'content-type': 'application/json' },
            }),
          )
        : globalThis.fetch(input, init);
    const dt = signin(emu, { fetch });
    const location = await followAuthorize(emu, await dt.buildAuthorizationUrl());
    rememberLocation(location);
    const e = await s.rejects(dt.handleRedirect(location), 'invalid_client', { status: 401, error: 'invalid_client' });
    assert.doesNotMatch(`${e.message} ${e.hint}`, /expired|used already/);
    assert.equal(dt.isSignedIn(), false);
  });

  s.test('the latest of several sign-in attempts completes', async (emu) => {
    const dt = signin(emu);
    await dt.buildAuthorizationUrl();
    const { token } = await signIn(emu, dt);
    assert.equal(token.tokenType, 'Bearer');
  });

  s.test('authorization_error: a refused code exchange (expired code) keeps status, error and errorDescription', async (emu) => {
    emu.setFault('dtToken', 'token', { kind: 'expiredCode', count: 1 });
    const dt = signin(emu);
    const url = await dt.buildAuthorizationUrl();
    const location = await followAuthorize(emu, url);
    rememberLocation(location);
    const e = await s.rejects(dt.handleRedirect(location), 'authorization_error', { status: 400, error: 'invalid_grant', errorDescription: 'The authorization code expired.' });
    harvest(emu);
    assert.equal(typeof e.message, 'string');
    assert.equal(emu.counters.dtToken.code, 1, 'a refusal is not retried');
    assert.equal(dt.isSignedIn(), false);
    await s.rejects(dt.getToken(), 'login_required');
    // Signing in again works.
    const again = await signIn(emu, dt);
    assert.equal(again.token.tokenType, 'Bearer');
  });

  // ------------------------------------------------------------------------------------------
  // Refresh

  s.test('a refresh answered 408 (or another status that says nothing of the token) fails that call and keeps the user signed in', async (emu) => {
    const dt = signin(emu);
    await signIn(emu, dt);
    dt.invalidate();
    emu.setFault('dtToken', 'token', { kind: 'status', status: 408, count: 1 });
    const e = await s.rejects(dt.getToken(), 'token_error', { status: 408 });
    assert.notEqual(e.code, 'login_required');
    assert.equal(dt.isSignedIn(), true);
    s.addSecret((await dt.getToken()).accessToken);
    harvest(emu);
    assert.equal(grantRequests(emu, 'refresh_token').length, 2, 'the same refresh token, sent again, works');
  });

  s.test('a tokenStore whose writes start failing: the client refreshes with its own rotated refresh token, not the older one the store still holds', async (emu) => {
    emu.options.dynatrace.tokenLifetimeSeconds = 1;
    const store = recordingStore();
    let full = false;
    const set = store.set.bind(store);
    store.set = (t) => {
      if (full) throw new Error('QuotaExceededError');
      set(t);
    };
    const dt = signin(emu, { tokenStore: store });
    await signIn(emu, dt);
    rememberStore(store);
    full = true;
    await sleep(700);
    s.addSecret((await dt.getToken()).accessToken);
    await sleep(700);
    const t = await dt.getToken();
    s.addSecret(t.accessToken);
    harvest(emu);
    assert.equal(emu.counters.dtToken.refresh, 2, 'both refreshes were granted');
    assert.equal(dt.isSignedIn(), true);
  });

  s.test('two clients sharing a tokenStore refresh at once: the one whose rotated refresh token is refused takes the other\'s tokens from the store instead of signing the user out', async (emu) => {
    for (const async of [false, true]) {
      emu.reset();
      const store = recordingStore(null, { async });
      const { a, b, ra, rb } = await refreshAtOnce(emu, store);
      assert.equal(emu.counters.dtToken.issued, 2, 'one refresh was granted (after the code), the other refused');
      assert.equal(grantRequests(emu, 'refresh_token').length, 2);
      assert.equal(ra.accessToken, rb.accessToken, 'both hold the granted token');
      assert.equal(store.sets.includes(null), false, 'the store was never emptied');
      assert.equal(store.value.accessToken, ra.accessToken);
      assert.equal(a.isSignedIn() && b.isSignedIn(), true);
      // A third client on the store starts signed in.
      assert.equal((await signin(emu, { tokenStore: store }).getToken()).accessToken, ra.accessToken);
      // A refresh token refused while the store holds no other one still signs the user out.
      store.value = { ...store.value, expiresAt: Date.now() - 1000, refreshToken: 'revoked-refresh-token' };
      s.addSecret('revoked-refresh-token');
      const c = signin(emu, { tokenStore: store });
      await s.rejects(c.getToken(), 'login_required', { status: 400, error: 'invalid_grant' });
      assert.equal(store.value, null, 'the refused tokens are gone from the store');
    }
  });

  s.test('two clients sharing a tokenStore with lock(fn) refresh one at a time: one refresh grant, the other takes its tokens, nobody is signed out even when the first write lands late', async (emu) => {
    // Without a lock, the refused client reads the store before the late write lands and signs
    // the user out: the lock closes that window for processes sharing a store.
    const store = recordingStore(null, { async: true });
    const set = store.set.bind(store);
    store.set = (t) => sleep(100).then(() => set(t));
    let tail = Promise.resolve();
    let locks = 0;
    let holders = 0;
    let most = 0;
    store.lock = (fn) => {
      const run = tail.then(async () => {
        locks += 1;
        most = Math.max(most, (holders += 1));
        try {
          return await fn();
        } finally {
          holders -= 1;
        }
      });
      tail = run.catch(() => {});
      return run;
    };
    const { a, b, ra, rb } = await refreshAtOnce(emu, store);
    assert.equal(grantRequests(emu, 'refresh_token').length, 1, 'one refresh grant: the second client found its tokens in the store');
    assert.equal(ra.accessToken, rb.accessToken);
    assert.equal(store.sets.includes(null), false, 'the store was never emptied');
    assert.equal(a.isSignedIn() && b.isSignedIn(), true);
    assert.equal(most, 1, 'never two holders at once');
    // A page uses the tabs' lock instead (navigator.locks), which serialises the same way.
    if (typeof document === 'undefined') assert.ok(locks >= 2, `the store's lock was taken (${locks})`);
  });

  s.test('a tokenStore lock(fn) that fails or never gives the lock: the client goes on without it (within timeoutMs × (maxRetries + 3))', async (emu) => {
    for (const lock of [
      () => {
        throw new Error('no lock service');
      },
      () => Promise.reject(new Error('no lock service')),
      () => Promise.resolve(),
      () => new Promise(() => {}),
    ]) {
      emu.reset();
      const store = recordingStore();
      store.lock = lock;
      const dt = signin(emu, { tokenStore: store, timeoutMs: 100, maxRetries: 0 });
      await signIn(emu, dt);
      emu.expireTokens();
      dt.invalidate();
      const t = await dt.getToken();
      harvest(emu);
      rememberStore(store);
      s.addSecret(t.accessToken);
      assert.equal(grantRequests(emu, 'refresh_token').length, 1, String(lock));
      assert.equal(store.value.accessToken, t.accessToken);
    }
  });

  s.test('a stale access token is refreshed with the refresh token; rotated refresh tokens are followed', async (emu) => {
    emu.options.dynatrace.tokenLifetimeSeconds = 1;
    const dt = signin(emu);
    const { token } = await signIn(emu, dt);
    const [codeGrant] = grantRequests(emu, 'authorization_code');
    assert.ok(codeGrant);
    await sleep(700);
    const t2 = await dt.getToken();
    harvest(emu);
    s.addSecret(t2.accessToken);
    assert.notEqual(t2.accessToken, token.accessToken);
    assert.equal(emu.counters.dtToken.refresh, 1);
    const [r1] = grantRequests(emu, 'refresh_token');
    assert.equal(r1.params.get('client_id'), 'dt0s12.EMULATOR');
    assert.equal(r1.params.has('client_secret'), false);
    assert.equal(r1.params.has('code_verifier'), false);
    assert.match(r1.params.get('refresh_token'), /^[A-Za-z0-9_-]{20,}$/);
    assert.equal(r1.headers.authorization, undefined);

    // Again: the second refresh must present the rotated refresh token (the first is dead now).
    await sleep(700);
    const t3 = await dt.getToken();
    harvest(emu);
    assert.notEqual(t3.accessToken, t2.accessToken);
    const refreshes = grantRequests(emu, 'refresh_token');
    assert.equal(refreshes.length, 2);
    assert.notEqual(refreshes[1].params.get('refresh_token'), refreshes[0].params.get('refresh_token'));
    assert.equal(emu.counters.dtToken.issued, 3);
    const st = dt.stats();
    assert.equal(st.refreshTokenGrants, 2);
    assert.equal(st.tokenRequests, 3, 'every request to a token endpoint counts');

    emu.options.dynatrace.tokenLifetimeSeconds = 300;
    await sleep(700);
    assert.equal((await dt.fetch(ENV)).status, 200);
    assert.equal(dt.isSignedIn(), true);
  });

  s.test('without rotation (no refresh_token in the answer) the refresh token is kept and reused', async (emu) => {
    emu.options.dynatrace.tokenLifetimeSeconds = 1;
    emu.options.dynatrace.rotateRefreshTokens = false;
    const dt = signin(emu);
    await signIn(emu, dt);
    await sleep(700);
    await dt.getToken();
    await sleep(700);
    await dt.getToken();
    harvest(emu);
    const refreshes = grantRequests(emu, 'refresh_token');
    assert.equal(refreshes.length, 2);
    assert.equal(refreshes[0].params.get('refresh_token'), refreshes[1].params.get('refresh_token'));
    assert.equal(emu.counters.dtToken.issued, 3);
  });

  s.test('single flight: 20 concurrent fetches on an expired token make one refresh request', async (emu) => {
    emu.options.dynatrace.tokenLifetimeSeconds = 1;
    const dt = signin(emu);
    await signIn(emu, dt);
    emu.options.dynatrace.tokenLifetimeSeconds = 300;
    await sleep(1100);
    const statuses = await Promise.all(Array.from({ length: 20 }, () => dt.fetch(ENV).then(async (r) => (await r.arrayBuffer(), r.status))));
    harvest(emu);
    assert.deepEqual(statuses, Array(20).fill(200));
    assert.equal(emu.counters.dtToken.refresh, 1);
    assert.equal(emu.counters.dtToken.token, 2);
    assert.equal(dt.stats().refreshTokenGrants, 1);
    assert.equal(dt.stats().tokenRequests, 2);
    assert.equal(emu.counters.dynatrace.api, 20);
  });

  s.test('invalidate() drops the access token only: the next call refreshes', async (emu) => {
    const dt = signin(emu);
    const { token } = await signIn(emu, dt);
    dt.invalidate();
    assert.equal(dt.isSignedIn(), true, 'the refresh token is kept');
    const t = await dt.getToken();
    harvest(emu);
    assert.notEqual(t.accessToken, token.accessToken);
    assert.equal(emu.counters.dtToken.refresh, 1);
    assert.equal(emu.counters.dtToken.code, 1);
  });

  s.test('a 401 from the API: one refresh, then the retry; a second 401 is returned', async (emu) => {
    const dt = signin(emu);
    const { token } = await signIn(emu, dt);
    emu.setFault('dynatrace', 'api', { kind: 'unauthorized', count: 1 });
    const res = await dt.fetch(ENV);
    harvest(emu);
    assert.equal(res.status, 200);
    assert.equal(emu.counters.dtToken.refresh, 1);
    assert.equal(emu.counters.dynatrace.api, 2);
    const api = requestsOf(emu, 'dynatrace');
    assert.equal(api[0].headers.authorization, `Bearer ${token.accessToken}`);
    assert.notEqual(api[1].headers.authorization, api[0].headers.authorization, 'the retry carries the refreshed token');
    let st = dt.stats();
    assert.equal(st.unauthorizedRetries, 1);
    assert.equal(st.refreshTokenGrants, 1);

    emu.setFault('dynatrace', 'api', { kind: 'unauthorized', count: 2 });
    const twice = await dt.fetch(ENV);
    harvest(emu);
    assert.equal(twice.status, 401, 'the second 401 is the answer');
    assert.equal(emu.counters.dtToken.refresh, 2, 'one refresh per call');
    st = dt.stats();
    assert.equal(st.unauthorizedRetries, 2);
    assert.equal(st.refreshTokenGrants, 2);
  });

  s.test('login_required: a refused refresh signs the client out; the message says to call signIn()', async (emu) => {
    const store = recordingStore();
    const dt = signin(emu, { tokenStore: store });
    await signIn(emu, dt);
    rememberStore(store);
    emu.setFault('dtToken', 'token', { kind: 'refuseRefresh', count: 1 });
    dt.invalidate();
    const e = await s.rejects(dt.getToken(), 'login_required');
    harvest(emu);
    assert.match(e.message, /signIn\(\)/);
    assert.equal(dt.isSignedIn(), false);
    assert.equal(emu.counters.dtToken.refresh, 1, 'a refused refresh is not retried');
    // No usable token any more: rejected at once, without a request.
    await s.rejects(dt.getToken(), 'login_required');
    await s.rejects(dt.fetch(ENV), 'login_required');
    assert.equal(emu.counters.dtToken.token, 2);
    assert.equal(emu.counters.dynatrace.api, 0);
  });

  s.test('login_required: never signed in, getToken, fetch and userInfo reject without a request', async (emu) => {
    const dt = signin(emu);
    assert.equal(dt.isSignedIn(), false);
    const e = await s.rejects(dt.getToken(), 'login_required');
    assert.match(e.message, /signIn\(\)/);
    await s.rejects(dt.fetch(ENV), 'login_required');
    await s.rejects(dt.userInfo(), 'login_required');
    assert.equal(emu.requests.length, 0);
    assert.equal(dt.stats().refreshTokenGrants, 0);
    assert.equal(dt.stats().tokenRequests, 0);
  });

  s.test('signOut() forgets the tokens (and the store), then getToken rejects login_required; signing in again works', async (emu) => {
    const store = recordingStore();
    const dt = signin(emu, { tokenStore: store });
    await signIn(emu, dt);
    rememberStore(store);
    await dt.signOut();
    assert.equal(dt.isSignedIn(), false);
    assert.equal(store.sets.at(-1), null, 'tokenStore.set(null)');
    await s.rejects(dt.getToken(), 'login_required');
    await s.rejects(dt.fetch(ENV), 'login_required');
    assert.equal(emu.counters.dtToken.token, 1, 'no refresh after sign-out');
    const { token } = await signIn(emu, dt);
    rememberStore(store);
    assert.equal(token.tokenType, 'Bearer');
    assert.equal(dt.isSignedIn(), true);
  });

  s.test('signOut() while a token is being obtained (a store read, a refresh, a code exchange): nothing obtained after it is kept, and the waiting call rejects login_required', async (emu) => {
    // 1. A slow store read of stale tokens with a refresh token: not taken after the sign-out.
    const store = recordingStore();
    const first = signin(emu, { tokenStore: store });
    await signIn(emu, first);
    rememberStore(store);
    store.value = { ...store.value, expiresAt: Date.now() - 1000 };
    const slowStore = { get: () => sleep(100).then(() => store.get()), set: (t) => store.set(t) };
    const dt = signin(emu, { tokenStore: slowStore });
    const reading = dt.getToken();
    await sleep(20);
    await dt.signOut();
    await s.rejects(reading, 'login_required');
    assert.equal(dt.isSignedIn(), false);
    await s.rejects(dt.getToken(), 'login_required');
    assert.equal(emu.counters.dtToken.refresh, 0, 'no refresh grant after the sign-out');
    assert.equal(store.value, null, 'the store stays signed out');

    // 2. A refresh in flight: its waiter gets login_required (no signal of its own was aborted).
    const refreshing = signin(emu);
    await signIn(emu, refreshing);
    refreshing.invalidate();
    emu.setFault('dtToken', 'token', { kind: 'delay', ms: 300, count: 1 });
    const waiting = refreshing.getToken();
    await sleep(50);
    await refreshing.signOut();
    await s.rejects(waiting, 'login_required');
    assert.equal(refreshing.isSignedIn(), false);

    // 3. A code exchange in flight: the tokens it brings back are not kept.
    const exchanging = signin(emu);
    const location = await followAuthorize(emu, await exchanging.buildAuthorizationUrl());
    rememberLocation(location);
    emu.setFault('dtToken', 'token', { kind: 'delay', ms: 300, count: 1 });
    const redirect = exchanging.handleRedirect(location);
    await sleep(50);
    await exchanging.signOut();
    await s.rejects(redirect, 'login_required');
    assert.equal(exchanging.isSignedIn(), false);
    await s.rejects(exchanging.getToken(), 'login_required');
    // Let the emulator finish the delayed answers, so that they cannot count into the next test.
    await sleep(300);
    harvest(emu);
  });

  s.test('stats() of every client has refreshTokenGrants (0 without sign-in)', async (emu) => {
    const c = emu.credentials.dynatrace;
    const cc = s.track(new DynatraceClient({ clientId: c.clientId, clientSecret: c.clientSecret, environmentUrl: emu.urls.dynatrace, tokenUrl: emu.urls.ssoToken }));
    await cc.getToken();
    const ad = s.track(new AppDynamicsClient({ controllerUrl: emu.urls.appdynamics, accessToken: emu.credentials.appdynamics.temporaryToken }));
    const oc = s.track(new OAuthClient({ tokenUrl: emu.urls.ssoToken, clientId: c.clientId, clientSecret: c.clientSecret }));
    for (const client of [cc, ad, oc, signin(emu)]) {
      const st = client.stats();
      assert.deepEqual(Object.keys(st).sort(), ['cacheHits', 'refreshTokenGrants', 'refreshes', 'tokenRequests', 'unauthorizedRetries']);
      assert.equal(st.refreshTokenGrants, 0, String(client));
    }
    assert.deepEqual(cc.stats(), { tokenRequests: 1, cacheHits: 0, refreshes: 0, unauthorizedRetries: 0, refreshTokenGrants: 0 });
  });

  // ------------------------------------------------------------------------------------------
  // stateStorage and tokenStore

  s.test('stateStorage: a new client instance sharing the storage (the page reloaded) handles the redirect, once', async (emu) => {
    const storage = memoryStorage();
    const first = signin(emu, { stateStorage: storage });
    const url = await first.buildAuthorizationUrl();
    assert.ok(storage.calls.some(([m]) => m === 'setItem'), 'the state and verifier are written to stateStorage');
    assert.ok(storage.map.size >= 1);
    const location = await followAuthorize(emu, url);
    rememberLocation(location);

    const reloaded = signin(emu, { stateStorage: storage });
    const token = await reloaded.handleRedirect(location);
    harvest(emu);
    assert.equal(token.tokenType, 'Bearer');
    assert.equal(reloaded.isSignedIn(), true);
    assert.equal(first.isSignedIn(), false, 'the tokens live in the instance that redeemed the code (no tokenStore)');
    const [grant] = grantRequests(emu, 'authorization_code');
    assert.equal(await s256(grant.params.get('code_verifier')), new URL(url).searchParams.get('code_challenge'), 'the verifier came from stateStorage');
    // Used up: removed from the storage, and a third instance cannot redeem it again.
    assert.ok(storage.calls.some(([m]) => m === 'removeItem'), 'removeItem after use');
    const third = signin(emu, { stateStorage: storage });
    await s.rejects(third.handleRedirect(location), 'authorization_error');
    assert.equal(emu.counters.dtToken.code, 1);
  });

  s.test('stateStorage: a client with its own storage does not see another storage’s state', async (emu) => {
    const a = signin(emu, { stateStorage: memoryStorage() });
    const b = signin(emu, { stateStorage: memoryStorage() });
    const location = await followAuthorize(emu, await a.buildAuthorizationUrl());
    rememberLocation(location);
    await s.rejects(b.handleRedirect(location), 'authorization_error');
    assert.equal(emu.counters.dtToken.token, 0);
  });

  s.test('stateStorage: a setItem or getItem that throws or rejects fails the sign-in with invalid_config, not with "a state this client did not issue"', async (emu) => {
    const full = () => new Error('the storage is full');
    const down = () => new Error('the storage is down');
    for (const fail of [(e) => () => { throw e(); }, (e) => async () => { throw e(); }]) {
      // setItem: buildAuthorizationUrl fails, before the user is sent away.
      const dt = signin(emu, { stateStorage: { ...memoryStorage(), setItem: fail(full) } });
      await s.rejects(dt.buildAuthorizationUrl(), 'invalid_config', {
        message: /^DynatraceClient\.buildAuthorizationUrl: the state storage failed: the storage is full\. The state and PKCE verifier/,
        hint: /check stateStorage/,
      });
      // getItem: handleRedirect says the storage failed, and exchanges no code.
      const storage = memoryStorage();
      const back = signin(emu, { stateStorage: storage });
      const location = await followAuthorize(emu, await back.buildAuthorizationUrl());
      rememberLocation(location);
      storage.getItem = fail(down);
      await s.rejects(back.handleRedirect(location), 'invalid_config', {
        message: /^DynatraceClient\.handleRedirect: the state storage failed: the storage is down\. /,
      });
    }
    assert.equal(emu.counters.dtToken.token, 0, 'no code was exchanged');
    // A storage whose error quotes the value it was handed: the PKCE verifier is not in the error.
    let handed = '';
    const echo = signin(emu, {
      stateStorage: { ...memoryStorage(), setItem: (k, v) => { handed = v; throw new Error(`cannot keep ${k}=${v}`); } },
    });
    const e = await s.rejects(echo.buildAuthorizationUrl(), 'invalid_config', {
      message: /the state storage failed: cannot keep .*=\[redacted\]/,
    });
    assert.ok(handed.length >= 43, 'the verifier was handed to the storage');
    s.addSecret(handed);
    assert.ok(!JSON.stringify({ ...e, message: e.message, hint: e.hint }).includes(handed), 'the verifier is in no part of the error');
    // A storage that works: the sign-in goes on.
    const dt = signin(emu, { stateStorage: memoryStorage() });
    const location = await followAuthorize(emu, await dt.buildAuthorizationUrl());
    rememberLocation(location);
    assert.ok(await dt.handleRedirect(location));
  });

  for (const async of [false, true]) {
    const kind = async ? 'async' : 'sync';
    s.test(`tokenStore (${kind}): written after every grant; a new client with a fresh stored token makes no request; a stale one is refreshed`, async (emu) => {
      emu.options.dynatrace.tokenLifetimeSeconds = 1;
      const store = recordingStore(null, { async });
      const dt = signin(emu, { tokenStore: store });
      const { token } = await signIn(emu, dt);
      await waitFor(() => store.sets.length >= 1, 'tokenStore.set after the code grant');
      rememberStore(store);
      const saved = store.sets[0];
      assert.equal(saved.accessToken, token.accessToken);
      assert.equal(typeof saved.expiresAt, 'number');
      assert.ok(Math.abs(saved.expiresAt - token.expiresAt) < 1000);
      assert.equal(typeof saved.refreshToken, 'string');
      assert.ok(saved.refreshToken.length >= 20);
      assert.equal(saved.scope, 'openid storage:logs:read');

      // The refresh writes the new tokens, with the rotated refresh token.
      await sleep(700);
      const t2 = await dt.getToken();
      await waitFor(() => store.sets.length >= 2, 'tokenStore.set after the refresh');
      harvest(emu);
      rememberStore(store);
      assert.equal(store.sets[1].accessToken, t2.accessToken);
      assert.notEqual(store.sets[1].refreshToken, saved.refreshToken, 'the rotated refresh token');

      // A new client (another page, process or tab) with the same store and a fresh token: no request.
      emu.options.dynatrace.tokenLifetimeSeconds = 300;
      store.value = { ...store.value, expiresAt: Date.now() + 300_000 };
      const before = emu.counters.dtToken.token;
      const next = signin(emu, { tokenStore: store });
      const t3 = await next.getToken();
      assert.equal(t3.accessToken, store.value.accessToken);
      assert.equal(t3.tokenType, 'Bearer');
      assert.equal(emu.counters.dtToken.token, before, 'no token request');
      assert.equal(next.stats().tokenRequests, 0);
      assert.equal(next.isSignedIn(), true);

      // A stale stored token with a refresh token: refreshed, and the store updated.
      store.value = { ...store.value, expiresAt: Date.now() - 1000 };
      const sets = store.sets.length;
      const stale = signin(emu, { tokenStore: store });
      const t4 = await stale.getToken();
      harvest(emu);
      assert.equal(emu.counters.dtToken.refresh, 2);
      assert.equal(stale.stats().refreshTokenGrants, 1);
      await waitFor(() => store.sets.length > sets, 'tokenStore.set after the refresh by the new client');
      rememberStore(store);
      assert.equal(store.value.accessToken, t4.accessToken);
      const res = await stale.fetch(ENV);
      assert.equal(res.status, 200);
    });
  }

  s.test('a tokenStore or stateStorage that never answers holds a call for timeoutMs at most', async (emu) => {
    const never = () => new Promise(() => {});
    const c = emu.credentials.dynatrace;
    const cc = (tokenStore) =>
      s.track(new DynatraceClient({ clientId: c.clientId, clientSecret: c.clientSecret, environmentUrl: emu.urls.dynatrace, tokenUrl: emu.urls.ssoToken, tokenStore, timeoutMs: 200 }));
    // get: read as an empty store, so a token is requested; set: the token is returned anyway.
    assert.equal(typeof (await cc({ get: never, set() {} }).getToken()).accessToken, 'string');
    assert.equal(typeof (await cc({ get() {}, set: never }).getToken()).accessToken, 'string');
    assert.equal(emu.counters.sso.token, 2);
    // A sign-in client whose store never answers holds no token: login_required.
    await s.rejects(signin(emu, { tokenStore: { get: never, set: never }, timeoutMs: 200 }).getToken(), 'login_required');
    // A state storage that never answers: the redirect's state is unknown.
    const stuck = { getItem: never, setItem: never, removeItem: never };
    const dt = signin(emu, { stateStorage: stuck, timeoutMs: 200 });
    const url = await dt.buildAuthorizationUrl();
    const location = await followAuthorize(emu, url);
    await s.rejects(dt.handleRedirect(location), 'authorization_error');
  });

  s.test('tokenStore: a stale stored token without a refresh token means login_required', async (emu) => {
    const store = recordingStore({ accessToken: 'stale-stored-token-0123456789', expiresAt: Date.now() - 1000 });
    s.addSecret('stale-stored-token-0123456789');
    const dt = signin(emu, { tokenStore: store });
    await s.rejects(dt.getToken(), 'login_required');
    assert.equal(emu.requests.length, 0);
  });

  s.test('tokenStore: a stored token that no Authorization header can carry counts as none (a new one is requested)', async (emu) => {
    const c = emu.credentials.dynatrace;
    const bad = 'stored-token-0123456789\nabcdef';
    s.addSecret(bad);
    const store = recordingStore({ accessToken: bad, expiresAt: Date.now() + 300_000 });
    const dt = s.track(new DynatraceClient({ clientId: c.clientId, clientSecret: c.clientSecret, environmentUrl: emu.urls.dynatrace, tokenUrl: emu.urls.ssoToken, tokenStore: store }));
    assert.equal((await dt.fetch(ENV)).status, 200);
    assert.equal(emu.counters.sso.token, 1, 'a token was requested instead');
    assert.notEqual((await dt.getToken()).accessToken, bad);
  });

  s.test('tokenStore with client credentials: written after the grant; a new client with a fresh stored token makes no SSO request', async (emu) => {
    const c = emu.credentials.dynatrace;
    const cc = (store) => s.track(new DynatraceClient({ clientId: c.clientId, clientSecret: c.clientSecret, environmentUrl: emu.urls.dynatrace, tokenUrl: emu.urls.ssoToken, tokenStore: store }));
    const store = recordingStore();
    const first = cc(store);
    const t = await first.getToken();
    await waitFor(() => store.sets.length >= 1, 'tokenStore.set after the client-credentials grant');
    assert.equal(store.sets[0].accessToken, t.accessToken);
    assert.equal(typeof store.sets[0].expiresAt, 'number');
    assert.equal(store.sets[0].refreshToken ?? undefined, undefined, 'no refresh token with client credentials');
    assert.equal(emu.counters.sso.token, 1);

    const second = cc(store);
    const res = await second.fetch(ENV);
    assert.equal(res.status, 200);
    assert.equal(emu.counters.sso.token, 1, 'the stored token was used');
    assert.equal(second.stats().tokenRequests, 0);
    assert.equal(requestsOf(emu, 'dynatrace')[0].headers.authorization, `Bearer ${t.accessToken}`);

    // An async store, and a stale stored token: a new client-credentials token.
    const asyncStore = recordingStore({ accessToken: t.accessToken, expiresAt: Date.now() - 1000 }, { async: true });
    const third = cc(asyncStore);
    const t3 = await third.getToken();
    assert.notEqual(t3.accessToken, t.accessToken);
    assert.equal(emu.counters.sso.token, 2);
    await waitFor(() => asyncStore.sets.length >= 1, 'the async store written');
  });

  // ------------------------------------------------------------------------------------------
  // OAuthClient

  s.test('OAuthClient with issuer: discovery on first use (once), then the same flow', async (emu) => {
    const oc = s.track(
      new OAuthClient({ issuer: emu.urls.sso, clientId: 'dt0s12.EMULATOR', redirectUri: REDIRECT, scope: 'openid', baseUrl: emu.urls.dynatrace }),
    );
    assert.equal(emu.requests.length, 0, 'no request before first use');
    const { url, token } = await signIn(emu, oc);
    assert.ok(url.startsWith(`${emu.urls.ssoAuthorize}?`), url.split('?')[0]);
    const q = new URL(url).searchParams;
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.equal(q.get('scope'), 'openid');
    assert.equal(q.has('resource'), false, 'resource is Dynatrace-only');
    assert.equal(token.tokenType, 'Bearer');
    assert.equal(emu.counters.dtToken.code, 1, 'the token endpoint from the discovery document');
    assert.deepEqual(Object.keys(await oc.userInfo()).sort(), ['email', 'name', 'sub']);
    assert.equal((await oc.fetch(ENV)).status, 200);
    oc.invalidate();
    await oc.getToken();
    harvest(emu);
    assert.equal(oc.stats().refreshTokenGrants, 1);
    await oc.buildAuthorizationUrl();
    assert.equal(requestsOf(emu, 'sso', '/.well-known/openid-configuration').length, 1, 'discovery is read once');
  });

  s.test('OAuthClient with explicit endpoints', async (emu) => {
    const oc = s.track(
      new OAuthClient({
        authorizationUrl: emu.urls.ssoAuthorize,
        tokenUrl: emu.urls.dtToken,
        userInfoUrl: emu.urls.ssoUserInfo,
        clientId: 'dt0s12.EMULATOR',
        redirectUri: REDIRECT,
        scope: ['openid', 'storage:logs:read'],
        authorizationParams: { prompt: 'consent' },
        baseUrl: emu.urls.dynatrace,
      }),
    );
    const { url, token } = await signIn(emu, oc);
    assert.equal(new URL(url).searchParams.get('prompt'), 'consent');
    assert.equal(token.scope, 'openid storage:logs:read');
    assert.equal((await oc.userInfo()).email, DEFAULT_USER);
    assert.equal((await oc.fetch(ENV)).status, 200);
    assert.equal(requestsOf(emu, 'sso', '/.well-known/').length, 0, 'no discovery with explicit endpoints');
    await oc.signOut();
    assert.equal(oc.isSignedIn(), false);
    await s.rejects(oc.getToken(), 'login_required');
  });

  s.test('OAuthClient with issuer: concurrent first calls share one discovery, and its failure; the next call tries again', async (emu) => {
    emu.options.dynatrace.discovery = false;
    const oc = s.track(new OAuthClient({ issuer: emu.urls.sso, clientId: 'dt0s12.EMULATOR', redirectUri: REDIRECT, scope: 'openid' }));
    const failed = await Promise.allSettled(Array.from({ length: 10 }, () => oc.buildAuthorizationUrl()));
    for (const r of failed) assert.equal(r.reason?.code, 'invalid_config');
    assert.equal(requestsOf(emu, 'sso', '/.well-known/openid-configuration').length, 1, 'one discovery for ten calls');
    emu.options.dynatrace.discovery = true;
    const urls = await Promise.all([...Array.from({ length: 10 }, () => oc.buildAuthorizationUrl()), oc.userInfo().catch((e) => e.code)]);
    assert.equal(urls.pop(), 'login_required');
    for (const url of urls) assert.ok(url.startsWith(`${emu.urls.ssoAuthorize}?`), url);
    assert.equal(requestsOf(emu, 'sso', '/.well-known/openid-configuration').length, 2, 'one more, for eleven calls');
    await oc.buildAuthorizationUrl();
    assert.equal(requestsOf(emu, 'sso', '/.well-known/openid-configuration').length, 2, 'kept once read');
  });

  s.test('OAuthClient with issuer: a discovery failure rejects the first call with invalid_config', async (emu) => {
    emu.options.dynatrace.discovery = false;
    const oc = s.track(new OAuthClient({ issuer: emu.urls.sso, clientId: 'dt0s12.EMULATOR', redirectUri: REDIRECT, scope: 'openid' }));
    const e = await s.rejects(oc.buildAuthorizationUrl(), 'invalid_config');
    assert.match(e.message, /openid-configuration|discovery|issuer/i);
    assert.equal(requestsOf(emu, 'sso', '/.well-known/openid-configuration').length, 1);
  });

  s.test('OAuthClient with issuer: the discovery document\'s endpoints follow the rule of configured URLs (https; http to loopback or with allowInsecureHttp)', async (emu) => {
    // The document names a plain-http token endpoint on another host; the issuer is on loopback.
    const doc = { issuer: emu.urls.sso, authorization_endpoint: emu.urls.ssoAuthorize, token_endpoint: 'http://idp.example.com/token' };
    const fetch = (input, init) =>
      String(input).endsWith('/.well-known/openid-configuration')
        ? Promise.resolve(new Response(JSON.stringify(doc), { headers: { 'content-type': 'application/json' } }))
        : globalThis.fetch(input, init);
    const options = { issuer: emu.urls.sso, clientId: 'dt0s12.EMULATOR', redirectUri: REDIRECT, scope: 'openid', fetch };
    const oc = s.track(new OAuthClient(options));
    await s.rejects(oc.buildAuthorizationUrl(), 'insecure_url', { message: /^token_endpoint uses http:\/\/ to idp\.example\.com/ });
    const allowed = s.track(new OAuthClient({ ...options, allowInsecureHttp: true }));
    assert.ok((await allowed.buildAuthorizationUrl()).startsWith(`${emu.urls.ssoAuthorize}?`));
  });

  s.test('OAuthClient with issuer: a discovery document that names another issuer (or none) is refused before anything is sent (OpenID Connect Discovery 4.3)', async (emu) => {
    let doc;
    const fetch = (input, init) =>
      String(input).endsWith('/.well-known/openid-configuration')
        ? Promise.resolve(new Response(JSON.stringify(doc), { headers: { 'content-type': 'application/json' } }))
        : globalThis.fetch(input, init);
    const endpoints = { authorization_endpoint: emu.urls.ssoAuthorize, token_endpoint: emu.urls.dtToken };
    const options = { issuer: emu.urls.sso, clientId: 'dt0s12.EMULATOR', redirectUri: REDIRECT, scope: 'openid', fetch };
    for (const issuer of [`${emu.urls.sso}/other`, 'https://sso.example.com', undefined]) {
      doc = { issuer, ...endpoints };
      const oc = s.track(new OAuthClient(options));
      const e = await s.rejects(oc.buildAuthorizationUrl(), 'invalid_config', { message: /discovery document .*another issuer/ });
      assert.match(e.hint, /issuer/);
    }
    assert.equal(emu.requests.length, 0, 'nothing sent to the endpoints the document named');
    // The same issuer with a final `/` is the same issuer.
    doc = { issuer: `${emu.urls.sso}/`, ...endpoints };
    const oc = s.track(new OAuthClient(options));
    assert.ok((await oc.buildAuthorizationUrl()).startsWith(`${emu.urls.ssoAuthorize}?`));
  });

  s.test('OAuthClient with issuer: a redirect whose iss names another server is neither exchanged nor believed (RFC 9207)', async (emu) => {
    const oc = s.track(new OAuthClient({ issuer: emu.urls.sso, clientId: 'dt0s12.EMULATOR', redirectUri: REDIRECT, scope: 'openid' }));
    const location = await followAuthorize(emu, await oc.buildAuthorizationUrl());
    rememberLocation(location);
    const back = new URL(location);
    const from = (iss) => {
      const u = new URL(back);
      u.searchParams.set('iss', iss);
      return u.href;
    };
    await s.rejects(oc.handleRedirect(from('https://sso.example.com')), 'authorization_error', { message: /^the redirect's iss does not name this client's issuer/ });
    // An error answer that says it comes from elsewhere is not reported as the issuer's refusal.
    const denied = new URL(from(`${emu.urls.sso}/x`));
    denied.searchParams.delete('code');
    denied.searchParams.set('error', 'access_denied');
    const e = await s.rejects(oc.handleRedirect(denied.href), 'authorization_error', { message: /iss does not name this client's issuer/ });
    assert.equal(e.error, undefined);
    assert.equal(grantRequests(emu, 'authorization_code').length, 0, 'no code sent anywhere');
    // The issuer's own iss (a final `/` aside) is exchanged as without one.
    const token = await oc.handleRedirect(from(`${emu.urls.sso}/`));
    s.addSecret(token.accessToken);
    assert.equal(grantRequests(emu, 'authorization_code').length, 1);
    assert.equal(oc.isSignedIn(), true);
  });

  s.test('OAuthClient with issuer: a redirect without iss is refused when the discovery document says the issuer always sends one (RFC 9207), taken otherwise', async (emu) => {
    let always = true;
    const fetch = async (input, init) => {
      const res = await globalThis.fetch(input, init);
      if (!String(input).endsWith('/.well-known/openid-configuration')) return res;
      const doc = { ...(await res.json()), authorization_response_iss_parameter_supported: always };
      return new Response(JSON.stringify(doc), { headers: { 'content-type': 'application/json' } });
    };
    const options = { issuer: emu.urls.sso, clientId: 'dt0s12.EMULATOR', redirectUri: REDIRECT, scope: 'openid', fetch };
    const oc = s.track(new OAuthClient(options));
    const location = await followAuthorize(emu, await oc.buildAuthorizationUrl());
    rememberLocation(location);
    assert.equal(new URL(location).searchParams.has('iss'), false);
    await s.rejects(oc.handleRedirect(location), 'authorization_error', { message: /iss does not name this client's issuer/ });
    assert.equal(grantRequests(emu, 'authorization_code').length, 0);
    const withIss = new URL(location);
    withIss.searchParams.set('iss', emu.urls.sso);
    s.addSecret((await oc.handleRedirect(withIss.href)).accessToken);
    // A document that does not say so: a redirect without iss is taken.
    always = false;
    const other = s.track(new OAuthClient(options));
    const back = await followAuthorize(emu, await other.buildAuthorizationUrl());
    rememberLocation(back);
    s.addSecret((await other.handleRedirect(back)).accessToken);
    assert.equal(grantRequests(emu, 'authorization_code').length, 2);
  });

  // ------------------------------------------------------------------------------------------
  // Secrets

  s.test('a transport whose error quotes the code exchange\'s body: the code and the verifier are in no part of the error', async (emu) => {
    let sent = '';
    const fetch = (input, init) => {
      if (String(input) !== emu.urls.dtToken) return globalThis.fetch(input, init);
      sent = String(init.body);
      return Promise.reject(new TypeError(`proxy refused: ${sent}`));
    };
    const dt = signin(emu, { fetch, maxRetries: 0 });
    const state = new URL(await dt.buildAuthorizationUrl()).searchParams.get('state');
    // A code with characters that percent-encoding changes, as some servers issue.
    const code = 'SplxlOB/eZQQYbYS6+WxSbIA/tS4Q+h3';
    s.addSecret(code);
    const e = await s.rejects(dt.handleRedirect(`${REDIRECT}?code=${encodeURIComponent(code)}&state=${state}`), 'network');
    const verifier = new URLSearchParams(sent).get('code_verifier');
    s.addSecret(verifier);
    for (const secret of [code, verifier]) {
      for (const form of [secret, encodeURIComponent(secret)]) assert.ok(!e.message.includes(form), `no ${form} in ${e.message}`);
    }
    assert.match(e.message, /code=\[redacted\]/);
  });

  s.test('a token endpoint that echoes the code, the verifier and the refresh token: scrubbed from every error', async (emu) => {
    // A transport that answers every grant with an error echoing the request body (as sent).
    let echo = false;
    const transport = async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (echo && url === emu.urls.dtToken) {
        const body = typeof init?.body === 'string' ? init.body : await new Response(init?.body).text();
        const p = new URLSearchParams(body);
        for (const k of ['code', 'code_verifier', 'refresh_token']) s.addSecret(p.get(k));
        const decoded = [...p.entries()].map(([k, v]) => `${k}=${v}`).join(' ');
        return new Response(JSON.stringify({ error: 'invalid_grant', error_description: `refused ${body} / ${decoded}` }), { status: 400, headers: { 'content-type': 'application/json' } });
      }
      return fetch(input, init);
    };
    const dt = signin(emu, { fetch: transport });
    echo = true;
    const location = await followAuthorize(emu, await dt.buildAuthorizationUrl());
    rememberLocation(location);
    const e = await s.rejects(dt.handleRedirect(location), 'authorization_error', { status: 400, error: 'invalid_grant' });
    assert.match(e.errorDescription, /refused/);

    echo = false;
    await signIn(emu, dt);
    echo = true;
    dt.invalidate();
    await s.rejects(dt.getToken(), 'login_required');
  });

  s.test('String(), JSON.stringify() and the own keys of a signed-in client hold no token, code or verifier', async (emu) => {
    const store = recordingStore();
    const storage = memoryStorage();
    const dt = signin(emu, { tokenStore: store, stateStorage: storage });
    await signIn(emu, dt);
    dt.invalidate();
    await dt.getToken();
    harvest(emu);
    rememberStore(store);
    await dt.buildAuthorizationUrl(); // a pending verifier too
    s.checkClient(dt, 'a signed-in client');
    assert.ok(!String(dt).includes(ID_TOKEN_HEADER));
  });

  s.finish();
}

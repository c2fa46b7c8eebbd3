// OAuthClient signing a user in at oidc-provider (oidc-signin.mjs): discovery from `issuer`, the
// authorize URL with PKCE S256, login + consent, the code exchange as a public client, the
// userinfo endpoint, refreshes with rotating refresh tokens when the access token is stale, a
// single refresh for concurrent callers, a tokenStore carried to a new client, a revoked grant
// (login_required), and that no code, verifier or token leaks into errors or the client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import util from 'node:util';
import { OAuthClient } from '../../pkg/node.mjs';
import { startSigninProvider, driveInteraction, SPA, USER, ACCESS_TOKEN_TTL } from './oidc-signin.mjs';

let env;
before(async () => {
  env = await startSigninProvider();
});
after(async () => {
  await env.close();
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const SCOPE = 'openid offline_access email profile';

function client(extra = {}) {
  return new OAuthClient({
    issuer: env.issuer,
    clientId: SPA.clientId,
    redirectUri: SPA.redirectUri,
    scope: SCOPE,
    authorizationParams: { prompt: 'consent' },
    baseUrl: env.issuer,
    timeoutMs: 5_000,
    maxRetries: 0,
    ...extra,
  });
}

const tokenRequests = (grant) => env.requests.filter((r) => r.path === '/token' && r.params?.get('grant_type') === grant);

async function s256(text) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Buffer.from(digest).toString('base64url');
}

/** Every code, verifier, refresh and access token seen so far. */
function secretsSeen(extra = []) {
  const out = new Set(extra.filter(Boolean));
  for (const r of env.requests) {
    if (r.params) for (const k of ['code', 'code_verifier', 'refresh_token']) if (r.params.get(k)) out.add(r.params.get(k));
    const m = /^Bearer (.+)$/.exec(r.authorization ?? '');
    if (m) out.add(m[1]);
  }
  return [...out].filter((s) => s.length >= 8);
}

function assertNoSecretIn(label, text, secrets) {
  for (const secret of secrets) {
    if (text.includes(secret) || text.includes(encodeURIComponent(secret))) assert.fail(`${label} holds a secret (${secret.length} characters)`);
  }
}

async function signedIn(extra) {
  const oc = client(extra);
  const url = await oc.buildAuthorizationUrl();
  const { location, pages } = await driveInteraction(url);
  const token = await oc.handleRedirect(location);
  return { oc, url, location, pages, token };
}

test('code + PKCE + refresh at oidc-provider, with discovery from issuer', async () => {
  const before = env.requests.length;
  const oc = client();
  const url = await oc.buildAuthorizationUrl();
  const discovery = env.requests.slice(before).filter((r) => r.path === '/.well-known/openid-configuration');
  assert.equal(discovery.length, 1, 'discovery on first use');
  const u = new URL(url);
  assert.equal(`${u.origin}${u.pathname}`, `${env.issuer}/auth`, 'the authorization_endpoint of the discovery document');
  assert.equal(u.searchParams.get('client_id'), SPA.clientId);
  assert.equal(u.searchParams.get('response_type'), 'code');
  assert.equal(u.searchParams.get('scope'), SCOPE);
  assert.equal(u.searchParams.get('prompt'), 'consent');
  assert.equal(u.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(u.searchParams.has('resource'), false);

  const { location, pages } = await driveInteraction(url);
  assert.deepEqual(pages, ['login', 'consent']);
  const back = new URL(location);
  assert.equal(back.searchParams.get('iss'), env.issuer, 'RFC 9207 iss in the redirect');
  const t = await oc.handleRedirect(location);
  assert.equal(t.tokenType, 'Bearer');
  assert.equal(t.scope, SCOPE);
  const lifetime = (t.expiresAt - Date.now()) / 1000;
  assert.ok(lifetime > ACCESS_TOKEN_TTL - 1 && lifetime <= ACCESS_TOKEN_TTL, `lifetime ${lifetime}`);

  const [code] = tokenRequests('authorization_code').slice(-1);
  assert.equal(code.authorization, undefined, 'a public client: no Authorization');
  assert.equal(code.params.get('client_id'), SPA.clientId);
  assert.equal(code.params.has('client_secret'), false);
  assert.equal(await s256(code.params.get('code_verifier')), u.searchParams.get('code_challenge'));
  assert.equal(code.params.get('redirect_uri'), SPA.redirectUri);

  const me = await oc.userInfo();
  assert.equal(me.sub, USER);
  assert.equal(me.email, `${USER}@example.test`);
  assert.equal(me.name, 'Interop User');
  const res = await oc.fetch('/me');
  assert.equal(res.status, 200, 'the access token works on the provider’s userinfo (the resource here)');
  assert.equal((await res.json()).sub, USER);

  // Stale after half the lifetime (skew min(30 s, lifetime / 2)): getToken refreshes.
  await sleep((ACCESS_TOKEN_TTL / 2) * 1000 + 200);
  const t2 = await oc.getToken();
  assert.notEqual(t2.accessToken, t.accessToken);
  assert.equal(oc.stats().refreshTokenGrants, 1);
  await sleep((ACCESS_TOKEN_TTL / 2) * 1000 + 200);
  const t3 = await oc.getToken();
  assert.notEqual(t3.accessToken, t2.accessToken);
  const refreshes = tokenRequests('refresh_token').slice(-2);
  assert.equal(refreshes.length, 2);
  assert.notEqual(refreshes[1].params.get('refresh_token'), refreshes[0].params.get('refresh_token'), 'the rotated refresh token is used');
  assert.equal(oc.stats().refreshTokenGrants, 2);
  assert.equal(oc.stats().tokenRequests, 3);
  assert.equal((await oc.fetch('/me')).status, 200);
  await oc.buildAuthorizationUrl();
  assert.equal(env.requests.slice(before).filter((r) => r.path === '/.well-known/openid-configuration').length, 1, 'discovery is read once');
  assert.deepEqual(env.serverErrors, []);

  const secrets = secretsSeen([back.searchParams.get('code'), t.accessToken, t2.accessToken, t3.accessToken]);
  for (const [label, text] of [
    ['String(client)', String(oc)],
    ['JSON.stringify(client)', JSON.stringify(oc)],
    ['util.inspect(client)', util.inspect(oc, { showHidden: true, depth: 5 })],
  ]) {
    assertNoSecretIn(label, text, secrets);
  }
});

test('20 concurrent calls on a stale token make one refresh request', async () => {
  const { oc } = await signedIn();
  await sleep((ACCESS_TOKEN_TTL / 2) * 1000 + 200);
  const before = tokenRequests('refresh_token').length;
  const statuses = await Promise.all(Array.from({ length: 20 }, () => oc.fetch('/me').then(async (r) => (await r.arrayBuffer(), r.status))));
  assert.deepEqual(statuses, Array(20).fill(200));
  assert.equal(tokenRequests('refresh_token').length - before, 1);
  assert.equal(oc.stats().refreshTokenGrants, 1);
});

test('a tokenStore carries the tokens to a new client, which refreshes a stale one', async () => {
  let saved = null;
  const store = { get: async () => saved, set: async (t) => void (saved = t) };
  const { oc, token } = await signedIn({ tokenStore: store });
  assert.equal(saved?.accessToken, token.accessToken);
  assert.equal(typeof saved.refreshToken, 'string');
  const fresh = client({ tokenStore: store });
  const before = env.requests.filter((r) => r.path === '/token').length;
  assert.equal((await fresh.getToken()).accessToken, token.accessToken);
  assert.equal(env.requests.filter((r) => r.path === '/token').length, before, 'no token request for a fresh stored token');
  // Past the stored expiresAt (a new client knows the expiry, not the lifetime the token had).
  await sleep(ACCESS_TOKEN_TTL * 1000 + 200);
  const later = client({ tokenStore: store });
  const t = await later.getToken();
  assert.notEqual(t.accessToken, token.accessToken);
  assert.equal(later.stats().refreshTokenGrants, 1);
  assert.equal(saved.accessToken, t.accessToken);
  // The first client still holds the refresh token oidc-provider has rotated away: its refresh is refused.
  await sleep((ACCESS_TOKEN_TTL / 2) * 1000 + 200);
  oc.invalidate();
  const err = await oc.getToken().then(
    () => null,
    (e) => e,
  );
  // Either it re-read the store (and refreshed with the current refresh token) or it was refused.
  if (err) {
    assert.equal(err.code, 'login_required');
    assert.match(err.message, /signIn\(\)/);
  }
});

test('a revoked refresh token: the refresh is refused with login_required, and the client is signed out', async () => {
  let saved = null;
  const { oc } = await signedIn({ tokenStore: { get: () => saved, set: (t) => void (saved = t) } });
  assert.equal(typeof saved?.refreshToken, 'string');
  const held = { ...saved };
  const stored = await env.provider.RefreshToken.find(held.refreshToken);
  assert.ok(stored, 'oidc-provider knows the refresh token the client holds');
  await stored.destroy();
  oc.invalidate();
  const err = await oc.getToken().then(
    () => assert.fail('the refresh was accepted'),
    (e) => e,
  );
  assert.equal(err.code, 'login_required');
  assert.match(err.message, /signIn\(\)/);
  assert.equal(oc.isSignedIn(), false);
  await assert.rejects(oc.fetch('/me'), { code: 'login_required' });
  assert.equal(saved, null, 'tokenStore.set(null): the dead tokens are forgotten');
  const secrets = secretsSeen([held.refreshToken, held.accessToken]);
  assertNoSecretIn('the error', `${err.message} ${err.hint} ${err.error} ${err.errorDescription} ${JSON.stringify(err, Object.getOwnPropertyNames(err))} ${util.inspect(err)} ${err.stack}`, secrets);
  assert.deepEqual(env.serverErrors, []);
});

// Signing a user in against a real OpenID Connect provider: oidc-provider on 127.0.0.1 with a
// public client (token_endpoint_auth_method "none", so PKCE is required), the authorization code
// and refresh token grants, rotating refresh tokens (oidc-provider rotates them for public
// clients) and short-lived access tokens. oidc-provider issues a refresh token only for the
// `offline_access` scope, which it grants only with `prompt=consent`: the client asks for it
// through `authorizationParams`. The user's side (login and consent pages) is played with fetch
// and a cookie jar against oidc-provider's devInteractions.

import http from 'node:http';
import { listen, quietProvider, signingKey } from './oidc.mjs';

export const SPA = {
  clientId: 'interop-spa',
  redirectUri: 'http://127.0.0.1:8765/callback',
};
export const ACCESS_TOKEN_TTL = 2;
export const USER = 'interop.user';

/** Starts oidc-provider with the public client; returns its issuer, request log and close(). */
export async function startSigninProvider({ accessTokenTtl = ACCESS_TOKEN_TTL } = {}) {
  const restore = quietProvider();
  try {
    const { default: Provider } = await import('oidc-provider');
    const { privateKey } = signingKey();
    const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'signin-key', alg: 'RS256', use: 'sig' };
    const server = http.createServer();
    const issuer = await listen(server);
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: SPA.clientId,
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          redirect_uris: [SPA.redirectUri],
        },
      ],
      jwks: { keys: [jwk] },
      cookies: { keys: ['signin-interop-cookie-key'] },
      scopes: ['openid', 'offline_access', 'email', 'profile'],
      claims: { openid: ['sub'], email: ['email'], profile: ['name'] },
      findAccount: (_ctx, id) => ({
        accountId: id,
        claims: () => ({ sub: id, email: `${id}@example.test`, name: 'Interop User' }),
      }),
      pkce: { required: () => true },
      ttl: { AccessToken: accessTokenTtl, AuthorizationCode: 60, IdToken: 600, RefreshToken: 3600, Grant: 3600, Session: 3600, Interaction: 600 },
      features: { devInteractions: { enabled: true } },
    });
    const serverErrors = [];
    provider.on('server_error', (_ctx, err) => serverErrors.push(err));
    // Body-less log of what reached the provider, plus the grant of each token request.
    const requests = [];
    server.on('request', (req) => {
      const entry = { method: req.method, path: req.url, authorization: req.headers.authorization };
      requests.push(entry);
      if (req.url === '/token') {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
          entry.params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        });
      }
    });
    server.on('request', provider.callback());
    const close = () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    return { issuer, provider, requests, serverErrors, close };
  } finally {
    restore();
  }
}

/**
 * Plays the user: follows the authorize URL through oidc-provider's login and consent pages
 * (devInteractions: any login, any password) with a cookie jar, and returns the redirect back to
 * `redirectUri` (with code, state and iss).
 */
export async function driveInteraction(url, redirectUri = SPA.redirectUri, login = USER) {
  const jar = new Map();
  const keep = (res) => {
    for (const c of res.headers.getSetCookie()) {
      const pair = c.split(';')[0];
      const i = pair.indexOf('=');
      const name = pair.slice(0, i);
      const value = pair.slice(i + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) jar.delete(name);
      else jar.set(name, value);
    }
  };
  let next = { url, method: 'GET', body: undefined };
  const pages = [];
  for (let hop = 0; hop < 20; hop++) {
    const headers = { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') };
    if (next.body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(next.url, { method: next.method, body: next.body, headers, redirect: 'manual' });
    keep(res);
    if (res.status >= 300 && res.status < 400) {
      await res.arrayBuffer();
      const location = new URL(res.headers.get('location'), next.url).href;
      if (location.startsWith(redirectUri)) return { location, pages };
      next = { url: location, method: 'GET', body: undefined };
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) throw new Error(`${next.method} ${new URL(next.url).pathname} answered ${res.status}: ${html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').slice(0, 400)}`);
    const action = /<form[^>]*action="([^"]+)"/.exec(html);
    const prompt = /name="prompt" value="(\w+)"/.exec(html);
    if (!action || !prompt) throw new Error(`an interaction page without a form: ${html.slice(0, 300)}`);
    pages.push(prompt[1]);
    const form = new URLSearchParams({ prompt: prompt[1] });
    if (prompt[1] === 'login') {
      form.set('login', login);
      form.set('password', 'any-password');
    }
    next = { url: new URL(action[1].replace(/&amp;/g, '&'), next.url).href, method: 'POST', body: form.toString() };
  }
  throw new Error('more than 20 hops between the authorize URL and the redirect back');
}

// Dynatrace user sign-in: authorization code + PKCE (S256) + rotating refresh tokens.
//   sso role:     GET /oauth2/authorize (login page or autoLogin 302), POST /oauth2/authorize/login,
//                 GET|POST /sso/oauth2/userinfo, GET /.well-known/openid-configuration
//   dtToken role: POST /sso/oauth2/token (token.dynatrace.com) for the code and refresh grants
// Access tokens issued here go into state.dtTokens (with a `user`), so the environment API accepts them
// and emu.expireTokens() / tokenLifetimeSeconds apply to them like to client-credentials tokens.

import { createHash, randomBytes } from 'node:crypto';
import { send, sendJson, mediaType, bearerToken, basicCredentials, formDecode, makeJwt, base64url, xmlEscape } from './util.mjs';

export const DEFAULT_DT_PUBLIC_CLIENT = { clientId: 'dt0s12.EMULATOR' };
export const DEFAULT_USER_EMAIL = 'emulator.user@example.com';
/** What a client registered without redirectUris accepts (RFC 8252 7.3, any port, any path). */
export const LOOPBACK_RULE = 'loopback';
export const CODE_LIFETIME_SECONDS = 60;
export const AUTHORIZE_PATH = '/oauth2/authorize';
export const LOGIN_PATH = '/oauth2/authorize/login';
export const USERINFO_PATH = '/sso/oauth2/userinfo';
export const DISCOVERY_PATH = '/.well-known/openid-configuration';
export const TOKEN_PATH = '/sso/oauth2/token';
export const PAGE_TITLE = 'Sign in – Dynatrace emulator';

const FORM = 'application/x-www-form-urlencoded';
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const VERIFIER_RE = /^[A-Za-z0-9\-._~]{43,128}$/;
const CHALLENGE_RE = /^[A-Za-z0-9_-]{43}$/;
// Request fields carried from the authorize request through the login form.
const CARRIED = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'resource', 'nonce'];

/** The registered public (or confidential) user sign-in clients: the default one plus options. */
export function publicClients(option) {
  const list = [];
  for (const c of option ?? []) {
    if (!c || typeof c.clientId !== 'string' || c.clientId === '') throw new TypeError('dynatrace.publicClients[]: clientId is required');
    if (c.redirectUris !== undefined && !(Array.isArray(c.redirectUris) && c.redirectUris.every((u) => typeof u === 'string'))) {
      throw new TypeError('dynatrace.publicClients[].redirectUris must be an array of strings');
    }
    list.push({ clientId: c.clientId, redirectUris: c.redirectUris ? [...c.redirectUris] : null, clientSecret: c.clientSecret ?? null });
  }
  // The default client is always registered unless an option entry reuses its id.
  if (!list.some((c) => c.clientId === DEFAULT_DT_PUBLIC_CLIENT.clientId)) {
    list.unshift({ clientId: DEFAULT_DT_PUBLIC_CLIENT.clientId, redirectUris: null, clientSecret: null });
  }
  return list;
}

export function s256(verifier) {
  return createHash('sha256').update(String(verifier), 'ascii').digest().toString('base64url');
}

/** A user from an email: deterministic sub (UUID-shaped, from the email) and a display name. */
export function userFor(email) {
  const mail = typeof email === 'string' && email.trim() !== '' ? email.trim() : DEFAULT_USER_EMAIL;
  const h = createHash('sha256').update(mail).digest('hex');
  const sub = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
  const local = mail.split('@')[0];
  const name = local
    .split(/[._-]+/)
    .filter(Boolean)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join(' ') || mail;
  return { sub, email: mail, name };
}

function redirectAllowed(client, uri) {
  if (typeof uri !== 'string' || uri === '') return false;
  if (client.redirectUris) return client.redirectUris.includes(uri);
  if (uri.includes('#')) return false;
  let u;
  try {
    u = new URL(uri);
  } catch {
    return false;
  }
  return u.protocol === 'http:' && !u.username && !u.password && LOOPBACK_HOSTS.has(u.hostname);
}

function findClient(state, clientId) {
  return state.publicClients.find((c) => c.clientId === clientId) || null;
}

/**
 * Check an authorize request (query of GET /oauth2/authorize, or the login form).
 * { page: message } → 400 HTML (client or redirect URI not verified: never redirect);
 * { redirect: {...}, error, description } → error redirect; else { ok: true, ... }.
 */
export function checkAuthorize(state, params) {
  const clientId = params.get('client_id');
  if (!clientId) return { page: 'The request has no client_id.' };
  const client = findClient(state, clientId);
  if (!client) return { page: `Unknown client_id ${JSON.stringify(clientId)}.` };
  const redirectUri = params.get('redirect_uri');
  if (!redirectUri) return { page: 'The request has no redirect_uri.' };
  if (!redirectAllowed(client, redirectUri)) {
    const rule = client.redirectUris ? 'one of its registered redirect URIs' : 'a loopback http URI (http://127.0.0.1:*, http://localhost:*, http://[::1]:*)';
    return { page: `The redirect_uri ${JSON.stringify(redirectUri)} is not allowed for client ${clientId}: it must be ${rule}.` };
  }
  const base = { client, redirectUri, state: params.get('state') ?? undefined };
  const fail = (description) => ({ ...base, error: 'invalid_request', description });
  const responseType = params.get('response_type');
  if (responseType !== 'code') return fail(`response_type must be "code" (got ${JSON.stringify(responseType)}).`);
  const challenge = params.get('code_challenge');
  if (!challenge) return fail('code_challenge is required (PKCE).');
  const method = params.get('code_challenge_method');
  if (method !== 'S256') return fail(`code_challenge_method must be S256 (got ${JSON.stringify(method)}).`);
  if (!CHALLENGE_RE.test(challenge)) return fail('code_challenge must be 43 base64url characters (the SHA-256 of the code_verifier).');
  const scopes = [...new Set((params.get('scope') ?? '').split(/\s+/).filter(Boolean))];
  return {
    ...base,
    ok: true,
    scopes: scopes.length > 0 ? scopes : ['openid', ...state.defaultUserScopes],
    challenge,
    resource: params.get('resource') ?? undefined,
    nonce: params.get('nonce') ?? undefined,
  };
}

export function redirectWith(res, redirectUri, params) {
  const u = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) u.searchParams.append(k, v);
  send(res, 302, '', { location: u.href, 'cache-control': 'no-store' });
}

function errorRedirect(res, checked, error, description) {
  redirectWith(res, checked.redirectUri, { error, error_description: description, state: checked.state });
}

function htmlPage(title, body) {
  return ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">', `<title>${xmlEscape(title)}</title></head>`, '<body>', ...body, '</body></html>'].join('\n');
}

export function errorPage(res, message, status = 400) {
  const page = htmlPage('Sign-in error – Dynatrace emulator', ['<h1>Sign-in error</h1>', `<p id="error">${xmlEscape(message)}</p>`]);
  send(res, status, page, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
}

function loginPage(res, params) {
  const hidden = CARRIED.filter((k) => params.get(k) !== null).map((k) => `<input type="hidden" name="${k}" value="${xmlEscape(params.get(k))}">`);
  const hint = params.get('login_hint') || DEFAULT_USER_EMAIL;
  const page = htmlPage(PAGE_TITLE, [
    '<h1>Sign in</h1>',
    `<form id="login" method="post" action="${LOGIN_PATH}">`,
    ...hidden,
    `<label for="user">User</label> <input id="user" name="user" value="${xmlEscape(hint)}">`,
    '<button type="submit" id="sign-in" name="action" value="sign-in">Sign in</button>',
    '<button type="submit" id="deny" name="action" value="deny">Cancel</button>',
    '</form>',
  ]);
  send(res, 200, page, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
}

/** Issue a code for a checked request and redirect to redirect_uri?code=…&state=…. */
function issueCode(state, res, checked, email) {
  const code = randomBytes(32).toString('base64url');
  state.codes.set(code, {
    clientId: checked.client.clientId,
    redirectUri: checked.redirectUri,
    challenge: checked.challenge,
    scopes: checked.scopes,
    resource: checked.resource,
    nonce: checked.nonce,
    user: userFor(email),
    expiresAt: Date.now() + CODE_LIFETIME_SECONDS * 1000,
    used: false,
    expired: false,
  });
  redirectWith(res, checked.redirectUri, { code, state: checked.state });
}

/** Handlers of the sign-in routes on the sso role. */
export function ssoSignin(state) {
  function answerChecked(ctx, checked, then) {
    if (checked.page) return errorPage(ctx.res, checked.page);
    if (!checked.ok) return errorRedirect(ctx.res, checked, checked.error, checked.description);
    return then(checked);
  }

  return {
    authorize(ctx) {
      if (ctx.method !== 'GET') return errorPage(ctx.res, `Method ${ctx.method} is not allowed on ${AUTHORIZE_PATH}; use GET.`, 405);
      const params = ctx.searchParams;
      answerChecked(ctx, checkAuthorize(state, params), (checked) => {
        if (state.options.dynatrace.autoLogin) return issueCode(state, ctx.res, checked, params.get('login_hint'));
        return loginPage(ctx.res, params);
      });
    },

    login(ctx) {
      state.counters.sso.login += 1;
      if (ctx.method !== 'POST') return errorPage(ctx.res, `Method ${ctx.method} is not allowed on ${LOGIN_PATH}; use POST.`, 405);
      if (mediaType(ctx.headers['content-type']) !== FORM) return errorPage(ctx.res, `The login form must be posted as ${FORM}.`);
      const params = new URLSearchParams(ctx.body);
      answerChecked(ctx, checkAuthorize(state, params), (checked) => {
        if (params.get('action') === 'deny') return errorRedirect(ctx.res, checked, 'access_denied', 'The user cancelled the sign-in.');
        return issueCode(state, ctx.res, checked, params.get('user'));
      });
    },

    userinfo(ctx) {
      const res = ctx.res;
      if (ctx.method !== 'GET' && ctx.method !== 'POST') {
        return sendJson(res, 405, { error: 'invalid_request', error_description: `Method ${ctx.method} not allowed` }, { allow: 'GET, POST' });
      }
      const raw = bearerToken(ctx.headers.authorization);
      const info = raw ? state.dtTokens.get(raw) : undefined;
      let problem = null;
      if (!raw) problem = 'An Authorization header with a Bearer token is required.';
      else if (!info || !info.user) problem = 'The access token is not a user token issued by this SSO.';
      else if (info.expiresAt <= Date.now()) problem = 'The access token has expired.';
      if (problem) return userinfoUnauthorized(res, problem);
      const { sub, email, name } = info.user;
      sendJson(res, 200, { sub, email, name }, { 'cache-control': 'no-store' });
    },

    discovery(ctx) {
      if (!state.options.dynatrace.discovery || ctx.method !== 'GET') {
        return sendJson(ctx.res, 404, { error: 'not_found', error_description: `No route for ${ctx.method} ${ctx.pathname}` });
      }
      sendJson(ctx.res, 200, discoveryDocument(state));
    },

    /** Fault errorRedirect applies only to an authorize request whose client and redirect URI check out. */
    faultApplies(ctx, where, fault) {
      if (fault.kind !== 'errorRedirect') return true;
      return where === 'authorize' && ctx.method === 'GET' && !checkAuthorize(state, ctx.searchParams).page;
    },

    applyFault(ctx, where, fault) {
      if (fault.kind !== 'errorRedirect') return false;
      const checked = checkAuthorize(state, ctx.searchParams);
      errorRedirect(ctx.res, checked, fault.error, fault.description ?? fault.error_description ?? `Injected error ${fault.error}`);
      return true;
    },
  };
}

export function userinfoUnauthorized(res, description = 'The access token is not valid.') {
  sendJson(res, 401, { error: 'invalid_token', error_description: description }, { 'www-authenticate': `Bearer error="invalid_token"` });
}

export function discoveryDocument(state) {
  const sso = state.urls.sso;
  return {
    issuer: sso,
    authorization_endpoint: `${sso}${AUTHORIZE_PATH}`,
    token_endpoint: `${state.urls.dtToken}${TOKEN_PATH}`,
    userinfo_endpoint: `${sso}${USERINFO_PATH}`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_post', 'client_secret_basic'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['none'],
    scopes_supported: ['openid', 'profile', 'email', ...state.defaultUserScopes],
  };
}

// ---------------------------------------------------------------------------------------------
// token.dynatrace.com

function oauthError(res, error, description, status = 400) {
  sendJson(res, status, { error, error_description: description }, { 'cache-control': 'no-store', pragma: 'no-cache' });
}

/** id_token: an unsigned JWT (alg none, empty signature). */
function idToken(payload) {
  return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(payload)}.`;
}

function grantOf(ctx) {
  return new URLSearchParams(ctx.body).get('grant_type');
}

export function dtTokenRole(state) {
  const counters = state.counters.dtToken;

  /** Client authentication: client_id in the body (public), plus the secret (body or Basic) for confidential clients. */
  function authenticate(ctx, params) {
    let clientId = params.get('client_id');
    let secret = params.get('client_secret');
    const basic = basicCredentials(ctx.headers.authorization);
    if (basic) {
      const id = formDecode(basic.user);
      const pw = formDecode(basic.password);
      if ((clientId !== null && clientId !== id) || (secret !== null && secret !== pw)) {
        return { error: ['invalid_client', 'Client authentication failed: Basic credentials and the form disagree.'] };
      }
      clientId = id;
      secret = pw;
    }
    if (!clientId) return { error: ['invalid_request', 'client_id is required.'] };
    const client = findClient(state, clientId);
    if (!client) return { error: ['invalid_client', `Unknown client_id ${JSON.stringify(clientId)}.`] };
    if (client.clientSecret !== null && secret !== client.clientSecret) {
      return { error: ['invalid_client', 'Client authentication failed: this client is confidential and the client_secret is missing or wrong.'] };
    }
    return { client };
  }

  function issue(ctx, client, user, scopes, resource, nonce, refreshToken) {
    const lifetime = state.lifetime('dynatrace');
    const now = Date.now();
    const expiresAt = now + lifetime * 1000;
    const iat = Math.floor(now / 1000);
    const exp = Math.floor(expiresAt / 1000);
    const accessToken = makeJwt({
      sub: user.sub,
      iss: state.urls.sso,
      aud: resource ?? client.clientId,
      azp: client.clientId,
      scp: scopes,
      iat,
      exp,
    });
    state.dtTokens.set(accessToken, { clientId: client.clientId, scopes: new Set(scopes), expiresAt, user, resource: resource ?? null });
    const answer = {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: lifetime,
      scope: scopes.join(' '),
      id_token: idToken({ iss: state.urls.sso, sub: user.sub, email: user.email, name: user.name, aud: client.clientId, iat, exp, ...(nonce ? { nonce } : {}) }),
    };
    if (refreshToken === undefined) {
      refreshToken = randomBytes(36).toString('base64url');
      state.refreshTokens.set(refreshToken, { clientId: client.clientId, user, scopes, resource, nonce: undefined });
    }
    if (refreshToken !== null) answer.refresh_token = refreshToken;
    counters.issued += 1;
    sendJson(ctx.res, 200, answer, { 'cache-control': 'no-store', pragma: 'no-cache' });
  }

  function codeGrant(ctx, params, client) {
    const code = params.get('code');
    if (!code) return oauthError(ctx.res, 'invalid_request', 'code is required.');
    if (!params.get('redirect_uri')) return oauthError(ctx.res, 'invalid_request', 'redirect_uri is required.');
    const info = state.codes.get(code);
    if (!info) return oauthError(ctx.res, 'invalid_grant', 'The authorization code is invalid.');
    if (info.used) return oauthError(ctx.res, 'invalid_grant', 'The authorization code has already been used.');
    if (info.expired || info.expiresAt <= Date.now()) return oauthError(ctx.res, 'invalid_grant', 'The authorization code expired.');
    // Any redemption attempt from here on uses the code up, successful or not.
    info.used = true;
    if (info.clientId !== client.clientId) return oauthError(ctx.res, 'invalid_grant', 'The authorization code was issued to another client.');
    if (params.get('redirect_uri') !== info.redirectUri) {
      return oauthError(ctx.res, 'invalid_grant', 'redirect_uri does not match the one of the authorization request.');
    }
    const verifier = params.get('code_verifier');
    if (!verifier) return oauthError(ctx.res, 'invalid_grant', 'PKCE verification failed: code_verifier is required.');
    if (!VERIFIER_RE.test(verifier)) {
      return oauthError(ctx.res, 'invalid_grant', 'PKCE verification failed: code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~].');
    }
    if (s256(verifier) !== info.challenge) {
      return oauthError(ctx.res, 'invalid_grant', 'PKCE verification failed: code_verifier does not match code_challenge.');
    }
    issue(ctx, client, info.user, info.scopes, info.resource, info.nonce);
  }

  function refreshGrant(ctx, params, client) {
    const rt = params.get('refresh_token');
    if (!rt) return oauthError(ctx.res, 'invalid_request', 'refresh_token is required.');
    const info = state.refreshTokens.get(rt);
    if (!info) {
      const dead = state.deadRefreshTokens.get(rt);
      return oauthError(ctx.res, 'invalid_grant', dead ?? 'The refresh token is invalid.');
    }
    if (info.clientId !== client.clientId) return oauthError(ctx.res, 'invalid_grant', 'The refresh token was issued to another client.');
    let scopes = info.scopes;
    const asked = [...new Set((params.get('scope') ?? '').split(/\s+/).filter(Boolean))];
    if (asked.length > 0) {
      const extra = asked.filter((s) => !info.scopes.includes(s));
      if (extra.length > 0) return oauthError(ctx.res, 'invalid_scope', `Scopes not granted originally: ${extra.join(' ')}.`);
      scopes = asked;
    }
    if (state.options.dynatrace.rotateRefreshTokens) {
      state.refreshTokens.delete(rt);
      state.deadRefreshTokens.set(rt, 'The refresh token has already been used (refresh tokens rotate).');
      issue(ctx, client, info.user, scopes, info.resource, undefined);
    } else {
      issue(ctx, client, info.user, scopes, info.resource, undefined, null);
    }
  }

  return {
    name: 'dtToken',
    title: 'Dynatrace',
    classify(ctx) {
      if (ctx.pathname !== TOKEN_PATH) return null;
      const grant = grantOf(ctx);
      if (grant === 'authorization_code') counters.code += 1;
      else if (grant === 'refresh_token') counters.refresh += 1;
      return 'token';
    },
    unauthorized(ctx) {
      oauthError(ctx.res, 'invalid_client', 'Client authentication failed.');
    },
    faultApplies(ctx, _where, fault) {
      if (fault.kind === 'refuseRefresh') return grantOf(ctx) === 'refresh_token';
      if (fault.kind === 'expiredCode') return grantOf(ctx) === 'authorization_code';
      return true;
    },
    applyFault(ctx, _where, fault) {
      const params = new URLSearchParams(ctx.body);
      if (fault.kind === 'refuseRefresh') {
        // The presented refresh token is dead from now on, like a really expired one.
        const rt = params.get('refresh_token');
        if (rt) {
          state.refreshTokens.delete(rt);
          state.deadRefreshTokens.set(rt, 'The refresh token expired.');
        }
        oauthError(ctx.res, 'invalid_grant', 'The refresh token expired.');
        return true;
      }
      if (fault.kind === 'expiredCode') {
        const info = state.codes.get(params.get('code'));
        if (info) info.expired = true;
        oauthError(ctx.res, 'invalid_grant', 'The authorization code expired.');
        return true;
      }
      return false;
    },
    handle(ctx, where) {
      if (where !== 'token') return oauthError(ctx.res, 'not_found', `No route for ${ctx.method} ${ctx.pathname}`, 404);
      if (ctx.method !== 'POST') {
        return sendJson(ctx.res, 405, { error: 'invalid_request', error_description: `Method ${ctx.method} is not allowed on the token endpoint; use POST` }, { allow: 'POST' });
      }
      if (mediaType(ctx.headers['content-type']) !== FORM) return oauthError(ctx.res, 'invalid_request', `Content-Type must be ${FORM}.`);
      const params = new URLSearchParams(ctx.body);
      const grant = params.get('grant_type');
      if (grant !== 'authorization_code' && grant !== 'refresh_token') {
        return oauthError(ctx.res, 'unsupported_grant_type', `Unsupported grant_type: ${grant ?? '(missing)'} (use authorization_code or refresh_token).`);
      }
      const auth = authenticate(ctx, params);
      if (auth.error) return oauthError(ctx.res, ...auth.error);
      if (grant === 'authorization_code') return codeGrant(ctx, params, auth.client);
      return refreshGrant(ctx, params, auth.client);
    },
  };
}

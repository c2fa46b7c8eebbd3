// Interoperability with a real OAuth 2.0 authorization server: oidc-provider (the certified
// OpenID Connect / OAuth 2.0 server library) on 127.0.0.1, with the client credentials grant,
// resource indicators (RFC 8707) and two confidential clients, one per token endpoint auth
// method. A small resource server on 127.0.0.1 accepts the issued tokens the way an API would:
// it verifies a JWT's signature, issuer, audience and expiry, and looks an opaque token up in
// the provider. Shared by oidc-provider.test.mjs and scripts/reliability-report.mjs.
//
// Client secrets carry `:`, `%`, `+`, `/`, `&`, `=`, `?`, `#` and spaces. oidc-provider refuses to
// register a secret outside printable ASCII (RFC 6749 Appendix A: client_secret = *VSCHAR), so
// non-ASCII secrets are covered by the emulator and the unit tests instead. For HTTP Basic,
// oidc-provider form-decodes the id and the secret (RFC 6749 §2.3.1): a client that skipped
// the encoding, or used plain percent-encoding with `%20` left as is, would not authenticate.

import http from 'node:http';
import { generateKeyPairSync, createVerify } from 'node:crypto';
import { OAuthClient } from '../../pkg/node.mjs';

export const RESOURCE_JWT = 'https://api.example.test/';
export const RESOURCE_OPAQUE = 'https://opaque.example.test/';

export const CLIENTS = {
  post: {
    clientId: 'interop-post',
    clientSecret: 's3:cr%t+ w/&=?#~ post',
    authMethod: 'client_secret_post',
  },
  basic: {
    clientId: 'interop:basic client+1',
    clientSecret: 'b@sic:s3cr%25t+ / ?#&=',
    authMethod: 'client_secret_basic',
  },
};

/** Listens on a free loopback port; resolves to the server's origin. */
export function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`)));
}

/**
 * Keeps oidc-provider's notices about development defaults (and Node 20), printed when it is
 * loaded and configured, off the console until the returned function is called: they are about
 * the test setup, not about the client under test.
 */
export function quietProvider() {
  const { info, warn } = console;
  const quiet = (orig) => (...args) => {
    if (typeof args[0] === 'string' && args[0].startsWith('oidc-provider ')) return;
    orig.apply(console, args);
  };
  console.info = quiet(info);
  console.warn = quiet(warn);
  return () => {
    console.info = info;
    console.warn = warn;
  };
}

function b64urlJson(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

/** Starts the provider and the resource server; returns their URLs, the provider and close(). */
export async function startInterop() {
  const restore = quietProvider();
  try {
    const { default: Provider, errors } = await import('oidc-provider');
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'interop-key', alg: 'RS256', use: 'sig' };

    const authServer = http.createServer();
    const issuer = await listen(authServer);
    const provider = new Provider(issuer, {
      clients: Object.values(CLIENTS).map((c) => ({
        client_id: c.clientId,
        client_secret: c.clientSecret,
        token_endpoint_auth_method: c.authMethod,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: 'api:read api:write',
      })),
      scopes: ['api:read', 'api:write', 'api:admin'],
      jwks: { keys: [jwk] },
      cookies: { keys: ['interop-cookie-signing-key'] },
      ttl: { ClientCredentials: () => 600 },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => undefined,
          useGrantedResource: () => false,
          getResourceServerInfo: (ctx, resource) => {
            if (resource === RESOURCE_JWT) {
              return { scope: 'api:read api:write api:admin', audience: RESOURCE_JWT, accessTokenFormat: 'jwt', accessTokenTTL: 600, jwt: { sign: { alg: 'RS256' } } };
            }
            if (resource === RESOURCE_OPAQUE) {
              return { scope: 'api:read api:write', audience: RESOURCE_OPAQUE, accessTokenFormat: 'opaque', accessTokenTTL: 600 };
            }
            throw new errors.InvalidTarget();
          },
        },
      },
    });
    const serverErrors = [];
    provider.on('server_error', (_ctx, err) => serverErrors.push(err));
    // Only headers are recorded: the body belongs to the provider.
    const tokenRequests = [];
    authServer.on('request', (req) => {
      if (req.url === '/token') tokenRequests.push({ authorization: req.headers.authorization, contentType: req.headers['content-type'] });
    });
    authServer.on('request', provider.callback());

    // The resource server: 200 with what it learnt from the token, 401 otherwise.
    const accepted = [];
    const resourceServer = http.createServer(async (req, res) => {
      const m = /^Bearer (.+)$/.exec(req.headers.authorization || '');
      const deny = (why) => {
        res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer error="invalid_token"' });
        res.end(why);
      };
      if (!m) return deny('no bearer token');
      const token = m[1];
      const now = Math.floor(Date.now() / 1000);
      let claims;
      if (token.split('.').length === 3) {
        const [h, p, s] = token.split('.');
        const header = b64urlJson(h);
        const ok = header.alg === 'RS256' && createVerify('RSA-SHA256').update(`${h}.${p}`).verify(publicKey, Buffer.from(s, 'base64url'));
        if (!ok) return deny('bad signature');
        const payload = b64urlJson(p);
        if (payload.iss !== issuer) return deny('wrong issuer');
        if (payload.aud !== RESOURCE_JWT) return deny('wrong audience');
        if (!(payload.exp > now)) return deny('expired');
        claims = { format: 'jwt', clientId: payload.client_id, aud: payload.aud, scope: payload.scope };
      } else {
        const found = await provider.ClientCredentials.find(token);
        if (!found || found.isExpired) return deny('unknown or expired token');
        claims = { format: 'opaque', clientId: found.clientId, aud: found.aud, scope: found.scope };
      }
      accepted.push(claims);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(claims));
    });
    const resourceUrl = await listen(resourceServer);

    const close = () =>
      Promise.all(
        [authServer, resourceServer].map(
          (s) =>
            new Promise((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    return { issuer, tokenUrl: `${issuer}/token`, resourceUrl, provider, accepted, serverErrors, tokenRequests, close };
  } finally {
    restore();
  }
}

function client(env, c, extra = {}) {
  return new OAuthClient({
    tokenUrl: env.tokenUrl,
    clientId: c.clientId,
    clientSecret: c.clientSecret,
    authMethod: c.authMethod,
    baseUrl: env.resourceUrl,
    timeoutMs: 5_000,
    maxRetries: 0,
    ...extra,
  });
}

async function attempt(fn) {
  try {
    return { value: await fn() };
  } catch (error) {
    return { error };
  }
}

const errText = (e) => `${e.code}${e.status !== undefined ? ` ${e.status}` : ''}${e.error ? ` (${e.error})` : ''}`;

/**
 * The interop scenarios. Each returns { scenario, expected, observed, ok, problems }.
 */
export async function runInterop(env) {
  const rows = [];
  const row = (scenario, expected, observed, problems) => rows.push({ scenario, expected, observed, ok: problems.length === 0, problems });

  for (const [key, c] of Object.entries(CLIENTS)) {
    for (const [format, resource] of [['JWT', RESOURCE_JWT], ['opaque', RESOURCE_OPAQUE]]) {
      const scenario = `${c.authMethod}, resource ${resource} (${format}), scope api:read api:write`;
      const problems = [];
      const oc = client(env, c, { scope: ['api:read', 'api:write'], resource });
      const t = await attempt(() => oc.getToken());
      let observed;
      if (t.error) {
        observed = errText(t.error);
        problems.push(`token refused: ${t.error.message}`);
      } else {
        const token = t.value;
        if (token.tokenType !== 'Bearer') problems.push(`tokenType ${token.tokenType}`);
        if (token.scope !== 'api:read api:write') problems.push(`scope ${JSON.stringify(token.scope)}`);
        const lifetime = Math.round((token.expiresAt - Date.now()) / 1000);
        if (lifetime < 590 || lifetime > 600) problems.push(`expires in ${lifetime} s, want 600`);
        const r = await attempt(async () => {
          const res = await oc.fetch('/resource');
          return { status: res.status, body: await res.text() };
        });
        if (r.error) problems.push(`resource call failed: ${r.error.message}`);
        else if (r.value.status !== 200) problems.push(`the resource server refused the token: HTTP ${r.value.status} ${r.value.body}`);
        else {
          const claims = JSON.parse(r.value.body);
          if (claims.clientId !== c.clientId) problems.push(`token issued to ${claims.clientId}`);
          if (claims.aud !== resource) problems.push(`audience ${claims.aud}`);
          if (claims.scope !== 'api:read api:write') problems.push(`token scope ${claims.scope}`);
          if (claims.format !== format.toLowerCase()) problems.push(`format ${claims.format}`);
        }
        observed = problems.length ? 'token, but see problems' : `token (${format}, ${lifetime} s) accepted by the resource server`;
      }
      row(scenario, `token, accepted by the resource server (${format === 'JWT' ? 'signature, iss, aud, exp checked' : 'found in the provider'})`, observed, problems);
    }

    {
      const scenario = `${c.authMethod}, wrong secret`;
      const r = await attempt(() => client(env, { ...c, clientSecret: `${c.clientSecret}-not-it` }).getToken());
      const problems = [];
      if (!r.error) problems.push('a token was issued');
      else {
        if (r.error.code !== 'invalid_client') problems.push(`code ${r.error.code}`);
        if (r.error.status !== 401) problems.push(`status ${r.error.status}`);
        if (r.error.error !== 'invalid_client') problems.push(`error ${r.error.error}`);
      }
      row(scenario, 'invalid_client 401', r.error ? errText(r.error) : 'token', problems);
    }
  }

  {
    const c = CLIENTS.post;
    const scenario = 'client_secret_post, scope api:admin (not granted to the client)';
    const r = await attempt(() => client(env, c, { scope: 'api:admin', resource: RESOURCE_JWT }).getToken());
    const problems = [];
    if (!r.error) problems.push('a token was issued');
    else if (r.error.code !== 'invalid_scope' || r.error.status !== 400) problems.push(`got ${errText(r.error)}`);
    row(scenario, 'invalid_scope 400', r.error ? errText(r.error) : 'token', problems);
  }
  {
    const c = CLIENTS.basic;
    const scenario = 'client_secret_basic, unknown resource https://unknown.example.test/';
    const r = await attempt(() => client(env, c, { scope: 'api:read', resource: 'https://unknown.example.test/' }).getToken());
    const problems = [];
    if (!r.error) problems.push('a token was issued');
    else if (r.error.code !== 'token_error' || r.error.status !== 400 || r.error.error !== 'invalid_target') problems.push(`got ${errText(r.error)}`);
    row(scenario, 'token_error 400 (invalid_target)', r.error ? errText(r.error) : 'token', problems);
  }
  {
    // What went over the wire: Basic is base64(form(id) ":" form(secret)); post sends no
    // Authorization header. (oidc-provider itself accepts either method from either client.)
    const scenario = 'the Authorization header of each auth method on the wire';
    const problems = [];
    const form = (v) => new URLSearchParams({ v }).toString().slice(2);
    const seen = env.tokenRequests;
    const basic = seen.filter((r) => r.authorization && r.authorization.startsWith('Basic '));
    const want = `Basic ${Buffer.from(`${form(CLIENTS.basic.clientId)}:${form(CLIENTS.basic.clientSecret)}`).toString('base64')}`;
    const wrong = `Basic ${Buffer.from(`${form(CLIENTS.basic.clientId)}:${form(`${CLIENTS.basic.clientSecret}-not-it`)}`).toString('base64')}`;
    if (basic.length === 0) problems.push('no request carried HTTP Basic');
    for (const r of basic) if (r.authorization !== want && r.authorization !== wrong) problems.push('a Basic header is not base64(form(id):form(secret))');
    const postRequests = seen.length - basic.length;
    if (seen.some((r) => r.authorization && !r.authorization.startsWith('Basic '))) problems.push('an Authorization header that is not Basic');
    if (postRequests === 0) problems.push('no request without Authorization (client_secret_post)');
    row(scenario, 'Basic = base64(form(id):form(secret)); post: none', `${basic.length} Basic, ${postRequests} without Authorization`, problems);
  }
  {
    // Concurrency against a real server: one token for many calls.
    const c = CLIENTS.basic;
    const scenario = 'client_secret_basic, 100 concurrent calls on a cold cache';
    const oc = client(env, c, { scope: 'api:read', resource: RESOURCE_OPAQUE });
    const before = env.accepted.length;
    const statuses = await Promise.all(Array.from({ length: 100 }, () => oc.fetch('/resource').then(async (res) => (await res.arrayBuffer(), res.status))));
    const problems = [];
    if (!statuses.every((s) => s === 200)) problems.push(`statuses ${[...new Set(statuses)].join(',')}`);
    if (oc.stats().tokenRequests !== 1) problems.push(`${oc.stats().tokenRequests} token requests`);
    if (env.accepted.length - before !== 100) problems.push(`${env.accepted.length - before} calls accepted`);
    row(scenario, '100 × 200, 1 token request', `${statuses.filter((s) => s === 200).length} × 200, ${oc.stats().tokenRequests} token request(s)`, problems);
  }
  if (env.serverErrors.length) {
    row('the provider raised no server_error', 'none', `${env.serverErrors.length}`, env.serverErrors.map((e) => String(e)));
  }
  return rows;
}

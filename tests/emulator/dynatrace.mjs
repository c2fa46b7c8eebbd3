// Dynatrace: the SSO token endpoint and a platform environment ("environmentUrl"), which also takes the
// emulator's platform token (state.platformToken).
// Behaviour follows the verified vendor facts of the project; comments name the quirks that drive each choice.

import { sendJson, send, mediaType, bearerToken, basicCredentials, formDecode, randomUpperAlnum, makeJwt, statusText, queryObject } from './util.mjs';
import { ssoSignin, errorPage, userinfoUnauthorized, AUTHORIZE_PATH, LOGIN_PATH, USERINFO_PATH, DISCOVERY_PATH } from './dynatrace-signin.mjs';

export const DEFAULT_DT_SCOPES = [
  'app-engine:apps:run',
  'storage:logs:read',
  'storage:buckets:read',
  'storage:metrics:read',
  'settings:objects:read',
];

export const DEFAULT_DT_CLIENT = {
  clientId: 'dt0s02.EMULATOR',
  // Real secrets are "<client id>.<64 chars>"; this one is fixed so runs are reproducible.
  clientSecret: 'dt0s02.EMULATOR.D2T95Q4FETL9WSYAWE6HKBA464CM652TMYU6CYFWPA797TJQSSLTYDJH0MB507YS',
  accountUrn: 'urn:dtaccount:00000000-0000-4000-8000-00000000e001',
  scopes: DEFAULT_DT_SCOPES,
};

const FORM = 'application/x-www-form-urlencoded';
const TOKEN_PATH = '/sso/oauth2/token';
const VALIDATION_FAILED = 'Invalid OAuth2 request. UNSUCCESSFUL_OAUTH_ACCESS_TOKEN_VALIDATION_FAILED |';

/**
 * Dynatrace SSO errors are HTTP 400 (also for bad credentials, not 401) with a body that mixes
 * Dynatrace fields (errorCode, message, issueId) and OAuth fields (error, error_description).
 */
function ssoError(res, description, error = 'invalid_request', status = 400, headers = {}) {
  sendJson(
    res,
    status,
    {
      errorCode: status,
      message: statusText(status),
      issueId: randomUpperAlnum(16),
      error,
      error_description: description,
    },
    { 'cache-control': 'no-store', ...headers },
  );
}

function badCredentials(res) {
  ssoError(res, `${VALIDATION_FAILED} ClientId or clientSecret is not correct.`);
}

export function ssoRole(state) {
  const signin = ssoSignin(state);
  return {
    name: 'sso',
    title: 'Dynatrace',
    classify(ctx) {
      if (ctx.pathname === TOKEN_PATH) return 'token';
      if (ctx.pathname === AUTHORIZE_PATH) return 'authorize';
      if (ctx.pathname === USERINFO_PATH) return 'userinfo';
      return null;
    },
    // The "unauthorized" fault on the token endpoint answers like rejected credentials;
    // on userinfo a 401 invalid_token; on authorize the 400 HTML error page.
    unauthorized(ctx, where) {
      if (where === 'userinfo') return userinfoUnauthorized(ctx.res);
      if (where === 'authorize') return errorPage(ctx.res, 'Access denied.');
      badCredentials(ctx.res);
    },
    faultApplies: signin.faultApplies,
    applyFault: signin.applyFault,
    handle(ctx, where) {
      const { res } = ctx;
      if (where === 'authorize') return signin.authorize(ctx);
      if (where === 'userinfo') return signin.userinfo(ctx);
      if (ctx.pathname === LOGIN_PATH) return signin.login(ctx);
      if (ctx.pathname === DISCOVERY_PATH) return signin.discovery(ctx);
      if (where !== 'token') {
        ssoError(res, `No route for ${ctx.method} ${ctx.pathname}`, 'not_found', 404);
        return;
      }
      if (ctx.method !== 'POST') {
        ssoError(res, `Method ${ctx.method} is not allowed on the token endpoint; use POST`, 'invalid_request', 405, { allow: 'POST' });
        return;
      }
      if (mediaType(ctx.headers['content-type']) !== FORM) {
        ssoError(res, `Invalid OAuth2 request. Content-Type must be ${FORM}.`);
        return;
      }
      const params = new URLSearchParams(ctx.body);
      const grantType = params.get('grant_type');
      if (grantType !== 'client_credentials') {
        ssoError(res, `Invalid OAuth2 request. Unsupported grant_type: ${grantType ?? '(missing)'}`, 'unsupported_grant_type');
        return;
      }

      // Credentials: body (client_secret_post, what Dynatrace documents) or HTTP Basic
      // (RFC 6749 2.3.1: each part form-urlencoded, then base64). If both are present they must agree.
      let clientId = params.get('client_id');
      let clientSecret = params.get('client_secret');
      const basic = basicCredentials(ctx.headers.authorization);
      if (basic) {
        const basicId = formDecode(basic.user);
        const basicSecret = formDecode(basic.password);
        if ((clientId !== null && clientId !== basicId) || (clientSecret !== null && clientSecret !== basicSecret)) {
          badCredentials(res);
          return;
        }
        clientId = basicId;
        clientSecret = basicSecret;
      }
      const client = state.dtClients.find((c) => c.clientId === clientId && c.clientSecret === clientSecret);
      if (!client) {
        badCredentials(res);
        return;
      }

      const resource = params.get('resource');
      if (resource !== null && resource !== client.accountUrn) {
        ssoError(res, `${VALIDATION_FAILED} The requested resource ${JSON.stringify(resource)} is not a valid account for this OAuth client.`);
        return;
      }

      const requested = [...new Set((params.get('scope') ?? '').split(/\s+/).filter(Boolean))];
      const missing = requested.filter((s) => !client.scopes.includes(s));
      if (missing.length > 0) {
        ssoError(res, `${VALIDATION_FAILED} OAuth client is missing following scopes [${missing.join(', ')}]`);
        return;
      }
      // No scope requested: the token carries every scope granted to the client.
      const granted = requested.length > 0 ? requested : [...client.scopes];

      const lifetime = state.lifetime('dynatrace');
      const now = Date.now();
      const expiresAt = now + lifetime * 1000;
      const accessToken = makeJwt({
        sub: client.clientId,
        iss: state.urls.sso,
        aud: client.accountUrn,
        resource: client.accountUrn,
        scp: granted,
        iat: Math.floor(now / 1000),
        exp: Math.floor(expiresAt / 1000),
      });
      // resource: what the request named (null: none); the account API wants urn:dtaccount:<its uuid>.
      state.dtTokens.set(accessToken, { clientId: client.clientId, scopes: new Set(granted), expiresAt, resource });
      state.counters.sso.issued += 1;

      const answer = { scope: granted.join(' '), token_type: 'Bearer', expires_in: lifetime, access_token: accessToken };
      if (resource !== null) answer.resource = resource;
      sendJson(res, 200, answer, { 'cache-control': 'no-store' });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Platform environment

function platformError(res, status, message, details) {
  const error = { code: status, message };
  if (details !== undefined) error.details = details;
  sendJson(res, status, { error });
}

const APP_FUNCTION_RE = /^\/platform\/app-engine\/app-functions\/v1\/apps\/([^/]+)\/api\/([^/]+)\/?$/;

/** What the server received, for tests that check headers and bodies a client sends. */
export function echoOf(ctx) {
  return {
    method: ctx.method,
    path: ctx.pathname,
    query: queryObject(ctx.searchParams),
    url: ctx.url,
    headers: ctx.headers,
    body: ctx.body,
  };
}

/** The app functions of the emulated app `my.emulator.app`. Each returns [status, json]. */
const APP_FUNCTIONS = {
  echo(ctx, payload) {
    return [200, { method: ctx.method, payload }];
  },
  calculate(ctx, payload) {
    const ok = payload && typeof payload === 'object' && Number.isFinite(payload.a) && Number.isFinite(payload.b);
    if (!ok) return [400, { error: { code: 400, message: 'Expected a JSON body {"a": <number>, "b": <number>}' } }];
    return [200, { result: payload.a + payload.b }];
  },
  // 540: the function's JavaScript threw.
  throws() {
    return [
      540,
      {
        error: {
          code: 540,
          message: 'Execution of the app function failed: a JavaScript error was thrown.',
          details: {
            type: 'JavaScriptError',
            name: 'Error',
            message: 'Something went wrong in the function',
            stack: 'Error: Something went wrong in the function\n    at default (api/throws.js:3:9)',
          },
        },
      },
    ];
  },
  // 541: the runtime itself failed (e.g. out of memory, timeout).
  crashes() {
    return [
      541,
      {
        error: {
          code: 541,
          message: 'Runtime error: the app function runtime terminated unexpectedly.',
          details: { type: 'RuntimeError', reason: 'The function exceeded its memory limit.' },
        },
      },
    ];
  },
};

export function dynatraceRole(state) {
  const counters = state.counters.dynatrace;

  function unauthorized(ctx, reason = 'The provided token is not valid.') {
    counters.unauthorized += 1;
    platformError(ctx.res, 401, 'Unauthorized', { reason });
  }

  function requireScope(ctx, token, scope) {
    if (token.scopes.has(scope)) return true;
    counters.forbidden += 1;
    // The missing scope is named in the message and listed in details.
    platformError(ctx.res, 403, `Forbidden: missing scopes [${scope}]`, { missingScopes: [scope] });
    return false;
  }

  function methodNotAllowed(ctx, allowed) {
    sendJson(ctx.res, 405, { error: { code: 405, message: `Method ${ctx.method} not allowed` } }, { allow: allowed.join(', ') });
  }

  function appFunction(ctx, token, appId, fn) {
    if (ctx.method !== 'GET' && ctx.method !== 'POST') return methodNotAllowed(ctx, ['GET', 'POST']);
    // app-engine:apps:run is always needed for any app function.
    if (!requireScope(ctx, token, 'app-engine:apps:run')) return;
    if (appId === 'my.deploying.app') {
      return platformError(ctx.res, 409, `The backend of app ${appId} is still being deployed. Try again later.`);
    }
    if (appId !== 'my.emulator.app') return platformError(ctx.res, 404, `App ${appId} not found.`);
    const impl = Object.hasOwn(APP_FUNCTIONS, fn) ? APP_FUNCTIONS[fn] : null;
    if (!impl) return platformError(ctx.res, 404, `Function ${fn} not found in app ${appId}.`);
    let payload = null;
    if (ctx.method === 'POST' && ctx.body.trim() !== '') {
      try {
        payload = JSON.parse(ctx.body);
      } catch {
        return platformError(ctx.res, 400, 'The request body is not valid JSON.');
      }
    }
    const [status, json] = impl(ctx, payload);
    sendJson(ctx.res, status, json);
  }

  return {
    name: 'dynatrace',
    title: 'Dynatrace',
    classify(ctx) {
      return ctx.pathname === '/platform' || ctx.pathname.startsWith('/platform/') ? 'api' : null;
    },
    unauthorized(ctx) {
      unauthorized(ctx);
    },
    handle(ctx, where) {
      if (where !== 'api') return platformError(ctx.res, 404, 'Not Found');

      // Every /platform route needs a bearer token from this SSO that has not expired.
      // The platform token (dt0s16.…) is accepted here as well, until revokePlatformToken().
      const raw = bearerToken(ctx.headers.authorization);
      if (!raw) return unauthorized(ctx, 'An Authorization header with a Bearer token is required.');
      const platform = state.platformToken;
      if (raw === platform.value && platform.revoked) return unauthorized(ctx, 'The provided token has been revoked.');
      const token = raw === platform.value ? platform.info : state.dtTokens.get(raw);
      if (!token) return unauthorized(ctx, 'The provided token is not valid.');
      if (token.expiresAt <= Date.now()) return unauthorized(ctx, 'The provided token has expired.');

      const p = ctx.pathname;
      if (p === '/platform/echo') return sendJson(ctx.res, 200, echoOf(ctx));
      if (p === '/platform/redirect') {
        const to = ctx.searchParams.get('to');
        if (!to) return platformError(ctx.res, 400, 'Query parameter "to" is required.');
        return send(ctx.res, 302, '', { location: to });
      }
      if (p === '/platform/management/v1/environment') {
        if (ctx.method !== 'GET') return methodNotAllowed(ctx, ['GET']);
        return sendJson(ctx.res, 200, {
          environmentId: 'abc12345',
          createTime: '2023-01-01T00:00:00Z',
          blockTime: '2030-01-01T00:00:00Z',
          state: 'ACTIVE',
        });
      }
      if (p === '/platform/classic/environment-api/v2/settings/objects') {
        if (ctx.method !== 'GET') return methodNotAllowed(ctx, ['GET']);
        if (!requireScope(ctx, token, 'settings:objects:read')) return;
        return sendJson(ctx.res, 200, { items: [], totalCount: 0, pageSize: 100 });
      }
      const m = APP_FUNCTION_RE.exec(p);
      if (m) {
        let appId;
        let fn;
        try {
          appId = decodeURIComponent(m[1]);
          fn = decodeURIComponent(m[2]);
        } catch {
          return platformError(ctx.res, 400, 'Malformed path.');
        }
        return appFunction(ctx, token, appId, fn);
      }
      return platformError(ctx.res, 404, 'Not Found');
    },
  };
}

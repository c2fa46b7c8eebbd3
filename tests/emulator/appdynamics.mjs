// Cisco AppDynamics controllers: a modern one (24.10 and later) and a legacy one (before 4.5.9).
// Behaviour follows the verified vendor facts of the project; comments name the quirks that drive each choice.

import { createHash } from 'node:crypto';
import { send, sendJson, sendText, mediaType, bearerToken, basicCredentials, formDecode, makeJwt, xmlEscape, loginPage } from './util.mjs';
import { echoOf } from './dynatrace.mjs';

export const DEFAULT_APPD_CLIENT = {
  clientName: 'apm-oauth-demo',
  // On-premises single-tenant controllers use the account name "customer1".
  accountName: 'customer1',
  // The Controller UI generates a UUID as the API client secret.
  clientSecret: '7c1e4b52-93a8-4f0d-b6e2-5d8a0f3c9e17',
};

/**
 * A fixed, long-lived JWT standing in for a "Temporary Access Token" generated in the Controller UI
 * (1 to 30 days): a plain bearer token a client may be given instead of client credentials.
 */
export function temporaryTokenFor(client) {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(
    JSON.stringify({
      iss: 'AppDynamics',
      aud: 'AppDynamics',
      jti: 'emulator-temporary-access-token',
      sub: client.clientName,
      idType: 'API_CLIENT',
      acctName: client.accountName,
      iat: 1704067200, // 2024-01-01
      exp: 4102444800, // 2100-01-01
    }),
  ).toString('base64url');
  const signature = createHash('sha256').update(`temporary:${client.clientName}@${client.accountName}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

const TOKEN_PATH = '/controller/api/oauth/access_token';
const FORM = 'application/x-www-form-urlencoded';
// The seed page's type. Old controllers want it; 24.10+ refuse it ("Invalid Content Type").
const VENDOR_TYPE = 'application/vnd.appd.cntrl+protobuf';
const INVALID_TOKEN = 'Failed to authenticate: invalid access token.';

const APPLICATIONS = [
  { description: '', id: 5, name: 'ECommerce_E2E' },
  { description: 'Payment services', id: 7, name: 'Payments' },
  { description: '', id: 9, name: 'Inventory' },
];

const TIERS = {
  5: [
    { agentType: 'APP_AGENT', description: '', id: 11, name: 'Web', numberOfNodes: 2, type: 'Application Server' },
    { agentType: 'APP_AGENT', description: '', id: 12, name: 'Checkout', numberOfNodes: 1, type: 'Application Server' },
  ],
  7: [{ agentType: 'APP_AGENT', description: '', id: 21, name: 'PaymentGateway', numberOfNodes: 1, type: 'Application Server' }],
  9: [{ agentType: 'NODEJS_APP_AGENT', description: '', id: 31, name: 'Stock', numberOfNodes: 1, type: 'Node.JS Server' }],
};

function xmlList(outer, inner, items) {
  const rows = items.map((item) => {
    const fields = Object.entries(item)
      .map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`)
      .join('');
    return `<${inner}>${fields}</${inner}>`;
  });
  return `<${outer}>${rows.join('')}</${outer}>`;
}

/** REST answers are XML unless the query asks for output=JSON. */
function sendListing(ctx, outer, inner, items) {
  const output = ctx.searchParams.get('output');
  if (output && output.toUpperCase() === 'JSON') return sendJson(ctx.res, 200, items);
  // XML field order: id, name, then the rest, like the controller's own answers.
  const ordered = items.map(({ id, name, ...rest }) => ({ id, name, ...rest }));
  send(ctx.res, 200, xmlList(outer, inner, ordered), { 'content-type': 'application/xml' });
}

/**
 * @param {object} state   shared emulator state
 * @param {'appdynamics'|'appdynamicsLegacy'} name
 * @param {boolean} legacy  true: a controller before 4.5.9 (vendor Content-Type and HTTP Basic required)
 */
export function appdynamicsRole(state, name, legacy) {
  const counters = state.counters[name];
  const tokens = state.appdTokens[name];
  const title = legacy ? 'AppDynamics (legacy)' : 'AppDynamics';

  // The token endpoint's error body is unverified: empty (default), plain text or HTML, by option.
  function tokenRejected(res, status = 401) {
    const style = state.options.appdynamics.tokenErrorBody;
    if (style === 'text') return sendText(res, status, 'Failed to authenticate: invalid client credentials.');
    if (style === 'html') return send(res, status, loginPage(title), { 'content-type': 'text/html; charset=utf-8' });
    return send(res, status, '');
  }

  function restUnauthorized(ctx) {
    counters.unauthorized += 1;
    sendText(ctx.res, 401, INVALID_TOKEN);
  }

  function clientById(clientId) {
    return state.appdClients.find((c) => `${c.clientName}@${c.accountName}` === clientId) || null;
  }

  function handleToken(ctx) {
    const { res } = ctx;
    if (ctx.method !== 'POST') return sendText(res, 405, 'Method Not Allowed', { allow: 'POST' });

    // Modern controllers accept only form-urlencoded (parameters after ';' ignored);
    // legacy controllers accept only the vendor type. Either refuses the other with 415.
    const wanted = legacy ? VENDOR_TYPE : FORM;
    if (mediaType(ctx.headers['content-type']) !== wanted) return sendText(res, 415, 'Invalid Content Type');

    // Before 4.5.9 the request also needs HTTP Basic clientName@accountName:secret.
    let basicClient = null;
    if (legacy) {
      const basic = basicCredentials(ctx.headers.authorization);
      if (!basic) return tokenRejected(res);
      // curl -u sends the parts as typed; accept the form-urlencoded spelling (RFC 6749 2.3.1) too.
      basicClient = clientById(basic.user) || clientById(formDecode(basic.user));
      if (!basicClient || (basic.password !== basicClient.clientSecret && formDecode(basic.password) !== basicClient.clientSecret)) {
        return tokenRejected(res);
      }
    }

    const params = new URLSearchParams(ctx.body);
    if (params.get('grant_type') !== 'client_credentials') return sendText(res, 400, 'Unsupported grant_type');
    const client = clientById(params.get('client_id'));
    if (!client || params.get('client_secret') !== client.clientSecret) return tokenRejected(res);
    if (basicClient && basicClient !== client) return tokenRejected(res);

    const lifetime = state.lifetime('appdynamics');
    const now = Date.now();
    const expiresAt = now + lifetime * 1000;
    const accessToken = makeJwt(
      {
        iss: 'AppDynamics',
        aud: 'AppDynamics',
        sub: client.clientName,
        idType: 'API_CLIENT',
        acctName: client.accountName,
        iat: Math.floor(now / 1000),
        exp: Math.floor(expiresAt / 1000),
      },
      { alg: 'HS256', typ: 'JWT' },
    );
    tokens.set(accessToken, { clientId: `${client.clientName}@${client.accountName}`, expiresAt });
    counters.issued += 1;
    // Only access_token and expires_in are documented; token_type is unverified, so it is left out
    // unless a test adds fields with options.appdynamics.extraTokenFields.
    sendJson(res, 200, { access_token: accessToken, expires_in: lifetime, ...state.options.appdynamics.extraTokenFields });
  }

  function validBearer(ctx) {
    const raw = bearerToken(ctx.headers.authorization);
    if (!raw) return false;
    if (raw === state.temporaryToken) return true;
    const token = tokens.get(raw);
    return Boolean(token && token.expiresAt > Date.now());
  }

  function handleApi(ctx) {
    if (!validBearer(ctx)) return restUnauthorized(ctx);
    const p = ctx.pathname;
    if (p === '/controller/echo') return sendJson(ctx.res, 200, echoOf(ctx));
    if (p === '/controller/redirect') {
      const to = ctx.searchParams.get('to');
      if (!to) return sendText(ctx.res, 400, 'Query parameter "to" is required.');
      return send(ctx.res, 302, '', { location: to });
    }
    if (p === '/controller/rest/applications' || p === '/controller/rest/applications/') {
      if (ctx.method !== 'GET') return sendText(ctx.res, 405, 'Method Not Allowed', { allow: 'GET' });
      return sendListing(ctx, 'applications', 'application', APPLICATIONS);
    }
    const m = /^\/controller\/rest\/applications\/([^/]+)\/tiers\/?$/.exec(p);
    if (m) {
      if (ctx.method !== 'GET') return sendText(ctx.res, 405, 'Method Not Allowed', { allow: 'GET' });
      let key;
      try {
        key = decodeURIComponent(m[1]);
      } catch {
        key = m[1];
      }
      // The controller accepts an application id or name here.
      const app = APPLICATIONS.find((a) => String(a.id) === key || a.name === key);
      if (!app) return sendText(ctx.res, 400, `Invalid application id ${key} is specified`);
      return sendListing(ctx, 'tiers', 'tier', TIERS[app.id]);
    }
    return sendText(ctx.res, 404, 'Not Found');
  }

  return {
    name,
    title,
    classify(ctx) {
      const p = ctx.pathname;
      if (p === TOKEN_PATH) return 'token';
      if (p.startsWith('/controller/rest/') || p === '/controller/rest' || p === '/controller/echo' || p === '/controller/redirect') {
        return 'api';
      }
      return null;
    },
    // The "unauthorized" fault: rejected credentials on the token endpoint, the REST 401 on API routes.
    unauthorized(ctx, where) {
      if (where === 'token') return tokenRejected(ctx.res);
      return restUnauthorized(ctx);
    },
    handle(ctx, where) {
      if (where === 'token') return handleToken(ctx);
      if (where === 'api') return handleApi(ctx);
      return sendText(ctx.res, 404, 'Not Found');
    },
  };
}

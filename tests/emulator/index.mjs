// Vendor emulator for apm-oauth tests: Dynatrace SSO, a Dynatrace environment, a modern and a legacy
// AppDynamics controller, an unrelated "elsewhere" origin, Dynatrace's user token endpoint
// (token.dynatrace.com: code + refresh grants) and the Dynatrace Account Management API
// (api.dynatrace.com), each on its own port on 127.0.0.1.
//
//   import { startEmulator } from './tests/emulator/index.mjs';
//   const emu = await startEmulator({ tokenLifetimeSeconds: 2 });
//   ... emu.urls, emu.credentials, emu.counters, emu.requests, emu.setFault(...) ...
//   await emu.close();
//
// Run alone: node tests/emulator/index.mjs [--port-base N] [--token-lifetime S] [--no-cors] [--control] [--auto-login]
// --control (or startEmulator({ control: true })) adds a JSON control server (urls.control) so another
// process can read counters and the request log, reset, and set faults.
// Node built-ins only.

import http from 'node:http';
import { realpathSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sendText, sendJson } from './util.mjs';
import { validateFault, takeFault, applyFault } from './faults.mjs';
import { ssoRole, dynatraceRole, DEFAULT_DT_CLIENT, DEFAULT_DT_SCOPES } from './dynatrace.mjs';
import { dtTokenRole, publicClients, userFor, DEFAULT_DT_PUBLIC_CLIENT, DEFAULT_USER_EMAIL, LOOPBACK_RULE } from './dynatrace-signin.mjs';
import { appdynamicsRole, DEFAULT_APPD_CLIENT, temporaryTokenFor } from './appdynamics.mjs';
import { accountRole, accountUsers, accountGroups, newPlatformToken, DEFAULT_DT_ACCOUNT_CLIENT, ACCOUNT_URN_PREFIX } from './account.mjs';

/** Every role, in port order. */
export const ROLES = ['sso', 'dynatrace', 'appdynamics', 'appdynamicsLegacy', 'elsewhere', 'dtToken', 'account'];

/**
 * Port offsets with portBase N: the first five roles on N..N+4, the control server keeps N+5
 * (as before dtToken existed), dtToken is on the next free offset, N+6, and account on N+7.
 */
export const PORT_OFFSETS = { sso: 0, dynatrace: 1, appdynamics: 2, appdynamicsLegacy: 3, elsewhere: 4, control: 5, dtToken: 6, account: 7 };
const LAST_OFFSET = Math.max(...Object.values(PORT_OFFSETS));

const HOST = '127.0.0.1';

function freshCounters() {
  return {
    sso: { token: 0, issued: 0, preflight: 0, authorize: 0, login: 0, userinfo: 0 },
    dynatrace: { api: 0, unauthorized: 0, forbidden: 0, preflight: 0 },
    appdynamics: { token: 0, issued: 0, api: 0, unauthorized: 0, preflight: 0 },
    appdynamicsLegacy: { token: 0, issued: 0, api: 0, unauthorized: 0, preflight: 0 },
    elsewhere: { requests: 0, authorization: 0 },
    dtToken: { token: 0, code: 0, refresh: 0, issued: 0, preflight: 0 },
    account: { api: 0, unauthorized: 0, forbidden: 0, preflight: 0 },
  };
}

/** Zero every counter in place, so objects a test already holds stay live. */
function zeroCounters(counters) {
  for (const group of Object.values(counters)) {
    for (const key of Object.keys(group)) group[key] = 0;
  }
}

function normalizeOptions(options) {
  const lifetime = options.tokenLifetimeSeconds ?? 300;
  if (!(typeof lifetime === 'number' && lifetime >= 0)) throw new TypeError('tokenLifetimeSeconds must be a number >= 0');
  const appd = options.appdynamics || {};
  const dt = options.dynatrace || {};
  const tokenErrorBody = appd.tokenErrorBody ?? 'empty';
  if (!['empty', 'text', 'html'].includes(tokenErrorBody)) throw new TypeError("appdynamics.tokenErrorBody must be 'empty', 'text' or 'html'");
  return {
    tokenLifetimeSeconds: lifetime,
    cors: options.cors ?? true,
    dynatrace: {
      tokenLifetimeSeconds: dt.tokenLifetimeSeconds,
      autoLogin: dt.autoLogin ?? false, // authorize answers the 302 with a code at once, no login page
      discovery: dt.discovery ?? true, // GET /.well-known/openid-configuration on sso (false: 404)
      rotateRefreshTokens: dt.rotateRefreshTokens ?? true, // false: refresh answers carry no refresh_token, the old one stays valid
    },
    appdynamics: {
      tokenLifetimeSeconds: appd.tokenLifetimeSeconds,
      tokenErrorBody,
      extraTokenFields: { ...(appd.extraTokenFields || {}) },
    },
  };
}

function restoreOptions(live, initial) {
  live.tokenLifetimeSeconds = initial.tokenLifetimeSeconds;
  live.cors = initial.cors;
  live.dynatrace = { ...initial.dynatrace };
  live.appdynamics = { ...initial.appdynamics, extraTokenFields: { ...initial.appdynamics.extraTokenFields } };
}

function dtClients(override) {
  const list = override?.clients?.length ? override.clients : [DEFAULT_DT_CLIENT];
  const clients = list.map((c) => {
    if (!c.clientId || !c.clientSecret) throw new TypeError('dynatrace.clients[]: clientId and clientSecret are required');
    return {
      clientId: c.clientId,
      clientSecret: c.clientSecret,
      accountUrn: c.accountUrn ?? DEFAULT_DT_CLIENT.accountUrn,
      scopes: [...(c.scopes ?? DEFAULT_DT_CLIENT.scopes)],
    };
  });
  // The account API's client is always there (after the configured ones), unless one takes its id.
  if (!clients.some((c) => c.clientId === DEFAULT_DT_ACCOUNT_CLIENT.clientId)) {
    clients.push({ ...DEFAULT_DT_ACCOUNT_CLIENT, scopes: [...DEFAULT_DT_ACCOUNT_CLIENT.scopes] });
  }
  return clients;
}

function appdClients(override) {
  const list = override?.clients?.length ? override.clients : [DEFAULT_APPD_CLIENT];
  return list.map((c) => {
    if (!c.clientName || !c.clientSecret) throw new TypeError('appdynamics.clients[]: clientName and clientSecret are required');
    return { clientName: c.clientName, accountName: c.accountName ?? DEFAULT_APPD_CLIENT.accountName, clientSecret: c.clientSecret };
  });
}

// CORS: any origin, any method, Authorization and Content-Type (plus whatever the browser asks for).
// Authorization must be listed by name: the "*" wildcard does not cover it.
const EXPOSED = 'Retry-After, Location, Content-Type, Content-Length, WWW-Authenticate';

function setCorsHeaders(res) {
  res.setHeader('access-control-allow-origin', '*');
  res.setHeader('access-control-expose-headers', EXPOSED);
}

function answerPreflight(req, res) {
  const askedHeaders = req.headers['access-control-request-headers'];
  const allowHeaders = ['Authorization', 'Content-Type'];
  if (askedHeaders) allowHeaders.push(...askedHeaders.split(',').map((h) => h.trim()).filter(Boolean));
  res.writeHead(204, {
    'access-control-allow-methods': req.headers['access-control-request-method'] || 'GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS',
    'access-control-allow-headers': [...new Set(allowHeaders)].join(', '),
    'access-control-max-age': '600',
    'content-length': 0,
  });
  res.end();
}

function elsewhereRole(state) {
  return {
    name: 'elsewhere',
    title: 'Elsewhere',
    // Count every request, preflights included; those carrying Authorization are the leaks tests look for.
    onRequest(ctx) {
      state.counters.elsewhere.requests += 1;
      if (ctx.headers.authorization !== undefined) state.counters.elsewhere.authorization += 1;
    },
    classify() {
      return null;
    },
    unauthorized(ctx) {
      sendText(ctx.res, 401, 'Unauthorized');
    },
    handle(ctx) {
      sendText(ctx.res, 200, 'elsewhere');
    },
  };
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    const onError = (err) => reject(err);
    server.once('error', onError);
    server.listen({ port, host: HOST }, () => {
      server.off('error', onError);
      resolve(server.address().port);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Control server: the emulator's JS API over HTTP, for tests running in another process.

const CONTROL_BODY_LIMIT = 1024 * 1024;

function createControlServer(emu) {
  const routes = {
    'GET /counters': () => emu.counters,
    'GET /requests': () => emu.requests,
    'POST /reset': () => {
      emu.reset();
      return { ok: true };
    },
    'POST /fault': (body) => {
      let parsed;
      try {
        parsed = body.trim() === '' ? undefined : JSON.parse(body);
      } catch (err) {
        throw new TypeError(`fault: body is not JSON (${err.message})`);
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new TypeError('fault: body must be a JSON object {role, where, fault}');
      }
      emu.setFault(parsed.role, parsed.where, parsed.fault);
      return { ok: true };
    },
    'POST /clear-faults': () => {
      emu.clearFaults();
      return { ok: true };
    },
    'POST /expire-tokens': () => {
      emu.expireTokens();
      return { ok: true };
    },
    'POST /revoke-platform-token': () => {
      emu.revokePlatformToken();
      return { ok: true };
    },
  };
  const paths = new Set(Object.keys(routes).map((k) => k.split(' ')[1]));

  const server = http.createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size <= CONTROL_BODY_LIMIT) chunks.push(chunk);
    });
    req.on('error', () => {});
    req.on('end', () => {
      res.setHeader('access-control-allow-origin', '*');
      if (req.method === 'OPTIONS') {
        res.writeHead(204, {
          'access-control-allow-methods': 'GET, POST, OPTIONS',
          'access-control-allow-headers': 'Content-Type',
          'content-length': 0,
        });
        return res.end();
      }
      if (size > CONTROL_BODY_LIMIT) return sendJson(res, 413, { error: 'control: body too large' });
      const path = new URL(req.url, 'http://control.invalid').pathname;
      const handler = routes[`${req.method} ${path}`];
      if (!handler) {
        if (paths.has(path)) return sendJson(res, 405, { error: `control: ${req.method} not allowed on ${path}` });
        return sendJson(res, 404, { error: `control: no route ${req.method} ${path}`, routes: Object.keys(routes) });
      }
      try {
        sendJson(res, 200, handler(Buffer.concat(chunks).toString('utf8')));
      } catch (err) {
        sendJson(res, err instanceof TypeError ? 400 : 500, { error: String(err && err.message) });
      }
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  return server;
}

function closeServer(server) {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    // Keep-alive sockets would otherwise hold close() (and the process) open.
    server.closeAllConnections();
  });
}

/**
 * Start every role. Resolves once all servers listen.
 * @param {object} [options]
 * @param {number} [options.tokenLifetimeSeconds=300] expires_in of issued tokens; tokens really expire then
 * @param {boolean} [options.cors=true] CORS headers and OPTIONS preflight answers
 * @param {number} [options.portBase] fixed ports portBase..portBase+4 (sso, dynatrace, appd, appdLegacy, elsewhere), portBase+6 (dtToken), portBase+7 (account)
 * @param {boolean} [options.control=false] also start the JSON control server (urls.control; portBase+5 with portBase)
 * @param {object} [options.dynatrace] { clients: [{clientId, clientSecret, accountUrn?, scopes?}], tokenLifetimeSeconds?,
 *   publicClients: [{clientId, redirectUris?, clientSecret?}], autoLogin?, discovery?, rotateRefreshTokens? }
 * @param {object} [options.appdynamics] { clients: [{clientName, accountName?, clientSecret}], tokenErrorBody?, extraTokenFields?, tokenLifetimeSeconds? }
 */
export async function startEmulator(options = {}) {
  const initialOptions = normalizeOptions(options);
  const liveOptions = normalizeOptions(options);
  const counters = freshCounters();
  const requests = [];
  const faults = new Map();
  const timers = new Set();

  const dt = dtClients(options.dynatrace);
  const appd = appdClients(options.appdynamics);
  const dtPublic = publicClients(options.dynatrace?.publicClients);

  const state = {
    options: liveOptions,
    counters,
    dtClients: dt,
    appdClients: appd,
    dtTokens: new Map(),
    // User sign-in (dynatrace-signin.mjs): registered public clients, codes, live and dead refresh tokens.
    publicClients: dtPublic,
    defaultUserScopes: DEFAULT_DT_SCOPES,
    codes: new Map(),
    refreshTokens: new Map(),
    deadRefreshTokens: new Map(),
    appdTokens: { appdynamics: new Map(), appdynamicsLegacy: new Map() },
    temporaryToken: temporaryTokenFor(appd[0]),
    // The platform token: fixed for this emulator's life, accepted by the dynatrace role until revoked.
    platformToken: {
      value: newPlatformToken(),
      revoked: false,
      info: { clientId: null, platform: true, scopes: new Set(DEFAULT_DT_SCOPES), expiresAt: Infinity, resource: null },
    },
    urls: {},
    lifetime(vendor) {
      return liveOptions[vendor].tokenLifetimeSeconds ?? liveOptions.tokenLifetimeSeconds;
    },
  };

  const roleDefs = {
    sso: ssoRole(state),
    dynatrace: dynatraceRole(state),
    appdynamics: appdynamicsRole(state, 'appdynamics', false),
    appdynamicsLegacy: appdynamicsRole(state, 'appdynamicsLegacy', true),
    elsewhere: elsewhereRole(state),
    dtToken: dtTokenRole(state),
    account: accountRole(state),
  };

  function sleep(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });
  }

  async function dispatch(role, def, req, res, body) {
    // Concatenate rather than resolve, so a path like "//platform/x" stays a path (and 404s) instead of a host.
    const url = req.url.startsWith('/') ? new URL(`http://emulator.invalid${req.url}`) : new URL(req.url, 'http://emulator.invalid');
    const headers = { ...req.headers };
    requests.push({ role, method: req.method, path: req.url, headers, body, at: Date.now() });
    const ctx = {
      role,
      req,
      res,
      method: req.method,
      url: req.url,
      pathname: url.pathname,
      searchParams: url.searchParams,
      headers,
      body,
      title: def.title,
      sleep,
      unauthorized: () => def.unauthorized(ctx, undefined),
    };
    if (def.onRequest) def.onRequest(ctx);

    if (liveOptions.cors) {
      setCorsHeaders(res);
      if (req.method === 'OPTIONS') {
        if (counters[role].preflight !== undefined) counters[role].preflight += 1;
        return answerPreflight(req, res);
      }
    }

    const where = def.classify(ctx);
    if (where) {
      counters[role][where] += 1;
      ctx.unauthorized = () => def.unauthorized(ctx, where);
      const applies = def.faultApplies ? (f) => def.faultApplies(ctx, where, f) : undefined;
      const fault = takeFault(faults, role, where, applies);
      if (fault && ((def.applyFault && (await def.applyFault(ctx, where, fault))) || (await applyFault(ctx, fault)))) return;
    }
    await def.handle(ctx, where);
  }

  function createServer(role) {
    const def = roleDefs[role];
    const server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (chunk) => chunks.push(chunk));
      req.on('error', () => {});
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        dispatch(role, def, req, res, body).catch((err) => {
          sendText(res, 500, `emulator error: ${err && err.message}`);
        });
      });
    });
    server.on('clientError', (_err, socket) => socket.destroy());
    return server;
  }

  const servers = {};
  try {
    for (const role of ROLES) {
      servers[role] = createServer(role);
      const port = await listen(servers[role], typeof options.portBase === 'number' ? options.portBase + PORT_OFFSETS[role] : 0);
      state.urls[role] = `http://${HOST}:${port}`;
    }
  } catch (err) {
    await Promise.all(Object.values(servers).map(closeServer));
    throw err;
  }

  const u = state.urls;
  const urls = {
    sso: u.sso,
    ssoToken: `${u.sso}/sso/oauth2/token`,
    ssoAuthorize: `${u.sso}/oauth2/authorize`,
    ssoUserInfo: `${u.sso}/sso/oauth2/userinfo`,
    ssoDiscovery: `${u.sso}/.well-known/openid-configuration`,
    dtToken: `${u.dtToken}/sso/oauth2/token`,
    dtTokenOrigin: u.dtToken,
    dynatrace: u.dynatrace,
    appdynamics: u.appdynamics,
    appdynamicsToken: `${u.appdynamics}/controller/api/oauth/access_token`,
    appdynamicsLegacy: u.appdynamicsLegacy,
    appdynamicsLegacyToken: `${u.appdynamicsLegacy}/controller/api/oauth/access_token`,
    elsewhere: u.elsewhere,
    account: u.account,
  };

  const accountClient = dt.find((c) => c.clientId === DEFAULT_DT_ACCOUNT_CLIENT.clientId);
  const credentials = {
    dynatrace: { ...dt[0], scopes: [...dt[0].scopes], platformToken: state.platformToken.value },
    // The OAuth client of the account API (account-idm-read and more), same account as `dynatrace`.
    dynatraceAccount: {
      ...accountClient,
      scopes: [...accountClient.scopes],
      accountUuid: accountClient.accountUrn.slice(ACCOUNT_URN_PREFIX.length),
    },
    // The default public client of the user sign-in; it accepts any loopback http redirect URI.
    dynatraceUser: {
      clientId: DEFAULT_DT_PUBLIC_CLIENT.clientId,
      redirectUriRule: LOOPBACK_RULE,
      user: userFor(DEFAULT_USER_EMAIL),
    },
    appdynamics: {
      clientName: appd[0].clientName,
      accountName: appd[0].accountName,
      clientSecret: appd[0].clientSecret,
      // The OAuth client_id: <clientName>@<accountName>.
      clientId: `${appd[0].clientName}@${appd[0].accountName}`,
      temporaryToken: state.temporaryToken,
    },
  };

  let closing = null;

  const emu = {
    urls,
    credentials,
    counters,
    requests,
    /** Live options (cors, token lifetimes, dynatrace.autoLogin/discovery/rotateRefreshTokens, appdynamics.tokenErrorBody/extraTokenFields); reset() restores them. */
    options: liveOptions,
    /** What the account API answers for every account: `{ users, groups }` (the `items` of its lists). */
    account: { users: accountUsers(), groups: accountGroups() },

    setFault(role, where, fault) {
      validateFault(role, where, fault);
      const key = `${role}:${where}`;
      if (!faults.has(key)) faults.set(key, []);
      const remaining = fault.count === undefined ? Infinity : Number(fault.count);
      if (remaining > 0) faults.get(key).push({ fault: { ...fault }, remaining });
    },

    clearFaults() {
      faults.clear();
    },

    /** Make every token issued so far expire now (both vendors). */
    expireTokens() {
      const past = Date.now() - 1;
      for (const map of [state.dtTokens, state.appdTokens.appdynamics, state.appdTokens.appdynamicsLegacy]) {
        for (const info of map.values()) info.expiresAt = past;
      }
    },

    /** From now on the platform token answers 401 on the environment API (reset() takes it back). */
    revokePlatformToken() {
      state.platformToken.revoked = true;
    },

    reset() {
      zeroCounters(counters);
      state.platformToken.revoked = false;
      requests.length = 0;
      faults.clear();
      state.dtTokens.clear();
      state.codes.clear();
      state.refreshTokens.clear();
      state.deadRefreshTokens.clear();
      state.appdTokens.appdynamics.clear();
      state.appdTokens.appdynamicsLegacy.clear();
      restoreOptions(liveOptions, initialOptions);
    },

    close() {
      if (!closing) {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        closing = Promise.all(Object.values(servers).map(closeServer)).then(() => undefined);
      }
      return closing;
    },
  };

  if (options.control) {
    // Not in `servers` until it listens, so a failed start closes only what was started.
    const control = createControlServer(emu);
    try {
      const port = await listen(control, typeof options.portBase === 'number' ? options.portBase + PORT_OFFSETS.control : 0);
      servers.control = control;
      urls.control = `http://${HOST}:${port}`;
    } catch (err) {
      await emu.close();
      throw err;
    }
  }

  return emu;
}

// ---------------------------------------------------------------------------------------------
// Command line

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [name, inline] = arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = () => (inline !== undefined ? inline : argv[++i]);
    if (name === '--port-base') out.portBase = Number(value());
    else if (name === '--token-lifetime') out.tokenLifetimeSeconds = Number(value());
    else if (name === '--no-cors') out.cors = false;
    else if (name === '--control') out.control = true;
    else if (name === '--auto-login') out.dynatrace = { autoLogin: true };
    else if (name === '--help' || name === '-h') out.help = true;
    else throw new Error(`unknown argument ${arg}`);
  }
  if (out.portBase !== undefined && !(Number.isInteger(out.portBase) && out.portBase > 0 && out.portBase + LAST_OFFSET < 65536)) {
    throw new Error('--port-base needs a port number');
  }
  return out;
}

function isMain() {
  if (!process.argv[1]) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(resolvePath(process.argv[1]))).href;
  } catch {
    return false;
  }
}

if (isMain()) {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  if (args.help) {
    process.stdout.write('usage: node tests/emulator/index.mjs [--port-base N] [--token-lifetime SECONDS] [--no-cors] [--control] [--auto-login]\n');
    process.exit(0);
  }
  const { help, ...options } = args;
  const emu = await startEmulator(options);
  process.stdout.write(`${JSON.stringify({ urls: emu.urls, credentials: emu.credentials })}\n`);
  const stop = () => {
    emu.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

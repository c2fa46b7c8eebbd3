// The demo server's same-origin forwarding route: `ANY /forward?url=<absolute target URL>`.
//
// Browsers refuse to read answers from hosts that send no CORS headers, and whether the Dynatrace
// SSO and platform hosts or an AppDynamics controller send them is not documented. A page (or an
// admin console) served by this server can reach them anyway through the client's `fetch` option:
//
//   fetch: (url, init) => fetch('/forward?url=' + encodeURIComponent(url), init)
//
// Guards: http(s) targets only; only allowed origins and hosts (checked before any connection is
// made); requests must come from this server's own pages (Host and Origin checks, against DNS
// rebinding and cross-site form posts); redirects are returned, never followed. Bodies and
// Authorization headers are never logged.

import http from 'node:http';
import https from 'node:https';

// RFC 9110 7.6.1: connection-specific fields an intermediary must not forward.
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection',
  'te', 'trailer', 'transfer-encoding', 'upgrade',
]);
// The browser's own context, meaningless (or private) to the target.
const REQUEST_DROPPED = new Set(['host', 'origin', 'cookie', 'referer']);
// A cookie the target sets would land on this local origin, shared by every page it serves.
const RESPONSE_DROPPED = new Set(['set-cookie']);

const UPSTREAM_TIMEOUT_MS = 60_000;

/**
 * One allow rule from `--allow-host` / `ALLOW_HOSTS`:
 * - `https://host[:port]`: exactly that origin;
 * - `host` or `host:port`: that host over http or https (without a port: the scheme's default port);
 * - `*.example.com[:port]`: any subdomain of example.com, likewise.
 * @returns {(target: URL) => boolean}
 */
export function parseAllowRule(text) {
  const value = String(text).trim().toLowerCase();
  if (!value) throw new Error('empty --allow-host value');
  if (value.includes('://')) {
    let origin;
    try {
      origin = new URL(value).origin;
    } catch {
      throw new Error(`--allow-host ${text}: not a URL`);
    }
    if (origin === 'null') throw new Error(`--allow-host ${text}: not an http(s) origin`);
    return Object.assign((target) => target.origin === origin, { label: origin });
  }
  let parsed;
  try {
    parsed = new URL(`http://${value.startsWith('*.') ? `wildcard${value.slice(1)}` : value}/`);
  } catch {
    throw new Error(`--allow-host ${text}: expected a host name, host:port, *.domain or an origin`);
  }
  if (parsed.pathname !== '/' || parsed.username || parsed.search) {
    throw new Error(`--allow-host ${text}: expected a host name, host:port, *.domain or an origin`);
  }
  const port = parsed.port; // '' when none was given
  const wildcard = value.startsWith('*.');
  const host = wildcard ? parsed.hostname.slice('wildcard'.length) : parsed.hostname; // '.example.com'
  return Object.assign(
    (target) => {
      const hostOk = wildcard ? target.hostname.endsWith(host) && target.hostname.length > host.length : target.hostname === host;
      const effective = target.port || (target.protocol === 'https:' ? '443' : '80');
      return hostOk && (port ? effective === port : target.port === '');
    },
    { label: value },
  );
}

/** The values of `--allow-host` flags and the ALLOW_HOSTS variable (comma or space separated). */
export function splitAllowHosts(text) {
  return String(text ?? '')
    .split(/[\s,]+/)
    .filter(Boolean);
}

function sendJson(res, status, value, headers = {}) {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(body);
}

/** Header names listed in a Connection header are hop-by-hop too. */
function connectionTokens(value) {
  return new Set(
    String(value ?? '')
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}

function filterHeaders(headers, dropped) {
  const listed = connectionTokens(headers.connection);
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || dropped.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/**
 * The forwarder.
 * @param {object} options
 * @param {() => string[]} options.origins origins always allowed (the emulator's), read on each request
 * @param {string[]} [options.allowHosts] `--allow-host` values
 * @param {() => string} options.selfOrigin this server's origin (http://127.0.0.1:PORT)
 * @param {(line: string) => void} [options.log]
 */
export function createForwarder({ origins, allowHosts = [], selfOrigin, log = () => {} }) {
  const rules = allowHosts.map(parseAllowRule);
  const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };

  function allowed(target) {
    return origins().includes(target.origin) || rules.some((rule) => rule(target));
  }

  /** Host and Origin must be this server's: no DNS rebinding, no cross-site form posts. */
  function fromOwnPage(req) {
    const self = new URL(selfOrigin());
    const hostOk = [`127.0.0.1:${self.port}`, `localhost:${self.port}`, `[::1]:${self.port}`].includes(
      String(req.headers.host ?? '').toLowerCase(),
    );
    const origin = req.headers.origin;
    return hostOk && (origin === undefined || origin === self.origin || origin === `http://localhost:${self.port}`);
  }

  function handle(req, res, requestUrl) {
    if (!fromOwnPage(req)) {
      return sendJson(res, 403, {
        error: 'forward_refused',
        message: 'the forwarding route serves only pages of this server (Host and Origin must be this server)',
      });
    }
    const raw = requestUrl.searchParams.get('url');
    let target;
    try {
      target = new URL(raw ?? '');
    } catch {
      return sendJson(res, 400, {
        error: 'bad_forward_url',
        message: 'use /forward?url=<absolute http(s) URL, URL-encoded>',
      });
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      return sendJson(res, 400, { error: 'bad_forward_url', message: 'only http and https targets can be forwarded' });
    }
    if (target.username || target.password) {
      return sendJson(res, 400, { error: 'bad_forward_url', message: 'credentials in the target URL are not forwarded' });
    }
    if (!allowed(target)) {
      const host = target.port ? `${target.hostname}:${target.port}` : target.hostname;
      return sendJson(
        res,
        403,
        {
          error: 'forward_refused',
          message: `this server does not forward to ${target.origin}`,
          hint: `restart it with --allow-host ${host} (npm start -- --allow-host ${host}), or add it to ALLOW_HOSTS`,
        },
        { 'x-forward-refused': '1' },
      );
    }

    const started = Date.now();
    const where = `${target.origin}${target.pathname}`; // never the query: it is the caller's business
    const headers = filterHeaders(req.headers, REQUEST_DROPPED);
    // RFC 9110 7.6.3: an intermediary adds itself to Via.
    headers.via = [headers.via, '1.1 apm-oauth-demo'].filter(Boolean).join(', ');
    const upstream = (target.protocol === 'https:' ? https : http).request(target, {
      method: req.method,
      headers,
      agent: agents[target.protocol],
    });
    upstream.setTimeout(UPSTREAM_TIMEOUT_MS, () => upstream.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    upstream.on('response', (answer) => {
      log(`forward ${req.method} ${where} -> ${answer.statusCode} (${Date.now() - started} ms)`);
      res.writeHead(answer.statusCode, answer.statusMessage, filterHeaders(answer.headers, RESPONSE_DROPPED));
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    upstream.on('error', (err) => {
      log(`forward ${req.method} ${where} -> failed: ${err.code || err.message}`);
      if (res.headersSent) return res.destroy();
      const timedOut = err.code === 'ETIMEDOUT';
      sendJson(res, timedOut ? 504 : 502, {
        error: 'forward_failed',
        message: `could not reach ${target.origin}: ${err.code || err.message}`,
      });
    });
    // The page gave up (abort, timeout): stop the upstream request too.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  return {
    handle,
    /** What the allow list holds, for messages. */
    describe() {
      return [...origins(), ...rules.map((r) => r.label)];
    },
    /** The `--allow-host` rules alone. */
    hosts() {
      return rules.map((r) => r.label);
    },
    close() {
      for (const agent of Object.values(agents)) agent.destroy();
    },
  };
}

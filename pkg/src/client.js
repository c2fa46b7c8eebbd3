// The JavaScript layer of apm-oauth: the three client classes, the options object, URLs, JSON and
// every IO (fetch, timers, abort). The protocol's bytes and decisions come from the Rust core in
// the wasm (`core`): the token request of each attempt, what a token endpoint's answer means,
// when to retry, and the scrubbing of secrets from any text an error quotes.
//
// One file for every build: web.js and node.cjs call `clients(core)` with their wasm exports.

const CODES = [
  'invalid_config', 'invalid_argument', 'insecure_url', 'invalid_client', 'invalid_scope',
  'token_error', 'invalid_response', 'rate_limited', 'server_error', 'network', 'timeout',
  'aborted', 'http_error',
];

/** Every failure of the package: a real Error with a stable `code`. */
export class ApmOAuthError extends Error {
  constructor(fields) {
    const { message, hint } = fields;
    super(hint ? `${message}. ${hint[0].toUpperCase()}${hint.slice(1)}` : message);
    for (const k of ['code', 'hint', 'status', 'error', 'errorDescription', 'issueId', 'retryAfter']) {
      if (fields[k] !== undefined) this[k] = fields[k];
    }
  }

  // An error made by another copy of the package (the Node and the web build are separate) is an
  // ApmOAuthError too.
  static [Symbol.hasInstance](value) {
    return value instanceof Error && value.name === 'ApmOAuthError' && typeof value.code === 'string';
  }
}
Object.defineProperty(ApmOAuthError.prototype, 'name', { value: 'ApmOAuthError', configurable: true, writable: true });

export const ERROR_CODES = Object.freeze(CODES);

const DYNATRACE = 0;
const APPDYNAMICS = 1;
const GENERIC = 2;
/** Most of a token or error body that is read: a hostile endpoint cannot make us buffer more. */
const BODY_LIMIT = 65536;
const SSO = 'https://sso.dynatrace.com/sso/oauth2/token';
const SSO_SPRINT = 'https://sso-sprint.dynatracelabs.com/sso/oauth2/token';
const SSO_DEV = 'https://sso-dev.dynatracelabs.com/sso/oauth2/token';
const APPD_TOKEN_PATH = '/controller/api/oauth/access_token';
const COMMON = ['fetch', 'timeoutMs', 'refreshSkewSeconds', 'allowInsecureHttp', 'maxRetries'];
const ABORTED = { code: 'aborted', message: 'the call was aborted by its signal' };

const isObject = (v) => typeof v === 'object' && v !== null;
const fail = (code, message, hint) => ({ code, message, hint });

// ---------------------------------------------------------------------------------------------
// URLs: strict string rules. Anything a WHATWG parser could read differently (user info,
// backslashes, control characters, non-ASCII or percent-encoded hosts) is refused rather than
// interpreted, and a resolved URL is always built as origin + path, so no input can move it to
// another host. tests/reliability/url-fuzz checks both against `new URL`.

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const PROBLEMS = {
  scheme: 'it must start with https:// (or http:// for a loopback host)',
  malformed: 'it is empty or has spaces, control characters or backslashes',
  userinfo: 'it must not carry a user name or password (user@host); give credentials as options',
  host: 'its host is empty or not a plain ASCII host name (use the xn-- form for international names)',
  port: 'its port is not a number from 0 to 65535',
};

const hasScheme = (s) => /^[A-Za-z][A-Za-z0-9+.-]*:/.test(s);

/** `{ origin: { scheme, host, port }, rest }`, or the name of the problem (a string). */
export function parseUrl(input) {
  const s = input.replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, '');
  if (!s || CONTROL.test(s) || /[ \\]/.test(s)) return 'malformed';
  if (!hasScheme(s)) return 'scheme';
  const colon = s.indexOf(':');
  const scheme = s.slice(0, colon).toLowerCase();
  if ((scheme !== 'https' && scheme !== 'http') || s.slice(colon + 1, colon + 3) !== '//') return 'scheme';
  const after = s.slice(colon + 3);
  let end = after.search(/[/?#]/);
  if (end < 0) end = after.length;
  const authority = after.slice(0, end);
  const rest = after[end] === '/' ? after.slice(end) : `/${after.slice(end)}`;
  if (authority.includes('@')) return 'userinfo';
  let host;
  let port;
  if (authority[0] === '[') {
    const close = authority.indexOf(']');
    const addr = authority.slice(1, close);
    if (close < 0 || !/^[0-9A-Fa-f:.]+$/.test(addr)) return 'host';
    const tail = authority.slice(close + 1);
    if (tail && tail[0] !== ':') return 'host';
    host = `[${addr.toLowerCase()}]`;
    port = tail ? tail.slice(1) : undefined;
  } else {
    const i = authority.lastIndexOf(':');
    host = i < 0 ? authority : authority.slice(0, i);
    port = i < 0 ? undefined : authority.slice(i + 1);
    if (!host || host[0] === '.' || host.includes('..') || !/^[A-Za-z0-9._-]+$/.test(host)) return 'host';
    host = host.toLowerCase();
  }
  if (port) {
    if (!/^\d{1,5}$/.test(port) || +port > 65535) return 'port';
    port = +port === (scheme === 'https' ? 443 : 80) ? undefined : String(+port);
  } else {
    port = undefined;
  }
  return { origin: { scheme, host, port }, rest };
}

const serialize = (o) => `${o.scheme}://${o.host}${o.port ? `:${o.port}` : ''}`;

/** `localhost`, `*.localhost`, `127.0.0.0/8` or `[::1]`: hosts that never leave the machine. */
export function isLoopback(host) {
  if (host === 'localhost' || host.endsWith('.localhost') || host === '[::1]') return true;
  const parts = host.split('.');
  return parts.length === 4 && parts[0] === '127' && parts.every((p) => /^\d{1,3}$/.test(p) && +p <= 255);
}

/** A configured URL, checked: a parse result, or a thrown error's fields. */
function configUrl(what, input, allowInsecureHttp) {
  const p = parseUrl(input);
  if (typeof p === 'string') throw fail('invalid_config', `${what} is not a valid URL: ${PROBLEMS[p]}`);
  if (p.origin.scheme === 'http' && !isLoopback(p.origin.host) && !allowInsecureHttp) {
    throw fail(
      'insecure_url',
      `${what} uses http:// to ${p.origin.host}: credentials and tokens would travel unencrypted`,
      'use https://, or set allowInsecureHttp: true for a trusted network',
    );
  }
  return p;
}

function anotherOrigin(base, other) {
  return fail(
    'insecure_url',
    `refusing to send the token to another origin${other ? ` (${serialize(other)})` : ''}`,
    `this client only calls ${serialize(base)}; use plain fetch for other hosts`,
  );
}

/** A caller's path or URL on `base`, or a thrown error's fields when it is not on `base`. */
export function resolveUrl(base, input) {
  if (!input) throw fail('invalid_argument', 'the path is empty', 'pass a path such as /platform/management/v1/environment');
  if (CONTROL.test(input)) throw fail('invalid_argument', 'the path has control characters');
  if (/^[/\\][/\\]|^\\/.test(input)) throw anotherOrigin(base);
  if (hasScheme(input)) {
    const p = parseUrl(input);
    if (p === 'scheme') throw anotherOrigin(base);
    if (typeof p === 'string') throw fail('invalid_argument', `the URL is not valid: ${PROBLEMS[p]}`);
    const o = p.origin;
    if (o.scheme !== base.scheme || o.host !== base.host || o.port !== base.port) throw anotherOrigin(base, o);
    return serialize(base) + p.rest;
  }
  return serialize(base) + (input[0] === '/' ? '' : '/') + input;
}

/** `url` with `name=value` in its query unless a `name` is already there. */
export function ensureQueryParam(url, name, value) {
  const hash = url.indexOf('#');
  const head = hash < 0 ? url : url.slice(0, hash);
  const frag = hash < 0 ? '' : url.slice(hash);
  const q = head.indexOf('?');
  const query = q < 0 ? undefined : head.slice(q + 1);
  if (query !== undefined && query.split('&').some((kv) => kv.split('=')[0] === name)) return url;
  const sep = query === undefined ? '?' : query === '' ? '' : '&';
  return `${head}${sep}${name}=${value}${frag}`;
}

/** One path segment, percent-encoded: RFC 3986 unreserved characters stay. */
const pathSegment = (s) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

// ---------------------------------------------------------------------------------------------
// Options: read by name, unknown names refused with a suggestion, types and ranges checked.

function typeOf(v) {
  if (v === undefined || v === null) return 'missing';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return 'a number';
  if (typeof v === 'boolean') return 'a boolean';
  if (typeof v === 'function') return 'a function';
  if (Array.isArray(v)) return v.every((x) => typeof x === 'string') ? 'an array' : 'an array with items that are not strings';
  if (isObject(v)) {
    return Object.keys(v).every((k) => typeof v[k] === 'string') ? 'an object' : 'an object with values that are not strings';
  }
  return 'a value of another type';
}

const normalise = (s) => s.replace(/[_-]/g, '').toLowerCase().replace(/s+$/, '');

/** The known name closest to a mistyped one (`client_id` → `clientId`, `scopes` → `scope`). */
export function suggest(name, known) {
  const n = normalise(name);
  if (n.length < 3) return undefined;
  return (
    known.find((k) => normalise(k) === n) ??
    known.find((k) => {
      const m = normalise(k);
      return m.length >= 4 && (m.includes(n) || n.includes(m));
    })
  );
}

class Reader {
  constructor(cls, options, known, core) {
    this.cls = cls;
    this.o = options;
    const all = known.concat(COMMON);
    for (const name of Object.keys(options)) {
      if (!all.includes(name)) {
        const s = suggest(name, all);
        throw fail(
          'invalid_config',
          `${cls}: unknown option "${core.scrub(name, '', '', 0, 40)}"${s ? ` (did you mean "${s}"?)` : ''}`,
        );
      }
    }
  }

  bad(name, what) {
    return fail('invalid_config', `${this.cls}: ${name} ${what}`);
  }

  type(name, want) {
    return this.bad(name, `must be ${want}, not ${typeOf(this.o[name])}`);
  }

  kind(name) {
    return typeOf(this.o[name]);
  }

  /** A non-empty string without its surrounding whitespace, or undefined when missing. */
  string(name) {
    const v = this.o[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw this.type(name, 'a string');
    if (!v.trim()) throw this.bad(name, 'is empty');
    return v.trim();
  }

  required(name) {
    const v = this.string(name);
    if (v === undefined) throw this.bad(name, 'is required');
    return v;
  }

  /** A string or an array of strings, joined by spaces (OAuth scope syntax). */
  words(name) {
    const k = this.kind(name);
    if (k === 'missing') return undefined;
    if (k !== 'a string' && k !== 'an array') throw this.type(name, 'a string or an array of strings');
    const list = [].concat(this.o[name]).flatMap((s) => s.split(/[\t\n\f\r ]+/)).filter(Boolean);
    return list.length ? list.join(' ') : undefined;
  }

  /** A string or an array of strings, each kept as one value. */
  list(name) {
    const k = this.kind(name);
    if (k === 'missing') return [];
    if (k === 'a string') return [this.o[name].trim()];
    if (k !== 'an array') throw this.type(name, 'a string or an array of strings');
    return this.o[name].map((s) => s.trim()).filter(Boolean);
  }

  boolean(name, dflt) {
    const k = this.kind(name);
    if (k === 'missing') return dflt;
    if (k !== 'a boolean') throw this.type(name, 'true or false');
    return this.o[name];
  }

  number(name, dflt, min, max) {
    const k = this.kind(name);
    if (k === 'missing') return dflt;
    if (k !== 'a number') throw this.type(name, 'a number');
    const n = this.o[name];
    if (!(n >= min && n <= max)) throw this.bad(name, `must be a number from ${min} to ${max}`);
    return n;
  }

  map(name) {
    const k = this.kind(name);
    if (k === 'missing') return [];
    if (k !== 'an object') throw this.type(name, 'an object of string values');
    return Object.keys(this.o[name]).map((key) => [key, this.o[name][key]]);
  }

  common() {
    const k = this.kind('fetch');
    if (k !== 'missing' && k !== 'a function') throw this.type('fetch', 'a function');
    return {
      fetch: this.o.fetch ?? undefined,
      timeoutMs: this.number('timeoutMs', 30000, 1, 2147483647),
      skewMs: this.number('refreshSkewSeconds', 30, 0, 86400) * 1000,
      allowInsecureHttp: this.boolean('allowInsecureHttp', false),
      maxRetries: Math.trunc(this.number('maxRetries', 2, 0, 10)),
    };
  }
}

/** The SSO token URL for an environment: its stage decides the host; unknown hosts get prod. */
function ssoFor(env) {
  const h = env ? env.host : '';
  if (h.endsWith('.sprint.apps.dynatracelabs.com')) return SSO_SPRINT;
  if (h.endsWith('.dev.apps.dynatracelabs.com')) return SSO_DEV;
  return SSO;
}

function dynatraceConfig(r) {
  const c = r.common();
  const clientId = r.required('clientId');
  const secret = r.required('clientSecret');
  const envUrl = r.string('environmentUrl');
  const api = envUrl === undefined ? undefined : configUrl('environmentUrl', envUrl, c.allowInsecureHttp).origin;
  const token = configUrl('tokenUrl', r.string('tokenUrl') ?? ssoFor(api), c.allowInsecureHttp);
  // SSO takes credentials in the body; Basic is not documented for it, so it is opt-in.
  const auth = r.string('authMethod');
  if (auth !== undefined && auth !== 'client_secret_post' && auth !== 'client_secret_basic') {
    throw r.bad('authMethod', 'must be "client_secret_post" or "client_secret_basic"');
  }
  const params = [];
  const scope = r.words('scope');
  if (scope) params.push('scope', scope);
  const res = r.string('resource');
  // DT_ACCOUNT_ID holds the bare account UUID; SSO wants the URN.
  if (res !== undefined) params.push('resource', res.includes(':') ? res : `urn:dtaccount:${res}`);
  return { ...c, clientId, secret, api, tokenUrl: serialize(token.origin) + token.rest, tokenOrigin: serialize(token.origin), basic: auth === 'client_secret_basic', params };
}

function appdynamicsConfig(r) {
  const c = r.common();
  const api = configUrl('controllerUrl', r.required('controllerUrl'), c.allowInsecureHttp).origin;
  const staticToken = r.string('accessToken');
  const secret = r.string('clientSecret');
  const name = r.string('clientName');
  const account = r.string('accountName');
  const id = r.string('clientId');
  let clientId = '';
  if (id !== undefined) {
    if (name !== undefined || account !== undefined) {
      throw r.bad('clientId', 'and clientName/accountName are alternatives: give one or the other');
    }
    const at = id.indexOf('@');
    if (at < 1 || at === id.length - 1) throw r.bad('clientId', 'must be apiClientName@accountName');
    clientId = id;
  } else if (name !== undefined && account !== undefined) {
    clientId = `${name}@${account}`;
  } else if (name !== undefined) {
    throw r.bad('accountName', 'is required with clientName (customer1 on single-tenant on-premises controllers)');
  } else if (account !== undefined) {
    throw r.bad('clientName', 'is required with accountName');
  }
  if (staticToken !== undefined && secret !== undefined) {
    throw r.bad('accessToken', 'and clientSecret are alternatives: give one or the other');
  }
  if (staticToken === undefined && secret === undefined) {
    throw r.bad('clientSecret', 'is required (or accessToken, a temporary token from the Controller UI)');
  }
  if (secret !== undefined && !clientId) {
    throw r.bad('clientName', 'and accountName (or clientId) are required with clientSecret');
  }
  const content = ['auto', 'form', 'vendor'].indexOf(r.string('tokenContentType') ?? 'auto');
  if (content < 0) throw r.bad('tokenContentType', 'must be "auto", "form" or "vendor"');
  const b = r.o.basicAuth ?? 'auto';
  const basic = b === 'auto' ? 0 : b === true ? 1 : b === false ? 2 : -1;
  if (basic < 0) throw r.bad('basicAuth', 'must be true, false or "auto"');
  // The fallback ladder's mode, as the core numbers it.
  const mode = content + 3 * basic;
  return { ...c, clientId, secret, staticToken, api, tokenUrl: serialize(api) + APPD_TOKEN_PATH, tokenOrigin: serialize(api), basic: false, params: [], mode };
}

function oauthConfig(r) {
  const c = r.common();
  const token = configUrl('tokenUrl', r.required('tokenUrl'), c.allowInsecureHttp);
  const clientId = r.required('clientId');
  const secret = r.required('clientSecret');
  const auth = r.string('authMethod');
  if (auth !== undefined && auth !== 'client_secret_post' && auth !== 'client_secret_basic') {
    throw r.bad('authMethod', 'must be "client_secret_basic" or "client_secret_post"');
  }
  const base = r.string('baseUrl');
  const api = base === undefined ? undefined : configUrl('baseUrl', base, c.allowInsecureHttp).origin;
  const params = [];
  const scope = r.words('scope');
  if (scope) params.push('scope', scope);
  // RFC 8707: one `resource` parameter per resource.
  for (const v of r.list('resource')) params.push('resource', v);
  for (const v of r.list('audience')) params.push('audience', v);
  for (const [k, v] of r.map('extraParams')) {
    if (k === 'grant_type' || k === 'client_id' || k === 'client_secret') {
      throw r.bad('extraParams', 'must not set grant_type, client_id or client_secret');
    }
    params.push(k, v);
  }
  return { ...c, clientId, secret, api, tokenUrl: serialize(token.origin) + token.rest, tokenOrigin: serialize(token.origin), basic: auth !== 'client_secret_post', params };
}

// ---------------------------------------------------------------------------------------------
// IO helpers.

/** Waits `ms`, or less when `signal` fires; leaves no timer or listener behind. */
function sleep(ms, signal) {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

/** Reads at most BODY_LIMIT bytes of a body as text, then cancels the rest. */
async function readBounded(response) {
  const body = response.body;
  if (!body) return (await response.text()).slice(0, BODY_LIMIT);
  const reader = body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const part = value.subarray(0, BODY_LIMIT - size);
    chunks.push(part);
    size += part.length;
    if (size >= BODY_LIMIT) {
      await reader.cancel().catch(() => {});
      break;
    }
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return new TextDecoder().decode(bytes);
}

/** Discards a body that will not be read, so its connection can be reused. */
const discard = (response) => response.body?.cancel().catch(() => {});

/** Whether a request body can be sent again (a stream is consumed by the first attempt). */
const resendable = (body) =>
  body === undefined || body === null || typeof body === 'string' ||
  !(typeof body.getReader === 'function' || Symbol.asyncIterator in Object(body));

/** A copy of the caller's headers as `Headers`; throws error fields when they are not headers. */
function headersOf(init) {
  try {
    return new Headers(isObject(init) ? init.headers : undefined);
  } catch {
    throw fail('invalid_argument', 'init.headers is not a valid set of headers');
  }
}

/** The `signal` of an options or init object, when there is one. */
const signalOf = (o) => (isObject(o) && isObject(o.signal) ? o.signal : undefined);

/** `promise`'s value, or undefined when `signal` fires first; the listener goes either way. */
function raceAbort(promise, signal) {
  if (signal.aborted) return Promise.resolve(undefined);
  let stop;
  const aborted = new Promise((resolve) => {
    stop = () => resolve(undefined);
    signal.addEventListener('abort', stop);
  });
  return Promise.race([promise, aborted]).finally(() => signal.removeEventListener('abort', stop));
}

/** `Retry-After` (delay-seconds or an IMF-fixdate) in ms from `now`, or NaN. */
export function retryAfterMs(value, now) {
  const v = (value ?? '').trim();
  if (/^\d+$/.test(v)) return +v * 1000;
  if (!/^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/.test(v)) return NaN;
  const at = Date.parse(v);
  return Number.isNaN(at) ? NaN : Math.max(0, at - now);
}

/** The `exp` of a JWT in ms since the epoch (AppDynamics UI tokens are JWTs), or Infinity. */
export function jwtExpiry(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const exp = JSON.parse(atob(part + '='.repeat(-part.length & 3))).exp;
    if (typeof exp === 'number' && exp > 0 && Number.isFinite(exp)) return exp * 1000;
  } catch {}
  return Infinity;
}

// ---------------------------------------------------------------------------------------------
// The engine: one per client.

export function clients(core) {
  const engines = new WeakMap();

  class Engine {
    constructor(cls, vendor, options) {
      if (!isObject(options) || Array.isArray(options)) {
        throw this.error(fail('invalid_config', `${cls} needs an options object, e.g. new ${cls}({ clientId, clientSecret, ... })`));
      }
      const read = [dynatraceConfig, appdynamicsConfig, oauthConfig][vendor];
      const known = [
        ['clientId', 'clientSecret', 'environmentUrl', 'scope', 'resource', 'tokenUrl', 'authMethod'],
        ['controllerUrl', 'clientName', 'accountName', 'clientId', 'clientSecret', 'accessToken', 'tokenContentType', 'basicAuth'],
        ['tokenUrl', 'clientId', 'clientSecret', 'scope', 'resource', 'audience', 'authMethod', 'baseUrl', 'extraParams'],
      ][vendor];
      this.cls = cls;
      this.vendor = vendor;
      try {
        this.cfg = read(new Reader(cls, options, known, core));
      } catch (e) {
        // Options may hold the secret; no message may.
        const raw = [options.clientSecret, options.accessToken].filter((s) => typeof s === 'string').map((s) => s.trim());
        this.raw = raw.join('\0');
        throw this.error(e);
      }
      const cfg = this.cfg;
      this.raw = [cfg.secret, cfg.staticToken].filter(Boolean).join('\0');
      this.params = cfg.params.join('\0');
      this.apiOrigin = cfg.api ? serialize(cfg.api) : '';
      this.cache = null;
      this.generation = 0;
      this.inflight = null;
      this.nextId = 0;
      this.learned = undefined;
      this.counts = { tokenRequests: 0, cacheHits: 0, refreshes: 0, unauthorizedRetries: 0 };
    }

    /** Every secret this client knows, NUL-separated: scrubbed from every error. */
    secrets() {
      return this.cache ? `${this.raw}\0${this.cache.value}` : this.raw;
    }

    /** An ApmOAuthError from error fields, with every secret removed from its texts. */
    error(f) {
      if (f instanceof Error) return f;
      const out = { ...f };
      for (const k of ['message', 'hint', 'error', 'errorDescription', 'issueId']) {
        if (typeof out[k] === 'string') out[k] = core.scrub(out[k], this.cfg?.clientId ?? '', this.raw ? this.secrets() : '', 8, 0);
      }
      return new ApmOAuthError(out);
    }

    /** The cached token entry while it is fresh (counted as a cache hit), else undefined. */
    fresh() {
      const c = this.cache;
      if (c && Date.now() < c.refreshAt) {
        this.counts.cacheHits++;
        return c;
      }
    }

    /** The token entry to use: the cached one while fresh, else the one in flight, else new. */
    async token(signal) {
      const st = this.cfg.staticToken;
      if (st) return { value: st, gen: 0, expiresAt: jwtExpiry(st) };
      for (let i = 0; i < 3; i++) {
        if (signal?.aborted) throw this.error(ABORTED);
        const fresh = this.fresh();
        if (fresh) return fresh;
        if (!this.inflight) {
          if (this.cache) this.counts.refreshes++;
          const abort = new AbortController();
          const id = ++this.nextId;
          this.inflight = { id, abort, waiters: 0, promise: this.request(id, abort.signal) };
        }
        const inflight = this.inflight;
        inflight.waiters++;
        const v = signal ? await raceAbort(inflight.promise, signal) : await inflight.promise;
        if (v === undefined) {
          this.leave(inflight.id);
          throw this.error(ABORTED);
        }
        if (v instanceof Error) throw v;
        if (this.cache?.gen === v) return this.cache;
      }
      throw this.error(fail('token_error', 'the token was invalidated again and again while it was being fetched'));
    }

    /** A waiter of request `id` was aborted: the last one aborts the request and detaches it. */
    leave(id) {
      const f = this.inflight;
      if (f?.id === id && --f.waiters === 0) {
        f.abort.abort();
        this.inflight = null;
      }
    }

    /** Resolves to the new token's generation, or to the error: it never rejects, so that a
     *  request nobody waits for any more cannot become an unhandled rejection. */
    async request(id, signal) {
      let result;
      try {
        const t = await this.fetchToken(signal);
        const gen = ++this.generation;
        this.cache = { value: t.accessToken, gen, expiresAt: t.expiresAt, refreshAt: t.refreshAt, scope: t.scope, resource: t.resource };
        result = gen;
      } catch (e) {
        result = this.error(e);
      }
      if (this.inflight?.id === id) this.inflight = null;
      return result;
    }

    async fetchToken(signal) {
      const { cfg, vendor } = this;
      const appd = vendor === APPDYNAMICS;
      let attempt = this.learned ?? (appd ? core.firstAttempt(cfg.mode) : 0);
      const tried = [];
      let retries = 0;
      const withAttempts = (f) => {
        if (tried.length > 1) f.message += `; tried ${tried.map(core.describeAttempt).join(', then ')}`;
        return f;
      };
      for (;;) {
        const parts = core.tokenRequest(vendor, cfg.basic, attempt, cfg.clientId, cfg.secret ?? '', this.params).split('\0');
        const body = parts.pop();
        const headers = {};
        for (let i = 0; i < parts.length; i += 2) headers[parts[i]] = parts[i + 1];
        // A token request never follows a redirect: it would carry the credentials elsewhere.
        const init = { method: 'POST', headers, body, redirect: 'manual', cache: 'no-store' };
        this.counts.tokenRequests++;
        let reply;
        try {
          reply = await this.send(cfg.tokenUrl, cfg.tokenOrigin, init, signal, true);
        } catch (e) {
          const d = e.code === 'network' ? core.retryDelay(0, retries, cfg.maxRetries, NaN, Math.random()) : -1;
          if (d < 0) throw withAttempts(e);
          await sleep(d, signal);
          retries++;
          continue;
        }
        const { response, status } = reply;
        const now = Date.now();
        const after = retryAfterMs(response.headers.get('retry-after'), now);
        // NUL-separated fields; an empty first field is a token, else it is the error's code.
        const f = core.tokenResponse(vendor, status, response.headers.get('content-type') ?? '', reply.body, after, now, cfg.skewMs, cfg.clientId, this.raw).split('\0');
        const [code, message, hint, st, error, errorDescription, issueId, retryAfter] = f.map((v) => v || undefined);
        if (!code) {
          if (appd) this.learned = attempt;
          return { accessToken: f[1], expiresAt: +f[2], refreshAt: +f[3], scope: f[4] || undefined, resource: f[5] || undefined };
        }
        const r = { code, message, hint, status: st && +st, error, errorDescription, issueId, retryAfter: retryAfter && retryAfter / 1000 };
        tried.push(attempt);
        const next = appd ? core.nextAttempt(cfg.mode, attempt, status) : -1;
        if (next >= 0) {
          attempt = next;
          continue;
        }
        const d = core.retryDelay(status, retries, cfg.maxRetries, after, Math.random());
        if (d < 0) throw withAttempts(r);
        await sleep(d, signal);
        retries++;
      }
    }

    /** One attempt. With `readBody` the timeout covers the body too; without, it ends with the
     *  response headers and the caller owns the body. Throws error fields. */
    async send(url, origin, init, userSignal, readBody, bearer) {
      if (userSignal?.aborted) throw ABORTED;
      const ctl = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        ctl.abort();
      }, this.cfg.timeoutMs);
      // When the caller's signal fires, the attempt's timer goes at once.
      const onAbort = () => clearTimeout(timer);
      userSignal?.addEventListener('abort', onAbort);
      init.signal = userSignal && AbortSignal.any ? AbortSignal.any([userSignal, ctl.signal]) : ctl.signal;
      try {
        const f = this.cfg.fetch;
        const response = await (f ? f(url, init) : globalThis.fetch(url, init));
        return { response, status: response.status, body: readBody ? await readBounded(response) : '' };
      } catch (cause) {
        if (timedOut) {
          throw fail('timeout', `no answer from ${origin} within ${Math.trunc(this.cfg.timeoutMs)} ms`, 'raise timeoutMs, or check that the host is reachable');
        }
        if (userSignal?.aborted) throw ABORTED;
        const detail = [cause?.cause?.message, cause?.message, cause].find((d) => typeof d === 'string');
        const secrets = bearer ? `${this.secrets()}\0${bearer}` : this.secrets();
        throw fail(
          'network',
          `could not reach ${origin}${detail === undefined ? '' : `: ${core.scrub(detail, this.cfg.clientId, secrets, 4, 120)}`}`,
          typeof document === 'object'
            ? "in a browser this is also how a CORS refusal looks: the server must allow this page's origin, or route calls through a same-origin proxy with the fetch option"
            : 'check the URL, DNS, proxy and firewall',
        );
      } finally {
        clearTimeout(timer);
        userSignal?.removeEventListener('abort', onAbort);
      }
    }

    /** An authenticated call: the token in `Authorization`, no redirect followed, and one retry
     *  with a new token after a 401 when the body can be sent again. */
    async fetch(url, init) {
      const signal = signalOf(init);
      const again = resendable(init?.body);
      let headers;
      try {
        headers = headersOf(init);
      } catch (e) {
        throw this.error(e);
      }
      // The cached token without a detour through the async path: the common case.
      const t = (!signal?.aborted && this.fresh()) || (await this.token(signal));
      const first = await this.sendApi(url, init, headers, t.value, signal);
      if (first.status !== 401 || t.gen === 0 || !again) return first;
      if (this.cache?.gen === t.gen) this.cache = null;
      this.counts.unauthorizedRetries++;
      await discard(first);
      return this.sendApi(url, init, headers, (await this.token(signal)).value, signal);
    }

    async sendApi(url, init, headers, token, signal) {
      const out = isObject(init) ? { ...init } : {};
      headers.set('Authorization', `Bearer ${token}`);
      out.headers = headers;
      // Never follow a redirect with the token: the 3xx is returned to the caller.
      out.redirect = 'manual';
      try {
        return (await this.send(url, this.apiOrigin, out, signal, false, token)).response;
      } catch (e) {
        throw this.error(e);
      }
    }

    /** A caller's path or URL on the API origin, with the vendor's URL rules. Throws. */
    apiUrl(pathOrUrl) {
      const input = typeof pathOrUrl === 'string' ? pathOrUrl : pathOrUrl instanceof Object && typeof pathOrUrl.href === 'string' ? pathOrUrl.href : undefined;
      if (input === undefined) {
        throw fail('invalid_argument', 'fetch takes a path or URL string (and the request options as its second argument)');
      }
      const api = this.vendor === DYNATRACE ? this.environment('fetch') : this.cfg.api;
      if (!api) throw fail('invalid_config', `${this.cls}: fetch needs baseUrl`, "set baseUrl to the API's origin");
      const url = resolveUrl(api, input);
      // AppDynamics REST calls answer XML unless asked for JSON.
      const path = url.slice(this.apiOrigin.length);
      return this.vendor === APPDYNAMICS && (path.startsWith('/controller/rest/') || path === '/controller/rest')
        ? ensureQueryParam(url, 'output', 'JSON')
        : url;
    }

    /** The Dynatrace environment, or the error that says `method` needs it. */
    environment(method) {
      if (this.cfg.api) return this.cfg.api;
      throw fail('invalid_config', `DynatraceClient: ${method} needs environmentUrl`, 'set environmentUrl, e.g. https://abc12345.apps.dynatrace.com');
    }
  }

  const engine = (client) => engines.get(client);
  /** Runs `f` with the client's engine; a failure becomes a scrubbed ApmOAuthError. */
  const sync = (client, f) => {
    const e = engine(client);
    try {
      return f(e);
    } catch (err) {
      throw e.error(err);
    }
  };

  function define(cls, vendor, originKey) {
    const C = class {
      constructor(options) {
        engines.set(this, new Engine(cls, vendor, options));
      }

      /** The current token, fetched when needed. `options.signal` stops waiting for it. */
      async getToken(options) {
        const t = await engine(this).token(signalOf(options));
        const out = { accessToken: t.value, tokenType: 'Bearer', expiresAt: t.expiresAt };
        if (t.scope !== undefined) out.scope = t.scope;
        if (t.resource !== undefined) out.resource = t.resource;
        return out;
      }

      /** An authenticated call to the configured origin. */
      async fetch(pathOrUrl, init) {
        return engine(this).fetch(sync(this, (e) => e.apiUrl(pathOrUrl)), init);
      }

      /** Forgets the cached token. */
      invalidate() {
        engine(this).cache = null;
      }

      /** Counters of token requests, cache hits, early refreshes and 401 retries. */
      stats() {
        return { ...engine(this).counts };
      }

      /** What the client is, without any credential. */
      toJSON() {
        const e = engine(this);
        const out = { client: cls };
        if (e.cfg.clientId) out.clientId = e.cfg.clientId;
        if (!e.cfg.staticToken) out.tokenUrl = e.cfg.tokenUrl;
        if (e.apiOrigin) out[originKey] = e.apiOrigin;
        return out;
      }

      toString() {
        return `${cls}(${engine(this).cfg.clientId})`;
      }

      /** Nothing to free: a client holds no wasm memory (kept for code written for 0.1). */
      free() {}

      // util.inspect shows what toJSON shows: never a credential.
      [Symbol.for('nodejs.util.inspect.custom')]() {
        return `${cls} ${JSON.stringify(this.toJSON())}`;
      }
    };
    Object.defineProperty(C, 'name', { value: cls });
    return C;
  }

  const DynatraceClient = define('DynatraceClient', DYNATRACE, 'environmentUrl');
  const AppDynamicsClient = define('AppDynamicsClient', APPDYNAMICS, 'controllerUrl');
  const OAuthClient = define('OAuthClient', GENERIC, 'baseUrl');

  /** `<environmentUrl>/platform/<apiPath>`. */
  DynatraceClient.prototype.platformUrl = function platformUrl(apiPath) {
    return sync(this, (e) => {
      const env = e.environment('platformUrl');
      if (typeof apiPath !== 'string') throw fail('invalid_argument', 'platformUrl takes the API path as a string');
      const p = apiPath.replace(/^\/+/, '').replace(/^platform\//, '');
      if (!p) throw fail('invalid_argument', 'platformUrl: the API path is empty', 'pass a path such as management/v1/environment');
      return resolveUrl(env, `/platform/${p}`);
    });
  };

  /** Calls an AppEngine app function: POST with a JSON body when `payload` is given, else GET. */
  DynatraceClient.prototype.callAppFunction = async function callAppFunction(appId, functionName, payload, init) {
    const [url, out] = sync(this, (e) => {
      const env = e.environment('callAppFunction');
      if (typeof appId !== 'string' || typeof functionName !== 'string') {
        throw fail('invalid_argument', 'callAppFunction takes an app id and a function name as strings');
      }
      const segs = [['app id', appId], ['function name', functionName]].map(([what, v]) => {
        const t = v.trim();
        if (!t || v === '.' || v === '..') throw fail('invalid_argument', `callAppFunction: the ${what} is empty or not a name`);
        try {
          return pathSegment(t);
        } catch {
          throw fail('invalid_argument', `callAppFunction: the ${what} is not valid text`);
        }
      });
      const url = resolveUrl(env, `/platform/app-engine/app-functions/v1/apps/${segs[0]}/api/${segs[1]}`);
      const out = isObject(init) ? { ...init } : {};
      if (payload !== undefined) {
        let body;
        try {
          body = JSON.stringify(payload);
        } catch {}
        if (typeof body !== 'string') throw fail('invalid_argument', 'callAppFunction: the payload cannot be serialised as JSON');
        if (out.method === undefined) out.method = 'POST';
        const headers = headersOf(out);
        if (!headers.has('content-type')) headers.set('Content-Type', 'application/json');
        out.headers = headers;
        out.body = body;
      }
      return [url, out];
    });
    return engine(this).fetch(url, out);
  };

  /** `GET /controller/rest/applications?output=JSON` as `{ id, name, description }` objects. */
  AppDynamicsClient.prototype.listApplications = async function listApplications() {
    const e = engine(this);
    const response = await e.fetch(sync(this, (en) => en.apiUrl('/controller/rest/applications?output=JSON')));
    const status = response.status;
    const text = await response.text().catch(() => '');
    if (status < 200 || status > 299) {
      const s = core.scrub(text.slice(0, BODY_LIMIT), '', '', 0, 120);
      throw e.error({
        code: 'http_error',
        status,
        message: `listing applications failed: GET /controller/rest/applications answered HTTP ${status}${s ? `: ${s}` : ''}`,
        hint:
          status === 401
            ? 'the controller refused the token: check that the API client still exists and its token has not been revoked'
            : status === 403
              ? "the API client's roles do not allow viewing applications: add a role with that permission"
              : "check controllerUrl and the controller's health",
      });
    }
    let list;
    try {
      list = JSON.parse(text);
    } catch {}
    const ok = Array.isArray(list) && list.every((a) => isObject(a) && typeof a.id === 'number' && typeof a.name === 'string');
    if (!ok) {
      throw e.error(fail('invalid_response', "the controller's application list is not the JSON array expected", "is controllerUrl the controller's address?"));
    }
    return list.map((a) => ({ id: a.id, name: a.name, description: typeof a.description === 'string' ? a.description : '' }));
  };

  return { DynatraceClient, AppDynamicsClient, OAuthClient, ApmOAuthError, ERROR_CODES };
}

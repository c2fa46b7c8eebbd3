// The fault matrix as data: every case names a fault the emulator injects at a vendor's token
// endpoint or API, what the client must do about it, and how many token-endpoint attempts it
// may make. `runCase` runs one case against a live emulator and returns a row of observations
// (never throws), so the node:test suite (fault-matrix.test.mjs) and the report
// (scripts/reliability-report.mjs) run exactly the same cases.
//
// Every case uses a fresh client, a small timeoutMs and a small maxRetries so that the whole
// matrix takes seconds. Times are measured for the report and used only as a hang guard.

import { DynatraceClient, AppDynamicsClient, ApmOAuthError } from '../../pkg/node.mjs';
import { startEmulator } from '../emulator/index.mjs';

/** Per HTTP attempt, for every case (the delay faults wait longer than this). */
export const TIMEOUT_MS = 300;
/** Added to every case's hang guard on top of timeouts, backoff caps and Retry-After waits. */
export const HANG_SLACK_MS = 5_000;

// Backoff caps of the library (full jitter: a wait is at most this much).
const BASE_DELAY_MS = 200;
const MAX_DELAY_MS = 5_000;
function backoffCaps(retries) {
  let total = 0;
  for (let n = 0; n < retries; n++) total += Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** n);
  return total;
}

export function startMatrixEmulator() {
  return startEmulator({ tokenLifetimeSeconds: 300 });
}

// ---------------------------------------------------------------------------------------------
// Vendors

/** A valid Dynatrace token issued by the emulator, fetched directly (for the JSON-body faults). */
async function dynatraceRawToken(emu) {
  const c = emu.credentials.dynatrace;
  const res = await fetch(emu.urls.ssoToken, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret }),
  });
  const body = await res.json();
  return body.access_token;
}

export const VENDORS = {
  dynatrace: {
    label: 'Dynatrace',
    tokenRole: 'sso',
    apiRole: 'dynatrace',
    apiPath: '/platform/management/v1/environment',
    tokenAttempts: (emu) => emu.counters.sso.token,
    apiAttempts: (emu) => emu.counters.dynatrace.api,
    secret: (emu) => emu.credentials.dynatrace.clientSecret,
    client(emu, options = {}) {
      const c = emu.credentials.dynatrace;
      return new DynatraceClient({
        clientId: c.clientId,
        clientSecret: c.clientSecret,
        environmentUrl: emu.urls.dynatrace,
        tokenUrl: emu.urls.ssoToken,
        timeoutMs: TIMEOUT_MS,
        ...options,
      });
    },
    /** Make the next token answers carry `fields` next to a token the API accepts. */
    async tokenFields(emu, fields) {
      const accessToken = await dynatraceRawToken(emu);
      emu.setFault('sso', 'token', { kind: 'json', body: JSON.stringify({ access_token: accessToken, token_type: 'Bearer', ...fields }) });
      return accessToken;
    },
    checkBody(text) {
      return JSON.parse(text).environmentId === 'abc12345';
    },
  },
  appdynamics: {
    label: 'AppDynamics',
    tokenRole: 'appdynamics',
    apiRole: 'appdynamics',
    apiPath: '/controller/rest/applications',
    tokenAttempts: (emu) => emu.counters.appdynamics.token,
    apiAttempts: (emu) => emu.counters.appdynamics.api,
    secret: (emu) => emu.credentials.appdynamics.clientSecret,
    client(emu, options = {}) {
      const c = emu.credentials.appdynamics;
      return new AppDynamicsClient({
        controllerUrl: emu.urls.appdynamics,
        clientName: c.clientName,
        accountName: c.accountName,
        clientSecret: c.clientSecret,
        timeoutMs: TIMEOUT_MS,
        ...options,
      });
    },
    async tokenFields(emu, fields) {
      // The modern controller's own answer, with expires_in replaced (or removed when undefined).
      emu.options.appdynamics.extraTokenFields = fields;
      return undefined;
    },
    checkBody(text) {
      const apps = JSON.parse(text);
      return Array.isArray(apps) && apps.some((a) => a.name === 'ECommerce_E2E');
    },
  },
};

// ---------------------------------------------------------------------------------------------
// Cases

const httpDate = (msFromNow) => new Date(Date.now() + msFromNow).toUTCString();

/**
 * expires_in forms and the lifetime (seconds) the client must believe; 0 means "use once, never
 * cache": a second getToken() must make a second token request.
 */
export const EXPIRES_IN_FORMS = [
  { label: '"300"', value: '300', lifetime: 300 },
  { label: '0', value: 0, lifetime: 0 },
  { label: '-5', value: -5, lifetime: 0 },
  { label: '1e12', value: 1e12, lifetime: 30 * 24 * 3600 },
  { label: '"abc"', value: 'abc', lifetime: 300 },
  { label: 'null', value: null, lifetime: 300 },
  { label: 'absent', value: undefined, lifetime: 300 },
  { label: '12.9', value: 12.9, lifetime: 12 },
];

/**
 * The cases of one vendor. Fields:
 * - id, place ('token' | 'api'), fault (label), expected (label)
 * - options: client options on top of the vendor's defaults (maxRetries defaults to 0 here so
 *   that only the cases about retries pay for them)
 * - setup(emu, vendor): injects the fault; may return a value handed to check()
 * - call: 'getToken' | 'fetch' | async (client, vendor) => value
 * - expect: { code } for a rejection (with status when a server answered), or { status } for a
 *   Response handed back, or { ok: true }; attempts: token-endpoint attempts; apiAttempts
 * - waitMs: the longest time the client may legitimately sleep (backoff caps, Retry-After)
 * - check(outcome, ctx): extra problems, as strings
 */
function casesFor(vendorKey) {
  const v = VENDORS[vendorKey];
  const isAppd = vendorKey === 'appdynamics';
  const tokenFault = (fault) => (emu) => emu.setFault(v.tokenRole, 'token', fault);
  const apiFault = (fault) => (emu) => emu.setFault(v.apiRole, 'api', fault);
  // AppDynamics' modern controller ladder on a 400: form, then the vendor content type, then
  // vendor type + Basic (a different request form each time, not a retry); on a 401: form, then
  // form + Basic. Dynatrace sends one request.
  const ladder400 = isAppd ? 3 : 1;
  const ladder401 = isAppd ? 2 : 1;
  const list = [];
  const add = (c) => list.push({ options: {}, waitMs: 0, ...c, vendor: vendorKey, id: `${vendorKey}/${c.place}/${c.id}` });

  // --- token endpoint: transport faults
  add({
    id: 'delay-past-timeout', place: 'token', fault: `delay 1500 ms (timeoutMs ${TIMEOUT_MS}, maxRetries 2)`,
    options: { maxRetries: 2 }, setup: tokenFault({ kind: 'delay', ms: 1500 }), call: 'getToken',
    expect: { code: 'timeout', attempts: 1 }, expected: 'timeout, not retried',
    check: (o) => (o.error && o.error.status !== undefined ? ['a timeout must not carry a status'] : []),
  });
  add({
    id: 'drop', place: 'token', fault: 'connection dropped (maxRetries 1)',
    options: { maxRetries: 1 }, setup: tokenFault({ kind: 'drop' }), call: 'getToken', waitMs: backoffCaps(1),
    expect: { code: 'network', attempts: 2 }, expected: 'network after 1 retry',
  });
  add({
    id: 'drop-once', place: 'token', fault: 'connection dropped once (maxRetries 1)',
    options: { maxRetries: 1 }, setup: tokenFault({ kind: 'drop', count: 1 }), call: 'getToken', waitMs: backoffCaps(1),
    expect: { ok: true, attempts: 2 }, expected: 'token after 1 retry',
  });

  // --- token endpoint: statuses
  add({
    id: '500', place: 'token', fault: 'HTTP 500 (maxRetries 2)', options: { maxRetries: 2 },
    setup: tokenFault({ kind: 'status', status: 500 }), call: 'getToken',
    expect: { code: 'server_error', status: 500, attempts: 1 }, expected: 'server_error 500, not retried',
  });
  for (const status of [502, 503, 504]) {
    add({
      id: String(status), place: 'token', fault: `HTTP ${status} (maxRetries 2)`, options: { maxRetries: 2 },
      setup: tokenFault({ kind: 'status', status }), call: 'getToken', waitMs: backoffCaps(2),
      expect: { code: 'server_error', status, attempts: 3 }, expected: `server_error ${status} after 2 retries`,
    });
  }
  add({
    id: '503-once', place: 'token', fault: 'HTTP 503 once (maxRetries 2)', options: { maxRetries: 2 },
    setup: tokenFault({ kind: 'status', status: 503, count: 1 }), call: 'getToken', waitMs: backoffCaps(1),
    expect: { ok: true, attempts: 2 }, expected: 'token after 1 retry',
  });
  add({
    id: '503-no-retries', place: 'token', fault: 'HTTP 503 (maxRetries 0)', options: { maxRetries: 0 },
    setup: tokenFault({ kind: 'status', status: 503 }), call: 'getToken',
    expect: { code: 'server_error', status: 503, attempts: 1 }, expected: 'server_error 503, no retry',
  });
  add({
    id: '429', place: 'token', fault: 'HTTP 429 without Retry-After (maxRetries 1)', options: { maxRetries: 1 },
    setup: tokenFault({ kind: 'rateLimit' }), call: 'getToken', waitMs: backoffCaps(1),
    expect: { code: 'rate_limited', status: 429, attempts: 2 }, expected: 'rate_limited after 1 retry',
    check: (o) => (o.error && o.error.retryAfter !== undefined ? ['retryAfter set without a Retry-After header'] : []),
  });
  add({
    id: '429-retry-after-1s', place: 'token', fault: 'HTTP 429, Retry-After: 1 (maxRetries 1)', options: { maxRetries: 1 },
    setup: tokenFault({ kind: 'rateLimit', retryAfter: 1 }), call: 'getToken', waitMs: 1_000,
    expect: { code: 'rate_limited', status: 429, attempts: 2, gapAtLeastMs: 950 },
    expected: 'rate_limited after waiting 1 s once',
    check: (o) => (o.error && o.error.retryAfter !== 1 ? [`retryAfter ${o.error.retryAfter}, want 1`] : []),
  });
  add({
    id: '429-retry-after-once', place: 'token', fault: 'HTTP 429 once, Retry-After: 1 (maxRetries 1)', options: { maxRetries: 1 },
    setup: tokenFault({ kind: 'rateLimit', retryAfter: 1, count: 1 }), call: 'getToken', waitMs: 1_000,
    expect: { ok: true, attempts: 2, gapAtLeastMs: 950 }, expected: 'token after waiting 1 s',
  });
  add({
    id: '429-retry-after-date', place: 'token', fault: 'HTTP 429 once, Retry-After: HTTP-date ~1.5 s ahead (maxRetries 1)',
    options: { maxRetries: 1 },
    // The date has whole seconds: now + 1.5 s truncated is 0.5 to 1.5 s ahead.
    setup: (emu) => emu.setFault(v.tokenRole, 'token', { kind: 'rateLimit', retryAfter: httpDate(1_500), count: 1 }),
    call: 'getToken', waitMs: 1_500,
    expect: { ok: true, attempts: 2, gapAtLeastMs: 400 }, expected: 'token after waiting until the date',
  });
  add({
    id: '429-retry-after-31s', place: 'token', fault: 'HTTP 429, Retry-After: 31 (maxRetries 2)', options: { maxRetries: 2 },
    setup: tokenFault({ kind: 'rateLimit', retryAfter: 31 }), call: 'getToken',
    expect: { code: 'rate_limited', status: 429, attempts: 1 }, expected: 'rate_limited, retryAfter 31, no retry',
    check: (o) => (o.error && o.error.retryAfter !== 31 ? [`retryAfter ${o.error.retryAfter}, want 31`] : []),
  });
  add({
    id: '429-retry-after-date-far', place: 'token', fault: 'HTTP 429, Retry-After: HTTP-date 2 min ahead (maxRetries 2)',
    options: { maxRetries: 2 },
    setup: (emu) => emu.setFault(v.tokenRole, 'token', { kind: 'rateLimit', retryAfter: httpDate(120_000) }),
    call: 'getToken',
    expect: { code: 'rate_limited', status: 429, attempts: 1 }, expected: 'rate_limited with retryAfter, no retry',
    check: (o) => (o.error && !(o.error.retryAfter > 100 && o.error.retryAfter <= 120) ? [`retryAfter ${o.error.retryAfter}, want ~119`] : []),
  });

  // --- token endpoint: bodies
  add({
    id: 'html-200', place: 'token', fault: 'HTML sign-in page, HTTP 200', setup: tokenFault({ kind: 'html', status: 200 }),
    call: 'getToken', expect: { code: 'invalid_response', status: 200, attempts: 1 }, expected: 'invalid_response 200',
  });
  add({
    id: 'html-400', place: 'token', fault: 'HTML sign-in page, HTTP 400', setup: tokenFault({ kind: 'html', status: 400 }),
    call: 'getToken', expect: { code: 'token_error', status: 400, attempts: ladder400 },
    expected: isAppd ? 'token_error 400 (form, vendor type, + Basic)' : 'token_error 400',
  });
  add({
    id: 'truncated-json', place: 'token', fault: 'token JSON cut in the middle', setup: tokenFault({ kind: 'truncatedJson' }),
    call: 'getToken', expect: { code: 'invalid_response', status: 200, attempts: 1 }, expected: 'invalid_response 200',
  });
  add({
    id: 'empty-body', place: 'token', fault: 'empty body, HTTP 200', setup: tokenFault({ kind: 'emptyBody' }),
    call: 'getToken', expect: { code: 'invalid_response', status: 200, attempts: 1 }, expected: 'invalid_response 200',
  });
  add({
    id: 'no-access-token', place: 'token', fault: 'JSON without access_token',
    setup: tokenFault({ kind: 'json', body: { token_type: 'Bearer', expires_in: 300, scope: 'x' } }),
    call: 'getToken', expect: { code: 'invalid_response', status: 200, attempts: 1 }, expected: 'invalid_response 200',
  });
  add({
    id: 'token-type-mac', place: 'token', fault: 'token_type "mac"',
    setup: tokenFault({ kind: 'json', body: { access_token: 'mac-token-value-0123456789abcdef', token_type: 'mac', expires_in: 300 } }),
    call: 'getToken', expect: { code: 'invalid_response', status: 200, attempts: 1 }, expected: 'invalid_response 200',
    check: (o) => (o.error && o.error.message.includes('mac-token-value') ? ['the message quotes the refused token'] : []),
  });
  add({
    id: 'unauthorized', place: 'token', fault: isAppd ? 'credentials refused (401, empty body)' : 'credentials refused (400 JSON)',
    setup: tokenFault({ kind: 'unauthorized' }), call: 'getToken',
    expect: { code: 'invalid_client', status: isAppd ? 401 : 400, attempts: ladder401 },
    expected: isAppd ? 'invalid_client 401 (form, + Basic)' : 'invalid_client 400',
  });

  for (const form of EXPIRES_IN_FORMS) {
    const once = form.lifetime === 0;
    add({
      id: `expires-in-${form.label.replace(/"/g, '')}`, place: 'token', fault: `expires_in ${form.label}`,
      setup: (emu) => v.tokenFields(emu, { expires_in: form.value }),
      // Two getToken() calls: the second is served from the cache unless the token is used once.
      call: async (client) => {
        const before = Date.now();
        const first = await client.getToken();
        const after = Date.now();
        const second = await client.getToken();
        return { first, second, before, after };
      },
      expect: { ok: true, attempts: once ? 2 : 1 },
      expected: once ? 'token used once, not cached' : `token cached for ${form.lifetime} s`,
      check: (o) => {
        if (!o.value) return [];
        const { first, before, after } = o.value;
        const lo = before + form.lifetime * 1000;
        const hi = after + form.lifetime * 1000;
        return first.expiresAt >= lo - 1 && first.expiresAt <= hi + 1
          ? []
          : [`expiresAt is now + ${Math.round((first.expiresAt - after) / 1000)} s, want ${form.lifetime} s`];
      },
    });
  }

  add({
    id: 'redirect-elsewhere', place: 'token', fault: '302 to another origin',
    setup: (emu) => emu.setFault(v.tokenRole, 'token', { kind: 'redirect', location: `${emu.urls.elsewhere}/token` }),
    call: 'getToken', expect: { code: 'token_error', status: 302, attempts: 1 }, expected: 'token_error 302 with a hint, not followed',
    check: (o, { emu }) => {
      const p = [];
      if (o.error && !/redirects/.test(o.error.hint || '')) p.push(`hint ${JSON.stringify(o.error.hint)} does not say the URL redirects`);
      if (emu.counters.elsewhere.requests !== 0) p.push(`${emu.counters.elsewhere.requests} request(s) reached the redirect target`);
      return p;
    },
  });
  add({
    id: 'redirect-307-same-origin', place: 'token', fault: '307 to the same token URL',
    setup: (emu) => emu.setFault(v.tokenRole, 'token', { kind: 'redirect', status: 307, location: isAppd ? emu.urls.appdynamicsToken : emu.urls.ssoToken, count: 1 }),
    call: 'getToken', expect: { code: 'token_error', status: 307, attempts: 1 }, expected: 'token_error 307, not followed',
  });

  // --- API
  add({
    id: 'unauthorized-always', place: 'api', fault: '401 on every call', setup: apiFault({ kind: 'unauthorized' }), call: 'fetch',
    expect: { status: 401, attempts: 2, apiAttempts: 2 }, expected: '401 handed back after 1 renewal and 1 retry',
    check: (o, { client }) => (client.stats().unauthorizedRetries !== 1 ? [`unauthorizedRetries ${client.stats().unauthorizedRetries}, want 1`] : []),
  });
  add({
    id: 'unauthorized-once', place: 'api', fault: '401 once, then 200', setup: apiFault({ kind: 'unauthorized', count: 1 }), call: 'fetch',
    expect: { status: 200, attempts: 2, apiAttempts: 2 }, expected: '200 after 1 renewal',
  });
  add({
    id: 'post-stream-401', place: 'api', fault: '401 once on a POST with a stream body',
    setup: apiFault({ kind: 'unauthorized', count: 1 }),
    call: (client, vendor) => client.fetch(vendor.apiPath, {
      method: 'POST',
      body: new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('{}')); c.close(); } }),
      duplex: 'half',
    }),
    expect: { status: 401, attempts: 1, apiAttempts: 1 }, expected: '401 handed back (a stream cannot be sent twice)',
  });
  add({
    id: 'delay-past-timeout', place: 'api', fault: `delay 1500 ms (timeoutMs ${TIMEOUT_MS})`, setup: apiFault({ kind: 'delay', ms: 1500 }),
    call: 'fetch', expect: { code: 'timeout', attempts: 1, apiAttempts: 1 }, expected: 'timeout, not retried',
  });
  add({
    id: 'drop', place: 'api', fault: 'connection dropped (maxRetries 2)', options: { maxRetries: 2 }, setup: apiFault({ kind: 'drop' }),
    call: 'fetch', expect: { code: 'network', attempts: 1, apiAttempts: 1 }, expected: 'network, not retried',
  });
  for (const status of [500, 503]) {
    add({
      id: String(status), place: 'api', fault: `HTTP ${status} (maxRetries 2)`, options: { maxRetries: 2 },
      setup: apiFault({ kind: 'status', status }), call: 'fetch',
      expect: { status, attempts: 1, apiAttempts: 1 }, expected: `${status} handed back, not retried`,
    });
  }
  add({
    id: '429', place: 'api', fault: 'HTTP 429, Retry-After: 1 (maxRetries 2)', options: { maxRetries: 2 },
    setup: apiFault({ kind: 'rateLimit', retryAfter: 1 }), call: 'fetch',
    expect: { status: 429, attempts: 1, apiAttempts: 1 }, expected: '429 handed back, not retried',
  });
  add({
    id: 'redirect-elsewhere', place: 'api', fault: '302 to another origin',
    setup: (emu) => emu.setFault(v.apiRole, 'api', { kind: 'redirect', location: `${emu.urls.elsewhere}/steal` }),
    call: 'fetch', expect: { status: 302, attempts: 1, apiAttempts: 1 }, expected: '302 handed back, not followed',
    check: (o, { emu }) => {
      const p = [];
      if (emu.counters.elsewhere.requests !== 0) p.push(`${emu.counters.elsewhere.requests} request(s) reached the redirect target`);
      if (o.value && o.value.headers.get('location') !== `${emu.urls.elsewhere}/steal`) p.push('the Location header is not visible');
      return p;
    },
  });
  add({
    id: 'redirect-same-origin', place: 'api', fault: '302 to the same origin',
    setup: (emu) => emu.setFault(v.apiRole, 'api', { kind: 'redirect', location: `${isAppd ? emu.urls.appdynamics : emu.urls.dynatrace}${v.apiPath}`, count: 1 }),
    call: 'fetch', expect: { status: 302, attempts: 1, apiAttempts: 1 }, expected: '302 handed back, not followed',
  });
  return list;
}

/** Every case, Dynatrace first. */
export const CASES = [...casesFor('dynatrace'), ...casesFor('appdynamics')];

// ---------------------------------------------------------------------------------------------
// Running a case

let rejections = [];
let trapInstalled = false;
/** Records unhandled rejections (instead of crashing) so each case can say whether it made one. */
export function installRejectionTrap() {
  if (trapInstalled) return;
  trapInstalled = true;
  process.on('unhandledRejection', (reason) => rejections.push(reason));
}
export function unhandledRejections() {
  return rejections;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

function hangGuard(promise, ms) {
  let timer;
  const guard = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ hung: true }), ms);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

async function runCall(call, client, vendor) {
  if (call === 'getToken') return client.getToken();
  if (call === 'fetch') return client.fetch(vendor.apiPath);
  return call(client, vendor);
}

function describeOutcome(o) {
  if (o.hung) return 'did not settle';
  if (o.error) {
    const e = o.error;
    return e && e.code ? `${e.code}${e.status !== undefined ? ` ${e.status}` : ''}` : `threw ${String(e)}`;
  }
  if (o.value instanceof Response) return `HTTP ${o.value.status}`;
  return 'token';
}

/**
 * Runs one case on `emu` (reset first) and returns a row:
 * { case, vendor, fault, expected, observed, attempts, apiAttempts, workedAgain, settleMs,
 *   problems: string[], error, client, tokens: string[] (every access token seen) }.
 */
export async function runCase(emu, c) {
  const vendor = VENDORS[c.vendor];
  emu.reset();
  const problems = [];
  const tokens = new Set();
  const rejectionsBefore = rejections.length;
  const maxRetries = c.options.maxRetries ?? 0;
  const client = vendor.client(emu, { maxRetries, ...c.options });
  const injected = await c.setup(emu, vendor);
  if (typeof injected === 'string') tokens.add(injected);

  const tokenBase = vendor.tokenAttempts(emu);
  const apiBase = vendor.apiAttempts(emu);
  const requestBase = emu.requests.length;
  const expected = c.expect;
  const bound = TIMEOUT_MS * ((expected.attempts ?? 1) + (expected.apiAttempts ?? 1)) + c.waitMs + HANG_SLACK_MS;

  const started = performance.now();
  const outcome = await hangGuard(
    runCall(c.call, client, vendor).then((value) => ({ value }), (error) => ({ error })),
    bound,
  );
  const settleMs = performance.now() - started;
  if (outcome.value instanceof Response) outcome.body = await outcome.value.text().catch(() => '');
  if (outcome.value && outcome.value.accessToken) tokens.add(outcome.value.accessToken);
  if (outcome.value && outcome.value.first) {
    tokens.add(outcome.value.first.accessToken);
    tokens.add(outcome.value.second.accessToken);
  }

  const attempts = vendor.tokenAttempts(emu) - tokenBase;
  const apiAttempts = vendor.apiAttempts(emu) - apiBase;
  const observed = describeOutcome(outcome);

  // The outcome.
  if (outcome.hung) {
    problems.push(`did not settle within ${bound} ms (hang guard)`);
  } else if (expected.code) {
    const e = outcome.error;
    if (!e) problems.push(`expected ${expected.code}, got ${observed}`);
    else {
      if (!(e instanceof ApmOAuthError) || e.name !== 'ApmOAuthError') problems.push(`not an ApmOAuthError: ${String(e)}`);
      if (e.code !== expected.code) problems.push(`code ${e.code}, want ${expected.code}`);
      if (e.status !== expected.status) problems.push(`status ${e.status}, want ${expected.status}`);
      if (typeof e.message !== 'string' || e.message.length > 1_000) problems.push('message missing or longer than 1000 characters');
    }
  } else if (expected.status !== undefined) {
    if (!(outcome.value instanceof Response)) problems.push(`expected HTTP ${expected.status}, got ${observed}`);
    else if (outcome.value.status !== expected.status) problems.push(`HTTP ${outcome.value.status}, want ${expected.status}`);
  } else if (expected.ok && outcome.error) {
    problems.push(`expected success, got ${observed}: ${outcome.error.message}`);
  }

  // Attempts, as the emulator counted them and as the client counted them.
  if (attempts !== expected.attempts) problems.push(`${attempts} token-endpoint attempts, want ${expected.attempts}`);
  const stats = client.stats();
  if (stats.tokenRequests !== attempts) problems.push(`stats().tokenRequests ${stats.tokenRequests}, emulator counted ${attempts}`);
  if (expected.apiAttempts !== undefined && apiAttempts !== expected.apiAttempts) {
    problems.push(`${apiAttempts} API attempts, want ${expected.apiAttempts}`);
  }
  if (expected.gapAtLeastMs !== undefined) {
    const tokenPath = c.vendor === 'appdynamics' ? '/controller/api/oauth/access_token' : '/sso/oauth2/token';
    const at = emu.requests.slice(requestBase).filter((r) => r.role === vendor.tokenRole && r.path === tokenPath).map((r) => r.at);
    const gap = at.length >= 2 ? at[1] - at[0] : NaN;
    if (!(gap >= expected.gapAtLeastMs)) problems.push(`retried after ${gap} ms, Retry-After asked for at least ${expected.gapAtLeastMs} ms`);
  }
  if (c.check && !outcome.hung) problems.push(...c.check(outcome, { emu, client, vendor }));

  // The same client, once the fault is gone.
  emu.clearFaults();
  emu.options.appdynamics.extraTokenFields = {};
  let workedAgain = false;
  let againNote = '';
  try {
    const res = await hangGuard(client.fetch(vendor.apiPath), TIMEOUT_MS * 4 + HANG_SLACK_MS);
    if (res.hung) againNote = 'did not settle';
    else {
      const text = await res.text();
      workedAgain = res.status === 200 && vendor.checkBody(text);
      if (!workedAgain) againNote = `HTTP ${res.status}`;
    }
  } catch (e) {
    againNote = `${e.code}: ${e.message}`;
  }
  if (!workedAgain) problems.push(`the client did not work again after the fault was cleared (${againNote})`);

  for (const r of emu.requests) {
    const m = /^Bearer (.+)$/.exec(r.headers.authorization || '');
    if (m) tokens.add(m[1]);
  }
  await settle();
  const newRejections = rejections.slice(rejectionsBefore);
  if (newRejections.length) problems.push(`${newRejections.length} unhandled rejection(s): ${newRejections.map(String).join('; ')}`);

  return {
    case: c,
    vendor: vendor.label,
    place: c.place === 'token' ? 'token endpoint' : 'API',
    fault: c.fault,
    expected: c.expected,
    observed,
    attempts,
    expectedAttempts: expected.attempts,
    apiAttempts,
    workedAgain,
    settleMs,
    problems,
    error: outcome.error,
    client,
    tokens: [...tokens].filter(Boolean),
  };
}

/** Runs every case in order on one emulator; `onRow` sees each row as it is made. */
export async function runMatrix({ cases = CASES, onRow } = {}) {
  installRejectionTrap();
  const emu = await startMatrixEmulator();
  const rows = [];
  try {
    for (const c of cases) {
      const row = await runCase(emu, c);
      rows.push(row);
      if (onRow) onRow(row);
    }
  } finally {
    await emu.close();
  }
  return rows;
}

// The demo page: one panel per vendor, and one for a user's sign-in through Dynatrace SSO, each
// driving a client of the apm-oauth package imported from the package's browser entry, exactly as a
// user's page would import it.
//
// The request timeline comes from two sources the package offers every user: the `fetch` option
// (this page's wrapper sees every HTTP request a client makes) and `client.stats()` (cache hits,
// early refreshes and retries after a 401, which make no request of their own).
//
// Secrets never reach the page's text: inputs are password fields, the timeline shows methods, paths
// and statuses only, tokens are shown redacted, and every text shown is scrubbed of the secrets and
// tokens this page knows as a second line of defence.
//
// The sign-in panel keeps no token beyond the page: the client holds them in memory, and other tabs
// of this page share them over the package's BroadcastChannel. Only the sign-in's state and PKCE
// verifier (the package, for the redirect) and the panel's non-secret fields wait in sessionStorage.

import { DynatraceClient, AppDynamicsClient, ApmOAuthError } from '/pkg/web.js';

const TOKEN_PATHS = ['/sso/oauth2/token', '/controller/api/oauth/access_token'];
const BODY_SHOWN = 20_000;

// ---------------------------------------------------------------------------------------------
// Small DOM and formatting helpers

const $ = (id) => document.getElementById(id);

/** An element with attributes and children (strings become text nodes, never HTML). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function clock(date = new Date()) {
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}.${p(date.getMilliseconds(), 3)}`;
}

/** "4 min 59 s", "2 h 5 min", "3 days"; "expired" once past. */
function countdown(expiresAt, now = Date.now()) {
  if (!Number.isFinite(expiresAt)) return 'unknown (a static token without an expiry)';
  const s = Math.floor((expiresAt - now) / 1000);
  if (s <= 0) return 'expired';
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 172800) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} days`;
}

function isLoopback(urlText) {
  try {
    const host = new URL(urlText).hostname;
    return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return true; // nothing usable typed yet: keep the emulator's default
  }
}

/** The first and last few characters, so two tokens can be told apart without showing either. */
function redact(token) {
  if (token.length < 24) return `… (${token.length} characters)`;
  return `${token.slice(0, 6)}…${token.slice(-4)} (${token.length} characters)`;
}

/** The decoded header and claims of a JWT, or null when the token is not one. */
function decodeJwt(token) {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const decode = (part) => {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
  };
  try {
    return { header: decode(parts[0]), claims: decode(parts[1]) };
  } catch {
    return null;
  }
}

function pathOf(urlText) {
  try {
    const u = new URL(urlText);
    return `${u.pathname}${u.search}`;
  } catch {
    return String(urlText);
  }
}

/** JSON indented, anything else as it came; cut after BODY_SHOWN characters. */
function prettyBody(text) {
  let out = text;
  try {
    out = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // Not JSON: shown as is.
  }
  return out.length > BODY_SHOWN ? `${out.slice(0, BODY_SHOWN)}\n… (${out.length - BODY_SHOWN} more characters)` : out;
}

// ---------------------------------------------------------------------------------------------
// A vendor panel: form, client, token view, results, errors and timeline

const STAT_LABELS = {
  tokenRequests: ['token request', 'token requests'],
  refreshTokenGrants: ['refresh token grant', 'refresh token grants'],
  cacheHits: ['cache hit', 'cache hits'],
  refreshes: ['early refresh', 'early refreshes'],
  unauthorizedRetries: ['retry after 401', 'retries after 401'],
  apiCalls: ['API request', 'API requests'],
};
const CLIENT_CREDENTIALS_STATS = ['tokenRequests', 'cacheHits', 'refreshes', 'unauthorizedRetries', 'apiCalls'];

/** What a token request asks for, from its form body: "code exchange", "refresh token grant", ... */
const GRANT_LABELS = {
  authorization_code: 'code exchange',
  refresh_token: 'refresh token grant',
  client_credentials: 'client credentials',
};

function grantOf(init) {
  const body = init.body;
  const params = typeof body === 'string' ? new URLSearchParams(body) : body instanceof URLSearchParams ? body : null;
  return params?.get('grant_type') ?? null;
}

class Panel {
  /**
   * @param {string} prefix element id prefix ("dt", "appd", "dts")
   * @param {object} vendor { Client, name (the class's name: a minified build renames classes),
   *   readOptions(): { options, describe }, forwardUrl(): string,
   *   and optionally submit(client) (the form's action; default: Get token), stats (the summary's
   *   counters), retire(client) (a replaced client) }
   */
  constructor(prefix, vendor) {
    this.prefix = prefix;
    this.vendor = vendor;
    this.form = $(`${prefix}-form`);
    this.errorBox = $(`${prefix}-error`);
    this.tokenBox = $(`${prefix}-token`);
    this.resultBox = $(`${prefix}-result`);
    this.events = $(`${prefix}-timeline`);
    this.summary = $(`${prefix}-summary`);
    this.forward = $(`${prefix}-forward`);
    this.client = null;
    this.clientKey = '';
    this.shownToken = null;
    this.lastStats = null;
    this.knownTokens = new Set();
    this.statKeys = vendor.stats ?? CLIENT_CREDENTIALS_STATS;
    this.totals = Object.fromEntries(this.statKeys.map((k) => [k, 0]));
    this.renderSummary();

    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.run(vendor.submit ?? (async (client) => this.showToken(await client.getToken())));
    });
    $(`${prefix}-clear`).addEventListener('click', () => {
      this.events.replaceChildren();
      for (const k of Object.keys(this.totals)) this.totals[k] = 0;
      this.renderSummary();
    });
    // The forwarding default follows the URL (real host: on, loopback: off) until the user decides.
    this.forward.addEventListener('change', () => {
      this.forward.dataset.touched = 'yes';
    });
    this.form.addEventListener('input', (event) => {
      if (event.target.type === 'url') this.syncForwardDefault();
    });
  }

  syncForwardDefault() {
    if (this.forward.dataset.touched) return;
    this.forward.checked = !isLoopback(this.vendor.forwardUrl());
  }

  /** Secrets typed into this panel and tokens it has seen, for scrubbing any text shown. */
  secrets() {
    const typed = [...this.form.querySelectorAll('input[type=password]')].map((i) => i.value.trim());
    return [...typed, ...this.knownTokens].filter((s) => s.length >= 8);
  }

  scrub(text) {
    let out = String(text ?? '');
    for (const secret of this.secrets()) out = out.split(secret).join('[redacted]');
    return out;
  }

  /** The client for the current fields: created on first use, replaced when they change. */
  ensureClient() {
    const { options, describe } = this.vendor.readOptions();
    const forward = this.forward.checked;
    const key = JSON.stringify([options, forward]);
    if (this.client && key === this.clientKey) return this.client;
    if (this.client) {
      this.syncStats();
      this.vendor.retire?.(this.client);
      this.client = null;
      // The token shown was the replaced client's.
      this.shownToken = null;
      this.tokenBox.hidden = true;
      this.tokenBox.replaceChildren();
    }
    const holder = {};
    const client = new this.vendor.Client({ ...options, fetch: this.timelineFetch(holder, forward) });
    holder.client = client;
    this.client = client;
    this.clientKey = key;
    this.lastStats = client.stats();
    this.addEvent('client', `New ${this.vendor.name}: ${describe}${forward ? ', through /forward' : ''}`);
    return client;
  }

  /**
   * The `fetch` option given to the client: every HTTP request it makes passes here. It records the
   * request on the timeline (token or API, by URL), sends it directly or through /forward, and
   * notes the answer's status and duration.
   */
  timelineFetch(holder, forward) {
    return async (url, init = {}) => {
      const target = String(url);
      const kind = TOKEN_PATHS.some((p) => new URL(target).pathname.endsWith(p)) ? 'token' : 'api';
      // Cache hits, refreshes and 401 retries are decided just before a request: show them first.
      if (holder.client === this.client) this.syncStats();
      const method = String(init.method || 'GET').toUpperCase();
      const grant = kind === 'token' ? GRANT_LABELS[grantOf(init)] : undefined;
      const row = this.addEvent(kind, kind === 'token' ? `Token request${grant ? ` (${grant})` : ''}` : 'API request', {
        target: `${method} ${pathOf(target)}`,
        title: new URL(target).origin,
      });
      if (kind === 'api') this.totals.apiCalls += 1;
      this.renderSummary();
      const started = performance.now();
      const ms = () => `${Math.round(performance.now() - started)} ms`;
      try {
        const response = forward
          ? await fetch(`/forward?url=${encodeURIComponent(target)}`, init)
          : await fetch(target, init);
        const status = response.type === 'opaqueredirect' ? 'redirect' : String(response.status);
        this.finishEvent(row, status, ms(), response.ok);
        if (response.headers.get('x-forward-refused')) {
          response.clone().json().then(
            (j) => this.addEvent('note', `/forward refused ${new URL(target).host}: ${j.hint ?? j.message}`),
            () => {},
          );
        } else if (kind === 'token' && response.ok) {
          response.clone().json().then((j) => holder.client === this.client && this.showWireToken(j), () => {});
        }
        return response;
      } catch (err) {
        this.finishEvent(row, err && err.name === 'AbortError' ? 'aborted' : 'no answer', ms(), false);
        throw err;
      }
    };
  }

  /** Adds to the timeline what `stats()` counted since the last look. */
  syncStats() {
    if (!this.client || !this.lastStats) return;
    const now = this.client.stats();
    const before = this.lastStats;
    this.lastStats = now;
    const delta = (k) => now[k] - before[k];
    this.totals.tokenRequests += delta('tokenRequests');
    const hits = delta('cacheHits');
    const refreshes = delta('refreshes');
    const retries = delta('unauthorizedRetries');
    const grants = this.statKeys.includes('refreshTokenGrants') ? delta('refreshTokenGrants') : 0;
    if (grants > 0) {
      this.totals.refreshTokenGrants += grants;
      this.addEvent('grant', 'Refresh token grant: the access token is stale, the refresh token gets a new one', { count: grants });
    }
    if (hits > 0) {
      this.totals.cacheHits += hits;
      this.addEvent('cache', hits === 1 ? 'Cache hit: the cached token was used' : `${hits} cache hits: the cached token was used`, { count: hits });
    }
    if (refreshes > 0) {
      this.totals.refreshes += refreshes;
      this.addEvent('refresh', 'Early refresh: the token reached its refresh time, a new one is requested', { count: refreshes });
    }
    if (retries > 0) {
      this.totals.unauthorizedRetries += retries;
      this.addEvent('retry', 'The API answered 401: new token, call retried once', { count: retries });
    }
    this.renderSummary();
  }

  addEvent(kind, text, { target, title, count } = {}) {
    const li = h(
      'li',
      { class: `event ev-${kind}`, dataset: { kind, ...(count ? { count: String(count) } : {}) } },
      h('span', { class: 'ev-time' }, clock()),
      h('span', { class: 'ev-what' }, this.scrub(text)),
      target ? h('span', { class: 'ev-target', title: title && this.scrub(title) }, this.scrub(target)) : null,
      target ? h('span', { class: 'ev-status' }, '…') : null,
      target ? h('span', { class: 'ev-ms' }) : null,
    );
    const follow = this.events.scrollHeight - this.events.scrollTop - this.events.clientHeight < 40;
    this.events.append(li);
    if (follow) this.events.scrollTop = this.events.scrollHeight;
    return li;
  }

  finishEvent(li, status, ms, ok) {
    li.dataset.status = status;
    li.classList.add(ok ? 'ok' : 'failed');
    li.querySelector('.ev-status').textContent = status;
    li.querySelector('.ev-ms').textContent = ms;
  }

  renderSummary() {
    const parts = this.statKeys.map((k) => {
      const [one, many] = STAT_LABELS[k];
      const n = this.totals[k];
      return h('span', { class: 'stat' }, h('strong', { dataset: { stat: k } }, String(n)), ` ${n === 1 ? one : many}`);
    });
    this.summary.replaceChildren(...parts);
  }

  /**
   * Runs one user action with the current client. Any error is shown; the stats seen meanwhile
   * go to the timeline.
   */
  async run(action) {
    this.hideError();
    const button = document.activeElement instanceof HTMLButtonElement ? document.activeElement : null;
    button?.classList.add('busy');
    let client = null;
    try {
      client = this.ensureClient();
      await action(client);
    } catch (err) {
      this.showError(err);
    } finally {
      button?.classList.remove('busy');
      if (client && client === this.client) this.syncStats();
    }
  }

  // --- token view ---

  /** From `getToken()`. */
  showToken(info) {
    this.knownTokens.add(info.accessToken);
    this.renderToken({ type: info.tokenType, scope: info.scope, resource: info.resource, expiresAt: info.expiresAt, token: info.accessToken });
  }

  /** From a token answer the timeline saw (a request made by a call, or an early refresh). */
  showWireToken(json) {
    if (!json || typeof json.access_token !== 'string') return;
    // A user's sign-in answers with more than the page shows: never let those reach its text.
    for (const k of ['refresh_token', 'id_token']) if (typeof json[k] === 'string') this.knownTokens.add(json[k]);
    // getToken() already showed this one, with the client's own expiry.
    if (json.access_token === this.shownToken) return;
    this.knownTokens.add(json.access_token);
    const seconds = Number(json.expires_in);
    this.renderToken({
      type: /^bearer$/i.test(json.token_type ?? 'Bearer') ? 'Bearer' : String(json.token_type),
      scope: typeof json.scope === 'string' ? json.scope : undefined,
      resource: typeof json.resource === 'string' ? json.resource : undefined,
      expiresAt: Number.isFinite(seconds) && seconds > 0 ? Date.now() + seconds * 1000 : NaN,
      token: json.access_token,
    });
  }

  renderToken({ type, scope, resource, expiresAt, token }) {
    this.shownToken = token;
    const jwt = decodeJwt(token);
    const expires = h('dd', { dataset: { field: 'expires', ...(Number.isFinite(expiresAt) ? { expiresAt: String(expiresAt) } : {}) } });
    expires.textContent = Number.isNaN(expiresAt) ? 'not stated by the server' : countdown(expiresAt);
    const open = this.tokenBox.querySelector('details')?.open ?? false;
    this.tokenBox.replaceChildren(
      h('h3', {}, 'Token'),
      h(
        'dl',
        { class: 'kv' },
        h('dt', {}, 'Type'),
        h('dd', { dataset: { field: 'type' } }, type),
        h('dt', {}, 'Scopes granted'),
        h('dd', { dataset: { field: 'scope' } }, scope ? scope.split(/\s+/).filter(Boolean).map((s) => h('code', { class: 'scope' }, s)) : 'not stated by the server'),
        resource ? [h('dt', {}, 'Resource'), h('dd', { dataset: { field: 'resource' } }, resource)] : null,
        h('dt', {}, 'Expires in'),
        expires,
        h('dt', {}, 'Token'),
        h('dd', { dataset: { field: 'token' } }, h('code', {}, redact(token))),
      ),
      jwt
        ? h(
            'details',
            { open },
            h('summary', {}, 'Decoded JWT (header and claims)'),
            h('pre', { class: 'jwt', dataset: { field: 'jwt-header' } }, this.scrub(JSON.stringify(jwt.header, null, 2))),
            h('pre', { class: 'jwt', dataset: { field: 'jwt-claims' } }, this.scrub(JSON.stringify(jwt.claims, null, 2))),
          )
        : h('p', { class: 'note' }, 'Not a JWT: an opaque token.'),
    );
    this.tokenBox.hidden = false;
  }

  // --- results and errors ---

  async showResponse(label, response) {
    const text = await response.text();
    const status = response.type === 'opaqueredirect' ? 'redirect (not followed)' : `${response.status} ${response.statusText}`.trim();
    this.resultBox.replaceChildren(
      h('h3', {}, h('span', {}, `${label} → `), h('span', { class: response.ok ? 'status-ok' : 'status-bad', dataset: { field: 'status' } }, status)),
      h('pre', { class: 'body', dataset: { field: 'body' } }, this.scrub(prettyBody(text)) || '(empty body)'),
    );
    this.resultBox.hidden = false;
  }

  /** A value the package returned (not a response), as indented JSON. */
  showValue(label, value) {
    this.resultBox.replaceChildren(
      h('h3', {}, label),
      h('pre', { class: 'body', dataset: { field: 'body' } }, this.scrub(JSON.stringify(value, null, 2))),
    );
    this.resultBox.hidden = false;
  }

  table(label, rows, columns) {
    const table = h(
      'table',
      {},
      h('caption', {}, label),
      h('thead', {}, h('tr', {}, columns.map(([, title]) => h('th', { scope: 'col' }, title)))),
      h('tbody', {}, rows.map((row) => h('tr', {}, columns.map(([key]) => h('td', {}, this.scrub(row[key] ?? '')))))),
    );
    return table;
  }

  showError(err) {
    const isApm = err instanceof ApmOAuthError;
    const fields = isApm
      ? [
          ['code', 'Code', err.code],
          ['status', 'HTTP status', err.status],
          ['error', 'Server error', err.error],
          ['errorDescription', 'Error description', err.errorDescription],
          ['issueId', 'Issue ID (for Dynatrace support)', err.issueId],
          ['retryAfter', 'Retry after (s)', err.retryAfter],
        ].filter(([, , v]) => v !== undefined && v !== null && v !== '')
      : [];
    const parts = [
      h('h3', {}, isApm ? `Error: ${err.code}` : `Error: ${err?.name ?? 'Error'}`),
      h('p', { class: 'message', dataset: { field: 'message' } }, this.scrub(err?.message ?? err)),
      fields.length
        ? h('dl', { class: 'kv' }, fields.map(([k, title, v]) => [h('dt', {}, title), h('dd', { dataset: { field: k } }, this.scrub(v))]))
        : null,
      isApm && err.hint ? h('p', { class: 'hint' }, h('strong', {}, 'Hint: '), h('span', { dataset: { field: 'hint' } }, this.scrub(err.hint))) : null,
      isApm && err.code === 'network' && !this.forward.checked
        ? h('p', { class: 'hint' }, h('strong', {}, 'In this page: '), 'if the host sends no CORS headers, tick “Route through this server (/forward)”.')
        : null,
    ];
    this.errorBox.replaceChildren(...parts.filter(Boolean));
    this.errorBox.hidden = false;
  }

  hideError() {
    this.errorBox.hidden = true;
    this.errorBox.replaceChildren();
  }
}

// ---------------------------------------------------------------------------------------------
// The two vendors

const value = (id) => $(id).value.trim();

const dynatrace = new Panel('dt', {
  Client: DynatraceClient,
  name: 'DynatraceClient',
  forwardUrl: () => value('dt-env') || value('dt-token-url'),
  readOptions() {
    const options = { clientId: value('dt-client-id'), clientSecret: $('dt-secret').value.trim() };
    if (value('dt-env')) options.environmentUrl = value('dt-env');
    if (value('dt-token-url')) options.tokenUrl = value('dt-token-url');
    const scope = value('dt-scope').split(/\s+/).filter(Boolean);
    if (scope.length) options.scope = scope;
    if (value('dt-resource')) options.resource = value('dt-resource');
    return { options, describe: `client ID ${options.clientId || '(none)'}` };
  },
});

const appdynamics = new Panel('appd', {
  Client: AppDynamicsClient,
  name: 'AppDynamicsClient',
  forwardUrl: () => value('appd-controller'),
  readOptions() {
    const options = { controllerUrl: value('appd-controller') };
    if ($('appd-auth').value === 'token') {
      options.accessToken = $('appd-temp-token').value.trim();
      return { options, describe: 'temporary access token' };
    }
    Object.assign(options, {
      clientName: value('appd-client-name'),
      accountName: value('appd-account'),
      clientSecret: $('appd-secret').value.trim(),
    });
    return { options, describe: `API client ${options.clientName}@${options.accountName}` };
  },
});

// A user's sign-in: the authorization code grant with PKCE, for a public client (no secret).

const SIGNIN_FIELDS = ['dts-env', 'dts-client-id', 'dts-scope', 'dts-authorize-url', 'dts-token-url', 'dts-userinfo-url'];
const SIGNIN_FIELDS_KEY = 'apm-oauth-demo:signin-fields';
/** This page without query or fragment: where the SSO sends the user back. */
const REDIRECT_URI = `${location.origin}${location.pathname}`;

const signin = new Panel('dts', {
  Client: DynatraceClient,
  name: 'DynatraceClient',
  stats: ['tokenRequests', 'refreshTokenGrants', 'cacheHits', 'refreshes', 'unauthorizedRetries', 'apiCalls'],
  forwardUrl: () => value('dts-token-url') || value('dts-env'),
  readOptions() {
    const options = { clientId: value('dts-client-id'), redirectUri: REDIRECT_URI };
    if (value('dts-env')) options.environmentUrl = value('dts-env');
    if (value('dts-authorize-url')) options.authorizationUrl = value('dts-authorize-url');
    if (value('dts-token-url')) options.tokenUrl = value('dts-token-url');
    if (value('dts-userinfo-url')) options.userInfoUrl = value('dts-userinfo-url');
    const scope = value('dts-scope').split(/\s+/).filter(Boolean);
    if (scope.length) options.scope = scope;
    return { options, describe: `client ID ${options.clientId || '(none)'}, signs a user in` };
  },
  async submit(client) {
    saveSignInFields();
    signin.addEvent('note', 'Sign in: leaving for the SSO login page');
    await client.signIn();
  },
  // A replaced client leaves the tabs' channel at once (its user is signed out here).
  retire: (client) => client.free(),
});
signin.signedIn = false;

/** The panel's fields, kept for this tab while the SSO has the user (never a token or secret). */
function saveSignInFields() {
  const fields = Object.fromEntries(SIGNIN_FIELDS.map((id) => [id, $(id).value]));
  fields.forward = $('dts-forward').checked;
  try {
    sessionStorage.setItem(SIGNIN_FIELDS_KEY, JSON.stringify(fields));
  } catch {
    // No storage: the fields come from /config.json again.
  }
}

function restoreSignInFields() {
  let fields = null;
  try {
    fields = JSON.parse(sessionStorage.getItem(SIGNIN_FIELDS_KEY) ?? 'null');
  } catch {
    fields = null;
  }
  if (!fields) return;
  for (const id of SIGNIN_FIELDS) if (typeof fields[id] === 'string') $(id).value = fields[id];
  if (typeof fields.forward === 'boolean') {
    $('dts-forward').checked = fields.forward;
    $('dts-forward').dataset.touched = 'yes';
  }
}

function userField(name, text) {
  $('dts-user').querySelector(`[data-field=${name}]`).textContent = text;
}

function showUserInfo(info) {
  userField('name', signin.scrub(info?.name ?? '(not stated)'));
  userField('email', signin.scrub(info?.email ?? '(not stated)'));
}

/**
 * Shows what `isSignedIn()` says now. A change nobody in this tab made came from another tab (its
 * tokens, or its sign-out, over the BroadcastChannel): `note` is the timeline's note otherwise.
 */
function syncSignedIn(note) {
  const now = Boolean(signin.client?.isSignedIn());
  if (now === signin.signedIn) return;
  signin.signedIn = now;
  const box = $('dts-user');
  box.dataset.signedIn = now ? 'yes' : 'no';
  userField('signed-in', now ? 'yes' : 'no');
  if (!now) {
    userField('name', '–');
    userField('email', '–');
    signin.shownToken = null;
    signin.tokenBox.hidden = true;
    signin.tokenBox.replaceChildren();
  }
  signin.addEvent('note', note ?? (now
    ? 'Signed in by another tab of this page: its tokens came over the BroadcastChannel'
    : 'Signed out here or in another tab of this page'));
}

/** On load: a client at once (it joins the other tabs), and the redirect back from the SSO handled. */
async function startSignIn() {
  $('dts-redirect-uri').textContent = REDIRECT_URI;
  const query = new URLSearchParams(location.search);
  const back = query.has('code') || query.has('error');
  if (back) restoreSignInFields();
  signin.syncForwardDefault();
  if (!back && !value('dts-client-id')) return;
  await signin.run(async (client) => {
    if (!back) return;
    signin.addEvent('note', query.has('code') ? 'Back from the SSO with a code: exchanging it' : `Back from the SSO with error=${query.get('error')}`);
    const token = await client.handleRedirect(location.href);
    if (!token) return;
    signin.showToken(token);
    syncSignedIn('Signed in: the code was exchanged for tokens (the address bar no longer shows it)');
    showUserInfo(await client.userInfo());
  });
}

$('dts-call-api').addEventListener('click', () => {
  const path = '/platform/management/v1/environment';
  signin.run(async (client) => signin.showResponse(`GET ${path}`, await client.fetch(path)));
});

$('dts-whoami').addEventListener('click', () => {
  signin.run(async (client) => {
    const info = await client.userInfo();
    showUserInfo(info);
    signin.showValue('Who am I → user info', info);
  });
});

$('dts-sign-out').addEventListener('click', () => {
  signin.run(async (client) => {
    await client.signOut();
    syncSignedIn('Signed out: the tokens are forgotten here and in the other tabs of this page');
  });
});

$('dt-call-api').addEventListener('click', () => {
  const path = value('dt-api-path') || '/platform/management/v1/environment';
  dynatrace.run(async (client) => dynatrace.showResponse(`GET ${path}`, await client.fetch(path)));
});

$('dt-call-function').addEventListener('click', () => {
  const appId = value('dt-app-id');
  const fn = value('dt-function');
  const raw = value('dt-payload');
  dynatrace.run(async (client) => {
    let payload;
    if (raw) {
      try {
        payload = JSON.parse(raw);
      } catch (err) {
        throw new Error(`the payload is not valid JSON (${err.message}); leave it empty to call the function with GET`);
      }
    }
    const response = await client.callAppFunction(appId, fn, payload);
    await dynatrace.showResponse(`${payload === undefined ? 'GET' : 'POST'} app function ${appId} / ${fn}`, response);
  });
});

$('appd-list-apps').addEventListener('click', () => {
  appdynamics.run(async (client) => {
    const apps = await client.listApplications();
    const box = $('appd-apps');
    box.replaceChildren(
      apps.length
        ? appdynamics.table(`${apps.length} application${apps.length === 1 ? '' : 's'}`, apps, [['id', 'ID'], ['name', 'Name'], ['description', 'Description']])
        : h('p', {}, 'The controller lists no applications.'),
    );
    box.hidden = false;
  });
});

$('appd-call-rest').addEventListener('click', () => {
  const path = value('appd-rest-path') || '/controller/rest/applications';
  appdynamics.run(async (client) => appdynamics.showResponse(`GET ${path}`, await client.fetch(path)));
});

$('appd-auth').addEventListener('change', () => {
  const token = $('appd-auth').value === 'token';
  $('appd-client-fields').hidden = token;
  $('appd-token-fields').hidden = !token;
});

// The live countdown of every token shown, and the sign-in state (other tabs change it too).
setInterval(() => {
  syncSignedIn();
  const now = Date.now();
  for (const el of document.querySelectorAll('[data-expires-at]')) {
    const text = countdown(Number(el.dataset.expiresAt), now);
    if (el.textContent !== text) el.textContent = text;
    el.classList.toggle('expired', text === 'expired');
  }
}, 1000);

// ---------------------------------------------------------------------------------------------
// Prefill from the server's /config.json (the emulator's URLs and fake demo credentials)

async function prefill() {
  let config = null;
  try {
    const response = await fetch('/config.json', { cache: 'no-store' });
    if (response.ok) config = await response.json();
  } catch {
    // Served by something else than scripts/serve.mjs: the fields stay empty.
  }
  const set = (id, v) => {
    if (typeof v === 'string' && v) $(id).value = v;
  };
  const mode = $('mode');
  if (!config) {
    mode.textContent = 'No /config.json: enter your tenant below. Start the page with npm start for the emulator and the /forward route.';
  } else {
    const d = config.dynatrace ?? {};
    set('dt-env', d.environmentUrl);
    set('dt-token-url', d.tokenUrl);
    set('dt-client-id', d.clientId);
    set('dt-secret', d.clientSecret);
    set('dt-scope', d.scope);
    set('dt-resource', d.resource);
    const a = config.appdynamics ?? {};
    set('appd-controller', a.controllerUrl);
    set('appd-client-name', a.clientName);
    set('appd-account', a.accountName);
    set('appd-secret', a.clientSecret);
    set('appd-temp-token', a.temporaryToken);
    $('appd-controllers').replaceChildren(...(a.controllerUrls ?? []).map((c) => h('option', { value: c.url }, c.label)));
    const s = config.dynatraceSignIn ?? {};
    set('dts-env', s.environmentUrl);
    set('dts-client-id', s.clientId);
    set('dts-scope', s.scope);
    set('dts-authorize-url', s.authorizationUrl);
    set('dts-token-url', s.tokenUrl);
    set('dts-userinfo-url', s.userInfoUrl);
    const allowed = [...(config.emulator ? ['the emulator'] : []), ...(config.forward?.hosts ?? [])];
    mode.replaceChildren(
      config.emulator
        ? 'Running against the built-in emulator: fake Dynatrace and AppDynamics servers on 127.0.0.1, with their demo credentials and a sign-in client prefilled. '
        : 'No emulator: enter your tenant below. ',
      h('span', { class: 'allowed' }, `/forward reaches: ${allowed.length ? allowed.join(', ') : 'no host yet (npm start -- --allow-host HOST)'}.`),
    );
  }
  dynatrace.syncForwardDefault();
  appdynamics.syncForwardDefault();
  await startSignIn();
  document.body.dataset.ready = 'yes';
}

prefill();

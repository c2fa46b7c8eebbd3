// Test page of tests/browser/signin-tabs.test.mjs: one DynatraceClient per tab, configured for the
// emulator (whose URLs the test puts in `window.__EMU` before any script runs), redirecting back to
// this page. The test drives it through `window.tab`.

import { DynatraceClient } from '/pkg/web.js';

const emu = window.__EMU;
// A tab of another configuration: `?scope=…` and `?env=…` replace the scopes and the environment.
const query = new URLSearchParams(location.search);
const requests = [];
const client = new DynatraceClient({
  environmentUrl: query.get('env') ?? emu.environmentUrl,
  clientId: emu.clientId,
  redirectUri: `${location.origin}${location.pathname}`,
  authorizationUrl: emu.authorizationUrl,
  tokenUrl: emu.tokenUrl,
  userInfoUrl: emu.userInfoUrl,
  scope: query.get('scope') ?? ['openid', 'storage:logs:read'],
  // Every request of this tab's client, for the test's report.
  fetch: async (url, init = {}) => {
    const row = { at: Math.round(performance.now()), method: String(init.method || 'GET'), path: new URL(String(url)).pathname };
    if (typeof init.body === 'string') row.grant = new URLSearchParams(init.body).get('grant_type') ?? undefined;
    requests.push(row);
    const response = await fetch(url, init);
    row.status = response.status;
    return response;
  },
});

/** `{ value }` or `{ error }`, with when the call started and ended (ms since the epoch, comparable across tabs). */
const settle = (promise, started = Date.now()) => promise.then(
  (value) => ({ value, started, ended: Date.now() }),
  (err) => ({ error: { code: err?.code, message: err?.message }, started, ended: Date.now() }),
);

window.tab = {
  client,
  requests,
  redirect: settle(client.handleRedirect(location.href).then((t) => t && t.accessToken)),
  signedIn: () => client.isSignedIn(),
  token: () => settle(client.getToken().then((t) => t.accessToken)),
  signOut: () => client.signOut(),
  call: () => settle(client.fetch('/platform/management/v1/environment').then(async (r) => ({ status: r.status, body: await r.json() }))),
  stats: () => client.stats(),
};
document.getElementById('status').textContent = 'ready';
document.body.dataset.ready = 'yes';

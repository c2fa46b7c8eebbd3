// The shared JS suite (tests/shared/*.mjs) under Deno, against the web build (pkg/web.js) and the
// emulator running in this process through Deno's node:http.
//
//   deno test --no-remote --allow-net=127.0.0.1 --allow-read=pkg/dist/web/apm_oauth_bg.wasm tests/deno/shared.deno.mjs
//
// Those are the only permissions: loopback for the emulator and the calls, and reading the wasm
// (web.js fetches it from a file: URL). Named *.deno.mjs so that `node --test tests/` leaves it
// alone; tests/deno/registry.test.mjs (Node) checks that every shared case module is listed here.
//
// Each case module becomes one Deno test whose steps are its cases, between the module's before
// and after hooks (Deno.test has no module-level hooks). Cases marked todo or skip are ignored,
// with their reason in the step name.

import assert from 'node:assert/strict';
import * as lib from '../../pkg/web.js';
import { startEmulator } from '../emulator/index.mjs';
import { accountCases } from '../shared/account.mjs';
import { appdynamicsCases } from '../shared/appdynamics.mjs';
import { cacheCases } from '../shared/cache.mjs';
import { dynatraceCases } from '../shared/dynatrace.mjs';
import { errorCases } from '../shared/errors.mjs';
import { oauthCases } from '../shared/oauth.mjs';
import { originCases } from '../shared/origin.mjs';
import { secretCases } from '../shared/secrets.mjs';
import { signinCases } from '../shared/signin.mjs';

const CASE_MODULES = {
  account: accountCases,
  appdynamics: appdynamicsCases,
  cache: cacheCases,
  dynatrace: dynatraceCases,
  errors: errorCases,
  oauth: oauthCases,
  origin: originCases,
  secrets: secretCases,
  signin: signinCases,
};

// Deno ends the run on an unhandled rejection; record it instead, so the last test can name it.
const unhandled = [];
globalThis.addEventListener('unhandledrejection', (event) => {
  event.preventDefault();
  unhandled.push(event.reason);
});

function register(moduleName, cases) {
  const tests = [];
  const befores = [];
  const afters = [];
  cases({
    test: (name, fn, options = {}) => tests.push({ name, fn, options }),
    before: (fn) => befores.push(fn),
    after: (fn) => afters.push(fn),
    assert,
    lib,
    startEmulator,
  });
  Deno.test(`shared/${moduleName}.mjs`, async (t) => {
    try {
      for (const hook of befores) await hook();
      for (const { name, fn, options } of tests) {
        const reason = options.todo ?? options.skip;
        await t.step({
          name: reason ? `${name} (${options.todo ? 'todo' : 'skip'}: ${reason})` : name,
          ignore: Boolean(reason),
          fn: () => fn(),
          // The emulator and the clients live across the steps of a module; leaks are checked
          // once for the whole module, after its after hooks have closed everything.
          sanitizeOps: false,
          sanitizeResources: false,
        });
      }
    } finally {
      for (const hook of afters) await hook();
    }
  });
}

for (const [name, cases] of Object.entries(CASE_MODULES)) register(name, cases);

// Deno only: a host that --allow-net leaves out (this run allows 127.0.0.1, not the name
// localhost) is refused by Deno before anything is sent. That is no network failure: no retry,
// and the error says which permission is missing.
Deno.test('a host outside --allow-net: invalid_config naming --allow-net, with no retry', async () => {
  let calls = 0;
  const client = new lib.OAuthClient({
    tokenUrl: 'http://localhost:18999/token',
    clientId: 'c',
    clientSecret: 'a-client-secret-for-deno',
    fetch: (url, init) => {
      calls += 1;
      return fetch(url, init);
    },
  });
  try {
    await assert.rejects(client.getToken(), (e) => {
      assert.equal(e.code, 'invalid_config', e.message);
      assert.equal(e.message, 'Deno may not reach http://localhost:18999: --allow-net leaves it out. Run Deno with --allow-net naming this host (or without a list)');
      return true;
    });
    assert.equal(calls, 1, 'not retried');
  } finally {
    client.free();
  }
});

Deno.test('no unhandled rejection during the whole run', async () => {
  // Let late rejections (a token request nobody waits for any more) surface.
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(unhandled.length, 0, `unhandled rejections: ${unhandled.map((r) => (r && r.code) || String(r)).join(', ')}`);
});

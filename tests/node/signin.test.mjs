// Signing a user in (the shared cases of tests/shared/signin.mjs), plus the Node-only check that
// util.inspect of a signed-in client and of its errors shows no code, verifier or token.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { nodeContext, finishNode, lib, inspections } from './context.mjs';
import { signinCases, signinOptions, followAuthorize, recordingStore, memoryStorage } from '../shared/signin.mjs';
import { startEmulator } from '../emulator/index.mjs';
import { assertNoSecret, errorTexts } from '../shared/harness.mjs';

signinCases(nodeContext());

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu.close();
});

test('util.inspect of a signed-in client and of its sign-in errors shows no code, verifier, refresh or access token', async () => {
  emu.reset();
  const secrets = [];
  const store = recordingStore();
  const dt = new lib.DynatraceClient(signinOptions(emu, { tokenStore: store, stateStorage: memoryStorage() }));
  const location = await followAuthorize(emu, await dt.buildAuthorizationUrl());
  secrets.push(new URL(location).searchParams.get('code'));
  const token = await dt.handleRedirect(location);
  dt.invalidate();
  await dt.getToken();
  await dt.buildAuthorizationUrl(); // a pending verifier as well
  for (const r of emu.requests.filter((x) => x.role === 'dtToken')) {
    const p = new URLSearchParams(r.body);
    for (const k of ['code', 'code_verifier', 'refresh_token']) if (p.get(k)) secrets.push(p.get(k));
  }
  for (const t of store.sets) if (t) secrets.push(t.accessToken, t.refreshToken);
  secrets.push(token.accessToken);
  const all = secrets.filter((x) => typeof x === 'string' && x.length >= 8);
  assert.ok(all.length >= 6, `${all.length} secrets collected`);
  assertNoSecret(assert, 'a signed-in client', inspections(dt), all);
  assertNoSecret(assert, 'a signed-in client in an object', inspections({ client: dt, list: [dt] }), all);

  // Errors: a reused redirect, a refused refresh.
  const errors = [];
  await dt.handleRedirect(location).catch((e) => errors.push(e));
  emu.setFault('dtToken', 'token', { kind: 'refuseRefresh', count: 1 });
  dt.invalidate();
  await dt.getToken().catch((e) => errors.push(e));
  assert.deepEqual(errors.map((e) => e.code), ['authorization_error', 'login_required']);
  for (const e of errors) {
    assertNoSecret(assert, `error ${e.code}`, [...inspections(e), ...errorTexts(e)], all);
  }
  assertNoSecret(assert, 'a signed-out client', inspections(dt), all);
});

finishNode();

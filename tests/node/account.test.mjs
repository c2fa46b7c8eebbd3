// Dynatrace platform tokens and DynatraceAccountClient (the shared cases of tests/shared/account.mjs),
// plus what only Node has: util.inspect of the clients.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { nodeContext, finishNode, lib } from './context.mjs';
import { accountCases } from '../shared/account.mjs';
import { startEmulator } from '../emulator/index.mjs';

accountCases(nodeContext());

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu.close();
});

test('util.inspect of a platform-token client and an account client shows no credential', async () => {
  const pt = emu.credentials.dynatrace.platformToken;
  const a = emu.credentials.dynatraceAccount;
  const dt = new lib.DynatraceClient({ environmentUrl: emu.urls.dynatrace, platformToken: pt });
  const ac = new lib.DynatraceAccountClient({
    accountUuid: a.accountUuid,
    clientId: a.clientId,
    clientSecret: a.clientSecret,
    scope: 'account-idm-read',
    tokenUrl: emu.urls.ssoToken,
    accountApiUrl: emu.urls.account,
  });
  assert.equal((await dt.fetch('/platform/management/v1/environment')).status, 200);
  const token = (await ac.getToken()).accessToken;
  await ac.listUsers();
  for (const client of [dt, ac]) {
    for (const text of [inspect(client), inspect(client, { showHidden: true, depth: 10 }), inspect({ client }), String(client), JSON.stringify(client)]) {
      for (const secret of [pt, pt.split('.')[2], a.clientSecret, token]) {
        assert.equal(text.includes(secret), false, `${String(client)}: a credential in ${text.slice(0, 60)}…`);
      }
    }
  }
  // And in errors of either: the constructor's, a refused origin.
  const errors = [];
  try {
    new lib.DynatraceClient({ environmentUrl: emu.urls.dynatrace, platformToken: pt, clientId: 'x', clientSecret: a.clientSecret });
  } catch (e) {
    errors.push(e);
  }
  await dt.fetch(`${emu.urls.account}/iam/v1/accounts/x/users`).catch((e) => errors.push(e));
  await ac.fetch(`${emu.urls.dynatrace}/platform/echo`).catch((e) => errors.push(e));
  assert.equal(errors.length, 3);
  for (const e of errors) {
    for (const text of [inspect(e), inspect(e, { showHidden: true }), String(e), e.stack, JSON.stringify(e, Object.getOwnPropertyNames(e))]) {
      for (const secret of [pt, a.clientSecret, token]) assert.equal(text.includes(secret), false, `${e.code}: a credential`);
    }
  }
});

finishNode();

test('listUsers() refuses an answer that is not the JSON object of the users API', async () => {
  const a = emu.credentials.dynatraceAccount;
  const answering = (body) =>
    new lib.DynatraceAccountClient({
      accountUuid: a.accountUuid,
      clientId: a.clientId,
      clientSecret: a.clientSecret,
      tokenUrl: emu.urls.ssoToken,
      accountApiUrl: emu.urls.account,
      // The token from the emulator; the list answered here.
      fetch: (url, init) => (String(url).startsWith(emu.urls.account) ? Promise.resolve(new Response(body)) : fetch(url, init)),
    });
  for (const body of ['[{"uid":"u"}]', 'null', '42', '"users"', '<html></html>', '']) {
    await assert.rejects(answering(body).listUsers(), (e) => {
      assert.equal(e.code, 'invalid_response', body);
      assert.equal(e.message, "the account API's user list is not a JSON object. Check accountApiUrl");
      return true;
    });
  }
  assert.deepEqual(await answering('{"count":0,"items":[]}').listUsers(), { count: 0, items: [] });
});

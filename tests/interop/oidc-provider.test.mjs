// OAuthClient against oidc-provider on 127.0.0.1 (scenarios in oidc.mjs): tokens for both token
// endpoint auth methods with resource and scope, accepted by a resource server; the refusals
// (wrong secret, scope not granted, unknown resource) with the codes the client gives them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startInterop, runInterop } from './oidc.mjs';

let env;
let rows = [];

before(async () => {
  env = await startInterop();
  rows = await runInterop(env);
});

after(async () => {
  await env.close();
});

test('oidc-provider interop: every scenario ran', () => {
  assert.ok(rows.length >= 10, `${rows.length} scenarios`);
});

// One test per scenario, registered after the run so that each shows by name.
test('oidc-provider interop scenarios', async (t) => {
  for (const r of rows) {
    await t.test(r.scenario, () => {
      console.log(`[interop] ${r.scenario}: ${r.observed}`);
      assert.deepEqual(r.problems, [], `expected ${r.expected}, observed ${r.observed}`);
    });
  }
});

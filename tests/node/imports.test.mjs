// The Node entries: ESM `import` of pkg/node.mjs and CommonJS `require` of pkg/node.cjs give the
// same working classes (one wasm instance), with no init() call.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as esm from '../../pkg/node.mjs';
import { startEmulator } from '../emulator/index.mjs';

const require = createRequire(import.meta.url);
const cjs = require('../../pkg/node.cjs');

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu.close();
});

const NAMES = ['ApmOAuthError', 'AppDynamicsClient', 'DynatraceAccountClient', 'DynatraceClient', 'ERROR_CODES', 'OAuthClient'];

test('both entries export exactly the documented names', () => {
  assert.deepEqual(Object.keys(esm).sort(), NAMES);
  assert.deepEqual(Object.keys(cjs).sort(), NAMES);
  for (const name of ['DynatraceClient', 'AppDynamicsClient', 'OAuthClient', 'DynatraceAccountClient', 'ApmOAuthError']) {
    assert.equal(typeof esm[name], 'function', name);
  }
});

test('import and require share one instance: the very same classes and constants', () => {
  for (const name of NAMES) assert.equal(esm[name], cjs[name], name);
  assert.equal(require('../../pkg/node.cjs'), cjs, 'require is cached');
});

test('a client made through require works (no init() needed) and is an instance of the ESM class', async () => {
  const c = emu.credentials.dynatrace;
  const dt = new cjs.DynatraceClient({ clientId: c.clientId, clientSecret: c.clientSecret, environmentUrl: emu.urls.dynatrace, tokenUrl: emu.urls.ssoToken });
  assert.ok(dt instanceof esm.DynatraceClient);
  const res = await dt.fetch('/platform/management/v1/environment');
  assert.equal(res.status, 200);
  assert.equal((await res.json()).environmentId, 'abc12345');

  const ad = new esm.AppDynamicsClient({ controllerUrl: emu.urls.appdynamics, accessToken: emu.credentials.appdynamics.temporaryToken });
  assert.ok(ad instanceof cjs.AppDynamicsClient);
  assert.equal((await ad.listApplications()).length, 3);
});

test('an error from either entry is an instance of both ApmOAuthError exports', async () => {
  let thrown;
  try {
    new cjs.DynatraceClient({ clientId: 'x' });
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown instanceof esm.ApmOAuthError);
  assert.ok(thrown instanceof cjs.ApmOAuthError);
  assert.ok(thrown instanceof Error);
  assert.equal(thrown.name, 'ApmOAuthError');
  assert.equal(thrown.code, 'invalid_config');

  const dt = new esm.DynatraceClient({ clientId: 'x', clientSecret: 'not-the-secret-1234', tokenUrl: emu.urls.ssoToken });
  await assert.rejects(dt.getToken(), (e) => e instanceof cjs.ApmOAuthError && e.code === 'invalid_client');

  // A look-alike from elsewhere is not an ApmOAuthError; a plain Error is not either.
  assert.equal(new Error('x') instanceof esm.ApmOAuthError, false);
  assert.equal(Object.assign(new Error('x'), { name: 'ApmOAuthError' }) instanceof esm.ApmOAuthError, false);
  assert.equal({ name: 'ApmOAuthError', code: 'network' } instanceof esm.ApmOAuthError, false);
});

test('the package.json exports map names these files for Node', () => {
  const pkg = require('../../pkg/package.json');
  assert.equal(pkg.exports['.'].node.import, './node.mjs');
  assert.equal(pkg.exports['.'].node.require, './node.cjs');
  assert.equal(pkg.exports['.'].types, './index.d.ts');
});

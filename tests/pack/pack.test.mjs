// The package as users get it: `npm pack` pkg/, check what the tarball holds, install it into a
// scratch project (offline) and use it from ESM, from CommonJS and through its bin, against the
// emulator.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../emulator/index.mjs';
import { PKG_DIR, packInto, installInto, run, npmEnv } from './scratch.mjs';

const DENO = fileURLToPath(new URL('../../node_modules/.bin/deno', import.meta.url));
const MANIFEST = JSON.parse(readFileSync(join(PKG_DIR, 'package.json'), 'utf8'));

let dir;
let project;
let packed;
let emu;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'apm-oauth-pack-'));
  packed = await packInto(dir);
  project = join(dir, 'consumer');
  await installInto(project, packed.tarball);
  emu = await startEmulator();
});

after(async () => {
  await emu?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => emu.reset());

/** Every file a `files` entry names, expanded from pkg/ (directories recursively). */
function expectedFiles() {
  const out = new Set(['package.json']);
  for (const entry of MANIFEST.files) {
    const path = join(PKG_DIR, entry);
    if (entry.endsWith('/') || statSync(path, { throwIfNoEntry: false })?.isDirectory()) {
      for (const f of readdirSync(path, { recursive: true })) {
        if (statSync(join(path, f)).isFile()) out.add(relative(PKG_DIR, join(path, f)).split(sep).join('/'));
      }
    } else {
      out.add(entry);
    }
  }
  return [...out].sort();
}

function env(extra = {}) {
  return npmEnv(dir, {
    // A fresh token cache for each run: the CLI's cache, on by default, must not carry tokens over.
    APM_OAUTH_CACHE_DIR: mkdtempSync(join(dir, 'token-cache-')),
    DT_ENVIRONMENT: emu.urls.dynatrace,
    DT_CLIENT_ID: emu.credentials.dynatrace.clientId,
    DT_CLIENT_SECRET: emu.credentials.dynatrace.clientSecret,
    DT_TOKEN_URL: emu.urls.ssoToken,
    ...extra,
  });
}

test('the build in pkg/ can be read by every user, as an install from the repository is', () => {
  // scripts/build.sh makes dist/ in a temporary directory, which mktemp creates private (0700).
  for (const d of ['dist', 'dist/web', 'dist/nodejs']) {
    assert.equal((statSync(join(PKG_DIR, d)).mode & 0o777).toString(8), '755', `pkg/${d}`);
  }
});

test('the tarball holds exactly the files package.json lists', () => {
  assert.deepEqual(packed.files, expectedFiles());
  for (const f of packed.files) {
    assert.doesNotMatch(f, /^(src|tests|target|www|scripts)\/|\.rs$|\.tgz$|^\.|\/\./, `unexpected file in the tarball: ${f}`);
  }
  // Every file the exports map, main, types and bin point to is shipped.
  const targets = [MANIFEST.main, MANIFEST.types, MANIFEST.browser, MANIFEST.module, ...Object.values(MANIFEST.bin)];
  const walk = (v) => (typeof v === 'string' ? targets.push(v) : Object.values(v).forEach(walk));
  walk(MANIFEST.exports);
  for (const target of targets) assert.ok(packed.files.includes(target.replace(/^\.\//, '')), `${target} is in the tarball`);
});

const ESM = `import { DynatraceClient, ApmOAuthError, ERROR_CODES } from 'apm-oauth';
const client = new DynatraceClient({
  clientId: process.env.DT_CLIENT_ID,
  clientSecret: process.env.DT_CLIENT_SECRET,
  environmentUrl: process.env.DT_ENVIRONMENT,
  tokenUrl: process.env.DT_TOKEN_URL,
});
const token = await client.getToken();
const environment = await (await client.fetch('/platform/management/v1/environment')).json();
const bad = new DynatraceClient({ clientId: 'dt0s02.NOPE', clientSecret: 'nope-nope-nope', tokenUrl: process.env.DT_TOKEN_URL });
const error = await bad.getToken().catch((e) => e);
console.log(JSON.stringify({
  resolved: import.meta.resolve('apm-oauth'),
  tokenType: token.tokenType,
  environmentId: environment.environmentId,
  tokenRequests: client.stats().tokenRequests,
  errorIsApmOAuthError: error instanceof ApmOAuthError,
  errorCode: error.code,
  codes: ERROR_CODES.length,
}));
`;

const CJS = `'use strict';
const { DynatraceClient, ApmOAuthError } = require('apm-oauth');
(async () => {
  const client = new DynatraceClient({
    clientId: process.env.DT_CLIENT_ID,
    clientSecret: process.env.DT_CLIENT_SECRET,
    environmentUrl: process.env.DT_ENVIRONMENT,
    tokenUrl: process.env.DT_TOKEN_URL,
  });
  const token = await client.getToken();
  const environment = await (await client.fetch('/platform/management/v1/environment')).json();
  console.log(JSON.stringify({
    resolved: require.resolve('apm-oauth'),
    tokenType: token.tokenType,
    environmentId: environment.environmentId,
    tokenRequests: client.stats().tokenRequests,
    isClass: typeof ApmOAuthError === 'function',
  }));
})().catch((e) => { console.error(e.code, e.message); process.exitCode = 1; });
`;

test('ESM: import { DynatraceClient } from "apm-oauth" resolves to node.mjs and gets a token', async () => {
  writeFileSync(join(project, 'esm.mjs'), ESM);
  const r = await run(process.execPath, ['esm.mjs'], { cwd: project, env: env() });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.match(out.resolved, /\/node_modules\/apm-oauth\/node\.mjs$/);
  assert.equal(out.tokenType, 'Bearer');
  assert.equal(out.environmentId, 'abc12345');
  assert.equal(out.tokenRequests, 1);
  assert.equal(out.errorIsApmOAuthError, true);
  assert.equal(out.errorCode, 'invalid_client');
  assert.equal(out.codes, 15);
  assert.equal(emu.counters.sso.token, 2);
});

test('CommonJS: require("apm-oauth") resolves to node.cjs and gets a token', async () => {
  writeFileSync(join(project, 'cjs.cjs'), CJS);
  const r = await run(process.execPath, ['cjs.cjs'], { cwd: project, env: env() });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.match(out.resolved, /[/\\]node_modules[/\\]apm-oauth[/\\]node\.cjs$/);
  assert.equal(out.tokenType, 'Bearer');
  assert.equal(out.environmentId, 'abc12345');
  assert.equal(out.tokenRequests, 1);
  assert.equal(out.isClass, true);
  assert.equal(emu.counters.sso.token, 1);
});

test('npx apm-oauth: the bin is linked and runs --help, token and fetch', async () => {
  const help = await run('npx', ['--offline', 'apm-oauth', '--help'], { cwd: project, env: env() });
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: apm-oauth <command>/);

  const token = await run('npx', ['--offline', 'apm-oauth', 'token', 'dynatrace'], { cwd: project, env: env() });
  assert.equal(token.code, 0, token.stderr);
  assert.match(token.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  assert.equal(emu.counters.sso.issued, 1);

  const call = await run('npx', ['--offline', 'apm-oauth', 'fetch', 'dynatrace', '/platform/management/v1/environment'], { cwd: project, env: env() });
  assert.equal(call.code, 0, call.stderr);
  assert.equal(JSON.parse(call.stdout).environmentId, 'abc12345');
});

// Deno resolves a bare import through the project's node_modules and package.json like Node, but
// picks the "deno" export condition: the web build. The settings come as an argument, so the only
// permissions are loopback and reading the wasm.
const DENO_SCRIPT = `import { DynatraceClient, ApmOAuthError } from 'apm-oauth';
const settings = JSON.parse(Deno.args[0]);
const client = new DynatraceClient(settings);
const token = await client.getToken();
const environment = await (await client.fetch('/platform/management/v1/environment')).json();
const error = await new DynatraceClient({ ...settings, clientSecret: 'nope-nope-nope' }).getToken().catch((e) => e);
console.log(JSON.stringify({
  resolved: import.meta.resolve('apm-oauth'),
  tokenType: token.tokenType,
  environmentId: environment.environmentId,
  tokenRequests: client.stats().tokenRequests,
  errorCode: error instanceof ApmOAuthError ? error.code : String(error),
}));
`;

test('Deno: import from "apm-oauth" in the scratch project resolves to web.js and gets a token', async () => {
  writeFileSync(join(project, 'deno.mjs'), DENO_SCRIPT);
  const settings = {
    clientId: emu.credentials.dynatrace.clientId,
    clientSecret: emu.credentials.dynatrace.clientSecret,
    environmentUrl: emu.urls.dynatrace,
    tokenUrl: emu.urls.ssoToken,
  };
  const r = await run(
    DENO,
    ['run', '--quiet', '--no-remote', '--allow-net=127.0.0.1', '--allow-read=node_modules/apm-oauth/dist/web/apm_oauth_bg.wasm', 'deno.mjs', JSON.stringify(settings)],
    { cwd: project, env: { PATH: process.env.PATH, HOME: process.env.HOME, DENO_DIR: join(dir, '.deno'), NO_COLOR: '1' } },
  );
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.match(out.resolved, /\/node_modules\/apm-oauth\/web\.js$/);
  assert.equal(out.tokenType, 'Bearer');
  assert.equal(out.environmentId, 'abc12345');
  assert.equal(out.tokenRequests, 1);
  assert.equal(out.errorCode, 'invalid_client');
  assert.equal(emu.counters.sso.token, 2);
});

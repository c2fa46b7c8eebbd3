// The CLI's persistent token cache and its lock across processes, against the emulator in this
// process: real child processes sharing one APM_OAUTH_CACHE_DIR.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../emulator/index.mjs';
import { cli, freshDir, cacheFiles, readEntry, startCli } from './helpers.mjs';

const POSIX = process.platform !== 'win32';
const JWT = /^[\w-]+\.[\w-]+\.[\w-]+\n$/;

let emu;
let creds;
let scratch;

before(async () => {
  emu = await startEmulator();
  creds = emu.credentials;
  scratch = mkdtempSync(join(tmpdir(), 'apm-oauth-cli-cache-'));
});

after(async () => {
  await emu.close();
  rmSync(scratch, { recursive: true, force: true });
});

beforeEach(() => emu.reset());

function dtEnv(cacheDir, extra = {}) {
  return {
    APM_OAUTH_CACHE_DIR: cacheDir,
    DT_ENVIRONMENT: emu.urls.dynatrace,
    DT_CLIENT_ID: creds.dynatrace.clientId,
    DT_CLIENT_SECRET: creds.dynatrace.clientSecret,
    DT_TOKEN_URL: emu.urls.ssoToken,
    ...extra,
  };
}

async function environmentStatus(token) {
  const res = await fetch(`${emu.urls.dynatrace}/platform/management/v1/environment`, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return res.status;
}

test('100 sequential token calls make one token request and print the same token', async () => {
  const dir = freshDir(scratch);
  const tokens = new Set();
  for (let i = 0; i < 100; i++) {
    const r = await cli(['token', 'dynatrace'], { env: dtEnv(dir) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    tokens.add(r.stdout);
  }
  assert.equal(emu.counters.sso.token, 1);
  assert.equal(tokens.size, 1);
  // fetch reads the same entry.
  const call = await cli(['fetch', 'dynatrace', '/platform/management/v1/environment'], { env: dtEnv(dir) });
  assert.equal(call.code, 0, call.stderr);
  assert.equal(emu.counters.sso.token, 1);
  assert.equal(emu.counters.dynatrace.api, 1);
});

test('20 processes started at once on a cold cache make one token request and print the same valid token', async () => {
  const dir = freshDir(scratch);
  // A slow token endpoint, so that the processes really overlap.
  emu.setFault('sso', 'token', { kind: 'delay', ms: 400, count: 1 });
  const results = await Promise.all(Array.from({ length: 20 }, () => cli(['token', 'dynatrace'], { env: dtEnv(dir) })));
  for (const r of results) {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, JWT);
  }
  assert.equal(new Set(results.map((r) => r.stdout)).size, 1, 'every process printed the same token');
  assert.equal(emu.counters.sso.token, 1);
  assert.equal(await environmentStatus(results[0].stdout.trim()), 200);
  // One whole entry, no lock and no temp file left behind.
  assert.deepEqual(readdirSync(dir), cacheFiles(dir));
  const { record } = readEntry(dir, 'dynatrace-');
  assert.equal(`${record.accessToken}\n`, results[0].stdout);
});

test('when the lock holder fails, the next waiter takes the lock and tries itself', async () => {
  const dir = freshDir(scratch);
  // The first token request is refused (not retried); whoever made it exits 1.
  emu.setFault('sso', 'token', { kind: 'unauthorized', count: 1 });
  const results = await Promise.all(Array.from({ length: 5 }, () => cli(['token', 'dynatrace'], { env: dtEnv(dir) })));
  const failed = results.filter((r) => r.code !== 0);
  const ok = results.filter((r) => r.code === 0);
  assert.equal(failed.length, 1, results.map((r) => r.stderr).join('\n'));
  assert.match(failed[0].stderr, /^apm-oauth: invalid_client: /);
  assert.equal(emu.counters.sso.token, 2);
  assert.equal(new Set(ok.map((r) => r.stdout)).size, 1);
  assert.equal(emu.counters.sso.issued, 1);
  assert.deepEqual(readdirSync(dir), cacheFiles(dir));
});

test('a lock left by a killed process, or older than a token request can take, is taken over', async () => {
  // The entry's name is the same in every directory: learn it from a first run.
  const probe = freshDir(scratch);
  assert.equal((await cli(['token', 'dynatrace'], { env: dtEnv(probe) })).code, 0);
  const { name } = readEntry(probe);
  const lockName = name.replace(/\.json$/, '.lock');

  // A process that has ended: its pid is gone.
  const dead = await new Promise((resolve) => {
    import('node:child_process').then(({ spawn }) => {
      const child = spawn(process.execPath, ['-e', '']);
      child.on('close', () => resolve(child.pid));
    });
  });
  const hostname = (await import('node:os')).hostname();
  const cases = [
    { pid: dead, host: hostname, startedAt: Date.now() },
    // A live pid (this test), but older than (maxRetries + 1) × timeoutMs + 30 s.
    { pid: process.pid, host: hostname, startedAt: Date.now() - 10 * 60_000 },
  ];
  for (const lock of cases) {
    emu.reset();
    const dir = freshDir(scratch);
    writeFileSync(join(dir, lockName), JSON.stringify(lock), { mode: 0o600 });
    const started = Date.now();
    const r = await cli(['token', 'dynatrace'], { env: dtEnv(dir) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, JWT);
    assert.ok(Date.now() - started < 5000, 'the lock was not waited out');
    assert.equal(emu.counters.sso.token, 1);
    assert.ok(!existsSync(join(dir, lockName)), 'the lock is released');
  }
});

test('the cache directory is 0700 and its files 0600; they hold no secret', { skip: !POSIX && 'POSIX modes' }, async () => {
  const parent = freshDir(scratch);
  const dir = join(parent, 'nested', 'apm-oauth');
  const r = await cli(['token', 'dynatrace'], { env: dtEnv(dir) });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  const { file, record } = readEntry(dir);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(file).uid, process.getuid());
  const text = readFileSync(file, 'utf8');
  assert.ok(!text.includes(creds.dynatrace.clientSecret), 'no client secret in the cache');
  assert.equal(`${record.accessToken}\n`, r.stdout);
  assert.ok(record.expiresAt > Date.now());
  assert.equal(record.refreshToken, undefined);
});

test('processes started at once make the same missing cache directory without a warning', async () => {
  const dir = join(freshDir(scratch), 'a', 'b', 'apm-oauth');
  const results = await Promise.all(Array.from({ length: 8 }, () => cli(['token', 'dynatrace'], { env: dtEnv(dir) })));
  for (const r of results) {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
  }
  assert.equal(cacheFiles(dir).length, 1);
});

test('a cache directory that cannot be made where its parent exists (/proc) is not used (warning); the command still works', { skip: !existsSync('/proc/self') && 'no /proc' }, async () => {
  const run = startCli(['token', 'dynatrace'], { env: dtEnv('/proc/apm-oauth-cache/x') });
  // A guard against the endless retry this once was, not a timing goal: failing, not hanging.
  const guard = setTimeout(() => run.child.kill('SIGKILL'), 30_000);
  const r = await run.done.finally(() => clearTimeout(guard));
  assert.equal(r.code, 0, `the command ended with ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, /^apm-oauth: warning: the token cache directory \/proc\/apm-oauth-cache\/x cannot be created \(ENOENT\): the cache is not used/);
  assert.match(r.stdout, JWT);
});

test('XDG_CACHE_HOME/apm-oauth, else HOME/.cache/apm-oauth', async () => {
  const xdg = freshDir(scratch);
  const env = dtEnv(undefined, { XDG_CACHE_HOME: xdg });
  assert.equal((await cli(['token', 'dynatrace'], { env })).code, 0);
  assert.equal(cacheFiles(join(xdg, 'apm-oauth')).length, 1);
  const home = freshDir(scratch);
  assert.equal((await cli(['token', 'dynatrace'], { env: dtEnv(undefined, { HOME: home }) })).code, 0);
  assert.equal(cacheFiles(join(home, '.cache', 'apm-oauth')).length, 1);
});

test('a cache file readable by others, or corrupt, is ignored with a warning and replaced', { skip: !POSIX && 'POSIX modes' }, async () => {
  const dir = freshDir(scratch);
  assert.equal((await cli(['token', 'dynatrace'], { env: dtEnv(dir) })).code, 0);
  const { file } = readEntry(dir);
  chmodSync(file, 0o644);
  const open = await cli(['token', 'dynatrace'], { env: dtEnv(dir) });
  assert.equal(open.code, 0, open.stderr);
  assert.match(open.stderr, /^apm-oauth: warning: the cache file .* is open to group or others \(mode 0644\): ignored, it will be replaced\n$/);
  assert.equal(emu.counters.sso.token, 2);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(`${readEntry(dir).record.accessToken}\n`, open.stdout);

  writeFileSync(file, '{"format":1,"accessToken":"eyJ', { mode: 0o600 });
  const corrupt = await cli(['token', 'dynatrace'], { env: dtEnv(dir) });
  assert.equal(corrupt.code, 0, corrupt.stderr);
  assert.match(corrupt.stderr, /warning: the cache file .* is corrupt: ignored, it will be replaced/);
  assert.equal(emu.counters.sso.token, 3);
  assert.equal(`${readEntry(dir).record.accessToken}\n`, corrupt.stdout);
  const quiet = await cli(['token', 'dynatrace'], { env: dtEnv(dir) });
  assert.equal(quiet.stderr, '');
  assert.equal(emu.counters.sso.token, 3);
});

test('a cache directory open to others or a symlink is not used at all (warning)', { skip: !POSIX && 'POSIX modes' }, async () => {
  const open = freshDir(scratch);
  chmodSync(open, 0o755);
  for (let i = 1; i <= 2; i++) {
    const r = await cli(['token', 'dynatrace'], { env: dtEnv(open) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^apm-oauth: warning: the token cache directory .* is open to group or others \(mode 0755\): the cache is not used/);
    assert.equal(emu.counters.sso.token, i);
  }
  assert.deepEqual(readdirSync(open), []);

  const target = freshDir(scratch);
  const link = join(freshDir(scratch), 'link');
  symlinkSync(target, link);
  const viaLink = await cli(['token', 'dynatrace'], { env: dtEnv(link) });
  assert.equal(viaLink.code, 0, viaLink.stderr);
  assert.match(viaLink.stderr, /the token cache directory .* is a symbolic link: the cache is not used/);
  assert.deepEqual(readdirSync(target), []);
  assert.ok(lstatSync(link).isSymbolicLink());
});

test('--no-cache neither reads nor writes the cache; entries differ by scope and vendor; logout removes them', async () => {
  const dir = freshDir(scratch);
  for (let i = 1; i <= 2; i++) {
    const r = await cli(['token', 'dynatrace', '--no-cache'], { env: dtEnv(dir) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(emu.counters.sso.token, i);
  }
  assert.deepEqual(readdirSync(dir), []);
  assert.equal((await cli(['token', 'dynatrace'], { env: dtEnv(dir) })).code, 0);
  assert.equal((await cli(['token', 'dynatrace', '--scope', 'storage:logs:read'], { env: dtEnv(dir) })).code, 0);
  const appd = {
    APM_OAUTH_CACHE_DIR: dir,
    APPD_CONTROLLER_URL: emu.urls.appdynamics,
    APPD_CLIENT_NAME: creds.appdynamics.clientName,
    APPD_ACCOUNT: creds.appdynamics.accountName,
    APPD_CLIENT_SECRET: creds.appdynamics.clientSecret,
  };
  for (let i = 0; i < 3; i++) assert.equal((await cli(['token', 'appdynamics'], { env: appd })).code, 0);
  assert.equal(emu.counters.sso.token, 4);
  assert.equal(emu.counters.appdynamics.token, 1);
  assert.equal(cacheFiles(dir).filter((f) => f.startsWith('dynatrace-')).length, 2);
  assert.equal(cacheFiles(dir).filter((f) => f.startsWith('appdynamics-')).length, 1);

  const dtOut = await cli(['logout', 'dynatrace'], { env: { APM_OAUTH_CACHE_DIR: dir } });
  assert.equal(dtOut.code, 0, dtOut.stderr);
  assert.match(dtOut.stderr, /2 cached tokens removed for dynatrace/);
  assert.deepEqual(cacheFiles(dir).map((f) => f.split('-')[0]), ['appdynamics']);
  const all = await cli(['logout'], { env: { APM_OAUTH_CACHE_DIR: dir } });
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(cacheFiles(dir), []);
});

test('logout that cannot delete an entry exits 1 naming the file and what to check, and deletes the others', async () => {
  const dir = freshDir(scratch);
  assert.equal((await cli(['token', 'dynatrace'], { env: dtEnv(dir) })).code, 0);
  // Something that has an entry's name and cannot be unlinked (a directory: also for root, whom
  // permissions do not stop).
  const stuck = join(dir, `dynatrace-${'0'.repeat(64)}.json`);
  mkdirSync(stuck);
  const r = await cli(['logout'], { env: { APM_OAUTH_CACHE_DIR: dir } });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^apm-oauth: cache_unusable: 1 cached token could not be removed and is still there: \S+dynatrace-0{64}\.json \(E[A-Z]+\); 1 removed\. Check that .* is yours and writable \(chmod 700\)/);
  assert.doesNotMatch(r.stderr, /internal/);
  assert.deepEqual(cacheFiles(dir), [`dynatrace-${'0'.repeat(64)}.json`]);
  rmSync(stuck, { recursive: true });

  // A directory without write permission, for a user whom permissions stop.
  if (POSIX && process.getuid?.() !== 0) {
    assert.equal((await cli(['token', 'dynatrace'], { env: dtEnv(dir) })).code, 0);
    chmodSync(dir, 0o500);
    try {
      const ro = await cli(['logout', 'dynatrace'], { env: { APM_OAUTH_CACHE_DIR: dir } });
      assert.equal(ro.code, 1, ro.stderr);
      assert.match(ro.stderr, /^apm-oauth: cache_unusable: 1 cached token could not be removed .*\(EACCES\)/);
    } finally {
      chmodSync(dir, 0o700);
    }
  }
});

test('an expired cached token is replaced with one request', async () => {
  const dir = freshDir(scratch);
  const first = await cli(['token', 'dynatrace'], { env: dtEnv(dir) });
  const { file, record } = readEntry(dir);
  writeFileSync(file, JSON.stringify({ ...record, expiresAt: Date.now() + 5_000, obtainedAt: Date.now() - 295_000 }));
  // 5 s left of 300: inside the 30 s skew, so stale.
  const second = await cli(['token', 'dynatrace'], { env: dtEnv(dir) });
  assert.equal(second.code, 0, second.stderr);
  assert.notEqual(second.stdout, first.stdout);
  assert.equal(emu.counters.sso.token, 2);
});

// `apm-oauth login dynatrace` driven end to end against the emulator (the test plays the browser:
// it follows the printed URL, posts the login form and the redirect reaches the CLI's loopback
// server), then `token` and `fetch` with the user's tokens, refresh, logout; platform tokens and
// the Account Management API.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../emulator/index.mjs';
import { cli, startCli, freshDir, cacheFiles, readEntry } from './helpers.mjs';

const SCOPE = 'openid storage:logs:read';

let emu;
let scratch;

before(async () => {
  emu = await startEmulator();
  scratch = mkdtempSync(join(tmpdir(), 'apm-oauth-cli-login-'));
});

after(async () => {
  await emu.close();
  rmSync(scratch, { recursive: true, force: true });
});

beforeEach(() => emu.reset());

/** What `login`, `token` and `fetch` share for the signed-in user (no client secret). */
function userEnv(cacheDir, extra = {}) {
  return {
    APM_OAUTH_CACHE_DIR: cacheDir,
    DT_ENVIRONMENT: emu.urls.dynatrace,
    DT_CLIENT_ID: emu.credentials.dynatraceUser.clientId,
    DT_TOKEN_URL: emu.urls.dtToken,
    DT_SCOPE: SCOPE,
    ...extra,
  };
}

const LOGIN_ARGS = ['--no-browser', '--redirect-uri', 'http://localhost:0/auth/login'];

function loginArgs() {
  return ['login', 'dynatrace', ...LOGIN_ARGS, '--authorization-url', emu.urls.ssoAuthorize];
}

/** Plays the browser: the authorize page, its login form, then the redirect to the CLI. */
async function signInAt(url) {
  const page = await fetch(url);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /<form id="login"/);
  const action = html.match(/<form id="login" method="post" action="([^"]+)"/)[1];
  const form = new URLSearchParams();
  for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form.set(name, value.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>'));
  }
  form.set('user', 'jane.doe@example.com');
  const posted = await fetch(new URL(action, url), { method: 'POST', body: form, redirect: 'manual' });
  assert.equal(posted.status, 302);
  const back = posted.headers.get('location');
  assert.match(back, /^http:\/\/localhost:\d+\/auth\/login\?code=/);
  const callback = await fetch(back);
  return { status: callback.status, body: await callback.text() };
}

async function login(dir, extra = {}) {
  const proc = startCli(loginArgs(), { env: userEnv(dir, extra) });
  const [url] = await proc.waitForStderr(/http:\/\/127\.0\.0\.1:\d+\/oauth2\/authorize\?\S+/);
  const callback = await signInAt(url);
  const result = await proc.done;
  return { url, callback, result };
}

async function environmentStatus(token) {
  const res = await fetch(`${emu.urls.dynatrace}/platform/management/v1/environment`, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return res.status;
}

test('login dynatrace: the printed URL signs the user in; token and fetch use the user tokens, refresh them, logout forgets them', async () => {
  const dir = freshDir(scratch);
  const { url, callback, result } = await login(dir);
  assert.equal(callback.status, 200);
  assert.match(callback.body, /Signed in, you can close this tab/);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /signed in as Jane Doe <jane\.doe@example\.com>\n$/);
  assert.equal(result.stdout, '');
  const params = new URL(url).searchParams;
  assert.equal(params.get('client_id'), emu.credentials.dynatraceUser.clientId);
  assert.equal(params.get('code_challenge_method'), 'S256');
  assert.equal(params.get('scope'), SCOPE);
  assert.equal(emu.counters.dtToken.code, 1);

  // The cache holds the user's tokens, refresh token included, 0600.
  const { file, record } = readEntry(dir, 'dynatrace-');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(typeof record.refreshToken, 'string');

  // token: the user's access token, no request.
  const token = await cli(['token', 'dynatrace', '--json'], { env: userEnv(dir) });
  assert.equal(token.code, 0, token.stderr);
  const json = JSON.parse(token.stdout);
  assert.equal(json.credentials, 'user');
  assert.equal(json.accessToken, record.accessToken);
  assert.ok(json.expiresAt > Date.now());
  assert.equal(await environmentStatus(json.accessToken), 200);
  const call = await cli(['fetch', 'dynatrace', '/platform/management/v1/environment'], { env: userEnv(dir) });
  assert.equal(call.code, 0, call.stderr);
  assert.equal(JSON.parse(call.stdout).environmentId, 'abc12345');
  assert.equal(emu.counters.dtToken.token, 1);

  // Expired: the refresh grant (under the lock) gets a new token and a new refresh token.
  emu.expireTokens();
  writeFileSync(file, JSON.stringify({ ...record, expiresAt: Date.now() - 1000 }));
  const refreshed = await Promise.all([1, 2, 3].map(() => cli(['token', 'dynatrace', '--json'], { env: userEnv(dir) })));
  for (const r of refreshed) assert.equal(r.code, 0, r.stderr);
  const tokens = new Set(refreshed.map((r) => JSON.parse(r.stdout).accessToken));
  assert.equal(tokens.size, 1, 'one refresh served every process');
  const [fresh] = tokens;
  assert.notEqual(fresh, record.accessToken);
  assert.equal(emu.counters.dtToken.refresh, 1);
  assert.equal(await environmentStatus(fresh), 200);
  const after = readEntry(dir, 'dynatrace-').record;
  assert.equal(after.accessToken, fresh);
  assert.notEqual(after.refreshToken, record.refreshToken, 'the rotated refresh token is kept');

  // logout deletes the entry; then there are no credentials (exit 2, nothing sent).
  const out = await cli(['logout', 'dynatrace'], { env: { APM_OAUTH_CACHE_DIR: dir } });
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(cacheFiles(dir), []);
  emu.reset();
  const none = await cli(['token', 'dynatrace'], { env: userEnv(dir) });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^apm-oauth: invalid_config: no client secret: .*apm-oauth login dynatrace/);
  assert.equal(emu.requests.length, 0);
});

test('a refused refresh token: login_required (exit 1), the entry is removed', async () => {
  const dir = freshDir(scratch);
  assert.equal((await login(dir)).result.code, 0);
  const { file, record } = readEntry(dir, 'dynatrace-');
  writeFileSync(file, JSON.stringify({ ...record, expiresAt: Date.now() - 1000 }));
  emu.setFault('dtToken', 'token', { kind: 'refuseRefresh', count: 1 });
  const r = await cli(['token', 'dynatrace'], { env: userEnv(dir) });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^apm-oauth: login_required: .*\. Sign in again with 'apm-oauth login dynatrace'\n/);
  // The library's advice to programs (call signIn()) means nothing on a command line.
  assert.doesNotMatch(r.stderr, /signIn\(\)/);
  assert.ok(!existsSync(file));
  assert.deepEqual(readdirSync(dir), []);
});

test('login: autoLogin (the authorize request redirects at once), a denied sign-in, and the timeout', async () => {
  const dir = freshDir(scratch);
  emu.options.dynatrace.autoLogin = true;
  const auto = startCli(loginArgs(), { env: userEnv(dir) });
  const [url] = await auto.waitForStderr(/http:\/\/127\.0\.0\.1:\d+\/oauth2\/authorize\?\S+/);
  const redirect = await fetch(url, { redirect: 'manual' });
  assert.equal(redirect.status, 302);
  assert.equal((await fetch(redirect.headers.get('location'))).status, 200);
  const autoResult = await auto.done;
  assert.equal(autoResult.code, 0, autoResult.stderr);
  assert.match(autoResult.stderr, /signed in as Emulator User <emulator\.user@example\.com>/);

  emu.setFault('sso', 'authorize', { kind: 'errorRedirect', error: 'access_denied', description: 'The user said no', count: 1 });
  const denied = startCli(loginArgs(), { env: userEnv(freshDir(scratch)) });
  const [deniedUrl] = await denied.waitForStderr(/http:\/\/127\.0\.0\.1:\d+\/oauth2\/authorize\?\S+/);
  const back = await fetch(deniedUrl, { redirect: 'manual' });
  const page = await fetch(back.headers.get('location'));
  assert.equal(page.status, 400);
  assert.match(await page.text(), /Sign-in failed/);
  const deniedResult = await denied.done;
  assert.equal(deniedResult.code, 1);
  assert.match(deniedResult.stderr, /apm-oauth: authorization_error: .*access_denied/);

  const slow = await cli([...loginArgs(), '--login-timeout-ms', '300'], { env: userEnv(freshDir(scratch)) });
  assert.equal(slow.code, 1);
  assert.match(slow.stderr, /apm-oauth: login_timeout: no sign-in within 0\.3 s/);
  // The redirect URI named is the one listened on, not port 0.
  const listened = slow.stderr.match(/Waiting for the redirect to (http:\/\/\S+) /)[1];
  assert.ok(slow.stderr.includes(`was not redirected to ${listened}.`), slow.stderr);
  // A time up before the sign-in URL is printed ends the same way, not with a crash.
  const instant = await cli([...loginArgs(), '--login-timeout-ms', '1'], { env: userEnv(freshDir(scratch)) });
  assert.equal(instant.code, 1);
  assert.match(instant.stderr, /apm-oauth: login_timeout: no sign-in within 0\.001 s/);
  assert.doesNotMatch(instant.stderr, /at |Node\.js v/);
  // Longer than a timer can wait: a usage error.
  const long = await cli([...loginArgs(), '--login-timeout-ms', '3000000000'], { env: userEnv(freshDir(scratch)) });
  assert.equal(long.code, 2);
  assert.match(long.stderr, /^apm-oauth: usage: --login-timeout-ms needs a whole number of milliseconds from 1 to 2147483647/);

  const bad = await cli(['login', 'dynatrace', '--redirect-uri', 'https://example.com/cb'], { env: userEnv(dir) });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^apm-oauth: usage: --redirect-uri must be http:\/\/localhost/);
});

test('DT_PLATFORM_TOKEN is used as is: no token request, no cache, credentials "platform-token"', async () => {
  const dir = freshDir(scratch);
  const platformToken = emu.credentials.dynatrace.platformToken;
  const env = {
    APM_OAUTH_CACHE_DIR: dir,
    DT_ENVIRONMENT: emu.urls.dynatrace,
    DT_PLATFORM_TOKEN: platformToken,
    DT_CLIENT_ID: emu.credentials.dynatrace.clientId,
    DT_CLIENT_SECRET: emu.credentials.dynatrace.clientSecret,
    DT_TOKEN_URL: emu.urls.ssoToken,
  };
  const plain = await cli(['token', 'dynatrace'], { env });
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(plain.stdout, `${platformToken}\n`);
  const json = await cli(['token', 'dynatrace', '--json'], { env });
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(
    (({ accessToken, expiresAt, credentials }) => ({ accessToken, expiresAt, credentials }))(JSON.parse(json.stdout)),
    { accessToken: platformToken, expiresAt: null, credentials: 'platform-token' },
  );
  const call = await cli(['fetch', 'dynatrace', '/platform/management/v1/environment'], { env });
  assert.equal(call.code, 0, call.stderr);
  assert.equal(JSON.parse(call.stdout).environmentId, 'abc12345');
  assert.equal(emu.counters.sso.token, 0);
  assert.equal(emu.counters.dtToken.token, 0);
  assert.deepEqual(readdirSync(dir), []);
});

test('login with DT_PLATFORM_TOKEN or DT_CLIENT_SECRET set warns that token and fetch will use those instead', async () => {
  for (const [name, value] of [['DT_PLATFORM_TOKEN', emu.credentials.dynatrace.platformToken], ['DT_CLIENT_SECRET', emu.credentials.dynatrace.clientSecret]]) {
    const dir = freshDir(scratch);
    const { result } = await login(dir, { [name]: value });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, new RegExp(`signed in as .*\\napm-oauth: warning: ${name} is set: 'token' and 'fetch' use it, not the signed-in user's tokens`));
    assert.ok(!result.stderr.includes(value), 'the value is not printed');
    assert.equal(result.stdout, '');
  }
  const quiet = await login(freshDir(scratch));
  assert.equal(quiet.result.code, 0, quiet.result.stderr);
  assert.doesNotMatch(quiet.result.stderr, /warning/);
});

test('a flag of an OAuth token request with DT_PLATFORM_TOKEN set exits 2: the platform token would be printed instead', async () => {
  const env = {
    APM_OAUTH_CACHE_DIR: freshDir(scratch),
    DT_ENVIRONMENT: emu.urls.dynatrace,
    DT_PLATFORM_TOKEN: emu.credentials.dynatrace.platformToken,
    DT_TOKEN_URL: emu.urls.ssoToken,
  };
  for (const [flags, input] of [
    [['--scope', 'storage:logs:read']],
    [['--client-id', emu.credentials.dynatrace.clientId, '--client-secret-stdin'], `${emu.credentials.dynatrace.clientSecret}\n`],
    [['--account-id', emu.credentials.dynatrace.accountUrn]],
    [['--token-url', emu.urls.ssoToken]],
  ]) {
    const r = await cli(['token', 'dynatrace', ...flags], { env, input });
    assert.equal(r.code, 2, `${flags[0]}: ${r.stderr}`);
    assert.equal(r.stdout, '', 'no token printed');
    assert.match(r.stderr, new RegExp(`^apm-oauth: invalid_config: ${flags[0]} asks for an OAuth token, but DT_PLATFORM_TOKEN is set .*Unset DT_PLATFORM_TOKEN`));
    assert.ok(!r.stderr.includes(emu.credentials.dynatrace.platformToken));
    assert.ok(!r.stderr.includes(emu.credentials.dynatrace.clientSecret));
  }
  assert.equal(emu.requests.length, 0, 'nothing was sent');
});

test('fetch dynatrace-account lists the users of DT_ACCOUNT_ID (UUID or URN), one token request for both', async () => {
  const account = emu.credentials.dynatraceAccount;
  const dir = freshDir(scratch);
  const env = (id) => ({
    APM_OAUTH_CACHE_DIR: dir,
    DT_CLIENT_ID: account.clientId,
    DT_CLIENT_SECRET: account.clientSecret,
    DT_ACCOUNT_ID: id,
    DT_SCOPE: 'account-idm-read',
    DT_TOKEN_URL: emu.urls.ssoToken,
    DT_ACCOUNT_API_URL: emu.urls.account,
  });
  const path = `/iam/v1/accounts/${account.accountUuid}/users`;
  for (const id of [account.accountUuid, account.accountUrn]) {
    const r = await cli(['fetch', 'dynatrace-account', path], { env: env(id) });
    assert.equal(r.code, 0, r.stderr);
    const body = JSON.parse(r.stdout);
    assert.ok(body.items.some((u) => u.email === 'jane.doe@example.com'));
  }
  assert.equal(emu.counters.sso.token, 1);
  const sent = new URLSearchParams(emu.requests.find((q) => q.role === 'sso').body);
  assert.equal(sent.get('resource'), account.accountUrn);
  assert.equal(cacheFiles(dir).filter((f) => f.startsWith('dynatrace-account-')).length, 1);
  // The account API's origin only.
  const other = await cli(['fetch', 'dynatrace-account', `${emu.urls.dynatrace}/platform/management/v1/environment`], { env: env(account.accountUuid) });
  assert.equal(other.code, 2);
  assert.match(other.stderr, /^apm-oauth: insecure_url: /);
  const noAccount = await cli(['fetch', 'dynatrace-account', path], { env: env(undefined) });
  assert.equal(noAccount.code, 2);
  assert.match(noAccount.stderr, /DT_ACCOUNT_ID.*--account-id/);
});

test('help for login and logout; the main help lists them and dynatrace-account', async () => {
  const main = await cli(['--help']);
  for (const word of ['login dynatrace', 'logout [vendor]', 'dynatrace-account', 'APM_OAUTH_CACHE_DIR']) assert.ok(main.stdout.includes(word), word);
  for (const [args, start] of [
    [['login', '--help'], 'Usage: apm-oauth login dynatrace'],
    [['help', 'login'], 'Usage: apm-oauth login dynatrace'],
    [['logout', '--help'], 'Usage: apm-oauth logout'],
  ]) {
    const r = await cli(args);
    assert.equal(r.code, 0, args.join(' '));
    assert.ok(r.stdout.startsWith(start), args.join(' '));
  }
  const token = await cli(['token', '--help']);
  for (const word of ['DT_PLATFORM_TOKEN', '--no-cache', 'DT_ACCOUNT_API_URL', '"credentials"']) assert.ok(token.stdout.includes(word), word);
  assert.equal(emu.requests.length, 0);
});

// The apm-oauth command line (pkg/bin/apm-oauth.mjs), run as a child process against the vendor
// emulator started in this process. The child gets a clean environment holding only what each
// test sets, so variables of the machine running the tests cannot leak in.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../emulator/index.mjs';
import { run } from '../pack/scratch.mjs';

const CLI = fileURLToPath(new URL('../../pkg/bin/apm-oauth.mjs', import.meta.url));
const PKG = JSON.parse(readFileSync(new URL('../../pkg/package.json', import.meta.url), 'utf8'));
const CALCULATE = '/platform/app-engine/app-functions/v1/apps/my.emulator.app/api/calculate';
// Not a substring of any message, so finding it in the output would be a real leak.
const WRONG_SECRET = 'dt0s02.EMULATOR.WRONGQ7ZP3K9XV2M8RT4N6YB1HJ5CW0LD';

let emu;
let creds;
let scratch;

before(async () => {
  emu = await startEmulator();
  creds = emu.credentials;
  scratch = mkdtempSync(join(tmpdir(), 'apm-oauth-cli-'));
});

after(async () => {
  await emu.close();
  rmSync(scratch, { recursive: true, force: true });
});

beforeEach(() => emu.reset());

/**
 * Runs the CLI; resolves with its exit code and output. Async: the emulator lives in this process.
 * Each run gets a fresh, empty token cache directory unless `env` names one (APM_OAUTH_CACHE_DIR),
 * so the cache, on by default, changes nothing these tests assert.
 */
function cli(args, { env = {}, input } = {}) {
  // undefined would reach the child as the string "undefined": leave those variables out.
  const defined = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined));
  const cacheDir = 'APM_OAUTH_CACHE_DIR' in env ? {} : { APM_OAUTH_CACHE_DIR: mkdtempSync(join(scratch, 'cache-')) };
  return run(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...cacheDir, ...defined }, input });
}

function dtEnv(extra = {}) {
  return {
    DT_ENVIRONMENT: emu.urls.dynatrace,
    DT_CLIENT_ID: creds.dynatrace.clientId,
    DT_CLIENT_SECRET: creds.dynatrace.clientSecret,
    DT_TOKEN_URL: emu.urls.ssoToken,
    ...extra,
  };
}

function appdEnv(extra = {}) {
  return {
    APPD_CONTROLLER_URL: emu.urls.appdynamics,
    APPD_CLIENT_NAME: creds.appdynamics.clientName,
    APPD_ACCOUNT: creds.appdynamics.accountName,
    APPD_CLIENT_SECRET: creds.appdynamics.clientSecret,
    ...extra,
  };
}

function assertNoSecret(result, ...secrets) {
  for (const secret of secrets) {
    assert.ok(!result.stdout.includes(secret), 'a secret was printed on stdout');
    assert.ok(!result.stderr.includes(secret), 'a secret was printed on stderr');
  }
}

async function environmentWith(token) {
  const res = await fetch(`${emu.urls.dynatrace}/platform/management/v1/environment`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: await res.json() };
}

// ---------------------------------------------------------------------------------------------
// token

test('token dynatrace prints exactly the token and one newline, usable as a bearer', async () => {
  const r = await cli(['token', 'dynatrace'], { env: dtEnv() });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  assert.equal(emu.counters.sso.token, 1);
  // What `curl -H "Authorization: Bearer $(apm-oauth token dynatrace)"` sends.
  const token = r.stdout.slice(0, -1);
  const api = await environmentWith(token);
  assert.equal(api.status, 200);
  assert.equal(api.body.environmentId, 'abc12345');
});

test('token dynatrace --json prints the whole token; DT_SCOPE and a bare DT_ACCOUNT_ID reach the request', async () => {
  const accountUuid = creds.dynatrace.accountUrn.replace('urn:dtaccount:', '');
  const r = await cli(['token', 'dt', '--json'], {
    env: dtEnv({ DT_SCOPE: 'app-engine:apps:run  storage:logs:read', DT_ACCOUNT_ID: accountUuid }),
  });
  assert.equal(r.code, 0, r.stderr);
  const token = JSON.parse(r.stdout);
  assert.equal(token.tokenType, 'Bearer');
  assert.match(token.accessToken, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  assert.ok(token.expiresAt > Date.now(), 'expiresAt is in the future');
  assert.equal(token.scope, 'app-engine:apps:run storage:logs:read');
  assert.equal(token.resource, creds.dynatrace.accountUrn);
  const sent = new URLSearchParams(emu.requests.find((q) => q.role === 'sso').body);
  assert.equal(sent.get('scope'), 'app-engine:apps:run storage:logs:read');
  assert.equal(sent.get('resource'), creds.dynatrace.accountUrn);
});

test('DT_SCOPE and --scope take scopes separated by commas as well as spaces', async () => {
  for (const [args, env] of [
    [['token', 'dynatrace'], dtEnv({ DT_SCOPE: 'storage:logs:read,settings:objects:read' })],
    [['token', 'dynatrace', '--scope', 'storage:logs:read, settings:objects:read'], dtEnv()],
  ]) {
    emu.reset();
    const r = await cli(args, { env });
    assert.equal(r.code, 0, r.stderr);
    const sent = new URLSearchParams(emu.requests.find((q) => q.role === 'sso').body);
    assert.equal(sent.get('scope'), 'storage:logs:read settings:objects:read');
  }
});

test('flags override the environment', async () => {
  const r = await cli(
    ['token', 'dynatrace', '--client-id', creds.dynatrace.clientId, '--token-url', emu.urls.ssoToken, '--scope', 'storage:logs:read', '--json'],
    { env: { DT_CLIENT_ID: 'dt0s02.OTHER', DT_TOKEN_URL: `${emu.urls.elsewhere}/sso/oauth2/token`, DT_SCOPE: 'app-engine:apps:run', DT_CLIENT_SECRET: creds.dynatrace.clientSecret } },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).scope, 'storage:logs:read');
  assert.equal(emu.counters.sso.token, 1);
  assert.equal(emu.counters.elsewhere.requests, 0);
});

test('token appdynamics, plain and --json', async () => {
  const plain = await cli(['token', 'appdynamics'], { env: appdEnv() });
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  const json = await cli(['token', 'appd', '--json'], { env: appdEnv() });
  assert.equal(json.code, 0, json.stderr);
  const token = JSON.parse(json.stdout);
  assert.equal(token.tokenType, 'Bearer');
  assert.ok(token.expiresAt > Date.now());
  assert.equal(emu.counters.appdynamics.token, 2);
  const sent = new URLSearchParams(emu.requests.find((q) => q.role === 'appdynamics').body);
  assert.equal(sent.get('client_id'), creds.appdynamics.clientId);
});

test('token appdynamics against a controller before 4.5.9 (vendor content type and Basic)', async () => {
  const r = await cli(['token', 'appdynamics'], { env: appdEnv({ APPD_CONTROLLER_URL: emu.urls.appdynamicsLegacy }) });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  assert.equal(emu.counters.appdynamicsLegacy.issued, 1);
});

test('APPD_CLIENT_NAME may be name@account when APPD_ACCOUNT is unset', async () => {
  const r = await cli(['token', 'appdynamics'], { env: appdEnv({ APPD_CLIENT_NAME: creds.appdynamics.clientId, APPD_ACCOUNT: '' }) });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(emu.counters.appdynamics.issued, 1);
});

test('APPD_CLIENT_NAME as name@account with the same APPD_ACCOUNT is taken once; another account exits 2', async () => {
  const account = creds.appdynamics.clientId.split('@').at(-1);
  const same = await cli(['token', 'appdynamics'], { env: appdEnv({ APPD_CLIENT_NAME: creds.appdynamics.clientId, APPD_ACCOUNT: account }) });
  assert.equal(same.code, 0, same.stderr);
  assert.equal(emu.counters.appdynamics.issued, 1);
  const other = await cli(['token', 'appdynamics'], { env: appdEnv({ APPD_CLIENT_NAME: creds.appdynamics.clientId, APPD_ACCOUNT: 'elsewhere' }) });
  assert.equal(other.code, 2);
  assert.match(other.stderr, new RegExp(`^apm-oauth: usage: the API client name ends with @${account}, and the account \\(APPD_ACCOUNT\\) is elsewhere`));
  assert.equal(emu.counters.appdynamics.token, 1, 'nothing sent for the contradiction');
});

test('APPD_ACCESS_TOKEN (a temporary UI token) is used as is, with no token request', async () => {
  const env = { APPD_CONTROLLER_URL: emu.urls.appdynamics, APPD_ACCESS_TOKEN: creds.appdynamics.temporaryToken };
  const token = await cli(['token', 'appdynamics'], { env });
  assert.equal(token.code, 0, token.stderr);
  assert.equal(token.stdout, `${creds.appdynamics.temporaryToken}\n`);
  const apps = await cli(['fetch', 'appdynamics', '/controller/rest/applications'], { env });
  assert.equal(apps.code, 0, apps.stderr);
  assert.ok(JSON.parse(apps.stdout).some((a) => a.name === 'ECommerce_E2E'));
  assert.equal(emu.counters.appdynamics.token, 0);
});

// ---------------------------------------------------------------------------------------------
// fetch

test('fetch dynatrace GET prints the body on stdout and the status on stderr', async () => {
  const r = await cli(['fetch', 'dynatrace', '/platform/management/v1/environment'], { env: dtEnv() });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).environmentId, 'abc12345');
  assert.match(r.stderr, /^HTTP 200\b/);
  assert.equal(emu.counters.sso.token, 1);
  assert.equal(emu.counters.dynatrace.api, 1);
});

test('fetch dynatrace -d JSON posts to an app function with Content-Type application/json', async () => {
  const r = await cli(['fetch', 'dynatrace', CALCULATE, '-d', '{"a":1,"b":2}'], { env: dtEnv() });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { result: 3 });
  const call = emu.requests.find((q) => q.role === 'dynatrace');
  assert.equal(call.method, 'POST');
  assert.match(call.headers['content-type'], /^application\/json/);
  assert.equal(call.body, '{"a":1,"b":2}');
});

test('fetch -d @file and -d @- read the body from a file and from stdin', async () => {
  const file = join(scratch, 'body.json');
  writeFileSync(file, '{"a":20,"b":22}');
  const fromFile = await cli(['fetch', 'dynatrace', CALCULATE, '-d', `@${file}`], { env: dtEnv() });
  assert.equal(fromFile.code, 0, fromFile.stderr);
  assert.deepEqual(JSON.parse(fromFile.stdout), { result: 42 });
  const fromStdin = await cli(['fetch', 'dynatrace', CALCULATE, '-d', '@-'], { env: dtEnv(), input: '{"a":2,"b":3}' });
  assert.equal(fromStdin.code, 0, fromStdin.stderr);
  assert.deepEqual(JSON.parse(fromStdin.stdout), { result: 5 });
});

test('fetch -H headers and -X reach the server', async () => {
  const r = await cli(
    ['fetch', 'dynatrace', '/platform/echo?q=1', '-X', 'put', '-H', 'X-One: 1', '-H', 'X-Two:  two words ', '-H', 'Content-Type: text/plain', '-d', '{"not":"json header"}'],
    { env: dtEnv() },
  );
  assert.equal(r.code, 0, r.stderr);
  const echo = JSON.parse(r.stdout);
  assert.equal(echo.method, 'PUT');
  assert.equal(echo.headers['x-one'], '1');
  assert.equal(echo.headers['x-two'], 'two words');
  assert.equal(echo.headers['content-type'], 'text/plain');
  assert.match(echo.headers.authorization, /^Bearer /);
  assert.deepEqual(echo.query, { q: '1' });
});

test('fetch --json prints status, headers and the parsed body', async () => {
  const r = await cli(['fetch', 'dynatrace', '/platform/management/v1/environment', '--json'], { env: dtEnv() });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.status, 200);
  assert.match(out.headers['content-type'], /application\/json/);
  assert.equal(out.body.environmentId, 'abc12345');
});

test('fetch appdynamics /controller/rest/applications gets JSON', async () => {
  const r = await cli(['fetch', 'appdynamics', '/controller/rest/applications'], { env: appdEnv() });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(JSON.parse(r.stdout).some((a) => a.name === 'ECommerce_E2E'));
});

test('an HTTP error status exits 1, body on stdout, status on stderr', async () => {
  const notFound = await cli(['fetch', 'dynatrace', '/platform/app-engine/app-functions/v1/apps/no.such.app/api/x'], { env: dtEnv() });
  assert.equal(notFound.code, 1);
  assert.match(notFound.stderr, /^HTTP 404\b/);
  assert.ok(notFound.stdout.length > 0, 'the error body is printed');
  const crashed = await cli(['fetch', 'dynatrace', '/platform/app-engine/app-functions/v1/apps/my.emulator.app/api/throws', '-d', '{}'], { env: dtEnv() });
  assert.equal(crashed.code, 1);
  assert.match(crashed.stderr, /^HTTP 540\b/);
});

test('another origin is refused before anything is sent', async () => {
  const r = await cli(['fetch', 'dynatrace', `${emu.urls.elsewhere}/x`], { env: dtEnv() });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^apm-oauth: insecure_url: /);
  assert.equal(emu.counters.elsewhere.requests, 0);
});

// ---------------------------------------------------------------------------------------------
// Configuration and usage errors

test('missing configuration exits 2 and names the variable and the flag', async () => {
  const cases = [
    [['token', 'dynatrace'], dtEnv({ DT_CLIENT_ID: '' }), /DT_CLIENT_ID.*--client-id/],
    [['token', 'dynatrace'], dtEnv({ DT_CLIENT_SECRET: undefined }), /DT_CLIENT_SECRET.*--client-secret-stdin/],
    [['fetch', 'dynatrace', '/platform/echo'], dtEnv({ DT_ENVIRONMENT: undefined }), /DT_ENVIRONMENT.*--environment/],
    [['token', 'appdynamics'], appdEnv({ APPD_CONTROLLER_URL: undefined }), /APPD_CONTROLLER_URL.*--controller/],
    [['token', 'appdynamics'], appdEnv({ APPD_CLIENT_NAME: undefined }), /APPD_CLIENT_NAME.*--client-name/],
    [['token', 'appdynamics'], appdEnv({ APPD_ACCOUNT: undefined }), /APPD_ACCOUNT.*--account/],
    [['token', 'appdynamics'], appdEnv({ APPD_CLIENT_SECRET: undefined }), /APPD_CLIENT_SECRET/],
  ];
  for (const [args, env, pattern] of cases) {
    const r = await cli(args, { env });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^apm-oauth: invalid_config: /);
    assert.match(r.stderr, pattern);
    assert.equal(r.stdout, '');
  }
  assert.equal(emu.requests.length, 0, 'nothing was sent');
});

test('an invalid configuration value exits 2 with the library code, nothing sent', async () => {
  const r = await cli(['fetch', 'dynatrace', '/platform/echo'], { env: dtEnv({ DT_ENVIRONMENT: 'http://tenant.example.com' }) });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^apm-oauth: insecure_url: .*--allow-insecure-http/);
  assert.equal(emu.requests.length, 0);
});

test("the library's errors that name one of its options say which variable or flag sets it", async () => {
  const cases = [
    [['fetch', 'dynatrace', '/platform/echo'], dtEnv({ DT_ENVIRONMENT: 'tenant.example.com' }), 2, /^apm-oauth: invalid_config: environmentUrl .*\nhint: here environmentUrl is DT_ENVIRONMENT or --environment\n$/],
    [['token', 'dynatrace'], dtEnv({ DT_TOKEN_URL: `${emu.urls.elsewhere}/` }), 1, /^apm-oauth: invalid_response: .*tokenUrl.*\nhint: here tokenUrl is DT_TOKEN_URL or --token-url\n$/],
    [['token', 'appdynamics'], appdEnv({ APPD_CONTROLLER_URL: emu.urls.elsewhere }), 1, /^apm-oauth: invalid_response: .*controllerUrl.*\nhint: here controllerUrl is APPD_CONTROLLER_URL or --controller\n$/],
  ];
  for (const [args, env, code, pattern] of cases) {
    const r = await cli(args, { env });
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
  const json = await cli(['token', 'appdynamics', '--json'], { env: appdEnv({ APPD_CONTROLLER_URL: emu.urls.elsewhere }) });
  assert.equal(JSON.parse(json.stderr).error.settings, 'controllerUrl is APPD_CONTROLLER_URL or --controller');
  // Refused credentials keep their own hint (which variables they came from), not this one.
  const refused = await cli(['token', 'appdynamics'], { env: appdEnv({ APPD_CLIENT_SECRET: 'not-the-secret' }) });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /\nhint: the client id was .*\n$/);
  assert.doesNotMatch(refused.stderr, /hint: here/);
});

test('-X with something that is no HTTP method, and -H with a control character, exit 2 before any request', async () => {
  for (const method of ['BAD METHOD', 'GET\r\nX-Injected: 1', '', 'ÄPFEL']) {
    const r = await cli(['fetch', 'dynatrace', '/platform/echo', '-X', method], { env: dtEnv() });
    assert.equal(r.code, 2, `${JSON.stringify(method)}: ${r.stderr}`);
    assert.equal(r.stderr, "apm-oauth: usage: -X needs an HTTP method: one word such as GET or PATCH. Run 'apm-oauth --help'\n");
  }
  assert.equal(emu.requests.length, 0, 'nothing was sent');
  // A header value with a control character likewise (the platform would refuse it while sending).
  const ctl = await cli(['fetch', 'dynatrace', '/platform/echo', '-H', 'X-A: a\u0001b'], { env: dtEnv() });
  assert.equal(ctl.code, 2, ctl.stderr);
  assert.match(ctl.stderr, /^apm-oauth: usage: -H: the value of "X-A" has a control character/);
  assert.equal(emu.requests.length, 0, 'nothing was sent');
  const ok = await cli(['fetch', 'dynatrace', '/platform/echo', '-X', 'patch', '-d', '{}'], { env: dtEnv() });
  assert.notEqual(ok.code, 2, ok.stderr);
});

test('a flag of another vendor names the vendor given and the ones it belongs to', async () => {
  const account = await cli(['token', 'dynatrace-account', '--environment', emu.urls.dynatrace], { env: dtEnv() });
  assert.equal(account.code, 2);
  assert.match(account.stderr, /^apm-oauth: usage: --environment does not apply to dynatrace-account: it is an option of dynatrace only\./);
  const appd = await cli(['token', 'appdynamics', '--scope', 'x'], { env: appdEnv() });
  assert.equal(appd.code, 2);
  assert.match(appd.stderr, /^apm-oauth: usage: --scope does not apply to appdynamics: it is an option of dynatrace and dynatrace-account\./);
  assert.equal(emu.requests.length, 0);
  // The main help points to where the variables are listed, and does not promise them "below".
  const help = await cli(['--help']);
  assert.match(help.stdout, /'apm-oauth token --help' lists them/);
  assert.doesNotMatch(help.stdout, /variables below/);
});

test('unknown commands, vendors and flags exit 2', async () => {
  for (const args of [['frobnicate'], ['token', 'newrelic'], ['token', 'dynatrace', '--frob'], ['fetch', 'dynatrace'], ['token', 'dynatrace', '--controller', 'x'], ['--nope']]) {
    const r = await cli(args, { env: dtEnv() });
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /^apm-oauth: usage: /, args.join(' '));
  }
  // A secret typed where an argument goes is refused without being echoed.
  const misplaced = await cli(['token', 'dynatrace', creds.dynatrace.clientSecret], { env: dtEnv() });
  assert.equal(misplaced.code, 2);
  assert.match(misplaced.stderr, /^apm-oauth: usage: unexpected argument \(not shown\)/);
  assertNoSecret(misplaced, creds.dynatrace.clientSecret);
  const none = await cli([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /Usage: apm-oauth/);
  assert.equal(emu.requests.length, 0);
});

// ---------------------------------------------------------------------------------------------
// Secrets

test('--client-secret is refused (exit 2) unless --insecure-secret-arg is given', async () => {
  const env = dtEnv({ DT_CLIENT_SECRET: undefined });
  const refused = await cli(['token', 'dynatrace', '--client-secret', creds.dynatrace.clientSecret], { env });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /^apm-oauth: usage: --client-secret is refused/);
  assert.match(refused.stderr, /DT_CLIENT_SECRET/);
  assert.match(refused.stderr, /--client-secret-stdin/);
  assertNoSecret(refused, creds.dynatrace.clientSecret);
  assert.equal(emu.requests.length, 0);

  const insisted = await cli(['token', 'dynatrace', '--client-secret', creds.dynatrace.clientSecret, '--insecure-secret-arg'], { env });
  assert.equal(insisted.code, 0, insisted.stderr);
  assert.match(insisted.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
});

test('--client-secret-stdin reads the secret from stdin (one line)', async () => {
  const dt = await cli(['token', 'dynatrace', '--client-secret-stdin'], {
    env: dtEnv({ DT_CLIENT_SECRET: undefined }),
    input: `${creds.dynatrace.clientSecret}\n`,
  });
  assert.equal(dt.code, 0, dt.stderr);
  assert.match(dt.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  // It wins over the environment.
  const appd = await cli(['fetch', 'appdynamics', '/controller/rest/applications', '--client-secret-stdin'], {
    env: appdEnv({ APPD_CLIENT_SECRET: 'not-the-secret' }),
    input: creds.appdynamics.clientSecret,
  });
  assert.equal(appd.code, 0, appd.stderr);
  assert.ok(JSON.parse(appd.stdout).length > 0);
});

test('--client-secret-stdin takes the first line: a password store entry may hold more lines', async () => {
  const r = await cli(['token', 'dynatrace', '--client-secret-stdin'], {
    env: dtEnv({ DT_CLIENT_SECRET: undefined }),
    // What `pass show dynatrace/oauth` prints for an entry with the secret and some notes.
    input: `${creds.dynatrace.clientSecret}\r\nlogin: dt0s02.EMULATOR\nurl: https://sso.dynatrace.com\n`,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  const empty = await cli(['token', 'dynatrace', '--client-secret-stdin'], { env: dtEnv({ DT_CLIENT_SECRET: undefined }), input: `\n${creds.dynatrace.clientSecret}\n` });
  assert.equal(empty.code, 2, empty.stderr);
  assert.match(empty.stderr, /^apm-oauth: invalid_config: --client-secret-stdin: stdin's first line was empty\n$/);
  assert.equal(emu.counters.sso.token, 1);
});

// `script` runs the command on a pseudo-terminal, as when a user types the secret.
const SCRIPT = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

test('--client-secret-stdin on a terminal prompts on stderr, does not show what is typed, and ends with Enter', { skip: !SCRIPT && 'no script(1)', timeout: 60_000 }, async (t) => {
  const env = { PATH: process.env.PATH, APM_OAUTH_CACHE_DIR: mkdtempSync(join(scratch, 'cache-')), ...dtEnv({ DT_CLIENT_SECRET: undefined }) };
  const child = spawn('script', ['-qfec', `'${process.execPath}' '${CLI}' token dynatrace --client-secret-stdin`, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let prompted;
  const prompt = new Promise((resolve) => (prompted = resolve));
  child.stdout.setEncoding('utf8').on('data', (d) => {
    output += d;
    if (output.includes('secret (not shown): ')) prompted();
  });
  const closed = new Promise((resolve) => child.on('close', resolve));
  // Without a prompt the command would wait for ever: the test's timeout ends it.
  t.signal.addEventListener('abort', () => child.kill());
  closed.then(() => prompted());
  try {
    await prompt;
    child.stdin.write(`${creds.dynatrace.clientSecret}\r`);
    const code = await closed;
    assert.equal(code, 0, output);
    assert.match(output, /Dynatrace OAuth client secret \(not shown\): /);
    assert.match(output, /\n[\w-]+\.[\w-]+\.[\w-]+\r?\n/, 'the token');
    assert.ok(!output.includes(creds.dynatrace.clientSecret), 'the typed secret was shown');
  } finally {
    child.kill();
  }
});

test('a wrong secret exits 1 with invalid_client on stderr and never prints the secret', async () => {
  const r = await cli(['token', 'dynatrace'], { env: dtEnv({ DT_CLIENT_SECRET: WRONG_SECRET }) });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^apm-oauth: invalid_client: /);
  assert.match(r.stderr, /issueId [A-Z0-9]+/);
  assert.match(r.stderr, /hint: .*DT_CLIENT_ID.*DT_CLIENT_SECRET/);
  assertNoSecret(r, WRONG_SECRET);

  const json = await cli(['fetch', 'dynatrace', '/platform/echo', '--json'], { env: dtEnv({ DT_CLIENT_SECRET: WRONG_SECRET }) });
  assert.equal(json.code, 1);
  assert.equal(json.stdout, '');
  const { error } = JSON.parse(json.stderr);
  assert.equal(error.code, 'invalid_client');
  assert.equal(error.status, 400);
  assert.equal(error.error, 'invalid_request');
  assert.match(error.issueId, /^[A-Z0-9]+$/);
  assert.match(error.credentials, /DT_CLIENT_ID.*DT_CLIENT_SECRET/, 'the hint line of the plain output');
  assertNoSecret(json, WRONG_SECRET);

  const stdin = await cli(['token', 'appdynamics', '--client-secret-stdin'], { env: appdEnv({ APPD_CLIENT_SECRET: undefined }), input: WRONG_SECRET });
  assert.equal(stdin.code, 1);
  assert.match(stdin.stderr, /^apm-oauth: invalid_client: /);
  assertNoSecret(stdin, WRONG_SECRET);
});

test('a timeout names the flag that sets it', async () => {
  emu.setFault('sso', 'token', { kind: 'delay', ms: 700, count: 1 });
  const r = await cli(['token', 'dynatrace', '--timeout-ms', '200', '--no-cache'], { env: dtEnv() });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^apm-oauth: timeout: no answer from .* within 200 ms\. .*\(--timeout-ms\)\n$/);
  // The emulator finishes the delayed answer before the next test counts anything.
  await new Promise((resolve) => setTimeout(resolve, 700));
});

/**
 * An API on loopback that answers every request with `handler(req, res)`; `close()` ends it and
 * the connections it still holds.
 */
async function apiServer(handler) {
  const server = createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}

test('fetch: a body that stops arriving fails as a timeout naming --timeout-ms; nothing of it is printed', async () => {
  const api = await apiServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"items": [');
    // Never finished; the connection is dropped only long after the command should have given up.
    setTimeout(() => res.destroy(), 20_000).unref();
  });
  try {
    const r = await cli(['fetch', 'dynatrace', '/platform/query', '--timeout-ms', '300'], { env: dtEnv({ DT_ENVIRONMENT: api.url }) });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^HTTP 200 OK\napm-oauth: timeout: .* sent no more of the body for 300 ms\. .*\(--timeout-ms\)\n$/);
  } finally {
    await api.close();
  }
});

test('fetch --json keeps a body that is not UTF-8 text intact, as bodyBase64', async () => {
  const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0xfe, 0x00, 0x80]);
  const api = await apiServer((req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(bytes));
  try {
    const json = await cli(['fetch', 'dynatrace', '/platform/logo.png', '--json'], { env: dtEnv({ DT_ENVIRONMENT: api.url }) });
    assert.equal(json.code, 0, json.stderr);
    const envelope = JSON.parse(json.stdout);
    assert.equal(envelope.body, undefined);
    assert.deepEqual(Buffer.from(envelope.bodyBase64, 'base64'), bytes);
    // Text stays text.
    const text = await cli(['fetch', 'dynatrace', '/platform/management/v1/environment', '--json'], { env: dtEnv() });
    assert.equal(JSON.parse(text.stdout).body.environmentId, 'abc12345');
    assert.equal(JSON.parse(text.stdout).bodyBase64, undefined);
  } finally {
    await api.close();
  }
});

test('fetch: a connection that closes in the middle of the body is a network error, not an internal one', async () => {
  const api = await apiServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
    res.write('{"items": [', () => res.destroy());
  });
  try {
    const r = await cli(['fetch', 'dynatrace', '/platform/query'], { env: dtEnv({ DT_ENVIRONMENT: api.url }) });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^HTTP 200 OK\napm-oauth: network: the connection to http:\/\/127\.0\.0\.1:\d+ closed before the whole body of the answer \(HTTP 200 OK\) arrived/);
  } finally {
    await api.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Help and version

test('--help for the tool and for each command, --version', async () => {
  const main = await cli(['--help']);
  assert.equal(main.code, 0);
  assert.match(main.stdout, /^Usage: apm-oauth <command>/);
  assert.match(main.stdout, /token <vendor>/);
  assert.match(main.stdout, /fetch <vendor> <path>/);

  for (const [args, usage] of [
    [['token', '--help'], 'Usage: apm-oauth token'],
    [['help', 'token'], 'Usage: apm-oauth token'],
    [['fetch', '--help'], 'Usage: apm-oauth fetch'],
    [['fetch', 'dynatrace', '-h'], 'Usage: apm-oauth fetch'],
  ]) {
    const r = await cli(args);
    assert.equal(r.code, 0, args.join(' '));
    assert.ok(r.stdout.startsWith(usage), args.join(' '));
    for (const name of ['DT_ENVIRONMENT', 'DT_CLIENT_ID', 'DT_CLIENT_SECRET', 'DT_ACCOUNT_ID', 'DT_TOKEN_URL', 'APPD_CONTROLLER_URL', 'APPD_CLIENT_NAME', 'APPD_ACCOUNT', 'APPD_CLIENT_SECRET', '--client-secret-stdin', '--timeout-ms']) {
      assert.ok(r.stdout.includes(name), `${args.join(' ')} lists ${name}`);
    }
  }
  const fetchHelp = await cli(['fetch', '--help']);
  for (const flag of ['-X', '-d', '-H', '--json']) assert.ok(fetchHelp.stdout.includes(flag), `fetch --help lists ${flag}`);

  const version = await cli(['--version']);
  assert.equal(version.code, 0);
  assert.equal(version.stdout, `${PKG.version}\n`);
  assert.equal(emu.requests.length, 0);
});

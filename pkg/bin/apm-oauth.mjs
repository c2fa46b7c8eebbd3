#!/usr/bin/env node
// apm-oauth: get a Dynatrace or AppDynamics access token, make one authenticated call, or sign a
// Dynatrace user in, from a shell. Runs the same wasm as the library (through ../node.mjs). Node
// built-ins only. Tokens are kept in a private cache directory between runs (./token-cache.mjs).
//
// Exit codes: 0 success; 1 the request ran and failed (token refused, network, HTTP >= 400);
// 2 the command could not run as given (usage, missing or invalid configuration: nothing was sent).

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import * as lib from '../node.mjs';
import { cacheDirectory, openCache, CachedTokenStore } from './token-cache.mjs';

const { DynatraceClient, AppDynamicsClient, ApmOAuthError } = lib;
const PROGRAM = 'apm-oauth';
/** The loopback redirect URI Dynatrace's own command-line tools register. */
const DEFAULT_REDIRECT_URI = 'http://localhost:3232/auth/login';
const DEFAULT_LOGIN_TIMEOUT_MS = 300_000;
/** The library's defaults, for how long a token request can take (the lock's age limit). */
const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_RETRIES = 2;
const ACCOUNT_URN = 'urn:dtaccount:';

/** A failure the CLI reports itself: `code` is printed, `exit` is the exit code. */
class CliError extends Error {
  constructor(code, message, exit = 2) {
    super(message);
    this.code = code;
    this.exit = exit;
  }
}

/** Library error codes that mean a wrong configuration or argument, not a failed request. */
const USAGE_CODES = new Set(['invalid_config', 'invalid_argument', 'insecure_url']);

/** An argument, quoted only when it looks like a word: a misplaced secret is never echoed. */
const quote = (arg) => (/^(--?)?[a-z][\w.-]{0,29}$/i.test(arg) ? `"${arg}"` : '(not shown)');

const usage = (message) => new CliError('usage', `${message}. Run '${PROGRAM} --help'`);
const missing = (what, env, flag) => new CliError('invalid_config', `no ${what}: set ${env} or pass ${flag}`);

// ---------------------------------------------------------------------------------------------
// Help texts

const MAIN_HELP = `Usage: ${PROGRAM} <command> <vendor> [options]

Get OAuth2 tokens for Dynatrace and Cisco AppDynamics, make one authenticated API call
with them, or sign a Dynatrace user in.

Commands:
  token <vendor>           Print an access token (for Authorization: Bearer ...)
  fetch <vendor> <path>    Make one authenticated call and print the response body
  login dynatrace          Sign a user in (browser, authorization code + PKCE) and keep
                           the user's tokens in the cache
  logout [vendor]          Delete the cached tokens of a vendor (all without one)
  help [command]           Show help for a command

Vendors: dynatrace (dt), dynatrace-account (the Account Management API),
         appdynamics (appd)

Options:
  -h, --help               Show help (also: ${PROGRAM} <command> --help)
  --version                Print the version

Example:
  curl -H "Authorization: Bearer $(npx ${PROGRAM} token dynatrace)" \\
    "$DT_ENVIRONMENT/platform/management/v1/environment"

Configuration comes from environment variables (DT_*, APPD_*) or the matching flags;
'${PROGRAM} token --help' lists them. Secrets are read from the environment or stdin,
never from the command line unless --insecure-secret-arg is given.

Tokens are cached between runs in $APM_OAUTH_CACHE_DIR, else $XDG_CACHE_HOME/apm-oauth,
else ~/.cache/apm-oauth (--no-cache skips it).

Exit codes: 0 success, 1 failure (token refused, network, HTTP status >= 400),
2 usage or configuration error (nothing was sent).
`;

const CONFIG_HELP = `Dynatrace (vendor "dynatrace"):
  DT_ENVIRONMENT     --environment <url>    Environment URL, https://<id>.apps.dynatrace.com
                                            (needed by fetch)
  DT_PLATFORM_TOKEN                         A platform token (dt0s16.…), used as is: no token
                                            request, no cache; wins over the variables below
  DT_CLIENT_ID       --client-id <id>       OAuth client id, e.g. dt0s02.ABCD1234
  DT_CLIENT_SECRET                          OAuth client secret; without one, the tokens of
                                            the user signed in with '${PROGRAM} login dynatrace'
  DT_ACCOUNT_ID      --account-id <uuid>    Account UUID or urn:dtaccount:<uuid> (the resource)
  DT_TOKEN_URL       --token-url <url>      Token endpoint (default: the SSO host of the
                                            environment's stage)
  DT_SCOPE           --scope <scopes>       Scopes separated by spaces or commas; --scope
                                            may be repeated

Dynatrace Account Management API (vendor "dynatrace-account"): DT_CLIENT_ID,
DT_CLIENT_SECRET, DT_SCOPE, DT_TOKEN_URL as above, and
  DT_ACCOUNT_ID      --account-id <uuid>    The account (needed)
  DT_ACCOUNT_API_URL --account-api-url <url>  Default https://api.dynatrace.com

AppDynamics (vendor "appdynamics"):
  APPD_CONTROLLER_URL  --controller <url>     Controller URL, https://<account>.saas.appdynamics.com
  APPD_CLIENT_NAME     --client-name <name>   API client name (or <name>@<account>)
  APPD_ACCOUNT         --account <name>       Account name (on-premises: customer1)
  APPD_CLIENT_SECRET                          API client secret
  APPD_ACCESS_TOKEN                           A temporary access token from the Controller UI,
                                              used when no client secret is configured

Secret, cache and connection options:
  --client-secret-stdin       Read the client secret from stdin (its first line; on a
                              terminal, typed after a prompt and not shown)
  --client-secret <secret>    Refused unless --insecure-secret-arg is also given: a secret on
                              the command line is visible to other processes and lands in
                              shell history
  --insecure-secret-arg       Accept --client-secret anyway
  --no-cache                  Neither read nor write the token cache (APM_OAUTH_CACHE_DIR)
  --timeout-ms <ms>           Per HTTP attempt, and for fetch the longest wait for more
                              of the response body (default 30000)
  --allow-insecure-http       Allow http:// to hosts that are not loopback
  -h, --help                  Show this help
`;

const TOKEN_HELP = `Usage: ${PROGRAM} token <vendor> [options]

Print the access token followed by a newline, and nothing else on stdout. A cached token
is printed while it is fresh; otherwise one process makes the request and the others
started meanwhile wait for its token.

  --json                      Print the whole token as JSON instead:
                              {"accessToken", "tokenType", "expiresAt" (ms since the epoch,
                              null when unknown), "scope"?, "resource"?, "credentials"
                              ("platform-token", "client-credentials", "user",
                              "access-token")}

Examples:
  export DT_CLIENT_ID=dt0s02.ABCD1234 DT_CLIENT_SECRET=... DT_SCOPE="storage:logs:read"
  curl -H "Authorization: Bearer $(npx ${PROGRAM} token dynatrace)" \\
    "$DT_ENVIRONMENT/platform/management/v1/environment"
  ${PROGRAM} token appdynamics --json

${CONFIG_HELP}`;

const FETCH_HELP = `Usage: ${PROGRAM} fetch <vendor> <path> [options]

Make one authenticated call and print the response body on stdout; the status line
("HTTP 200 OK") goes to stderr. The path is resolved against DT_ENVIRONMENT,
DT_ACCOUNT_API_URL (dynatrace-account) or APPD_CONTROLLER_URL; another origin is refused.
Redirects are not followed. AppDynamics /controller/rest/ paths get output=JSON unless the
query sets output. A body that stops arriving for --timeout-ms, or is cut off, exits 1 and
none of it is printed.

  -X, --request <method>      HTTP method (default GET, or POST with -d)
  -d, --data <body>           Request body; @file reads a file, @- reads stdin. A body that
                              parses as JSON is sent with Content-Type: application/json
                              unless -H sets one
  -H, --header 'Name: value'  Extra request header; may be repeated
  --json                      Print {"status", "statusText", "headers", "body"} as JSON
                              (body parsed when the response is JSON; a body that is not
                              UTF-8 text comes as "bodyBase64" instead)

Exit codes: 0 for a status below 400, 1 for 400 and above or a failure, 2 for usage errors.

Examples:
  ${PROGRAM} fetch dynatrace /platform/management/v1/environment
  ${PROGRAM} fetch dynatrace \\
    /platform/app-engine/app-functions/v1/apps/my.app/api/calculate -d '{"a":1,"b":2}'
  DT_ACCOUNT_ID=<uuid> ${PROGRAM} fetch dynatrace-account /iam/v1/accounts/<uuid>/users
  ${PROGRAM} fetch appdynamics /controller/rest/applications

${CONFIG_HELP}`;

const LOGIN_HELP = `Usage: ${PROGRAM} login dynatrace [options]

Sign a user in with the authorization code flow and PKCE: prints the sign-in URL on stderr,
opens a browser, waits for the one redirect back to a local server on the redirect URI,
exchanges the code and keeps the user's tokens (with the refresh token) in the cache.
Afterwards 'token' and 'fetch' use them when no DT_PLATFORM_TOKEN and no client secret is
set, refreshing them as needed.

  DT_CLIENT_ID  --client-id <id>      The OAuth client registered for the redirect URI
  --redirect-uri <url>                http://localhost:PORT/PATH, as registered for the
                                      client (default ${DEFAULT_REDIRECT_URI});
                                      port 0 picks a free port (only for servers that
                                      accept any loopback port)
  DT_SCOPE      --scope <scopes>      Scopes to ask for
  DT_ENVIRONMENT --environment <url>  The environment (its stage picks the SSO hosts)
  DT_ACCOUNT_ID --account-id <uuid>   The resource to ask for
  --authorization-url <url>           Default: the stage's /oauth2/authorize
  DT_TOKEN_URL  --token-url <url>     Default: the stage's token.dynatrace.com endpoint
  --user-info-url <url>               Who signed in (default: next to the authorize URL)
  --no-browser                        Only print the URL
  --login-timeout-ms <ms>             Give up after this long (default ${DEFAULT_LOGIN_TIMEOUT_MS})
  --timeout-ms <ms>, --allow-insecure-http

'token', 'fetch' and 'logout' need the same client id, token URL, scope and account.
`;

const LOGOUT_HELP = `Usage: ${PROGRAM} logout [vendor]

Delete the cached tokens of the vendor (dynatrace also deletes dynatrace-account), or all
of them. Nothing is sent: tokens stay valid until they expire.
`;

// ---------------------------------------------------------------------------------------------
// Arguments

const VENDORS = {
  dynatrace: 'dynatrace',
  dt: 'dynatrace',
  'dynatrace-account': 'dynatrace-account',
  appdynamics: 'appdynamics',
  appd: 'appdynamics',
};

const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  'timeout-ms': { type: 'string' },
  'allow-insecure-http': { type: 'boolean' },
  'client-secret': { type: 'string' },
  'client-secret-stdin': { type: 'boolean' },
  'insecure-secret-arg': { type: 'boolean' },
  'no-cache': { type: 'boolean' },
  // Dynatrace
  environment: { type: 'string' },
  'client-id': { type: 'string' },
  'token-url': { type: 'string' },
  scope: { type: 'string', multiple: true },
  'account-id': { type: 'string' },
  'account-api-url': { type: 'string' },
  'redirect-uri': { type: 'string' },
  'authorization-url': { type: 'string' },
  // AppDynamics
  controller: { type: 'string' },
  'client-name': { type: 'string' },
  account: { type: 'string' },
};

const FETCH_OPTIONS = {
  request: { type: 'string', short: 'X' },
  data: { type: 'string', short: 'd' },
  header: { type: 'string', short: 'H', multiple: true },
};

const LOGIN_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  'timeout-ms': { type: 'string' },
  'allow-insecure-http': { type: 'boolean' },
  environment: { type: 'string' },
  'client-id': { type: 'string' },
  'token-url': { type: 'string' },
  scope: { type: 'string', multiple: true },
  'account-id': { type: 'string' },
  'redirect-uri': { type: 'string' },
  'authorization-url': { type: 'string' },
  'user-info-url': { type: 'string' },
  'no-browser': { type: 'boolean' },
  'login-timeout-ms': { type: 'string' },
};

/** Which vendor each vendor-specific flag belongs to (for "--x is an AppDynamics option"). */
const FLAG_VENDORS = {
  environment: ['dynatrace'],
  'client-id': ['dynatrace', 'dynatrace-account'],
  'token-url': ['dynatrace', 'dynatrace-account'],
  scope: ['dynatrace', 'dynatrace-account'],
  'account-id': ['dynatrace', 'dynatrace-account'],
  'redirect-uri': ['dynatrace'],
  'authorization-url': ['dynatrace'],
  'account-api-url': ['dynatrace-account'],
  controller: ['appdynamics'],
  'client-name': ['appdynamics'],
  account: ['appdynamics'],
};


function parse(args, options) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    // parseArgs names the option, never the value given to it.
    const message = String(err.message);
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw usage(`unknown option ${quote(message.match(/'([^']*)'/)?.[1] ?? '')}`);
    throw usage(message.split('\n')[0].replace(/\.$/, ''));
  }
}

function vendorOf(vendorArg) {
  if (vendorArg === undefined) throw usage('which vendor? dynatrace, dynatrace-account or appdynamics');
  const vendor = VENDORS[vendorArg.toLowerCase()];
  if (!vendor) throw usage(`unknown vendor ${quote(vendorArg)}: use dynatrace, dynatrace-account or appdynamics`);
  return vendor;
}

// ---------------------------------------------------------------------------------------------
// Configuration

/** The first non-empty value; `undefined` when none. */
function pick(...values) {
  return values.find((v) => typeof v === 'string' && v !== '');
}

/** Which credentials were used, for the hint after a refused token request (never a secret). */
let credentialsNote;

/** The vendor of the client the command made, for naming the settings behind the library's options. */
let commandVendor;

/**
 * Where the command line sets each option the library's messages name, per vendor. The messages
 * speak of the library's options ("Is controllerUrl the controller's address?"); a user of the
 * command set a variable or a flag.
 */
const DT_SETTINGS = {
  environmentUrl: 'DT_ENVIRONMENT or --environment',
  tokenUrl: 'DT_TOKEN_URL or --token-url',
  scope: 'DT_SCOPE or --scope',
  resource: 'DT_ACCOUNT_ID or --account-id',
  clientId: 'DT_CLIENT_ID or --client-id',
  clientSecret: 'DT_CLIENT_SECRET or --client-secret-stdin',
  platformToken: 'DT_PLATFORM_TOKEN',
  authorizationUrl: '--authorization-url',
  userInfoUrl: '--user-info-url',
  redirectUri: '--redirect-uri',
};
const OPTION_SETTINGS = {
  dynatrace: DT_SETTINGS,
  'dynatrace-account': {
    ...DT_SETTINGS,
    accountUuid: 'DT_ACCOUNT_ID or --account-id',
    accountApiUrl: 'DT_ACCOUNT_API_URL or --account-api-url',
  },
  appdynamics: {
    controllerUrl: 'APPD_CONTROLLER_URL or --controller',
    clientName: 'APPD_CLIENT_NAME or --client-name',
    accountName: 'APPD_ACCOUNT or --account',
    clientId: 'APPD_CLIENT_NAME (name@account)',
    clientSecret: 'APPD_CLIENT_SECRET or --client-secret-stdin',
    accessToken: 'APPD_ACCESS_TOKEN',
  },
};

/** "environmentUrl is DT_ENVIRONMENT or --environment; …" for the options `message` names, or undefined. */
function settingsNote(message) {
  const table = OPTION_SETTINGS[commandVendor];
  if (!table) return undefined;
  const named = Object.keys(table).filter((option) => new RegExp(`(?<![\\w-])${option}(?![\\w-])`).test(message));
  return named.length > 0 ? named.map((option) => `${option} is ${table[option]}`).join('; ') : undefined;
}

function noteCredentials(idLabel, id, idSource, secretSource) {
  credentialsNote = `the ${idLabel} was ${JSON.stringify(id)} (${idSource}) and the secret came from ${secretSource}`;
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * One line typed on the terminal, not echoed: the prompt goes to stderr (stdout stays the token's).
 * Enter (or Ctrl-D) ends it, Backspace and Ctrl-U edit it, Ctrl-C exits 130.
 */
function promptHidden(prompt) {
  const { stdin } = process;
  return new Promise((resolve) => {
    let text = '';
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish();
          resolve(text);
          return;
        }
        if (ch === '\u0003') {
          finish();
          process.exit(130);
        }
        if (ch === '\u007f' || ch === '\b') text = Array.from(text).slice(0, -1).join('');
        else if (ch === '\u0015') text = '';
        else if (ch >= ' ') text += ch;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
    // Once echo is off: what is typed from here on is not shown.
    process.stderr.write(prompt);
  });
}

async function clientSecret(values, env, envName) {
  const given = values['client-secret'] !== undefined;
  if (given && !values['insecure-secret-arg']) {
    throw new CliError(
      'usage',
      `--client-secret is refused: a secret on the command line is visible to other processes and stays in shell history. ` +
        `Set ${envName}, or pipe it with --client-secret-stdin (add --insecure-secret-arg to insist)`,
    );
  }
  if (given && values['client-secret-stdin']) throw usage('give either --client-secret or --client-secret-stdin, not both');
  if (given) return { secret: values['client-secret'], source: '--client-secret' };
  if (values['client-secret-stdin']) {
    if (values.data === '@-') throw usage('stdin cannot carry both the secret (--client-secret-stdin) and the body (-d @-)');
    // One line: the first (a password store's entry may hold more lines after the secret; a
    // trailing newline from `echo` or a file is not part of it). On a terminal, typed unseen.
    const secret = process.stdin.isTTY
      ? await promptHidden(`${envName.startsWith('APPD') ? 'AppDynamics API client' : 'Dynatrace OAuth client'} secret (not shown): `)
      : (await readStdin()).toString('utf8').split('\n')[0].replace(/\r$/, '');
    if (secret === '') throw new CliError('invalid_config', `--client-secret-stdin: ${process.stdin.isTTY ? 'no secret was typed' : "stdin's first line was empty"}`);
    return { secret, source: 'stdin' };
  }
  const secret = pick(env[envName]);
  return secret ? { secret, source: envName } : {};
}

function positiveInt(values, flag) {
  if (values[flag] === undefined) return undefined;
  const n = Number(values[flag]);
  // A timer cannot wait longer than 2^31 - 1 ms (about 24.8 days): a longer one fires at once.
  if (!Number.isInteger(n) || n <= 0 || n > 2147483647) throw usage(`--${flag} needs a whole number of milliseconds from 1 to 2147483647`);
  return n;
}

function commonOptions(values) {
  const options = {};
  const timeout = positiveInt(values, 'timeout-ms');
  if (timeout !== undefined) options.timeoutMs = timeout;
  if (values['allow-insecure-http']) options.allowInsecureHttp = true;
  return options;
}

/** The longest a token request can take: a lock older than this is taken over. */
function lockStaleMs(values) {
  return (MAX_RETRIES + 1) * timeoutMsOf(values) + 30_000;
}

/** The Dynatrace stage of an environment URL, for the cache key of a default token URL. */
function stageOf(environmentUrl) {
  let host = '';
  try {
    host = new URL(environmentUrl).hostname;
  } catch {
    // No or no valid environment: the library reports it where it matters.
  }
  if (/\.sprint\.(apps\.)?dynatracelabs\.com$/.test(host)) return 'sprint';
  if (/\.dev\.(apps\.)?dynatracelabs\.com$/.test(host)) return 'dev';
  return 'prod';
}

/** DT_ACCOUNT_ID as a URN; undefined when unset. */
function accountUrn(value) {
  if (value === undefined) return undefined;
  return value.startsWith(ACCOUNT_URN) ? value : `${ACCOUNT_URN}${value}`;
}

function dynatraceSettings(values, env) {
  // Space-separated as OAuth has them; commas, which no Dynatrace scope holds, separate as well
  // (a list written "a,b" was otherwise sent as one scope and refused as missing).
  const scope = (values.scope ?? [pick(env.DT_SCOPE) ?? '']).flatMap((s) => s.split(/[\s,]+/)).filter(Boolean);
  return {
    environmentUrl: pick(values.environment, env.DT_ENVIRONMENT),
    clientId: pick(values['client-id'], env.DT_CLIENT_ID),
    clientIdSource: values['client-id'] ? '--client-id' : 'DT_CLIENT_ID',
    tokenUrl: pick(values['token-url'], env.DT_TOKEN_URL),
    resource: pick(values['account-id'], env.DT_ACCOUNT_ID),
    scope,
  };
}

/** The cache (null with --no-cache or when the directory may not be used), opened once. */
function cacheFor(values, env, out) {
  if (values['no-cache']) return null;
  return openCache(cacheDirectory(env), (message) => out.stderr(`${PROGRAM}: warning: ${message}\n`));
}

/** The command's cache, opened on first use (a platform token never touches it). */
function cacheOf(ctx) {
  if (ctx.cache === undefined) ctx.cache = cacheFor(ctx.values, ctx.env, ctx.out);
  return ctx.cache;
}

/** A token store on the cache entry of these fields; undefined without a cache. */
function storeFor(ctx, vendor, fields) {
  const cache = cacheOf(ctx);
  if (!cache) return undefined;
  const entry = cache.entry(vendor, fields);
  const store = new CachedTokenStore(cache, entry, { staleMs: lockStaleMs(ctx.values), meta: { vendor, ...fields } });
  ctx.stores.push(store);
  return store;
}

/** The cache fields of a signed-in Dynatrace user's tokens (login, token, fetch, logout agree). */
function userFields(s) {
  return {
    tokenUrl: s.tokenUrl ?? `default-user:${stageOf(s.environmentUrl)}`,
    clientId: s.clientId,
    scope: s.scope.join(' '),
    resource: accountUrn(s.resource) ?? '',
    grant: 'authorization_code',
  };
}

/** The options of a DynatraceClient that signs a user in (or uses a signed-in user's tokens). */
function userClientOptions(values, s) {
  const options = { clientId: s.clientId, redirectUri: pick(values['redirect-uri']) ?? DEFAULT_REDIRECT_URI, ...commonOptions(values) };
  if (s.environmentUrl) options.environmentUrl = s.environmentUrl;
  if (s.tokenUrl) options.tokenUrl = s.tokenUrl;
  if (s.resource) options.resource = s.resource;
  if (s.scope.length > 0) options.scope = s.scope;
  const authorizationUrl = pick(values['authorization-url']);
  if (authorizationUrl) options.authorizationUrl = authorizationUrl;
  return options;
}

/** The flags of an OAuth client's token request: they contradict DT_PLATFORM_TOKEN. */
const OAUTH_FLAGS = ['client-id', 'client-secret', 'client-secret-stdin', 'scope', 'token-url', 'account-id', 'redirect-uri', 'authorization-url'];

const NO_CREDENTIALS =
  `no client secret: set DT_CLIENT_SECRET or pass --client-secret-stdin ` +
  `(or set DT_PLATFORM_TOKEN, or sign a user in with '${PROGRAM} login dynatrace')`;

async function dynatraceClient(ctx, needEnvironment) {
  const { values, env } = ctx;
  const s = dynatraceSettings(values, env);
  if (needEnvironment && !s.environmentUrl) throw missing('environment URL', 'DT_ENVIRONMENT', '--environment');
  // 1. A platform token: used as is, no token request, nothing cached.
  const platformToken = pick(env.DT_PLATFORM_TOKEN);
  if (platformToken) {
    // Variables of an OAuth client are ignored then (documented); a flag asks for one explicitly,
    // and ignoring it would hand out a token other than the one asked for.
    const flag = OAUTH_FLAGS.find((f) => values[f] !== undefined);
    if (flag) {
      throw new CliError(
        'invalid_config',
        `--${flag} asks for an OAuth token, but DT_PLATFORM_TOKEN is set and a platform token is used as it is (no token request, its own scopes). ` +
          `Unset DT_PLATFORM_TOKEN to use the OAuth client (env -u DT_PLATFORM_TOKEN ${PROGRAM} …), or leave out --${flag}`,
      );
    }
    const options = { platformToken, ...commonOptions(values) };
    if (s.environmentUrl) options.environmentUrl = s.environmentUrl;
    return { client: new DynatraceClient(options), credentials: 'platform-token' };
  }
  if (!s.clientId) throw missing('client id', 'DT_CLIENT_ID', '--client-id');
  const { secret, source } = await clientSecret(values, env, 'DT_CLIENT_SECRET');
  // 2. Client credentials.
  if (secret) {
    noteCredentials('client id', s.clientId, s.clientIdSource, source);
    const options = { clientId: s.clientId, clientSecret: secret, ...commonOptions(values) };
    if (s.environmentUrl) options.environmentUrl = s.environmentUrl;
    if (s.tokenUrl) options.tokenUrl = s.tokenUrl;
    if (s.resource) options.resource = s.resource;
    if (s.scope.length > 0) options.scope = s.scope;
    const tokenStore = storeFor(ctx, 'dynatrace', {
      tokenUrl: s.tokenUrl ?? `default:${stageOf(s.environmentUrl)}`,
      clientId: s.clientId,
      scope: s.scope.join(' '),
      resource: accountUrn(s.resource) ?? '',
      grant: 'client_credentials',
    });
    if (tokenStore) options.tokenStore = tokenStore;
    return { client: new DynatraceClient(options), credentials: 'client-credentials' };
  }
  // 3. The signed-in user's tokens from the cache.
  const fields = userFields(s);
  const cache = cacheOf(ctx);
  if (!cache || !cache.read(cache.entry('dynatrace', fields))) throw new CliError('invalid_config', NO_CREDENTIALS);
  const tokenStore = storeFor(ctx, 'dynatrace', fields);
  return { client: new DynatraceClient({ ...userClientOptions(values, s), tokenStore }), credentials: 'user' };
}

async function dynatraceAccountClient(ctx) {
  const { values, env } = ctx;
  const s = dynatraceSettings(values, env);
  if (!s.resource) throw missing('account', 'DT_ACCOUNT_ID', '--account-id');
  if (!s.clientId) throw missing('client id', 'DT_CLIENT_ID', '--client-id');
  const { secret, source } = await clientSecret(values, env, 'DT_CLIENT_SECRET');
  if (!secret) throw missing('client secret', 'DT_CLIENT_SECRET', '--client-secret-stdin');
  if (typeof lib.DynatraceAccountClient !== 'function') {
    throw new CliError('unsupported', 'this build of apm-oauth has no DynatraceAccountClient', 1);
  }
  noteCredentials('client id', s.clientId, s.clientIdSource, source);
  const urn = accountUrn(s.resource);
  const options = { accountUuid: urn.slice(ACCOUNT_URN.length), clientId: s.clientId, clientSecret: secret, ...commonOptions(values) };
  if (s.tokenUrl) options.tokenUrl = s.tokenUrl;
  if (s.scope.length > 0) options.scope = s.scope;
  const accountApiUrl = pick(values['account-api-url'], env.DT_ACCOUNT_API_URL);
  if (accountApiUrl) options.accountApiUrl = accountApiUrl;
  const tokenStore = storeFor(ctx, 'dynatrace-account', {
    tokenUrl: s.tokenUrl ?? 'default',
    clientId: s.clientId,
    scope: s.scope.join(' '),
    resource: urn,
    grant: 'client_credentials',
  });
  if (tokenStore) options.tokenStore = tokenStore;
  return { client: new lib.DynatraceAccountClient(options), credentials: 'client-credentials' };
}

async function appDynamicsClient(ctx) {
  const { values, env } = ctx;
  const controllerUrl = pick(values.controller, env.APPD_CONTROLLER_URL);
  if (!controllerUrl) throw missing('controller URL', 'APPD_CONTROLLER_URL', '--controller');
  const options = { controllerUrl, ...commonOptions(values) };
  const clientName = pick(values['client-name'], env.APPD_CLIENT_NAME);
  let accountName = pick(values.account, env.APPD_ACCOUNT);
  // A name that is already <name>@<account> carries its account: the same one given again is
  // taken once, another one is a contradiction.
  const named = clientName?.includes('@') ? clientName.slice(clientName.lastIndexOf('@') + 1) : undefined;
  if (named !== undefined && accountName) {
    if (named !== accountName) {
      throw usage(`the API client name ends with @${named}, and the account (${values.account ? '--account' : 'APPD_ACCOUNT'}) is ${accountName}: give the account once`);
    }
    accountName = undefined;
  }
  const { secret, source } = await clientSecret(values, env, 'APPD_CLIENT_SECRET');
  const accessToken = pick(env.APPD_ACCESS_TOKEN);
  if (!secret && accessToken) return { client: new AppDynamicsClient({ ...options, accessToken }), credentials: 'access-token' };
  if (!clientName) throw missing('API client name', 'APPD_CLIENT_NAME', '--client-name');
  if (!secret) throw missing('client secret', 'APPD_CLIENT_SECRET (or APPD_ACCESS_TOKEN)', '--client-secret-stdin');
  const clientId = accountName ? `${clientName}@${accountName}` : clientName;
  const idSources = [values['client-name'] ? '--client-name' : 'APPD_CLIENT_NAME'];
  if (accountName) idSources.push(values.account ? '--account' : 'APPD_ACCOUNT');
  noteCredentials('client id', clientId, idSources.join(', '), source);
  let auth;
  if (accountName) auth = { clientName, accountName, clientSecret: secret };
  else if (clientName.includes('@')) auth = { clientId: clientName, clientSecret: secret };
  else throw missing('account name (on-premises controllers use customer1)', 'APPD_ACCOUNT', '--account');
  let origin = controllerUrl;
  try {
    origin = new URL(controllerUrl).origin;
  } catch {
    // The library reports an invalid URL.
  }
  const tokenStore = storeFor(ctx, 'appdynamics', {
    tokenUrl: `${origin}/controller/api/oauth/access_token`,
    clientId,
    scope: '',
    resource: '',
    grant: 'client_credentials',
  });
  return { client: new AppDynamicsClient({ ...options, ...auth, ...(tokenStore ? { tokenStore } : {}) }), credentials: 'client-credentials' };
}

/** { client, credentials } for the vendor; token stores land in ctx.stores (released at the end). */
async function makeClient(vendorArg, ctx, needEnvironment) {
  const vendor = vendorOf(vendorArg);
  commandVendor = vendor;
  const wrong = Object.keys(FLAG_VENDORS).find((flag) => ctx.values[flag] !== undefined && !FLAG_VENDORS[flag].includes(vendor));
  if (wrong) {
    const owners = FLAG_VENDORS[wrong];
    throw usage(`--${wrong} does not apply to ${vendor}: it is an option of ${owners.join(' and ')}${owners.length === 1 ? ' only' : ''}`);
  }
  if (vendor === 'dynatrace') return dynatraceClient(ctx, needEnvironment);
  if (vendor === 'dynatrace-account') return dynatraceAccountClient(ctx);
  return appDynamicsClient(ctx);
}

/** Runs `fn(ctx)` and releases any lock a token store still holds (a failed request writes nothing). */
async function withStores(values, env, out, fn) {
  const ctx = { values, env, out, cache: undefined, stores: [] };
  try {
    return await fn(ctx);
  } finally {
    for (const store of ctx.stores) store.release();
  }
}

// ---------------------------------------------------------------------------------------------
// Commands

async function tokenCommand(args, env, out) {
  const { values, positionals } = parse(args, COMMON_OPTIONS);
  if (values.help) return out.stdout(TOKEN_HELP), 0;
  if (positionals.length > 1) throw usage(`unexpected argument ${quote(positionals[1])}`);
  return withStores(values, env, out, async (ctx) => {
    const { client, credentials } = await makeClient(positionals[0], ctx, false);
    const token = await client.getToken();
    if (values.json) {
      // Infinity (a static token of unknown expiry) has no JSON form: null.
      const json = { ...token, expiresAt: Number.isFinite(token.expiresAt) ? token.expiresAt : null, credentials };
      out.stdout(`${JSON.stringify(json, null, 2)}\n`);
    } else {
      out.stdout(`${token.accessToken}\n`);
    }
    return 0;
  });
}

async function requestBody(data) {
  if (data === undefined) return undefined;
  if (data === '@-') return readStdin();
  if (data.startsWith('@')) {
    try {
      return readFileSync(data.slice(1));
    } catch (err) {
      throw new CliError('usage', `-d ${data}: cannot read the file (${err.code || err.message})`);
    }
  }
  return data;
}

function parseHeaders(list = []) {
  const headers = new Headers();
  for (const line of list) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!name) throw usage(`-H needs 'Name: value' (got a header without a name)`);
    const value = line.slice(colon + 1).trim();
    // Headers keeps control characters that HTTP forbids (RFC 9110 field values); the request
    // would fail only as it is sent, after a token request.
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) throw usage(`-H: the value of "${name}" has a control character`);
    try {
      headers.append(name, value);
    } catch {
      throw usage(`-H: "${name}" is not a valid header`);
    }
  }
  return headers;
}

/** --timeout-ms, else the library's default. */
function timeoutMsOf(values) {
  return positiveInt(values, 'timeout-ms') ?? DEFAULT_TIMEOUT_MS;
}

/**
 * The whole response body. The client's timeout ends when the status and headers have arrived, so
 * the body gets its own: a server that sends no more of it for `idleMs` fails the command, as does a
 * connection that closes before the body is complete. Nothing of such a body is printed.
 */
async function readBody(response, status, idleMs) {
  if (!response.body) return Buffer.alloc(0);
  const origin = new URL(response.url || 'http://unknown').origin;
  const reader = response.body.getReader();
  const chunks = [];
  for (;;) {
    let timer;
    const stalled = new Promise((resolve) => (timer = setTimeout(resolve, idleMs, 'stalled')));
    let result;
    try {
      result = await Promise.race([reader.read(), stalled]);
    } catch (err) {
      const why = err?.cause?.code || err?.cause?.message || err?.message || String(err);
      throw new CliError('network', `the connection to ${origin} closed before the whole body of the answer (${status}) arrived (${why}). Try again; if it keeps happening, check the server and any proxy in between`, 1);
    } finally {
      clearTimeout(timer);
    }
    if (result === 'stalled') {
      reader.cancel().catch(() => {});
      throw new CliError('timeout', `${origin} answered ${status} but sent no more of the body for ${idleMs} ms. Try again, or allow longer (--timeout-ms)`, 1);
    }
    if (result.done) return Buffer.concat(chunks);
    chunks.push(result.value);
  }
}

function looksLikeJson(bytes) {
  try {
    JSON.parse(Buffer.from(bytes).toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

async function fetchCommand(args, env, out) {
  const { values, positionals } = parse(args, { ...COMMON_OPTIONS, ...FETCH_OPTIONS });
  if (values.help) return out.stdout(FETCH_HELP), 0;
  const [vendorArg, path, extra] = positionals;
  if (vendorArg !== undefined && path === undefined) throw usage('which path? e.g. /platform/management/v1/environment');
  if (extra !== undefined) throw usage(`unexpected argument ${quote(extra)}`);
  const headers = parseHeaders(values.header);
  const method = (values.request ?? (values.data !== undefined ? 'POST' : 'GET')).toUpperCase();
  // A method is an HTTP token (RFC 9110); anything else would fail only after a token request.
  if (!/^[!#$%&'*+.^_`|~0-9A-Z-]+$/.test(method)) throw usage('-X needs an HTTP method: one word such as GET or PATCH');
  if (values.data !== undefined && (method === 'GET' || method === 'HEAD')) throw usage(`-X ${method} cannot carry a body (-d)`);
  return withStores(values, env, out, async (ctx) => {
    // The client first: it may read the secret from stdin, and a config error should come before
    // reading a body.
    const { client } = await makeClient(vendorArg, ctx, true);
    const raw = await requestBody(values.data);
    const init = { method, headers };
    if (raw !== undefined) {
      // Strings and byte arrays can be sent again if a 401 makes the client renew its token.
      init.body = typeof raw === 'string' ? raw : new Uint8Array(raw);
      if (!headers.has('content-type') && looksLikeJson(init.body)) headers.set('content-type', 'application/json');
    }
    const response = await client.fetch(path, init);
    const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    out.stderr(`${status}\n`);
    const location = response.headers.get('location');
    if (location && response.status >= 300 && response.status < 400) out.stderr(`Location: ${location} (not followed)\n`);
    const body = await readBody(response, status, timeoutMsOf(values));
    if (values.json) {
      const envelope = { status: response.status, statusText: response.statusText, headers: Object.fromEntries(response.headers) };
      let text;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(body);
      } catch {
        // Bytes that are not UTF-8 (an image, a zip) would be mangled as text: base64 keeps them.
        envelope.bodyBase64 = body.toString('base64');
      }
      if (text !== undefined) {
        envelope.body = text;
        if (/\bjson\b/i.test(response.headers.get('content-type') ?? '')) {
          try {
            envelope.body = JSON.parse(text);
          } catch {
            // Not JSON after all: keep the text.
          }
        }
      }
      out.stdout(`${JSON.stringify(envelope, null, 2)}\n`);
    } else {
      out.stdout(body);
    }
    return response.status >= 400 ? 1 : 0;
  });
}

// ---------------------------------------------------------------------------------------------
// login / logout

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The redirect URI as a URL: http, a loopback host, a path. */
function loopbackRedirect(value) {
  let url;
  try {
    url = new URL(value);
  } catch {
    throw usage('--redirect-uri is not a URL; use http://localhost:PORT/PATH');
  }
  if (url.protocol !== 'http:' || !LOOPBACK_HOSTS.has(url.hostname) || url.hash || url.username || url.password) {
    throw usage('--redirect-uri must be http://localhost:PORT/PATH (or 127.0.0.1 / [::1]): the callback is served on this machine');
  }
  return url;
}

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, text) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
    `<body style="font-family: sans-serif; margin: 3em"><h1>${escapeHtml(title)}</h1><p id="message">${escapeHtml(text)}</p></body></html>\n`;
}

/** Listens on the redirect URI's host and port (localhost: 127.0.0.1 and, where it exists, ::1). */
async function listen(redirect, handler) {
  const hosts = redirect.hostname === 'localhost' ? ['127.0.0.1', '::1'] : [redirect.hostname.replace(/^\[|\]$/g, '')];
  let port = Number(redirect.port || 80);
  const servers = [];
  for (const [i, host] of hosts.entries()) {
    const server = createServer(handler);
    try {
      await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, resolve);
      });
    } catch (err) {
      if (i === 0) {
        for (const s of servers) s.close();
        throw new CliError('login_failed', `cannot listen on ${redirect.host} for the redirect (${err.code || err.message}); free the port or pass another --redirect-uri registered for the client`, 1);
      }
      continue; // no IPv6 loopback here
    }
    port = server.address().port;
    servers.push(server);
  }
  return {
    port,
    close() {
      for (const s of servers) {
        s.close();
        s.closeAllConnections?.();
      }
    },
  };
}

/** Opens the URL in a browser when there is one; failures are ignored (the URL is printed). */
function openBrowser(url, env) {
  let command;
  let args;
  const options = { stdio: 'ignore', detached: true };
  if (process.platform === 'darwin') [command, args] = ['open', [url]];
  else if (process.platform === 'win32') [command, args, options.windowsVerbatimArguments] = ['cmd', ['/c', 'start', '""', `"${url}"`], true];
  else if (env.DISPLAY || env.WAYLAND_DISPLAY) [command, args] = ['xdg-open', [url]];
  else return false;
  try {
    const child = spawn(command, args, options);
    child.on('error', () => {});
    child.unref();
    return true;
  } catch {
    return false;
  }
}

async function loginCommand(args, env, out) {
  const { values, positionals } = parse(args, LOGIN_OPTIONS);
  if (values.help) return out.stdout(LOGIN_HELP), 0;
  const [vendorArg, extra] = positionals;
  if (vendorArg === undefined) throw usage('which vendor? login supports dynatrace');
  if (VENDORS[vendorArg.toLowerCase()] !== 'dynatrace') throw usage(`login supports dynatrace only, not ${quote(vendorArg)}`);
  commandVendor = 'dynatrace';
  if (extra !== undefined) throw usage(`unexpected argument ${quote(extra)}`);
  const timeoutMs = positiveInt(values, 'login-timeout-ms') ?? DEFAULT_LOGIN_TIMEOUT_MS;
  const redirect = loopbackRedirect(pick(values['redirect-uri']) ?? DEFAULT_REDIRECT_URI);
  const s = dynatraceSettings(values, env);
  if (!s.clientId) throw missing('client id', 'DT_CLIENT_ID', '--client-id');
  commonOptions(values); // validates --timeout-ms before anything listens
  const cache = cacheFor(values, env, out);
  if (!cache) throw new CliError('cache_unusable', `the token cache cannot be used, so the user's tokens could not be kept: see the warning above`, 1);
  const entry = cache.entry('dynatrace', userFields(s));

  let settle;
  const done = new Promise((resolve, reject) => (settle = { resolve, reject }));
  // Settled by the redirect or the timer, perhaps before it is awaited: never unhandled.
  done.catch(() => {});
  let client;
  let busy = false;
  const server = await listen(redirect, async (req, res) => {
    const url = new URL(req.url, `http://${redirect.host}`);
    if (req.method !== 'GET' || url.pathname !== redirect.pathname || busy) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
      return;
    }
    busy = true;
    try {
      const token = await client.handleRedirect(url.href);
      if (token === null) {
        busy = false; // neither a code nor an error: not the redirect, keep waiting
        res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' }).end(page('Not signed in', 'This address expects the redirect from the sign-in page.'));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page('Signed in', 'Signed in, you can close this tab.'));
      settle.resolve();
    } catch (err) {
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page('Sign-in failed', err.message || String(err)));
      settle.reject(err);
    }
  });
  // The redirect URI with the port actually listened on (port 0 picks a free one).
  const redirectUri = new URL(redirect.href);
  redirectUri.port = String(server.port);
  const timer = setTimeout(() => {
    settle.reject(new CliError('login_timeout', `no sign-in within ${timeoutMs / 1000} s: nobody completed the sign-in page, or the browser was not redirected to ${redirectUri.origin}${redirectUri.pathname}. Run the command again (--login-timeout-ms sets the time)`, 1));
  }, timeoutMs);
  try {
    const options = userClientOptions(values, s);
    options.redirectUri = redirectUri.href;
    const userInfoUrl = pick(values['user-info-url']) ?? (options.authorizationUrl ? new URL('/sso/oauth2/userinfo', options.authorizationUrl).href : undefined);
    if (userInfoUrl) options.userInfoUrl = userInfoUrl;
    // Only the sign-in writes: the new tokens replace what the cache held.
    options.tokenStore = { get: () => null, set: (tokens) => (tokens ? cache.write(entry, { vendor: 'dynatrace', ...entry.fields, ...storedFields(tokens) }) : cache.remove(entry)) };
    client = new DynatraceClient(options);
    const url = await client.buildAuthorizationUrl();
    out.stderr(`Sign in to Dynatrace in a browser:\n\n  ${url}\n\n`);
    if (!values['no-browser'] && openBrowser(url, env)) out.stderr('(a browser was opened)\n');
    out.stderr(`Waiting for the redirect to ${redirectUri.origin}${redirectUri.pathname} …\n`);
    await done;
  } finally {
    clearTimeout(timer);
    server.close();
  }
  let who = '';
  try {
    const info = await client.userInfo();
    const name = typeof info.name === 'string' ? info.name : '';
    const email = typeof info.email === 'string' ? info.email : '';
    who = name && email ? `${name} <${email}>` : name || email;
  } catch {
    // Who it was is a nicety; the sign-in worked.
  }
  out.stderr(who ? `signed in as ${who}\n` : 'signed in\n');
  // 'token' and 'fetch' take these first (see "Which credentials"): say so now, not when they
  // print another token than the user's.
  const first = pick(env.DT_PLATFORM_TOKEN) ? 'DT_PLATFORM_TOKEN' : pick(env.DT_CLIENT_SECRET) ? 'DT_CLIENT_SECRET' : undefined;
  if (first) out.stderr(`${PROGRAM}: warning: ${first} is set: 'token' and 'fetch' use it, not the signed-in user's tokens, while it is set\n`);
  return 0;
}

/** What a cache file holds of a store's tokens. */
function storedFields(tokens) {
  const record = { accessToken: tokens.accessToken, expiresAt: tokens.expiresAt, obtainedAt: Date.now() };
  if (tokens.refreshToken) record.refreshToken = tokens.refreshToken;
  if (tokens.scope) record.scope = tokens.scope;
  return record;
}

async function logoutCommand(args, env, out) {
  const { values, positionals } = parse(args, { help: { type: 'boolean', short: 'h' } });
  if (values.help) return out.stdout(LOGOUT_HELP), 0;
  const [vendorArg, extra] = positionals;
  if (extra !== undefined) throw usage(`unexpected argument ${quote(extra)}`);
  const vendor = vendorArg === undefined ? undefined : vendorOf(vendorArg);
  const cache = cacheFor({}, env, out);
  if (!cache) throw new CliError('cache_unusable', 'the token cache cannot be used: see the warning above', 1);
  let result;
  try {
    result = cache.clear(vendor);
  } catch (err) {
    throw new CliError('cache_unusable', `the token cache directory ${cache.dir} cannot be listed (${err.code || err.message}), so nothing was removed. It must be a directory of yours with mode 0700 (chmod 700 ${cache.dir})`, 1);
  }
  const { removed, failed } = result;
  if (failed.length > 0) {
    const files = failed.map((f) => `${f.file} (${f.code})`).join(', ');
    throw new CliError(
      'cache_unusable',
      `${failed.length} cached token${failed.length === 1 ? '' : 's'} could not be removed and ${failed.length === 1 ? 'is' : 'are'} still there: ${files}` +
        `${removed > 0 ? `; ${removed} removed` : ''}. Check that ${cache.dir} is yours and writable (chmod 700), or delete the files yourself`,
      1,
    );
  }
  out.stderr(`${removed === 0 ? 'no' : removed} cached token${removed === 1 ? '' : 's'} removed${vendor ? ` for ${vendor}` : ''}\n`);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Main

function version() {
  return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
}

const HELP = { token: TOKEN_HELP, fetch: FETCH_HELP, login: LOGIN_HELP, logout: LOGOUT_HELP };

function helpFor(topic) {
  if (topic === undefined) return MAIN_HELP;
  if (Object.hasOwn(HELP, topic)) return HELP[topic];
  throw usage(`no help for ${quote(topic)}: commands are token, fetch, login and logout`);
}

/** Runs one command line; returns the exit code. `out` writes to stdout and stderr. */
async function run(argv, env, out) {
  const [command, ...rest] = argv;
  if (command === undefined) {
    out.stderr(MAIN_HELP);
    return 2;
  }
  if (command === '--help' || command === '-h') return out.stdout(MAIN_HELP), 0;
  if (command === 'help') return out.stdout(helpFor(rest[0])), 0;
  if (command === '--version' || command === '-v') return out.stdout(`${version()}\n`), 0;
  if (command === 'token') return tokenCommand(rest, env, out);
  if (command === 'fetch') return fetchCommand(rest, env, out);
  if (command === 'login') return loginCommand(rest, env, out);
  if (command === 'logout') return logoutCommand(rest, env, out);
  throw usage(command.startsWith('-') ? `unknown option ${quote(command.replace(/=.*/s, ''))}` : `unknown command ${quote(command)}: use token, fetch, login or logout`);
}

/** What is printed for a failure: never an option value, never a secret (the library's errors hold none). */
function describe(err) {
  if (err instanceof CliError) return { code: err.code, message: err.message, exit: err.exit };
  if (err instanceof ApmOAuthError) {
    let { message } = err;
    if (err.code === 'insecure_url' && /allowInsecureHttp/.test(message)) message += ' (--allow-insecure-http)';
    if (err.code === 'timeout' && /timeoutMs/.test(message)) message += ' (--timeout-ms)';
    if (err.code === 'login_required') {
      // The library's hint (call signIn()) speaks to programs: the command's way in replaces it.
      const hint = err.hint ? ` ${err.hint[0].toUpperCase()}${err.hint.slice(1)}` : '';
      if (hint && message.endsWith(hint)) message = message.slice(0, -hint.length);
      message = `${message.replace(/\.$/, '')}. Sign in again with '${PROGRAM} login dynatrace'`;
    }
    // The library checks its inputs before any IO: these codes mean the command as given cannot
    // run and nothing was sent (a usage error); every other code is a failure of the request.
    const exit = USAGE_CODES.has(err.code) ? 2 : 1;
    const fields = { code: err.code, message, exit };
    for (const key of ['hint', 'status', 'error', 'errorDescription', 'issueId', 'retryAfter']) {
      if (err[key] !== undefined) fields[key] = err[key];
    }
    return fields;
  }
  return { code: 'internal', message: err && err.message ? err.message : String(err), exit: 1 };
}

const argv = process.argv.slice(2);
const out = {
  stdout: (data) => process.stdout.write(data),
  stderr: (data) => process.stderr.write(data),
};
// A closed pipe (`apm-oauth ... | head -c 10`) is not an error worth a stack trace.
process.stdout.on('error', (err) => {
  if (err.code !== 'EPIPE') throw err;
});

try {
  process.exitCode = await run(argv, process.env, out);
} catch (err) {
  const { exit, ...fields } = describe(err);
  // Which variable or flag fed the refused credentials is the first thing to check.
  const credentials = fields.code === 'invalid_client' ? credentialsNote : undefined;
  // The library's own errors name its options; say which variable or flag sets each one here.
  const settings = err instanceof ApmOAuthError && !credentials ? settingsNote(fields.message) : undefined;
  if (argv.includes('--json')) {
    out.stderr(`${JSON.stringify({ error: { ...fields, ...(credentials ? { credentials } : {}), ...(settings ? { settings } : {}) } })}\n`);
  } else {
    out.stderr(`${PROGRAM}: ${fields.code}: ${fields.message}\n`);
    if (credentials) out.stderr(`hint: ${credentials}\n`);
    if (settings) out.stderr(`hint: here ${settings}\n`);
  }
  process.exitCode = exit;
}

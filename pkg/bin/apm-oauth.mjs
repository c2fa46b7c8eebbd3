#!/usr/bin/env node
// apm-oauth: get a Dynatrace or AppDynamics access token, or make one authenticated call, from a
// shell. Runs the same wasm as the library (through ../node.mjs). Node built-ins only.
//
// Exit codes: 0 success; 1 the request ran and failed (token refused, network, HTTP >= 400);
// 2 the command could not run as given (usage, missing or invalid configuration: nothing was sent).

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DynatraceClient, AppDynamicsClient, ApmOAuthError } from '../node.mjs';

const PROGRAM = 'apm-oauth';

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

Get OAuth2 client-credentials tokens for Dynatrace and Cisco AppDynamics, or make one
authenticated API call with them.

Commands:
  token <vendor>           Print an access token (for Authorization: Bearer ...)
  fetch <vendor> <path>    Make one authenticated call and print the response body
  help [command]           Show help for a command

Vendors: dynatrace (dt), appdynamics (appd)

Options:
  -h, --help               Show help (also: ${PROGRAM} <command> --help)
  --version                Print the version

Example:
  curl -H "Authorization: Bearer $(npx ${PROGRAM} token dynatrace)" \\
    "$DT_ENVIRONMENT/platform/management/v1/environment"

Configuration comes from the environment variables below or the matching flags
('${PROGRAM} token --help' lists them). Secrets are read from the environment or stdin,
never from the command line unless --insecure-secret-arg is given.

Exit codes: 0 success, 1 failure (token refused, network, HTTP status >= 400),
2 usage or configuration error (nothing was sent).
`;

const CONFIG_HELP = `Dynatrace (vendor "dynatrace"):
  DT_ENVIRONMENT     --environment <url>    Environment URL, https://<id>.apps.dynatrace.com
                                            (needed by fetch)
  DT_CLIENT_ID       --client-id <id>       OAuth client id, e.g. dt0s02.ABCD1234
  DT_CLIENT_SECRET                          OAuth client secret
  DT_ACCOUNT_ID      --account-id <uuid>    Account UUID or urn:dtaccount:<uuid> (the resource)
  DT_TOKEN_URL       --token-url <url>      Token endpoint (default: the SSO host of the
                                            environment's stage)
  DT_SCOPE           --scope <scopes>       Space-separated scopes; --scope may be repeated

AppDynamics (vendor "appdynamics"):
  APPD_CONTROLLER_URL  --controller <url>     Controller URL, https://<account>.saas.appdynamics.com
  APPD_CLIENT_NAME     --client-name <name>   API client name (or <name>@<account>)
  APPD_ACCOUNT         --account <name>       Account name (on-premises: customer1)
  APPD_CLIENT_SECRET                          API client secret
  APPD_ACCESS_TOKEN                           A temporary access token from the Controller UI,
                                              used when no client secret is configured

Secret and connection options:
  --client-secret-stdin       Read the client secret from stdin (one line)
  --client-secret <secret>    Refused unless --insecure-secret-arg is also given: a secret on
                              the command line is visible to other processes and lands in
                              shell history
  --insecure-secret-arg       Accept --client-secret anyway
  --timeout-ms <ms>           Per HTTP attempt (default 30000)
  --allow-insecure-http       Allow http:// to hosts that are not loopback
  -h, --help                  Show this help
`;

const TOKEN_HELP = `Usage: ${PROGRAM} token <vendor> [options]

Print the access token followed by a newline, and nothing else on stdout.

  --json                      Print the whole token as JSON instead:
                              {"accessToken", "tokenType", "expiresAt" (ms since the epoch,
                              null when unknown), "scope"?, "resource"?}

Examples:
  export DT_CLIENT_ID=dt0s02.ABCD1234 DT_CLIENT_SECRET=... DT_SCOPE="storage:logs:read"
  curl -H "Authorization: Bearer $(npx ${PROGRAM} token dynatrace)" \\
    "$DT_ENVIRONMENT/platform/management/v1/environment"
  ${PROGRAM} token appdynamics --json

${CONFIG_HELP}`;

const FETCH_HELP = `Usage: ${PROGRAM} fetch <vendor> <path> [options]

Make one authenticated call and print the response body on stdout; the status line
("HTTP 200 OK") goes to stderr. The path is resolved against DT_ENVIRONMENT or
APPD_CONTROLLER_URL; another origin is refused. Redirects are not followed. AppDynamics
/controller/rest/ paths get output=JSON unless the query sets output.

  -X, --request <method>      HTTP method (default GET, or POST with -d)
  -d, --data <body>           Request body; @file reads a file, @- reads stdin. A body that
                              parses as JSON is sent with Content-Type: application/json
                              unless -H sets one
  -H, --header 'Name: value'  Extra request header; may be repeated
  --json                      Print {"status", "statusText", "headers", "body"} as JSON
                              (body parsed when the response is JSON)

Exit codes: 0 for a status below 400, 1 for 400 and above or a failure, 2 for usage errors.

Examples:
  ${PROGRAM} fetch dynatrace /platform/management/v1/environment
  ${PROGRAM} fetch dynatrace \\
    /platform/app-engine/app-functions/v1/apps/my.app/api/calculate -d '{"a":1,"b":2}'
  ${PROGRAM} fetch appdynamics /controller/rest/applications

${CONFIG_HELP}`;

// ---------------------------------------------------------------------------------------------
// Arguments

const VENDORS = { dynatrace: 'dynatrace', dt: 'dynatrace', appdynamics: 'appdynamics', appd: 'appdynamics' };

const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  'timeout-ms': { type: 'string' },
  'allow-insecure-http': { type: 'boolean' },
  'client-secret': { type: 'string' },
  'client-secret-stdin': { type: 'boolean' },
  'insecure-secret-arg': { type: 'boolean' },
  // Dynatrace
  environment: { type: 'string' },
  'client-id': { type: 'string' },
  'token-url': { type: 'string' },
  scope: { type: 'string', multiple: true },
  'account-id': { type: 'string' },
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

const VENDOR_FLAGS = {
  dynatrace: ['environment', 'client-id', 'token-url', 'scope', 'account-id'],
  appdynamics: ['controller', 'client-name', 'account'],
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

// ---------------------------------------------------------------------------------------------
// Configuration

/** The first non-empty value; `undefined` when none. */
function pick(...values) {
  return values.find((v) => typeof v === 'string' && v !== '');
}

/** Which credentials were used, for the hint after a refused token request (never a secret). */
let credentialsNote;

function noteCredentials(idLabel, id, idSource, secretSource) {
  credentialsNote = `the ${idLabel} was ${JSON.stringify(id)} (${idSource}) and the secret came from ${secretSource}`;
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks);
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
    // One line: a trailing newline from `echo` or a file is not part of the secret.
    const secret = (await readStdin()).toString('utf8').replace(/\r?\n$/, '');
    if (secret === '') throw new CliError('invalid_config', '--client-secret-stdin: stdin was empty');
    return { secret, source: 'stdin' };
  }
  const secret = pick(env[envName]);
  return secret ? { secret, source: envName } : {};
}

function timeoutMs(values) {
  if (values['timeout-ms'] === undefined) return undefined;
  const n = Number(values['timeout-ms']);
  if (!Number.isInteger(n) || n <= 0) throw usage('--timeout-ms needs a whole number of milliseconds above 0');
  return n;
}

function commonOptions(values) {
  const options = {};
  const timeout = timeoutMs(values);
  if (timeout !== undefined) options.timeoutMs = timeout;
  if (values['allow-insecure-http']) options.allowInsecureHttp = true;
  return options;
}

async function dynatraceClient(values, env, needEnvironment) {
  const environmentUrl = pick(values.environment, env.DT_ENVIRONMENT);
  const clientId = pick(values['client-id'], env.DT_CLIENT_ID);
  const tokenUrl = pick(values['token-url'], env.DT_TOKEN_URL);
  const resource = pick(values['account-id'], env.DT_ACCOUNT_ID);
  const scope = (values.scope ?? [pick(env.DT_SCOPE) ?? ''])
    .flatMap((s) => s.split(/\s+/))
    .filter(Boolean);
  if (needEnvironment && !environmentUrl) throw missing('environment URL', 'DT_ENVIRONMENT', '--environment');
  if (!clientId) throw missing('client id', 'DT_CLIENT_ID', '--client-id');
  const { secret, source } = await clientSecret(values, env, 'DT_CLIENT_SECRET');
  if (!secret) throw missing('client secret', 'DT_CLIENT_SECRET', '--client-secret-stdin');
  noteCredentials('client id', clientId, values['client-id'] ? '--client-id' : 'DT_CLIENT_ID', source);
  const options = { clientId, clientSecret: secret, ...commonOptions(values) };
  if (environmentUrl) options.environmentUrl = environmentUrl;
  if (tokenUrl) options.tokenUrl = tokenUrl;
  if (resource) options.resource = resource;
  if (scope.length > 0) options.scope = scope;
  return new DynatraceClient(options);
}

async function appDynamicsClient(values, env) {
  const controllerUrl = pick(values.controller, env.APPD_CONTROLLER_URL);
  if (!controllerUrl) throw missing('controller URL', 'APPD_CONTROLLER_URL', '--controller');
  const options = { controllerUrl, ...commonOptions(values) };
  const clientName = pick(values['client-name'], env.APPD_CLIENT_NAME);
  const accountName = pick(values.account, env.APPD_ACCOUNT);
  const { secret, source } = await clientSecret(values, env, 'APPD_CLIENT_SECRET');
  const accessToken = pick(env.APPD_ACCESS_TOKEN);
  if (!secret && accessToken) return new AppDynamicsClient({ ...options, accessToken });
  if (!clientName) throw missing('API client name', 'APPD_CLIENT_NAME', '--client-name');
  if (!secret) throw missing('client secret', 'APPD_CLIENT_SECRET (or APPD_ACCESS_TOKEN)', '--client-secret-stdin');
  const clientId = accountName ? `${clientName}@${accountName}` : clientName;
  const idSources = [values['client-name'] ? '--client-name' : 'APPD_CLIENT_NAME'];
  if (accountName) idSources.push(values.account ? '--account' : 'APPD_ACCOUNT');
  noteCredentials('client id', clientId, idSources.join(', '), source);
  if (accountName) return new AppDynamicsClient({ ...options, clientName, accountName, clientSecret: secret });
  if (clientName.includes('@')) return new AppDynamicsClient({ ...options, clientId: clientName, clientSecret: secret });
  throw missing('account name (on-premises controllers use customer1)', 'APPD_ACCOUNT', '--account');
}

async function makeClient(vendorArg, values, env, needEnvironment) {
  if (vendorArg === undefined) throw usage('which vendor? dynatrace or appdynamics');
  const vendor = VENDORS[vendorArg.toLowerCase()];
  if (!vendor) throw usage(`unknown vendor ${quote(vendorArg)}: use dynatrace or appdynamics`);
  const other = vendor === 'dynatrace' ? 'appdynamics' : 'dynatrace';
  const wrong = VENDOR_FLAGS[other].find((flag) => values[flag] !== undefined);
  if (wrong) throw usage(`--${wrong} is ${other === 'dynatrace' ? 'a Dynatrace' : 'an AppDynamics'} option`);
  return vendor === 'dynatrace' ? dynatraceClient(values, env, needEnvironment) : appDynamicsClient(values, env);
}

// ---------------------------------------------------------------------------------------------
// Commands

async function tokenCommand(args, env, out) {
  const { values, positionals } = parse(args, COMMON_OPTIONS);
  if (values.help) return out.stdout(TOKEN_HELP), 0;
  if (positionals.length > 1) throw usage(`unexpected argument ${quote(positionals[1])}`);
  const client = await makeClient(positionals[0], values, env, false);
  const token = await client.getToken();
  if (values.json) {
    // Infinity (a static token of unknown expiry) has no JSON form: null.
    const json = { ...token, expiresAt: Number.isFinite(token.expiresAt) ? token.expiresAt : null };
    out.stdout(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    out.stdout(`${token.accessToken}\n`);
  }
  return 0;
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
    try {
      headers.append(name, line.slice(colon + 1).trim());
    } catch {
      throw usage(`-H: "${name}" is not a valid header`);
    }
  }
  return headers;
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
  if (values.data !== undefined && (method === 'GET' || method === 'HEAD')) throw usage(`-X ${method} cannot carry a body (-d)`);
  // The client first: it may read the secret from stdin, and a config error should come before
  // reading a body.
  const client = await makeClient(vendorArg, values, env, true);
  const raw = await requestBody(values.data);
  const init = { method, headers };
  if (raw !== undefined) {
    // Strings and byte arrays can be sent again if a 401 makes the client renew its token.
    init.body = typeof raw === 'string' ? raw : new Uint8Array(raw);
    if (!headers.has('content-type') && looksLikeJson(init.body)) headers.set('content-type', 'application/json');
  }
  const response = await client.fetch(path, init);
  const body = Buffer.from(await response.arrayBuffer());
  out.stderr(`HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}\n`);
  const location = response.headers.get('location');
  if (location && response.status >= 300 && response.status < 400) out.stderr(`Location: ${location} (not followed)\n`);
  if (values.json) {
    const text = body.toString('utf8');
    let parsed = text;
    if (/\bjson\b/i.test(response.headers.get('content-type') ?? '')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        // Not JSON after all: keep the text.
      }
    }
    const envelope = { status: response.status, statusText: response.statusText, headers: Object.fromEntries(response.headers), body: parsed };
    out.stdout(`${JSON.stringify(envelope, null, 2)}\n`);
  } else {
    out.stdout(body);
  }
  return response.status >= 400 ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Main

function version() {
  return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
}

function helpFor(topic) {
  if (topic === 'token') return TOKEN_HELP;
  if (topic === 'fetch') return FETCH_HELP;
  if (topic === undefined) return MAIN_HELP;
  throw usage(`no help for ${quote(topic)}: commands are token and fetch`);
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
  throw usage(command.startsWith('-') ? `unknown option ${quote(command.replace(/=.*/s, ''))}` : `unknown command ${quote(command)}: use token or fetch`);
}

/** What is printed for a failure: never an option value, never a secret (the library's errors hold none). */
function describe(err) {
  if (err instanceof CliError) return { code: err.code, message: err.message, exit: err.exit };
  if (err instanceof ApmOAuthError) {
    let { message } = err;
    if (err.code === 'insecure_url' && /allowInsecureHttp/.test(message)) message += ' (--allow-insecure-http)';
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
  if (argv.includes('--json')) {
    out.stderr(`${JSON.stringify({ error: fields })}\n`);
  } else {
    out.stderr(`${PROGRAM}: ${fields.code}: ${fields.message}\n`);
    // Which variable or flag fed the refused credentials is the first thing to check.
    if (fields.code === 'invalid_client' && credentialsNote) out.stderr(`hint: ${credentialsNote}\n`);
  }
  process.exitCode = exit;
}

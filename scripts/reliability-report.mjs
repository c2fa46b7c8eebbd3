#!/usr/bin/env node
// Runs the reliability suites and writes docs/reliability.md with the figures they produce:
// the fault matrix (one row per case), the load figures, the WHATWG URL cross-check, the
// property tests' case counts, the oidc-provider interop results and the other reliability
// suites' outcomes.
//
//   node scripts/reliability-report.mjs             # everything (one to two minutes)
//   node scripts/reliability-report.mjs --no-cargo  # without the Rust property tests
//   node scripts/reliability-report.mjs --out FILE  # write elsewhere
//
// Needs a built package (bash scripts/build.sh). Talks only to servers it starts on 127.0.0.1.

import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outFile = args.includes('--out') ? args[args.indexOf('--out') + 1] : join(root, 'docs', 'reliability.md');
const withCargo = !args.includes('--no-cargo');

const { CASES, runMatrix, unhandledRejections } = await import('../tests/reliability/matrix.mjs');
const { coldBurst, burstAcrossExpiry, burstAfterRevocation, sequentialCalls } = await import('../tests/reliability/load.mjs');
const { CLIENTS: FUZZ_CLIENTS, runUrlFuzz, DEFAULT_SEED } = await import('../tests/reliability/urlfuzz.mjs');
const { startInterop, runInterop } = await import('../tests/interop/oidc.mjs');
const { findLeaks, secretForms } = await import('../tests/reliability/hygiene.mjs');

const log = (s) => process.stderr.write(`${s}\n`);
const md = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const ms = (n) => `${Math.round(n)}`;
const startedAt = new Date();

// ---------------------------------------------------------------------------------------------
// Fault matrix and secret hygiene over it

log(`fault matrix: ${CASES.length} cases`);
const t0 = performance.now();
let matrixSecrets = [];
const rows = await runMatrix({
  onRow: (r) => log(`  ${r.problems.length ? 'FAIL' : 'ok  '} ${r.case.id}`),
  cases: CASES,
});
const matrixMs = performance.now() - t0;
{
  // The matrix emulator used its default credentials; the same for every row.
  const { DEFAULT_DT_CLIENT } = await import('../tests/emulator/dynatrace.mjs');
  const { DEFAULT_APPD_CLIENT } = await import('../tests/emulator/appdynamics.mjs');
  matrixSecrets = [...secretForms(DEFAULT_DT_CLIENT.clientSecret), ...secretForms(DEFAULT_APPD_CLIENT.clientSecret)];
}
const allTokens = [...new Set(rows.flatMap((r) => r.tokens))];
let leakCount = 0;
let inspected = 0;
for (const r of rows) {
  for (const v of [r.error, r.client].filter(Boolean)) {
    inspected += 1;
    leakCount += findLeaks(v, [...matrixSecrets, ...allTokens]).length;
  }
}

// ---------------------------------------------------------------------------------------------
// Load

log('load scenarios');
const load = [];
for (const [fn, opts] of [
  [coldBurst, { calls: 1000 }],
  [burstAcrossExpiry, { perWave: 100, gapMs: 30, leadMs: 300, wavesAfter: 3 }],
  [burstAfterRevocation, { calls: 1000 }],
  [sequentialCalls, { calls: 10_000, lifetimeS: 1, skewS: 0.1, minDurationMs: 3_000 }],
]) {
  const f = await fn(opts);
  log(`  ${f.scenario}`);
  load.push(f);
}

// ---------------------------------------------------------------------------------------------
// URL cross-check

log('URL cross-check');
const fuzz = [];
for (let i = 0; i < FUZZ_CLIENTS.length; i++) fuzz.push(await runUrlFuzz(i, { seed: DEFAULT_SEED, count: 3000 }));

// ---------------------------------------------------------------------------------------------
// Interop

log('oidc-provider interop');
const interopEnv = await startInterop();
let interop;
try {
  interop = await runInterop(interopEnv);
} finally {
  await interopEnv.close();
}

// ---------------------------------------------------------------------------------------------
// The other reliability suites, through the test runner (TAP)

log('other reliability suites');
const suiteFiles = ['tests/reliability/concurrency.test.mjs', 'tests/reliability/secret-echo.test.mjs', 'tests/reliability/exit.test.mjs'];
const suites = [];
for (const file of suiteFiles) {
  const started = performance.now();
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=tap', file], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const results = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^(not ok|ok) \d+ - (.*?)(?: # .*)?$/.exec(line);
    if (m) results.push({ ok: m[1] === 'ok', name: m[2] });
  }
  suites.push({ file, results, ms: performance.now() - started });
}

// ---------------------------------------------------------------------------------------------
// Property tests

let proptest = null;
if (withCargo) {
  log('cargo test --test proptest_core');
  const env = { ...process.env, PATH: `${os.homedir()}/.cargo/bin:${process.env.PATH}` };
  const started = performance.now();
  const r = spawnSync('cargo', ['test', '--quiet', '--test', 'proptest_core', '--', '--nocapture', '--test-threads=1'], {
    cwd: root,
    env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) proptest = { error: String(r.error.message) };
  else {
    const out = `${r.stdout}\n${r.stderr}`;
    const props = [...out.matchAll(/\[proptest\] (.+?): (\d+) cases \((\d+) ms\)/g)].map((m) => ({ name: m[1], cases: Number(m[2]), ms: Number(m[3]) }));
    const failures = [...out.matchAll(/^(.+): Test failed: (.*)\nminimal failing input: (.*)$/gm)].map((m) => ({ name: m[1].replace(/^.*panicked at [^\n]*\n/, ''), why: m[2], input: m[3] }));
    const summary = /test result: (\w+)\. (\d+) passed; (\d+) failed/.exec(out);
    const failedTests = [...out.matchAll(/^---- (\S+) stdout ----$/gm)].map((m) => m[1]);
    proptest = { props, failures, failedTests, summary: summary ? { result: summary[1], passed: Number(summary[2]), failed: Number(summary[3]) } : null, ms: performance.now() - started };
  }
}

// ---------------------------------------------------------------------------------------------
// The report

const L = [];
const p = (s = '') => L.push(s);
const passed = rows.filter((r) => r.problems.length === 0).length;
const survived = rows.filter((r) => r.workedAgain).length;
const tokenAttempts = rows.reduce((n, r) => n + r.attempts, 0);
const apiAttempts = rows.reduce((n, r) => n + r.apiAttempts, 0);
const byVendor = (v) => rows.filter((r) => r.case.vendor === v).length;

p('# Reliability');
p();
p('How apm-oauth behaves under faults, load and hostile input, measured against the vendor emulator');
p('(`tests/emulator/`), a bare HTTP server, a real OAuth 2.0 server (oidc-provider) and the WHATWG URL');
p('parser, all on 127.0.0.1. Every figure below was produced by the command at the end of this page;');
p('the suites that assert on them run in `npm test` (`tests/reliability/`, `tests/interop/`,');
p('`tests/proptest_core.rs`).');
p();
p(`Generated ${startedAt.toISOString().replace(/\.\d+Z$/, 'Z')} with Node ${process.version} on ${os.platform()} ${os.arch()} (${os.cpus().length} CPUs).`);
p();
p('## Totals');
p();
p(`- Fault cases tried: **${rows.length}** (Dynatrace ${byVendor('dynatrace')}, AppDynamics ${byVendor('appdynamics')}); outcome, attempts and recovery as expected in **${passed}**.`);
p(`- Faults survived (the same client worked again once the fault was cleared): **${survived} of ${rows.length}**.`);
p(`- Requests made by the matrix: **${tokenAttempts}** to token endpoints, **${apiAttempts}** to APIs (faulted calls only; the recovery call of each case is not counted). Matrix wall time ${(matrixMs / 1000).toFixed(1)} s.`);
p(`- Unhandled rejections during the matrix: **${unhandledRejections().length}**.`);
p(`- Secret hygiene over the matrix: ${inspected} errors and clients inspected (message, stack, own properties, \`String()\`, \`JSON.stringify\`, \`util.inspect\` with hidden fields) for the client secrets and ${allTokens.length} access tokens: **${leakCount}** leak(s).`);
p(`- Load: ${load.map((f) => `${f.calls.toLocaleString('en')} calls → ${f.tokenRequests} token request(s)`).join('; ')}.`);
p(`- URL cross-check: ${fuzz.reduce((n, f) => n + f.inputs, 0).toLocaleString('en')} adversarial inputs, **${fuzz.reduce((n, f) => n + f.problems.length, 0)}** URL(s) that left the configured origin or failed otherwise.`);
if (proptest && !proptest.error) {
  p(`- Property tests: ${proptest.props.length} properties, ${proptest.props.reduce((n, x) => n + x.cases, 0).toLocaleString('en')} cases; ${proptest.summary ? `${proptest.summary.passed} tests passed, ${proptest.summary.failed} failed` : 'no summary'}.`);
}
p(`- oidc-provider interop: ${interop.filter((r) => r.ok).length} of ${interop.length} scenarios as expected.`);
const suiteTotal = suites.reduce((n, s) => n + s.results.length, 0);
const suiteOk = suites.reduce((n, s) => n + s.results.filter((r) => r.ok).length, 0);
p(`- Cancellation, timeouts, bounded bodies, secret echoes, process exit: ${suiteOk} of ${suiteTotal} tests pass.`);
p();

p('## Fault matrix');
p();
p(`Each case: a fresh client (\`timeoutMs\` ${300} ms; \`maxRetries\` as shown, else 0), the fault injected by the`);
p('emulator (`emu.setFault`), one call (`getToken()` for token-endpoint faults, `fetch()` of the vendor\'s API');
p('otherwise), then the fault is cleared and the same client makes an API call that must succeed.');
p('"Token attempts" are requests that reached the token endpoint, as the emulator counted them (and');
p('`stats().tokenRequests` must agree). Settle time is measured, never asserted (only a generous');
p('hang guard is). AppDynamics\' extra attempts on a 400 or 401 are its content-type and Basic');
p('fallbacks (a different request form each time), not retries.');
p();
p('| # | Vendor | Where | Fault | Expected | Observed | Token attempts | Worked again | Settle (ms) | Result |');
p('|---:|---|---|---|---|---|---:|---|---:|---|');
rows.forEach((r, i) => {
  const attempts = r.attempts === r.expectedAttempts ? `${r.attempts}` : `${r.attempts} (want ${r.expectedAttempts})`;
  p(`| ${i + 1} | ${r.vendor} | ${r.place} | ${md(r.fault)} | ${md(r.expected)} | ${md(r.observed)} | ${attempts} | ${r.workedAgain ? 'yes' : '**no**'} | ${ms(r.settleMs)} | ${r.problems.length ? `**FAIL**: ${md(r.problems.join('; '))}` : 'pass'} |`);
});
p();

p('## Load');
p();
p('One Dynatrace client against the emulator, through keep-alive connections. Counts are asserted by');
p('`tests/reliability/load.test.mjs`; times are printed only.');
p();
p('| Scenario | Calls | Answers | Token requests (server) | Token requests (client) | Refreshes | 401 retries | Elapsed (ms) |');
p('|---|---:|---|---:|---:|---:|---:|---:|');
for (const f of load) {
  p(`| ${md(f.scenario)} | ${f.calls} | ${md(Object.entries(f.statuses).map(([s, n]) => `${n} × ${s}`).join(', '))} | ${f.tokenRequests} | ${f.clientTokenRequests} | ${f.refreshes ?? '–'} | ${f.unauthorizedRetries ?? '–'} | ${ms(f.elapsedMs)} |`);
}
const seq = load.find((f) => f.lifetimesElapsed !== undefined);
if (seq) {
  p();
  p(`Sequential run: ${(seq.elapsedMs / 1000).toFixed(1)} s at an effective token lifetime of ${seq.effectiveLifetimeMs} ms (lifetime 1 s, refresh 0.1 s early) is ${seq.lifetimesElapsed.toFixed(2)} lifetimes; ${seq.tokenRequests} token requests (the test accepts ⌊lifetimes⌋ to ⌈lifetimes⌉ + 1), ${seq.cacheHits.toLocaleString('en')} calls served from the cache.`);
  const burst = load.find((f) => f.callsBeforeRefreshTime !== undefined);
  if (burst) {
    p(`Burst across the refresh time: ${burst.callsBeforeRefreshTime} calls issued before it, ${burst.callsAfterRefreshTime} after. Calls that left with the old token but reached the`);
    p('server after it expired there (queued behind the burst) got a 401 and were retried with the token already renewed: the');
    p('"401 retries" column, with no further token request (a 401 only drops the token it was answered for).');
  }
  p('The sequential run renews 0.1 s before expiry rather than at expiry: with a skew of 0 the client\'s expiry (counted');
  p('from when it received the token) is a few ms later than the server\'s, and the calls in between get a 401 and a');
  p('renewal through the 401 path instead of the clock; the count of token requests is the same either way.');
}
p();

p('## URL cross-check (WHATWG)');
p();
p(`\`tests/reliability/url-fuzz.test.mjs\`: seeded adversarial paths and URLs (seed ${DEFAULT_SEED}) built from pieces such as`);
p('`//`, `\\\\`, `@`, `:`, `%2e`, tabs, newlines, NUL, full-width and ideographic dots and slashes, lone surrogates,');
p('`http://`, `javascript:`, user info, IPv6 literals and ports, passed to `client.fetch()` on clients whose `fetch`');
p('option records every URL. Every URL that reached the transport must have the configured origin for');
p('`new URL()`, and every refusal must be `insecure_url` or `invalid_argument`.');
p();
p('| Client | Inputs | Sent | `insecure_url` | `invalid_argument` | Refused although WHATWG keeps the origin | Problems |');
p('|---|---:|---:|---:|---:|---:|---:|');
for (const f of fuzz) {
  p(`| ${md(f.name)} | ${f.inputs} | ${f.tally.accepted} | ${f.tally.insecure_url} | ${f.tally.invalid_argument} | ${f.tally.whatwgSameOriginButRefused} | ${f.problems.length} |`);
}
p();
p('The library refuses more than it must (control characters anywhere, user info, backslashes in');
p('absolute URLs): the last-but-one column counts inputs a browser would have kept on the origin.');
p('A longer run: `URL_FUZZ_INPUTS=100000 URL_FUZZ_SEED=7 node --test tests/reliability/url-fuzz.test.mjs`.');
p();

p('## Property tests of the core');
p();
p('cargo-fuzz needs a nightly toolchain; the machine has the stable one, so the core is fuzzed with');
p('proptest instead (`tests/proptest_core.rs`, public `apm_oauth::core` API only): token responses');
p('(random and near-valid JSON bodies with random field types, any status and content type), error');
p('bodies, the JSON reader (arbitrary and corrupted text, deep nesting, round trip), form encoding');
p('(against a WHATWG serializer written from the standard, and a decoder), HTTP Basic per RFC 6749');
p('§2.3.1, base64, path segments, URL parsing and resolution, `Retry-After` in both forms, backoff');
p('delays, JWT expiry and message snippets. No input may panic.');
p();
if (!proptest) p('(Not run: `--no-cargo`.)');
else if (proptest.error) p(`(Could not run cargo: ${md(proptest.error)}.)`);
else {
  p('| Property | Cases | Time (ms, debug build) |');
  p('|---|---:|---:|');
  for (const x of proptest.props) p(`| ${md(x.name)} | ${x.cases} | ${x.ms} |`);
  p();
  if (proptest.summary) p(`Result: ${proptest.summary.passed} tests passed, ${proptest.summary.failed} failed${proptest.failedTests.length ? ` (${proptest.failedTests.join(', ')})` : ''}.`);
  for (const f of proptest.failures) p(`- Failing property: ${md(f.name)}: ${md(f.why)}; smallest input \`${md(f.input)}\``);
}
p();
p('Longer runs (the case counts above are the defaults, chosen to keep `cargo test` at a few seconds):');
p();
p('```sh');
p('PROPTEST_CASES=200000 cargo test --release --test proptest_core -- --nocapture');
p('PROPTEST_RNG_SEED=42 cargo test --test proptest_core -- --nocapture   # replay a seed');
p('```');
p();

p('## Interoperability with oidc-provider');
p();
p('`tests/interop/oidc-provider.test.mjs`: `OAuthClient` against oidc-provider (client credentials grant,');
p('resource indicators with a JWT and an opaque resource server) with one `client_secret_post` and one');
p('`client_secret_basic` client whose ids and secrets contain `:`, `%`, `+`, `/`, `&`, `=`, `?`, `#` and spaces');
p('(oidc-provider only registers printable-ASCII secrets, per RFC 6749 Appendix A). A resource server on');
p('127.0.0.1 accepts the tokens the way an API would: JWT signature, issuer, audience and expiry, or the');
p('opaque token looked up in the provider.');
p();
p('| Scenario | Expected | Observed | Result |');
p('|---|---|---|---|');
for (const r of interop) p(`| ${md(r.scenario)} | ${md(r.expected)} | ${md(r.observed)} | ${r.ok ? 'pass' : `**FAIL**: ${md(r.problems.join('; '))}`} |`);
p();
p('oidc-provider answers an unknown resource with `invalid_target` (HTTP 400); the client reports it as');
p('`token_error` with `error: "invalid_target"`.');
p();

p('## Cancellation, timeouts, bounded bodies, secret echoes, process exit');
p();
for (const s of suites) {
  p(`\`${s.file}\` (${(s.ms / 1000).toFixed(1)} s):`);
  p();
  for (const r of s.results) p(`- ${r.ok ? 'pass' : '**FAIL**'}: ${md(r.name)}`);
  p();
}

const failing = [
  ...rows.filter((r) => r.problems.length).map((r) => `fault matrix ${r.case.id}: ${r.problems.join('; ')}`),
  ...fuzz.filter((f) => f.problems.length).map((f) => `URL cross-check ${f.name}: ${f.problems.slice(0, 3).join('; ')}`),
  ...interop.filter((r) => !r.ok).map((r) => `interop ${r.scenario}: ${r.problems.join('; ')}`),
  ...suites.flatMap((s) => s.results.filter((r) => !r.ok).map((r) => `${s.file}: ${r.name}`)),
  ...(proptest && proptest.failedTests ? proptest.failedTests.map((t) => `property test ${t}`) : []),
];
p('## Open problems');
p();
if (failing.length === 0) p('None: every case, scenario and test above passed.');
else for (const f of failing) p(`- ${md(f)}`);
p();

p('## Regenerate');
p();
p('```sh');
p('bash scripts/build.sh                 # if src/ changed');
p('node scripts/reliability-report.mjs   # runs everything above and rewrites docs/reliability.md');
p('```');
p();

mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, `${L.join('\n')}\n`);
log(`wrote ${relative(process.cwd(), outFile)} (${failing.length} open problem(s))`);

// The benchmark suite: per-request overhead, cold start, burst and memory of apm-oauth next to
// plain fetch and three other OAuth2 clients, against the vendor emulator on loopback. Prints
// figures as it goes and writes BENCHMARKS.md at the repository root. Figures only: nothing
// here asserts a time.
//
//   npm run bench                      # bash bench/run.sh: installs, builds, then this
//   BENCH_N=2000 node bench/bench.mjs  # a quick run
//
// Environment: BENCH_N (requests per round, default 20000), BENCH_ROUNDS (5), BENCH_COLD
// (spawns per cold start, 20), BENCH_BURST (concurrent calls, 1000), BENCH_MEM_N (requests of
// the memory run, 100000), BENCH_OUT (report path, default BENCHMARKS.md), BENCH_PKG (a built
// package directory to measure instead of pkg/, e.g. to compare two builds).
import { fork, spawnSync, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import os from 'node:os';
import * as badgatewayLib from '@badgateway/oauth2-client';
import * as oauth4webapiLib from 'oauth4webapi';
import * as openidClientLib from 'openid-client';
import * as clients from './clients.mjs';
import { median } from './rounds.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const env = (name, dflt) => {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : dflt;
};
const N = env('BENCH_N', 20_000);
const ROUNDS = env('BENCH_ROUNDS', 5);
const COLD = env('BENCH_COLD', 20);
const BURST = env('BENCH_BURST', 1_000);
const MEM_N = env('BENCH_MEM_N', 100_000);
const OUT = process.env.BENCH_OUT ? resolve(process.env.BENCH_OUT) : join(root, 'BENCHMARKS.md');
// BENCH_PKG: another built package directory to measure instead of pkg/ (to compare builds).
const PKG = process.env.BENCH_PKG ? resolve(process.env.BENCH_PKG) : join(root, 'pkg');
const apm = await import(pathToFileURL(join(PKG, 'node.mjs')).href);
const started = new Date();
const t0 = performance.now();

const fmt = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(d));
const mb = (b) => (b / (1024 * 1024)).toFixed(2);
const log = (...a) => console.log(...a);

// ---------------------------------------------------------------------------------------------
// The emulator, in its own process.
const child = fork(join(here, 'emulator-child.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const emu = await new Promise((resolve, reject) => {
  child.once('message', resolve);
  child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
});
let nextId = 0;
const ask = (cmd) =>
  new Promise((resolve) => {
    const id = ++nextId;
    const onMessage = (m) => {
      if (m.id === id) {
        child.off('message', onMessage);
        resolve(m);
      }
    };
    child.on('message', onMessage);
    child.send({ cmd, id });
  });
const tokenCount = async () => (await ask('counters')).counters.sso.token;

// ---------------------------------------------------------------------------------------------
// 1. Per-request overhead with a cached token: N sequential GETs per library per round. A round
// is cut in slices of SLICE calls, and the libraries take turns slice by slice (in an order that
// rotates), so that a burst of load from elsewhere on the machine hits every library alike.
const SLICE = Math.min(500, N);
async function rounds(libs, label, afterWarmUp = async () => {}) {
  for (const lib of libs) {
    for (let i = 0; i < Math.min(1000, N); i++) await lib.call(); // warm up: JIT, connections, token
    lib.rounds = [];
  }
  await afterWarmUp();
  for (let r = 0; r < ROUNDS; r++) {
    const spent = libs.map(() => 0);
    for (let done = 0, s = 0; done < N; done += SLICE, s++) {
      const n = Math.min(SLICE, N - done);
      for (let k = 0; k < libs.length; k++) {
        const j = (k + r + s) % libs.length;
        const start = performance.now();
        for (let i = 0; i < n; i++) await libs[j].call();
        spent[j] += performance.now() - start;
      }
    }
    libs.forEach((lib, j) => lib.rounds.push((spent[j] * 1000) / N));
    log(`  ${label} round ${r + 1}/${ROUNDS}: ${libs.map((l) => `${l.name} ${fmt(l.rounds.at(-1))} µs`).join(', ')}`);
  }
  const base = median(libs[0].rounds);
  return libs.map((l) => ({
    name: l.name,
    us: median(l.rounds),
    min: Math.min(...l.rounds),
    max: Math.max(...l.rounds),
    ratio: median(l.rounds) / base,
  }));
}

log(`overhead: ${N} sequential requests x ${ROUNDS} rounds per library`);
const overheadLibs = [
  await clients.plainFetch(emu),
  await clients.plainFetchTimeout(emu),
  await clients.apmOauth(emu, apm),
  await clients.badgateway(emu, badgatewayLib),
  await clients.oauth4webapiCached(emu, oauth4webapiLib),
  await clients.openidClientCached(emu, openidClientLib),
];
const overhead = await rounds(overheadLibs, 'loopback', () => ask('zero'));
const overheadTokenRequests = await tokenCount();
const plainUs = overhead[0].us;
for (const l of overheadLibs) l.close?.();

// 1b. The same calls with the network taken away: the global fetch answers at once from memory,
// so the figures are each library's own CPU time per call (the ratio above mixes it with the
// server's and the socket's time).
log(`client CPU: ${N} calls x ${ROUNDS} rounds per library against an in-memory fetch`);
const realFetch = globalThis.fetch;
const tokenBody = JSON.stringify({ access_token: 'in-memory-token', token_type: 'Bearer', expires_in: 3600, scope: clients.SCOPES.join(' ') });
const envBody = '{"environmentId":"bench","state":"ACTIVE"}';
globalThis.fetch = async (input) => {
  const url = typeof input === 'string' ? input : (input.url ?? String(input));
  const body = url.includes('/oauth2/token') ? tokenBody : envBody;
  return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
};
const cpuLibs = [
  await clients.plainFetch(emu),
  await clients.plainFetchTimeout(emu),
  await clients.apmOauth(emu, apm),
  await clients.badgateway(emu, badgatewayLib),
  await clients.oauth4webapiCached(emu, oauth4webapiLib),
  await clients.openidClientCached(emu, openidClientLib),
];
const cpu = await rounds(cpuLibs, 'in-memory');
for (const l of cpuLibs) l.close?.();
globalThis.fetch = realFetch;

// ---------------------------------------------------------------------------------------------
// 3. Burst: BURST concurrent calls on a cold cache, each library used idiomatically.
log(`burst: ${BURST} concurrent calls on a cold cache`);
const burstFactories = [
  [clients.apmOauth, apm, 'DynatraceClient.fetch: one token request shared by every waiting call'],
  [clients.badgateway, badgatewayLib, 'OAuth2Fetch.fetch: refreshToken() keeps one request in flight'],
  [clients.oauth4webapiIdiomatic, oauth4webapiLib, 'no cache in the library: clientCredentialsGrantRequest + processClientCredentialsResponse, then protectedResourceRequest, per call'],
  [clients.openidClientIdiomatic, openidClientLib, 'no cache in the library: clientCredentialsGrant, then fetchProtectedResource, per call'],
];
// The connection pool is shared: whichever library ran first would pay for opening BURST sockets.
// An unmeasured burst of plain fetch opens them for everyone; plain fetch (with a token already
// in hand) is then measured as the floor.
const burst = [];
{
  const plain = await clients.plainFetch(emu);
  await Promise.all(Array.from({ length: BURST }, () => plain.call()));
  await ask('zero');
  const start = performance.now();
  const results = await Promise.allSettled(Array.from({ length: BURST }, () => plain.call()));
  const ms = performance.now() - start;
  const ok = results.filter((x) => x.status === 'fulfilled').length;
  burst.push({ name: 'plain fetch', tokens: await tokenCount(), ms, ok, how: 'a token fetched beforehand, the same Authorization header on every call (floor)' });
  log(`  plain fetch: ${fmt(ms, 0)} ms, ${ok}/${BURST} succeeded`);
}
for (const [factory, lib, how] of burstFactories) {
  await ask('zero');
  const c = await factory(emu, lib);
  const start = performance.now();
  const results = await Promise.allSettled(Array.from({ length: BURST }, () => c.call()));
  const ms = performance.now() - start;
  const tokens = await tokenCount();
  const ok = results.filter((x) => x.status === 'fulfilled').length;
  c.close?.();
  burst.push({ name: c.name.replace(/ \(no cache\)/, ''), tokens, ms, ok, how });
  log(`  ${c.name}: ${tokens} token requests, ${fmt(ms, 0)} ms, ${ok}/${BURST} succeeded`);
}

// ---------------------------------------------------------------------------------------------
// 4. Memory: one client, MEM_N requests, heap after GC every quarter, in a fresh process.
log(`memory: ${MEM_N} requests with one apm-oauth client`);
const memOut = execFileSync(
  process.execPath,
  ['--expose-gc', join(here, 'memory.mjs'), JSON.stringify({ pkg: PKG, urls: emu.urls, credentials: emu.credentials, total: MEM_N, every: Math.max(1, Math.floor(MEM_N / 4)), concurrency: 10 })],
  { encoding: 'utf8', maxBuffer: 1 << 20 },
);
const memory = JSON.parse(memOut.trim().split('\n').at(-1));
for (const s of memory.samples) {
  log(`  ${s.requests}: heapUsed ${mb(s.heapUsed)} MB, rss ${mb(s.rss)} MB, wasm memory ${mb(s.wasmMemory)} MB, table slots ${s.wasmTableSlots}`);
}

await ask('close');
child.disconnect();

// ---------------------------------------------------------------------------------------------
// 2. Cold start: process start to a usable client, median of COLD spawns (nothing else running).
log(`cold start: median of ${COLD} spawns each`);
const deno = join(root, 'node_modules/.bin/deno');
const coldCases = [
  ['Node', 'runtime alone', process.execPath, ['cold/empty.mjs']],
  ['Node', 'apm-oauth (node.mjs: import + wasm compile + instantiate + new DynatraceClient)', process.execPath, ['cold/apm-node.mjs']],
  ['Node', '@badgateway/oauth2-client (import + OAuth2Client + OAuth2Fetch)', process.execPath, ['cold/badgateway.mjs']],
  ['Node', 'oauth4webapi (import + metadata)', process.execPath, ['cold/oauth4webapi.mjs']],
  ['Node', 'openid-client (import + Configuration)', process.execPath, ['cold/openid-client.mjs']],
  ['Deno', 'runtime alone', deno, ['run', '--quiet', 'cold/empty.mjs']],
  ['Deno', 'apm-oauth (web.js: import + wasm fetch + instantiate + new DynatraceClient)', deno, ['run', '--quiet', '--allow-read', 'cold/apm-web.mjs']],
];
const cold = [];
for (const [runtime, name, cmd, args] of coldCases) {
  const runOnce = () => {
    const s = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { cwd: here, encoding: 'utf8', env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' } });
    const wall = Number(process.hrtime.bigint() - s) / 1e6;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
    return { wall, ready: JSON.parse(r.stdout.trim().split('\n').at(-1)).readyMs };
  };
  runOnce(); // warm the file cache (and Deno's module cache)
  const runs = Array.from({ length: COLD }, runOnce);
  const row = { runtime, name, ready: median(runs.map((x) => x.ready)), wall: median(runs.map((x) => x.wall)) };
  cold.push(row);
  log(`  ${runtime} ${name}: ready at ${fmt(row.ready)} ms, process ${fmt(row.wall)} ms`);
}

// ---------------------------------------------------------------------------------------------
// The report.
const version = (p) => JSON.parse(readFileSync(join(here, 'node_modules', p, 'package.json'), 'utf8')).version;
const denoVersion = (() => {
  try {
    return execFileSync(deno, ['--version'], { encoding: 'utf8' }).split('\n')[0].replace(/^deno /, '');
  } catch {
    return 'n/a';
  }
})();
const cpus = os.cpus();
const pkgVersion = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8')).version;
const wasmBytes = statSync(join(PKG, 'dist/nodejs/apm_oauth_bg.wasm')).size;
const gitRev = (() => {
  try {
    return execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'n/a';
  }
})();

const apmOver = overhead.find((o) => o.name === 'apm-oauth');
const anchorsOver = overhead.filter((o) => !['apm-oauth', 'plain fetch', clients.PLAIN_TIMEOUT].includes(o.name));
const bestAnchor = anchorsOver.reduce((a, b) => (a.us <= b.us ? a : b));
const nodeCold = cold.filter((c) => c.runtime === 'Node');
const apmCold = nodeCold.find((c) => c.name.startsWith('apm-oauth'));
const anchorCold = nodeCold.filter((c) => !c.name.startsWith('apm-oauth') && c.name !== 'runtime alone');
const fastestAnchorCold = anchorCold.reduce((a, b) => (a.wall <= b.wall ? a : b));
const nodeFloor = nodeCold.find((c) => c.name === 'runtime alone').wall;
const apmBurst = burst.find((b) => b.name === 'apm-oauth');
const single = burst.filter((b) => b.tokens === 1).map((b) => b.name);
// plain fetch is the floor, not an anchor.
const first = memory.samples[0];
const last = memory.samples.at(-1);
// A leak raises every later sample; GC noise makes them go up and down. So growth is judged from
// the warm sample (after the first quarter) to the lower of the last two.
const late = memory.samples.slice(-2).map((x) => x.heapUsed);
const heapGrowth = Math.min(...late) - memory.samples[Math.min(1, memory.samples.length - 1)].heapUsed;
const mid = memory.samples[Math.min(1, memory.samples.length - 1)];
const wasmGrowth = last.wasmMemory - mid.wasmMemory;
const tableGrowth = last.wasmTableSlots - mid.wasmTableSlots;
const MEM_LIMIT = 2 * 1024 * 1024;
const met = (b) => (b ? '**met**' : '**not met**');

const goals = [
  [
    'Per-request overhead within 5 % of plain fetch',
    met(apmOver.ratio <= 1.05),
    `apm-oauth ${fmt(apmOver.us)} µs vs plain fetch ${fmt(plainUs)} µs: ${fmt((apmOver.ratio - 1) * 100)} % (own CPU per call, 1b: ${fmt(cpu.find((o) => o.name === 'apm-oauth').us - cpu[0].us)} µs above plain fetch; plain fetch with a timeout signal: ${fmt((overhead.find((o) => o.name === clients.PLAIN_TIMEOUT).ratio - 1) * 100)} %)`,
  ],
  [
    'Overhead no worse than any anchor',
    met(apmOver.us <= bestAnchor.us),
    `fastest anchor: ${bestAnchor.name} ${fmt(bestAnchor.us)} µs`,
  ],
  [
    'Cold start (Node) within 2× of the fastest anchor',
    met(apmCold.wall <= 2 * fastestAnchorCold.wall),
    `process start to exit with a client: apm-oauth ${fmt(apmCold.wall)} ms vs ${fastestAnchorCold.name.split(' (')[0]} ${fmt(fastestAnchorCold.wall)} ms (${fmt(apmCold.wall / fastestAnchorCold.wall, 2)}×); above the bare runtime: ${fmt(apmCold.wall - nodeFloor)} ms vs ${fmt(fastestAnchorCold.wall - nodeFloor)} ms`,
  ],
  [
    `Exactly one token request for a burst of ${BURST}`,
    met(apmBurst.tokens === 1),
    `apm-oauth: ${apmBurst.tokens}; anchors with one: ${single.filter((n) => n !== 'apm-oauth').join(', ') || 'none'}`,
  ],
  [
    `Flat memory over ${MEM_N} requests`,
    met(heapGrowth < MEM_LIMIT && wasmGrowth <= 0 && tableGrowth <= 0),
    `heapUsed ${heapGrowth >= 0 ? '+' : ''}${mb(heapGrowth)} MB from the warm sample (after the first quarter) to the lower of the last two (limit +${mb(MEM_LIMIT)} MB; ${mb(first.heapUsed)} MB at the start, ${mb(last.heapUsed)} MB at the end); wasm memory ${mb(first.wasmMemory)} → ${mb(last.wasmMemory)} MB; externref table ${first.wasmTableSlots} → ${last.wasmTableSlots} slots (neither may grow after the first quarter)`,
  ],
];

// Columns whose header is in `left` are text (left-aligned); the others are figures.
const table = (head, rows, left = [head[0]]) =>
  [`| ${head.join(' | ')} |`, `|${head.map((h) => (left.includes(h) ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

const md = `# Benchmarks

Produced by \`npm run bench\` (\`bash bench/run.sh\` → \`node bench/bench.mjs\`), which writes this file.
Figures, not assertions: they vary from run to run and machine to machine, and none of them is a test.

- Date: ${started.toISOString().replace(/\.\d+Z$/, 'Z')} (run took ${fmt((performance.now() - t0) / 1000, 0)} s)
- Command: \`npm run bench\`${process.env.BENCH_N || process.env.BENCH_ROUNDS || process.env.BENCH_COLD || process.env.BENCH_BURST || process.env.BENCH_MEM_N ? ` with ${['BENCH_N', 'BENCH_ROUNDS', 'BENCH_COLD', 'BENCH_BURST', 'BENCH_MEM_N'].filter((k) => process.env[k]).map((k) => `${k}=${process.env[k]}`).join(' ')}` : ''}
- Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${fmt(os.totalmem() / 1024 ** 3, 1)} GiB memory, ${os.type()} ${os.release()} ${os.arch()}
- Versions: Node ${process.version}, Deno ${denoVersion}, apm-oauth ${pkgVersion} (${PKG === join(root, 'pkg') ? `pkg/ built from commit ${gitRev}` : PKG}, Node wasm ${wasmBytes} bytes), @badgateway/oauth2-client ${version('@badgateway/oauth2-client')}, oauth4webapi ${version('oauth4webapi')}, openid-client ${version('openid-client')}
- Server: the project's vendor emulator (\`tests/emulator\`: Dynatrace SSO + environment) on 127.0.0.1, in its own Node process so that its CPU time is not counted as the client's. On a 2-core machine client and server still share the CPU, so absolute times include some contention; the ratios are what to compare.

## Goals

| Goal | Status | Figures |
|---|---|---|
${goals.map((g) => `| ${g.join(' | ')} |`).join('\n')}

## 1. Per-request overhead with a cached token

${N} sequential keep-alive \`GET /platform/management/v1/environment\` per library per round, body
read, ${ROUNDS} rounds after ${Math.min(1000, N)} warm-up calls each; median of the rounds. Within a round the
libraries take turns every ${SLICE} calls, in a rotating order, so that load from elsewhere on the
machine falls on all of them alike.
The baseline is plain \`fetch\` with a fixed \`Authorization\` header. oauth4webapi and openid-client have
no token cache, so their token was fetched once and kept by hand. Token requests during the
measured rounds: ${overheadTokenRequests}. "${clients.PLAIN_TIMEOUT}" is plain fetch that can time
out as every apm-oauth call can (its own \`AbortController\` signal and a timer): not an anchor,
it shows what a cancellable timeout costs the runtime's fetch itself.

${table(
  ['Client', 'µs / request (median)', 'min – max of rounds', 'ratio to plain fetch'],
  overhead.map((o) => [o.name, fmt(o.us), `${fmt(o.min)} – ${fmt(o.max)}`, `${fmt(o.ratio, 3)}×`]),
)}

### 1b. Client CPU per call (in-memory fetch)

The same sequential calls with the global \`fetch\` replaced by one that answers at once from
memory (a new \`Response\` per call): what each library itself costs per call, without the
network and the server.

${table(
  ['Client', 'µs / call (median)', 'min – max of rounds', 'µs above plain fetch'],
  cpu.map((o) => [o.name, fmt(o.us), `${fmt(o.min)} – ${fmt(o.max)}`, o.name === 'plain fetch' ? '–' : fmt(o.us - cpu[0].us)]),
)}

## 2. Cold start

A process that imports the library, constructs a client and exits; median of ${COLD} spawns (one
unmeasured spawn first warms the file and module caches). "process" is spawn to exit as seen by the
parent, the figure the goal is judged on; "above the bare runtime" subtracts the same runtime
running an empty module. "ready" is \`performance.now()\` when the client exists: in Node that counts
from process start, in Deno from when the runtime finished booting, so compare it within a runtime
only.

${table(
  ['Runtime', 'What', 'process (ms)', 'above the bare runtime (ms)', 'ready (ms)'],
  cold.map((c) => {
    const floor = cold.find((x) => x.runtime === c.runtime && x.name === 'runtime alone').wall;
    return [c.runtime, c.name, fmt(c.wall), c.name === 'runtime alone' ? '–' : fmt(c.wall - floor), fmt(c.ready)];
  }),
  ['Runtime', 'What'],
)}

## 3. Burst on a cold cache

${BURST} calls started at once on a new client; token requests counted by the emulator's SSO. An
unmeasured burst of plain fetch first opens the ${BURST} keep-alive connections that every library then
reuses (otherwise the first library measured would pay for them).

${table(
  ['Client', 'token requests', 'wall time (ms)', 'succeeded', 'how it was used'],
  burst.map((b) => [b.name, String(b.tokens), fmt(b.ms, 0), `${b.ok}/${BURST}`, b.how]),
  ['Client', 'how it was used'],
)}

## 4. Memory

One apm-oauth client, ${MEM_N} requests (${memory.concurrency} at a time) after 200 warm-up calls, in a
fresh \`node --expose-gc\` process; each sample after three \`gc()\` calls. "wasm memory" is the
byte length of the module's \`WebAssembly.Memory\`; "table slots" is the length of its tables
(JS values held by the wasm side live in one). Client stats at the end: ${JSON.stringify(memory.stats)}.

${table(
  ['Requests', 'heapUsed (MB)', 'RSS (MB)', 'external (MB)', 'wasm memory (MB)', 'table slots'],
  memory.samples.map((s) => [String(s.requests), mb(s.heapUsed), mb(s.rss), mb(s.external), mb(s.wasmMemory), String(s.wasmTableSlots)]),
)}
`;
writeFileSync(OUT, md);
log(`wrote ${relative(process.cwd(), OUT)}`);

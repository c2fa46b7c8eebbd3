// Memory of one apm-oauth client over many requests. Run by bench.mjs as
//   node --expose-gc bench/memory.mjs '<json { pkg, urls, credentials, total, every, concurrency }>'
// and prints one JSON line: samples of heapUsed (after GC), RSS, the wasm linear memory and the
// wasm tables (externref slots) at 0, every, 2*every, ... total requests.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');

// The Node build does not expose its WebAssembly instance; catch it as it is created to read the
// size of its linear memory and tables.
const instances = [];
const Instance = WebAssembly.Instance;
WebAssembly.Instance = function (module, imports) {
  const i = new Instance(module, imports);
  instances.push(i);
  return i;
};
const { pkg, urls, credentials, total, every, concurrency } = JSON.parse(process.argv[2]);
const { DynatraceClient } = await import(pkg ? pathToFileURL(join(pkg, 'node.mjs')).href : '../pkg/node.mjs');
WebAssembly.Instance = Instance;

const exportsOf = instances[0]?.exports ?? {};
const memory = Object.values(exportsOf).find((v) => v instanceof WebAssembly.Memory);
const tables = Object.values(exportsOf).filter((v) => v instanceof WebAssembly.Table);

const client = new DynatraceClient({
  clientId: credentials.dynatrace.clientId,
  clientSecret: credentials.dynatrace.clientSecret,
  environmentUrl: urls.dynatrace,
  tokenUrl: urls.ssoToken,
});

async function sample(done) {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  const m = process.memoryUsage();
  return {
    requests: done,
    heapUsed: m.heapUsed,
    rss: m.rss,
    external: m.external,
    wasmMemory: memory ? memory.buffer.byteLength : null,
    wasmTableSlots: tables.map((t) => t.length).reduce((a, b) => a + b, 0),
  };
}

const samples = [];
let done = 0;
samples.push(await sample(0));
const one = async () => {
  const res = await client.fetch('/platform/management/v1/environment');
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
};
// Warm up first, so that the 0 sample already includes the connection pool and JIT state.
for (let i = 0; i < 200; i++) await one();
samples[0] = await sample(0);
while (done < total) {
  const batch = Math.min(concurrency, total - done);
  await Promise.all(Array.from({ length: batch }, one));
  done += batch;
  if (done % every === 0) samples.push(await sample(done));
}
const stats = client.stats();
client.free();
console.log(JSON.stringify({ samples, stats, concurrency }));

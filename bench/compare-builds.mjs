// Client CPU per cached-token call of two builds of the package, in one process, against an
// in-memory fetch (a new Response per call), with plain fetch as the floor. For judging a change
// to the hot path: build the old commit's pkg/ into a copy first, e.g.
//
//   git stash; bash scripts/build.sh; cp -r pkg /tmp/pkg-old; git stash pop; bash scripts/build.sh
//   node bench/compare-builds.mjs /tmp/pkg-old pkg
//
// Prints the median µs per call of 8 rounds of 20,000 calls each; the three take turns in a
// rotating order, so that load from elsewhere falls on all of them alike. Figures, not a test.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median, timeRounds } from './rounds.mjs';

const [a, b] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: node bench/compare-builds.mjs <old pkg dir> <new pkg dir>');
  process.exit(2);
}
const load = (dir) => import(pathToFileURL(resolve(dir, 'node.mjs')).href);
const [A, B] = [await load(a), await load(b)];
const tokenBody = JSON.stringify({ access_token: 'in-memory-token', token_type: 'Bearer', expires_in: 3600 });
globalThis.fetch = async (input) => {
  const url = typeof input === 'string' ? input : String(input.url ?? input);
  return new Response(url.includes('/token') ? tokenBody : '{"a":1}', { status: 200, headers: { 'content-type': 'application/json' } });
};
const drain = async (r) => {
  await r.arrayBuffer();
  return r.status;
};
const client = (M) => {
  const c = new M.DynatraceClient({
    clientId: 'dt0s02.X',
    clientSecret: 'dt0s02.X.SECRETSECRET',
    environmentUrl: 'https://abc.apps.dynatrace.com',
    tokenUrl: 'https://sso.example.com/sso/oauth2/token',
  });
  return () => c.fetch('/platform/x').then(drain);
};
const runs = [
  ['plain fetch', () => fetch('https://abc/x', { headers: { authorization: 'Bearer t' } }).then(drain)],
  [`old (${a})`, client(A)],
  [`new (${b})`, client(B)],
];
const times = await timeRounds(runs, { calls: 20_000, rounds: 8, warmup: 2000 });
for (const [name, t] of times) {
  console.log(`${name.padEnd(40)} ${median(t).toFixed(2)} µs/call   rounds ${t.map((x) => x.toFixed(1)).join(' ')}`);
}

// What a cancellable per-call timeout costs the platform's fetch over loopback, step by step,
// next to apm-oauth's cached-token call: plain fetch; with its own AbortController signal and a
// timer (as every apm-oauth call has); with the headers as a Headers object; with
// redirect: "manual" (as apm-oauth sends the token); then apm-oauth itself. The server is a
// one-route Node server on 127.0.0.1 in its own process.
//
//   node bench/timeout-cost.mjs            # against pkg/
//
// Prints the median µs per call of 6 rounds of 4,000 calls each, taking turns in a rotating
// order. Figures, not a test.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median, timeRounds } from './rounds.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const server = `
  const http = require('node:http');
  const token = JSON.stringify({ access_token: 'tok', token_type: 'Bearer', expires_in: 3600 });
  const body = JSON.stringify({ environmentId: 'abc12345', state: 'ACTIVE' });
  const s = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url.startsWith('/token') ? token : body);
    });
  });
  s.keepAliveTimeout = 60000;
  s.listen(0, '127.0.0.1', () => console.log(s.address().port));
`;
const child = spawn(process.execPath, ['-e', server], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((r) => child.stdout.once('data', (d) => r(Number(String(d).trim()))));
const base = `http://127.0.0.1:${port}`;
const { OAuthClient } = await import(pathToFileURL(join(root, 'pkg/node.mjs')).href);

const drain = async (r) => {
  await r.arrayBuffer();
  return r.status;
};
const url = `${base}/platform/x`;
const headers = { authorization: 'Bearer tok' };
const withTimeout = (init) => async () => {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 30_000);
  try {
    return await fetch(url, { ...init(), signal: ctl.signal }).then(drain);
  } finally {
    clearTimeout(timer);
  }
};
const client = new OAuthClient({ tokenUrl: `${base}/token`, clientId: 'c', clientSecret: 's', baseUrl: base });
await client.getToken();
const runs = [
  ['plain fetch', () => fetch(url, { headers }).then(drain)],
  ['+ timeout signal', withTimeout(() => ({ headers }))],
  ['+ timeout signal + Headers', withTimeout(() => ({ headers: new Headers(headers) }))],
  ['+ timeout signal + Headers + manual', withTimeout(() => ({ headers: new Headers(headers), redirect: 'manual' }))],
  ['apm-oauth', () => client.fetch('/platform/x').then(drain)],
];
let times;
try {
  times = await timeRounds(runs, { calls: 4000, rounds: 6, warmup: 1000 });
} finally {
  client.free();
  child.kill();
}
const floor = median(times.get('plain fetch'));
for (const [name, t] of times) {
  const m = median(t);
  console.log(`${name.padEnd(38)} ${m.toFixed(1)} µs  ${(m / floor).toFixed(3)}×   rounds ${t.map((x) => x.toFixed(0)).join(' ')}`);
}

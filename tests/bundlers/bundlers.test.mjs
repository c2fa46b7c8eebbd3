// A consumer app (tests/bundlers/app) importing the packed apm-oauth, bundled with esbuild and
// with Vite, each served from a static server on 127.0.0.1 and run in headless Chromium against
// the emulator. Asserts the page shows the emulator's environment and that exactly one token
// request was made.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build as esbuild } from 'esbuild';
import { build as viteBuild } from 'vite';
import { chromium } from 'playwright-core';
import { startEmulator } from '../emulator/index.mjs';
import { packInto, installInto } from '../pack/scratch.mjs';

const APP_DIR = fileURLToPath(new URL('./app/', import.meta.url));
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'];

let dir;
let project;
let emu;
let browser;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'apm-oauth-bundlers-'));
  const { tarball } = await packInto(dir);
  project = join(dir, 'app');
  await installInto(project, tarball, { type: 'module' });
  for (const file of ['main.js', 'index.html']) copyFileSync(join(APP_DIR, file), join(project, file));
  emu = await startEmulator();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  await emu?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => emu.reset());

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm' };

/** Serves `root` (and the page's settings at /config.json) on 127.0.0.1. */
async function serve(root) {
  const config = JSON.stringify({
    clientId: emu.credentials.dynatrace.clientId,
    clientSecret: emu.credentials.dynatrace.clientSecret,
    environmentUrl: emu.urls.dynatrace,
    tokenUrl: emu.urls.ssoToken,
  });
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (path === '/config.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(config);
    }
    const file = normalize(join(root, path === '/' ? 'index.html' : path));
    const type = TYPES[extname(file)];
    if (!file.startsWith(root + sep) || !type) {
      res.writeHead(404);
      return res.end();
    }
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': type });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () => new Promise((resolve) => {
      server.close(resolve);
      server.closeAllConnections();
    }),
  };
}

/** Opens the served app; resolves with the text it wrote and every URL the page requested. */
async function runInChromium(root) {
  const server = await serve(root);
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const requested = [];
    const errors = [];
    page.on('request', (r) => requested.push(r.url()));
    page.on('pageerror', (e) => errors.push(e.message));
    // A wasm that fails to load rejects the module graph before main.js runs: that shows up as
    // a page error, not as a state change, so wait for either.
    const failed = new Promise((resolve) => page.once('pageerror', resolve));
    await page.goto(server.url);
    await Promise.race([
      page.waitForFunction(() => document.getElementById('out').dataset.state !== 'loading', null, { timeout: 30_000 }),
      failed,
    ]);
    const state = await page.getAttribute('#out', 'data-state');
    const text = await page.textContent('#out');
    return { state, text, requested, errors };
  } finally {
    await context.close();
    await server.close();
  }
}

function files(root) {
  return readdirSync(root, { recursive: true })
    .map((f) => join(root, f))
    .filter((f) => statSync(f).isFile());
}

function sizes(root) {
  const out = { js: 0, jsGzip: 0, wasm: 0, wasmGzip: 0 };
  for (const file of files(root)) {
    const kind = { '.js': 'js', '.wasm': 'wasm' }[extname(file)];
    if (!kind) continue;
    const bytes = readFileSync(file);
    out[kind] += bytes.length;
    out[`${kind}Gzip`] += gzipSync(bytes, { level: 9 }).length;
  }
  return out;
}

const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;

function assertPageWorked(result) {
  assert.deepEqual(result.errors, []);
  assert.equal(result.state, 'done', result.text);
  assert.match(result.text, /environment abc12345\b/);
  assert.match(result.text, /1 \+ 2 = 3\b/);
  assert.match(result.text, /token requests 1$/);
  assert.equal(emu.counters.sso.token, 1, 'exactly one token request reached the emulator');
  assert.equal(emu.counters.dynatrace.api, 2);
  for (const url of result.requested) assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\//, `only loopback requests: ${url}`);
}

test('esbuild bundle (browser condition, ESM, minified) runs in Chromium', async (t) => {
  const out = join(dir, 'out-esbuild');
  const result = await esbuild({
    entryPoints: [join(project, 'main.js')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    minify: true,
    outdir: out,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs).map((p) => p.split(sep).join('/'));
  assert.ok(inputs.some((p) => p.endsWith('node_modules/apm-oauth/web.js')), `web.js bundled: ${inputs}`);
  assert.ok(!inputs.some((p) => /node\.(mjs|cjs)$|dist\/nodejs\//.test(p)), `no Node entry bundled: ${inputs}`);
  // esbuild keeps `new URL('./dist/web/apm_oauth_bg.wasm', import.meta.url)` as written; once
  // bundled, import.meta.url is the bundle's URL, so the wasm must sit at that path beside it.
  const bundle = readFileSync(join(out, 'main.js'), 'utf8');
  assert.ok(bundle.includes('./dist/web/apm_oauth_bg.wasm'), 'the wasm URL survives bundling');
  mkdirSync(join(out, 'dist/web'), { recursive: true });
  copyFileSync(join(project, 'node_modules/apm-oauth/dist/web/apm_oauth_bg.wasm'), join(out, 'dist/web/apm_oauth_bg.wasm'));
  copyFileSync(join(project, 'index.html'), join(out, 'index.html'));

  const page = await runInChromium(out);
  assertPageWorked(page);
  assert.ok(page.requested.some((u) => u.endsWith('/dist/web/apm_oauth_bg.wasm')));
  const s = sizes(out);
  t.diagnostic(`esbuild: JS ${kb(s.js)} (gzip ${kb(s.jsGzip)}), wasm ${kb(s.wasm)} (gzip ${kb(s.wasmGzip)})`);
});

test('Vite build (new URL asset handled by Vite) runs in Chromium', async (t) => {
  const out = join(dir, 'out-vite');
  await viteBuild({
    root: project,
    configFile: false,
    logLevel: 'silent',
    build: { outDir: out, emptyOutDir: true },
  });
  const emitted = files(out).map((f) => relative(out, f).split(sep).join('/'));
  const wasm = emitted.filter((f) => f.endsWith('.wasm'));
  assert.equal(wasm.length, 1, `one wasm asset emitted: ${emitted}`);
  assert.ok(!emitted.some((f) => f.includes('nodejs')), `no Node build emitted: ${emitted}`);

  const page = await runInChromium(out);
  assertPageWorked(page);
  assert.ok(page.requested.some((u) => u.endsWith(`/${wasm[0]}`)), 'the page loaded the emitted wasm');
  const s = sizes(out);
  t.diagnostic(`vite: JS ${kb(s.js)} (gzip ${kb(s.jsGzip)}), wasm ${kb(s.wasm)} (gzip ${kb(s.wasmGzip)})`);
});

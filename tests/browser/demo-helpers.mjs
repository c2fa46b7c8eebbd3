// Shared by the demo page's browser tests and the README screenshot script: launching Debian's
// Chromium with playwright-core, opening the page, the vendor flows and the sign-in as a user runs
// them, and a static server for the test pages under tests/browser/pages/.

import { existsSync, createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic',
];

export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the browser tests need Debian's Chromium; run \`bash scripts/setup-browser.sh\``);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

/**
 * A new page (in its own context) on the demo, ready: package loaded, fields prefilled. Console
 * messages and page errors are collected into `page.messages` (strings); `observe(page)` runs
 * before the page loads. Close it with `page.context().close()`.
 */
export async function openDemo(browser, url, { width = 1280, height = 900, deviceScaleFactor = 1, observe } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor });
  const page = await context.newPage();
  // Fail fast: every step here takes well under a second.
  page.setDefaultTimeout(15_000);
  page.messages = [];
  page.on('console', (msg) => page.messages.push(`console.${msg.type()}: ${msg.text()}`));
  page.on('pageerror', (err) => page.messages.push(`pageerror: ${err.stack || err.message}`));
  if (observe) observe(page);
  await page.goto(url);
  await page.waitForSelector('body[data-ready=yes]');
  return page;
}

/** The texts of a panel's timeline rows of one kind ("token", "api", "cache", ...). */
export async function timelineRows(page, prefix, kind) {
  return page.locator(`#${prefix}-timeline li[data-kind=${kind}]`).allTextContents();
}

/** A panel's summary counter ("tokenRequests", "cacheHits", "apiCalls", ...). */
export async function summaryStat(page, prefix, stat) {
  return Number(await page.locator(`#${prefix}-summary [data-stat=${stat}]`).textContent());
}

/** Wait until the panel's timeline holds `count` finished rows of `kind`. */
export async function waitForFinishedRows(page, prefix, kind, count) {
  await page.waitForFunction(
    ([p, k, n]) => document.querySelectorAll(`#${p}-timeline li[data-kind=${k}][data-status]`).length >= n,
    [prefix, kind, count],
  );
}

/** Dynatrace: Get token, Call platform API, Call app function. Returns what the page showed. */
export async function dynatraceFlow(page) {
  await page.click('#dt-get-token');
  await page.waitForSelector('#dt-token:not([hidden]) [data-field=type]');
  const token = {
    type: await page.textContent('#dt-token [data-field=type]'),
    scope: await page.textContent('#dt-token [data-field=scope]'),
    expires: await page.textContent('#dt-token [data-field=expires]'),
    redacted: await page.textContent('#dt-token [data-field=token]'),
    claims: await page.textContent('#dt-token [data-field=jwt-claims]'),
  };

  await page.click('#dt-call-api');
  await page.waitForSelector('#dt-result:not([hidden]) [data-field=status]');
  await page.waitForFunction(() => document.querySelector('#dt-result h3')?.textContent.includes('/platform/management'));
  const api = {
    status: await page.textContent('#dt-result [data-field=status]'),
    body: await page.textContent('#dt-result [data-field=body]'),
  };

  await page.click('#dt-call-function');
  await page.waitForFunction(() => document.querySelector('#dt-result h3')?.textContent.includes('app function'));
  const fn = {
    status: await page.textContent('#dt-result [data-field=status]'),
    body: await page.textContent('#dt-result [data-field=body]'),
  };
  return { token, api, fn };
}

/** AppDynamics: Get token, List applications. Returns the token view and the table's rows. */
export async function appdynamicsFlow(page) {
  await page.click('#appd-get-token');
  await page.waitForSelector('#appd-token:not([hidden]) [data-field=type]');
  const token = {
    type: await page.textContent('#appd-token [data-field=type]'),
    expires: await page.textContent('#appd-token [data-field=expires]'),
    redacted: await page.textContent('#appd-token [data-field=token]'),
  };
  await page.click('#appd-list-apps');
  await page.waitForSelector('#appd-apps:not([hidden]) tbody tr');
  const rows = await page.$$eval('#appd-apps tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
  return { token, rows };
}

/**
 * "Sign in with Dynatrace" on the demo page: the panel's button, the emulator's login page at
 * `ssoUrl`, its `#sign-in` (or `#deny`) button, and back on `pageUrl`, the page ready again.
 */
export async function dynatraceSignIn(page, { ssoUrl, pageUrl, button = '#sign-in' }) {
  await page.click('#dts-sign-in');
  await page.waitForURL((u) => u.href.startsWith(`${ssoUrl}/oauth2/authorize`));
  await page.waitForSelector('form#login');
  await page.click(button);
  await page.waitForURL((u) => u.href.startsWith(pageUrl));
  await page.waitForSelector('body[data-ready=yes]');
}

const STATIC_TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

/**
 * A static server of the repository's files on 127.0.0.1 (test pages under tests/browser/pages/
 * import `/pkg/web.js` from it). Resolves to `{ url, close }`; `url` ends with `/`.
 */
export async function startStaticServer() {
  const root = path.resolve(fileURLToPath(new URL('../../', import.meta.url)));
  const server = http.createServer(async (req, res) => {
    const pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = path.resolve(root, `.${pathname}`);
    const ok = file.startsWith(root + path.sep) && (await stat(file).then((s) => s.isFile(), () => false));
    if (!ok) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    res.writeHead(200, { 'content-type': STATIC_TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

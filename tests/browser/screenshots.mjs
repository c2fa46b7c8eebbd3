// Regenerates the README screenshots of the demo page, docs/demo-dynatrace.png,
// docs/demo-appdynamics.png and docs/demo-signin.png, against the emulator: node tests/browser/screenshots.mjs
// (pkg/ must be built: bash scripts/build.sh). Not a test: the test writes to test-artifacts/.

import { fileURLToPath } from 'node:url';
import { startDemoServer } from '../../scripts/serve.mjs';
import { launchBrowser, openDemo, dynatraceFlow, appdynamicsFlow, dynatraceSignIn, waitForFinishedRows } from './demo-helpers.mjs';

const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));

const browser = await launchBrowser();
const server = await startDemoServer({ port: 0 });
try {
  const page = await openDemo(browser, server.url, { width: 1280, height: 900 });
  // The sign-in first: it leaves the page and comes back, which resets the other panels.
  await dynatraceSignIn(page, { ssoUrl: server.emu.urls.sso, pageUrl: server.url });
  await page.click('#dts-call-api');
  await waitForFinishedRows(page, 'dts', 'api', 2);
  // The server drops the token: a 401, a refresh token grant, the call retried.
  server.emu.expireTokens();
  await page.click('#dts-call-api');
  await waitForFinishedRows(page, 'dts', 'api', 4);
  await page.click('#dts-whoami');
  await waitForFinishedRows(page, 'dts', 'api', 5);
  await page.waitForFunction(() => document.querySelector('#dts-result h3')?.textContent.includes('Who am I'));
  await dynatraceFlow(page);
  // Two more platform calls: the timeline then shows the cached token at work.
  await page.click('#dt-call-api');
  await page.click('#dt-call-api');
  await waitForFinishedRows(page, 'dt', 'api', 4);
  await page.click('#dt-call-function');
  await waitForFinishedRows(page, 'dt', 'api', 5);
  await appdynamicsFlow(page);
  // The whole timeline, not its scrolled tail.
  await page.evaluate(() => document.querySelectorAll('.events').forEach((list) => { list.style.maxHeight = 'none'; }));
  // No hover or focus left on the last button pressed.
  await page.mouse.move(0, 0);
  await page.evaluate(() => document.activeElement?.blur());
  await page.locator('#dt').screenshot({ path: `${DOCS}demo-dynatrace.png` });
  await page.locator('#appd').screenshot({ path: `${DOCS}demo-appdynamics.png` });
  await page.locator('#dts').screenshot({ path: `${DOCS}demo-signin.png` });
  process.stdout.write(`wrote ${DOCS}demo-dynatrace.png, ${DOCS}demo-appdynamics.png and ${DOCS}demo-signin.png\n`);
} finally {
  await browser.close();
  await server.close();
}

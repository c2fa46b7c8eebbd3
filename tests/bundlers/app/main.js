// A consumer app as a user writes it: a bare import of the package, resolved by the bundler
// through the "browser" export condition (web.js, which instantiates the wasm itself).
// The page's server hands out the settings (config.json), so the bundle holds no credentials.
import { DynatraceClient } from 'apm-oauth';

const out = document.getElementById('out');

async function main() {
  const config = await (await fetch('./config.json')).json();
  const client = new DynatraceClient({
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    environmentUrl: config.environmentUrl,
    tokenUrl: config.tokenUrl,
    scope: ['app-engine:apps:run'],
  });
  const environment = await (await client.fetch('/platform/management/v1/environment')).json();
  const sum = await (await client.callAppFunction('my.emulator.app', 'calculate', { a: 1, b: 2 })).json();
  out.textContent = `environment ${environment.environmentId}, 1 + 2 = ${sum.result}, token requests ${client.stats().tokenRequests}`;
  out.dataset.state = 'done';
}

main().catch((err) => {
  out.textContent = `failed: ${err.code ?? err.name}: ${err.message}`;
  out.dataset.state = 'failed';
});

// A process that used the library must end by itself once its own work is done: no timer of a
// per-attempt timeout, a backoff or a Retry-After wait, and no abort listener, may outlive the
// call it served. Each scenario runs in a child process (fixtures/exit-check.mjs) that never
// calls process.exit; it reports the timers still active, and it must exit well before the
// longest wait the library could have left behind (25 s).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('./fixtures/exit-check.mjs', import.meta.url));
const LIMIT_MS = 12_000;

function runChild(scenario) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FIXTURE, scenario], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const started = Date.now();
    const timer = setTimeout(() => child.kill('SIGKILL'), LIMIT_MS);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      let report = null;
      try {
        report = JSON.parse(out.trim().split('\n').at(-1));
      } catch {}
      resolve({ code, signal, report, stderr: err, ms: Date.now() - started });
    });
  });
}

const SCENARIOS = {
  mixed: ['HTTP 200', 'HTTP 200', 'aborted', 'timeout', 'token_error', 'ok', 'aborted'],
  'abort-during-retry-after': ['aborted'],
  'abort-during-backoff': ['aborted'],
};

for (const [scenario, expected] of Object.entries(SCENARIOS)) {
  test(`the process exits by itself after: ${scenario}`, async () => {
    const r = await runChild(scenario);
    assert.ok(r.report, `no report from the child (exit ${r.code}, ${r.signal}): ${r.stderr.slice(0, 500)}`);
    assert.deepEqual(r.report.results, expected);
    if (r.report.timersAtSettle !== null) {
      assert.equal(r.report.timersAtSettle, 0, `${r.report.timersAtSettle} timer(s) still active when the aborted call settled`);
    }
    assert.equal(r.report.timers, 0, `${r.report.timers} timer(s) still active after every call settled and the servers closed`);
    assert.equal(r.signal, null, `the child did not exit by itself within ${LIMIT_MS} ms`);
    assert.equal(r.code, 0, r.stderr.slice(0, 500));
  });
}

// The fault matrix (cases in matrix.mjs) against the vendor emulator, both vendors, token
// endpoint and API; then secret hygiene over every error and client the matrix made, and over
// every console line printed while it ran.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CASES, VENDORS, runCase, startMatrixEmulator, installRejectionTrap, unhandledRejections } from './matrix.mjs';
import { captureConsole, findLeaks, describeLeaks, secretForms } from './hygiene.mjs';

let emu;
let capture;
const rows = [];
const tokens = new Set();

function needles() {
  const out = [];
  if (emu) for (const v of Object.values(VENDORS)) out.push(...secretForms(v.secret(emu)));
  for (const t of tokens) out.push(t);
  return out;
}

before(async () => {
  installRejectionTrap();
  emu = await startMatrixEmulator();
  capture = captureConsole(needles);
});

after(async () => {
  capture.restore();
  await emu.close();
});

for (const c of CASES) {
  test(`${c.id}: ${c.fault} → ${c.expected}`, async () => {
    const row = await runCase(emu, c);
    rows.push(row);
    for (const t of row.tokens) tokens.add(t);
    assert.deepEqual(row.problems, [], row.problems.join('\n'));
  });
}

test('the matrix ran every case and made no unhandled rejection', () => {
  assert.equal(rows.length, CASES.length);
  assert.equal(unhandledRejections().length, 0);
  const survived = rows.filter((r) => r.workedAgain).length;
  console.log(`[matrix] ${rows.length} cases, ${survived} clients worked again after their fault, ${rows.reduce((n, r) => n + r.attempts, 0)} token-endpoint attempts`);
});

test('no secret or token in any error or client of the matrix', () => {
  // Each error and client is checked against every secret and every token the matrix saw.
  const all = needles();
  assert.ok(tokens.size >= CASES.length, `expected a token per case at least, saw ${tokens.size}`);
  const problems = [];
  let errors = 0;
  for (const row of rows) {
    if (row.error) {
      errors += 1;
      problems.push(...describeLeaks(findLeaks(row.error, all), `${row.case.id} error`));
    }
    problems.push(...describeLeaks(findLeaks(row.client, all), `${row.case.id} client`));
  }
  assert.ok(errors >= 30, `the matrix should produce errors to inspect (got ${errors})`);
  assert.deepEqual(problems, []);
});

test('no secret or token in any console line printed during the matrix', () => {
  const all = needles();
  const leaking = capture.lines.filter((line) => all.some((n) => line.includes(n)));
  assert.equal(leaking.length, 0, `${leaking.length} console line(s) hold a secret or token`);
});

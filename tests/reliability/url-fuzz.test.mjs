// The library's URL rules cross-checked against the real WHATWG parser: a few thousand
// adversarial paths and URLs (seeded, so a failure can be replayed) are passed to client.fetch()
// on clients whose transport is a recorder. Every URL that reaches the transport for an API call
// must have, for `new URL()`, exactly the configured origin; every refused input must be refused
// with insecure_url or invalid_argument, and nothing else may happen (no panic, no other error).
// URL_FUZZ_SEED and URL_FUZZ_INPUTS change the seed and the number of inputs per client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLIENTS, DEFAULT_SEED, recorderClient, runUrlFuzz } from './urlfuzz.mjs';

const SEED = Number(process.env.URL_FUZZ_SEED || DEFAULT_SEED);
const INPUTS_PER_CLIENT = Number(process.env.URL_FUZZ_INPUTS || 3000);

for (const [i, spec] of CLIENTS.entries()) {
  test(`WHATWG cross-check: ${spec.name} (seed ${SEED}, ${INPUTS_PER_CLIENT} inputs)`, async () => {
    const r = await runUrlFuzz(i, { seed: SEED, count: INPUTS_PER_CLIENT });
    const t = r.tally;
    console.log(`[url fuzz] ${spec.name}: ${r.inputs} inputs, ${t.accepted} sent, ${t.insecure_url} insecure_url, ${t.invalid_argument} invalid_argument, ${t.whatwgSameOriginButRefused} refused although WHATWG keeps the origin (the rules are stricter on purpose), ${r.tokenCalls} token request(s)`);
    assert.deepEqual(r.problems.slice(0, 20), [], `${r.problems.length} problem(s)`);
    assert.ok(t.accepted > r.inputs / 10, 'the generator should produce many accepted inputs');
    assert.ok(t.insecure_url > r.inputs / 10, 'the generator should produce many refused inputs');
    assert.equal(r.tokenCalls, 1);
  });
}

test('non-string inputs are refused with invalid_argument', async () => {
  const { client, calls } = recorderClient(CLIENTS[0].make, CLIENTS[0].tokenUrl);
  for (const input of [undefined, null, 42, {}, [], new Request('https://api.example.com/x'), Symbol.iterator]) {
    const r = await client.fetch(input).then(() => null, (e) => e);
    assert.equal(r?.code, 'invalid_argument', `${String(typeof input)} input`);
  }
  const ok = await client.fetch(new URL('https://api.example.com/from-url-object?x=1'));
  assert.equal(ok.status, 200);
  assert.equal(calls.at(-1).url, 'https://api.example.com/from-url-object?x=1');
  const refused = await client.fetch(new URL('https://evil.example/x')).then(() => null, (e) => e);
  assert.equal(refused?.code, 'insecure_url');
});

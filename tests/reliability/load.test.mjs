// Load: one token request for a cold burst, one refresh for a burst across the refresh time,
// one new token for a burst after the server revoked the token, and one token per lifetime over
// 10,000 sequential calls. Assertions are on counts; elapsed times are printed, not asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coldBurst, burstAcrossExpiry, burstAfterRevocation, sequentialCalls, formatFigures } from './load.mjs';

test('1,000 concurrent fetch calls on a cold cache make exactly 1 token request', async () => {
  const f = await coldBurst({ calls: 1000 });
  console.log(formatFigures(f));
  assert.deepEqual(f.statuses, { 200: 1000 });
  assert.equal(f.tokenRequests, 1);
  assert.equal(f.clientTokenRequests, 1);
  assert.equal(f.apiRequests, 1000);
});

test('waves of 100 calls across the refresh time make exactly 1 refresh', async () => {
  const f = await burstAcrossExpiry({ perWave: 100, gapMs: 30, leadMs: 300, wavesAfter: 3 });
  console.log(formatFigures(f));
  assert.deepEqual(f.statuses, { 200: f.calls });
  assert.ok(f.callsBeforeRefreshTime > 0 && f.callsAfterRefreshTime > 0, 'the burst should straddle the refresh time');
  assert.equal(f.tokenRequests, 1, 'token requests seen by the server during the burst');
  assert.equal(f.clientTokenRequests, 1);
  assert.equal(f.refreshes, 1);
});

test('1,000 concurrent calls after the server revoked the token make exactly 1 new token request', async () => {
  const f = await burstAfterRevocation({ calls: 1000 });
  console.log(formatFigures(f));
  assert.deepEqual(f.statuses, { 200: 1000 });
  assert.equal(f.tokenRequests, 1);
  assert.equal(f.clientTokenRequests, 1);
  assert.equal(f.unauthorizedRetries, 1000);
  assert.equal(f.apiRequests, 2000);
});

test('10,000 sequential calls make one token request per token lifetime', async () => {
  const f = await sequentialCalls({ calls: 10_000, lifetimeS: 1, skewS: 0.1, minDurationMs: 3_000 });
  console.log(formatFigures(f));
  assert.ok(f.calls >= 10_000);
  assert.deepEqual(f.statuses, { 200: f.calls });
  // A token is fetched at the start and then once per effective lifetime elapsed.
  const low = Math.floor(f.lifetimesElapsed);
  const high = Math.ceil(f.lifetimesElapsed) + 1;
  assert.ok(f.tokenRequests >= low && f.tokenRequests <= high, `${f.tokenRequests} token requests for ${f.lifetimesElapsed.toFixed(2)} lifetimes, want ${low}..${high}`);
  assert.equal(f.clientTokenRequests, f.tokenRequests);
  assert.ok(f.lifetimesElapsed >= 2, 'the run should span several lifetimes');
  assert.equal(f.cacheHits + f.tokenRequests, f.calls + f.unauthorizedRetries);
});

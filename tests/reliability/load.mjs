// Load scenarios, shared by load.test.mjs (which asserts on the figures) and the report. Each
// returns plain figures: calls made, token requests counted by the emulator and by the client,
// and the elapsed time (printed, never asserted on).

import { DynatraceClient } from '../../pkg/node.mjs';
import { startEmulator } from '../emulator/index.mjs';

const PATH = '/platform/management/v1/environment';

function dynatrace(emu, options = {}) {
  const c = emu.credentials.dynatrace;
  return new DynatraceClient({
    clientId: c.clientId,
    clientSecret: c.clientSecret,
    environmentUrl: emu.urls.dynatrace,
    tokenUrl: emu.urls.ssoToken,
    ...options,
  });
}

async function statusOf(promise) {
  const res = await promise;
  await res.arrayBuffer();
  return res.status;
}

function tally(statuses) {
  const out = {};
  for (const s of statuses) out[s] = (out[s] || 0) + 1;
  return out;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** `calls` concurrent fetch calls on a cold cache. */
export async function coldBurst({ calls = 1000 } = {}) {
  const emu = await startEmulator({ tokenLifetimeSeconds: 300 });
  try {
    const client = dynatrace(emu);
    const t0 = performance.now();
    const statuses = await Promise.all(Array.from({ length: calls }, () => statusOf(client.fetch(PATH))));
    const elapsedMs = performance.now() - t0;
    return {
      scenario: `${calls} concurrent fetch calls on a cold cache`,
      calls,
      statuses: tally(statuses),
      tokenRequests: emu.counters.sso.token,
      clientTokenRequests: client.stats().tokenRequests,
      apiRequests: emu.counters.dynatrace.api,
      elapsedMs,
    };
  } finally {
    await emu.close();
  }
}

/**
 * A burst that runs across the token's refresh time: lifetime 3 s, refreshSkewSeconds 1, so the
 * client refreshes at 2 s while the server still accepts the old token until 3 s, and the new
 * token is not due before 2 s more (room for a slow machine). Waves of `perWave` concurrent
 * calls, `gapMs` apart, from `leadMs` before the refresh time until `wavesAfter` waves have gone
 * out after it.
 */
export async function burstAcrossExpiry({ perWave = 100, gapMs = 30, leadMs = 300, wavesAfter = 3 } = {}) {
  const lifetimeS = 3;
  const skewS = 1;
  const emu = await startEmulator({ tokenLifetimeSeconds: lifetimeS });
  try {
    const client = dynatrace(emu, { refreshSkewSeconds: skewS });
    const token = await client.getToken();
    const refreshAt = token.expiresAt - skewS * 1000;
    const before = { token: emu.counters.sso.token, stats: client.stats() };
    await sleep(Math.max(0, refreshAt - Date.now() - leadMs));
    const t0 = performance.now();
    const pending = [];
    let beforeRefresh = 0;
    let afterRefresh = 0;
    let waves = 0;
    while (afterRefresh < wavesAfter * perWave && waves < 100) {
      if (Date.now() < refreshAt) beforeRefresh += perWave;
      else afterRefresh += perWave;
      for (let i = 0; i < perWave; i++) pending.push(statusOf(client.fetch(PATH)));
      waves += 1;
      await sleep(gapMs);
    }
    const statuses = await Promise.all(pending);
    const elapsedMs = performance.now() - t0;
    const after = client.stats();
    return {
      scenario: `${waves * perWave} calls in ${waves} waves across the refresh time (lifetime ${lifetimeS} s, skew ${skewS} s)`,
      calls: waves * perWave,
      callsBeforeRefreshTime: beforeRefresh,
      callsAfterRefreshTime: afterRefresh,
      statuses: tally(statuses),
      tokenRequests: emu.counters.sso.token - before.token,
      clientTokenRequests: after.tokenRequests - before.stats.tokenRequests,
      refreshes: after.refreshes - before.stats.refreshes,
      unauthorizedRetries: after.unauthorizedRetries - before.stats.unauthorizedRetries,
      elapsedMs,
    };
  } finally {
    await emu.close();
  }
}

/**
 * The server revokes every token (emu.expireTokens()) while the client still holds one: `calls`
 * concurrent calls all get a 401 with the same token; one new token must serve them all.
 */
export async function burstAfterRevocation({ calls = 1000 } = {}) {
  const emu = await startEmulator({ tokenLifetimeSeconds: 300 });
  try {
    const client = dynatrace(emu);
    await client.getToken();
    emu.expireTokens();
    const before = { token: emu.counters.sso.token, api: emu.counters.dynatrace.api, stats: client.stats() };
    const t0 = performance.now();
    const statuses = await Promise.all(Array.from({ length: calls }, () => statusOf(client.fetch(PATH))));
    const elapsedMs = performance.now() - t0;
    const after = client.stats();
    return {
      scenario: `${calls} concurrent calls after the server revoked the cached token`,
      calls,
      statuses: tally(statuses),
      tokenRequests: emu.counters.sso.token - before.token,
      clientTokenRequests: after.tokenRequests - before.stats.tokenRequests,
      unauthorizedRetries: after.unauthorizedRetries - before.stats.unauthorizedRetries,
      apiRequests: emu.counters.dynatrace.api - before.api,
      elapsedMs,
    };
  } finally {
    await emu.close();
  }
}

/**
 * At least `calls` sequential calls (keep-alive), for at least `minDurationMs`, over several token
 * lifetimes: lifetime 1 s, skew 0.1 s, so a token is used for 0.9 s (the effective lifetime) and
 * the server never sees an expired one.
 */
export async function sequentialCalls({ calls: minCalls = 10_000, lifetimeS = 1, skewS = 0.1, minDurationMs = 3_000 } = {}) {
  const emu = await startEmulator({ tokenLifetimeSeconds: lifetimeS });
  try {
    const client = dynatrace(emu, { refreshSkewSeconds: skewS });
    const statuses = [];
    const t0 = performance.now();
    // At least `minCalls` calls, and on a fast machine more, so that several lifetimes pass.
    while (statuses.length < minCalls || performance.now() - t0 < minDurationMs) {
      statuses.push(await statusOf(client.fetch(PATH)));
    }
    const elapsedMs = performance.now() - t0;
    const calls = statuses.length;
    const stats = client.stats();
    const effectiveLifetimeMs = (lifetimeS - skewS) * 1000;
    return {
      scenario: `${calls} sequential calls, token lifetime ${lifetimeS} s, skew ${skewS} s`,
      calls,
      statuses: tally(statuses),
      tokenRequests: emu.counters.sso.token,
      clientTokenRequests: stats.tokenRequests,
      refreshes: stats.refreshes,
      unauthorizedRetries: stats.unauthorizedRetries,
      cacheHits: stats.cacheHits,
      effectiveLifetimeMs,
      lifetimesElapsed: elapsedMs / effectiveLifetimeMs,
      elapsedMs,
    };
  } finally {
    await emu.close();
  }
}

/** One line per figure, labelled, for the test log and the report. */
export function formatFigures(f) {
  const parts = Object.entries(f)
    .filter(([k]) => k !== 'scenario')
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(k === 'lifetimesElapsed' ? 2 : 0) : typeof v === 'object' ? JSON.stringify(v) : v}`);
  return `[load] ${f.scenario}: ${parts.join(', ')}`;
}

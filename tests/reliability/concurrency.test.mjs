// Single flight, cancellation, timeouts and bounded bodies, against the emulator and a bare
// server that can hold a request open, trickle a body or never end one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DynatraceClient, OAuthClient } from '../../pkg/node.mjs';
import { startEmulator } from '../emulator/index.mjs';
import { startRawServer, tokenAnswer } from './rawserver.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const outcome = (p) => p.then((value) => ({ value }), (error) => ({ error }));

async function waitFor(predicate, what, limitMs = 5_000) {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > limitMs) throw new Error(`gave up waiting for ${what}`);
    await sleep(5);
  }
}

/** Tracks whether a promise has settled, without changing it. */
function track(promise) {
  const t = { settled: false, promise: outcome(promise) };
  t.promise.then(() => {
    t.settled = true;
  });
  return t;
}

let emu;
before(async () => {
  emu = await startEmulator({ tokenLifetimeSeconds: 300 });
});
after(async () => {
  await emu.close();
});

function dynatrace(options = {}) {
  const c = emu.credentials.dynatrace;
  return new DynatraceClient({
    clientId: c.clientId,
    clientSecret: c.clientSecret,
    environmentUrl: emu.urls.dynatrace,
    tokenUrl: emu.urls.ssoToken,
    timeoutMs: 2_000,
    maxRetries: 0,
    ...options,
  });
}

/** An OAuthClient against a bare server: /token and /api/* go to the given handlers. */
async function rawSetup({ token = (req, res) => tokenAnswer(res), api = (req, res) => res.end('{}'), options = {} } = {}) {
  const server = await startRawServer((req, res, entry) => (req.url === '/token' ? token(req, res, entry) : api(req, res, entry)));
  const client = new OAuthClient({
    tokenUrl: `${server.url}/token`,
    clientId: 'raw-client',
    clientSecret: 'raw-client-secret-value',
    baseUrl: server.url,
    timeoutMs: 2_000,
    maxRetries: 0,
    ...options,
  });
  const tokenRequests = () => server.requests.filter((r) => r.url === '/token');
  return { server, client, tokenRequests };
}

// ---------------------------------------------------------------------------------------------
// Single flight

test('a failed token request rejects every waiter with the same error object, and is not cached', async () => {
  emu.reset();
  emu.setFault('sso', 'token', { kind: 'status', status: 500 });
  const client = dynatrace();
  const results = await Promise.all([
    ...Array.from({ length: 10 }, () => outcome(client.getToken())),
    ...Array.from({ length: 10 }, () => outcome(client.fetch('/platform/management/v1/environment'))),
  ]);
  assert.equal(emu.counters.sso.token, 1, 'one token request for 20 concurrent callers');
  assert.ok(results.every((r) => r.error && r.error === results[0].error), 'every caller gets the same error object');
  assert.equal(results[0].error.code, 'server_error');
  assert.equal(emu.counters.dynatrace.api, 0);
  emu.clearFaults();
  const token = await client.getToken();
  assert.equal(token.tokenType, 'Bearer');
  assert.equal(emu.counters.sso.token, 2, 'the failure was not cached: the next call asked again');
});

test('expires_in 0: every caller waiting for the request gets its token, the next call gets a new one', async () => {
  let n = 0;
  const { server, client, tokenRequests } = await rawSetup({
    token: async (req, res) => {
      n += 1;
      await sleep(50);
      tokenAnswer(res, `zero-lifetime-token-${n}`, 0);
    },
  });
  try {
    const tokens = await Promise.all(Array.from({ length: 50 }, () => client.getToken()));
    assert.equal(tokenRequests().length, 1);
    assert.ok(tokens.every((t) => t.accessToken === tokens[0].accessToken));
    const next = await client.getToken();
    assert.equal(tokenRequests().length, 2, 'a token with no lifetime is never served from the cache');
    assert.notEqual(next.accessToken, tokens[0].accessToken);
    const res = await client.fetch('/api/x');
    assert.equal(res.status, 200);
    assert.equal(tokenRequests().length, 3);
  } finally {
    await server.close();
  }
});

test('parallel 401s after the server dropped the token cause one new token request', async () => {
  emu.reset();
  const client = dynatrace();
  await client.getToken();
  emu.expireTokens();
  const statuses = await Promise.all(
    Array.from({ length: 50 }, () => client.fetch('/platform/management/v1/environment').then(async (r) => (await r.arrayBuffer(), r.status))),
  );
  assert.deepEqual([...new Set(statuses)], [200]);
  assert.equal(emu.counters.sso.token, 2);
  assert.equal(client.stats().unauthorizedRetries, 50);
});

// ---------------------------------------------------------------------------------------------
// Cancellation

test('an aborted getToken rejects at once; the other callers keep waiting for the same request', async () => {
  let release;
  const held = new Promise((resolve) => (release = resolve));
  const { server, client, tokenRequests } = await rawSetup({
    token: async (req, res) => {
      await held;
      tokenAnswer(res, 'held-token-value-0123456789');
    },
  });
  try {
    const ac = new AbortController();
    const a = track(client.getToken({ signal: ac.signal }));
    const b = track(client.getToken());
    const c = track(client.fetch('/api/x'));
    await waitFor(() => tokenRequests().length === 1, 'the token request');
    ac.abort();
    const ra = await a.promise;
    assert.equal(ra.error?.code, 'aborted');
    assert.equal(b.settled || c.settled, false, 'the others still wait');
    release();
    const [rb, rc] = await Promise.all([b.promise, c.promise]);
    assert.equal(rb.value?.accessToken, 'held-token-value-0123456789');
    assert.equal(rc.value?.status, 200);
    assert.equal(tokenRequests().length, 1);
    assert.equal(tokenRequests()[0].closedEarly, false, 'the shared request was not aborted');
  } finally {
    release();
    await server.close();
  }
});

test('when every waiter is aborted the shared request is aborted and detached; the next caller starts afresh', async () => {
  const holds = [];
  const { server, client, tokenRequests } = await rawSetup({
    token: async (req, res) => {
      if (holds.length === 0) {
        await new Promise((resolve) => holds.push(resolve));
        tokenAnswer(res, 'late-token-never-used-0000');
      } else {
        holds.push(null);
        tokenAnswer(res, 'fresh-token-value-11111111');
      }
    },
  });
  try {
    const ac1 = new AbortController();
    const ac2 = new AbortController();
    const a = outcome(client.getToken({ signal: ac1.signal }));
    const b = outcome(client.fetch('/api/x', { signal: ac2.signal }));
    await waitFor(() => tokenRequests().length === 1, 'the token request');
    ac1.abort();
    ac2.abort();
    assert.equal((await a).error?.code, 'aborted');
    assert.equal((await b).error?.code, 'aborted');
    await waitFor(() => tokenRequests()[0].closedEarly, 'the abandoned request to be aborted');
    const fresh = await client.getToken();
    assert.equal(fresh.accessToken, 'fresh-token-value-11111111');
    assert.equal(tokenRequests().length, 2);
    const res = await client.fetch('/api/x');
    assert.equal(res.status, 200);
    assert.equal(server.requests.at(-1).headers.authorization, 'Bearer fresh-token-value-11111111');
  } finally {
    for (const h of holds) if (h) h();
    await server.close();
  }
});

test('an already aborted signal rejects without sending anything', async () => {
  const { server, client } = await rawSetup();
  try {
    const signal = AbortSignal.abort();
    assert.equal((await outcome(client.fetch('/api/x', { signal }))).error?.code, 'aborted');
    assert.equal((await outcome(client.getToken({ signal }))).error?.code, 'aborted');
    assert.equal(server.requests.length, 0);
    assert.equal((await client.fetch('/api/x')).status, 200);
  } finally {
    await server.close();
  }
});

test('an API call aborted in flight rejects aborted, and the client works after', async () => {
  let first = true;
  const { server, client } = await rawSetup({
    api: async (req, res) => {
      if (first) {
        first = false;
        await sleep(1_000);
      }
      res.end('{}');
    },
  });
  try {
    await client.getToken();
    const ac = new AbortController();
    const p = outcome(client.fetch('/api/slow', { signal: ac.signal }));
    await waitFor(() => server.requests.some((r) => r.url === '/api/slow'), 'the API request');
    ac.abort();
    assert.equal((await p).error?.code, 'aborted');
    assert.equal((await client.fetch('/api/x')).status, 200);
  } finally {
    await server.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Timeouts and bounded bodies

test('timeoutMs of an API call ends with the headers: a body slower than the timeout is still read', async () => {
  const { server, client } = await rawSetup({
    options: { timeoutMs: 300 },
    api: async (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.flushHeaders();
      for (let i = 0; i < 5; i++) {
        await sleep(150);
        res.write(`part${i};`);
      }
      res.end();
    },
  });
  try {
    const res = await client.fetch('/api/slow-body');
    assert.equal(await res.text(), 'part0;part1;part2;part3;part4;');
  } finally {
    await server.close();
  }
});

test('timeoutMs of a token request covers its body: a trickling token body is a timeout, not retried', async () => {
  const { server, client, tokenRequests } = await rawSetup({
    options: { timeoutMs: 300, maxRetries: 2 },
    token: async (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      for (const part of ['{"access_token":', '"slow-token-value",', '"token_type":"Bearer",', '"expires_in":300}']) {
        await sleep(150);
        if (res.destroyed) return;
        res.write(part);
      }
      res.end();
    },
  });
  try {
    const r = await outcome(client.getToken());
    assert.equal(r.error?.code, 'timeout');
    assert.equal(tokenRequests().length, 1);
  } finally {
    await server.close();
  }
});

for (const status of [200, 400]) {
  test(`a token answer (HTTP ${status}) whose body never ends is cut at 64 KiB and settles long before the timeout`, async () => {
    const chunk = Buffer.alloc(16 * 1024, 'a b c d '.repeat(2048));
    let sent = 0;
    const { server, client, tokenRequests } = await rawSetup({
      options: { timeoutMs: 60_000 },
      token: (req, res) => {
        res.writeHead(status, { 'content-type': 'text/plain' });
        const pump = () => {
          while (!res.destroyed && sent < 512 * 1024 * 1024) {
            sent += chunk.length;
            if (!res.write(chunk)) return res.once('drain', pump);
          }
        };
        pump();
      },
    });
    try {
      const r = await outcome(client.getToken());
      assert.equal(r.error?.code, status === 200 ? 'invalid_response' : 'token_error');
      assert.equal(r.error.status, status);
      assert.ok(r.error.message.length < 1_000, `message of ${r.error.message.length} characters`);
      await waitFor(() => tokenRequests()[0].closedEarly, 'the client to cancel the body');
      console.log(`[body limit] HTTP ${status}: the server had written ${Math.round(sent / 1024)} KiB when the client cancelled`);
      assert.ok(sent < 64 * 1024 * 1024, `the client kept reading: ${sent} bytes sent`);
    } finally {
      await server.close();
    }
  });
}

test('a 5 MiB error body yields a short message', async () => {
  emu.reset();
  emu.setFault('sso', 'token', { kind: 'status', status: 400, body: `denied ${'zz '.repeat(1_750_000)}` });
  const r = await outcome(dynatrace().getToken());
  assert.equal(r.error?.code, 'token_error');
  assert.ok(r.error.message.length < 1_000);
});

test('a Dynatrace "missing following scopes" list of 60 KiB yields a short message', async () => {
  emu.reset();
  const list = 'storage:logs:read, '.repeat(3_200);
  emu.setFault('sso', 'token', {
    kind: 'status',
    status: 400,
    body: { errorCode: 400, error: 'invalid_request', error_description: `Invalid OAuth2 request. UNSUCCESSFUL_OAUTH_ACCESS_TOKEN_VALIDATION_FAILED | OAuth client is missing following scopes [${list}]` },
  });
  const r = await outcome(dynatrace().getToken());
  assert.equal(r.error?.code, 'invalid_scope');
  assert.ok(r.error.message.length < 1_000, `a message of ${r.error.message.length} characters`);
});

// ---------------------------------------------------------------------------------------------
// Clock

test('refresh time is expiresAt - min(refreshSkewSeconds, lifetime / 2): a 4 s token with the default 30 s skew is renewed after 2 s', async () => {
  let n = 0;
  const { server, client, tokenRequests } = await rawSetup({
    token: (req, res) => {
      n += 1;
      tokenAnswer(res, `clock-token-${n}-0123456789`, 4);
    },
  });
  try {
    const first = await client.getToken();
    const refreshAt = first.expiresAt - 2_000;
    let lastSame = null;
    let changed = null;
    while (!changed && Date.now() < first.expiresAt + 1_000) {
      const before = Date.now();
      const t = await client.getToken();
      const after = Date.now();
      if (t.accessToken === first.accessToken) lastSame = { before, after };
      else changed = { before, after };
      await sleep(10);
    }
    assert.ok(changed, 'the token was never renewed');
    // Renewed no earlier than the refresh time (the lookup that renewed ended after it) ...
    assert.ok(changed.after >= refreshAt, `renewed ${refreshAt - changed.after} ms before the refresh time`);
    // ... and well before expiry (a skew of 0 would renew at expiresAt, a skew of 30 s at once).
    assert.ok(changed.before < first.expiresAt - 1_000, `renewed only ${first.expiresAt - changed.before} ms before expiry`);
    assert.ok(lastSame, 'the token was served from the cache before its refresh time');
    assert.equal(tokenRequests().length, 2);
    assert.equal(client.stats().refreshes, 1);
  } finally {
    await server.close();
  }
});

test('one long-lived signal passed to many calls keeps no abort listener once they settle', async () => {
  const { getEventListeners } = await import('node:events');
  const { server, client } = await rawSetup();
  try {
    const ac = new AbortController();
    for (let round = 0; round < 3; round++) {
      client.invalidate();
      await Promise.all([
        ...Array.from({ length: 50 }, () => client.fetch('/api/x', { signal: ac.signal }).then((r) => r.arrayBuffer())),
        ...Array.from({ length: 50 }, () => client.getToken({ signal: ac.signal })),
      ]);
    }
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
  } finally {
    await server.close();
  }
});

// The token cache: one token request for any number of concurrent callers, a shared error, early
// refresh, invalidate(), and the single retry after a 401.
import { createSuite, dynatraceOptions, requestsOf, sleep } from './harness.mjs';

const ENV = '/platform/management/v1/environment';

export function cacheCases(ctx) {
  const s = createSuite(ctx);
  const { assert } = ctx;
  const { DynatraceClient } = ctx.lib;
  const client = (emu, extra) => s.track(new DynatraceClient(dynatraceOptions(emu, extra)));
  const bearerOf = (r) => r.headers.authorization;

  s.test('100 concurrent fetch calls on a cold cache make exactly one token request', async (emu) => {
    const dt = client(emu);
    const statuses = await Promise.all(Array.from({ length: 100 }, () => dt.fetch(ENV).then((r) => r.status)));
    assert.deepEqual(new Set(statuses), new Set([200]));
    assert.equal(emu.counters.sso.token, 1);
    assert.equal(emu.counters.sso.issued, 1);
    assert.equal(emu.counters.dynatrace.api, 100);
    assert.equal(new Set(requestsOf(emu, 'dynatrace').map(bearerOf)).size, 1, 'every call carried the same token');
    assert.deepEqual(dt.stats(), { tokenRequests: 1, cacheHits: 0, refreshes: 0, unauthorizedRetries: 0, refreshTokenGrants: 0 });
    for (let i = 0; i < 5; i++) assert.equal((await dt.fetch(ENV)).status, 200);
    assert.deepEqual(dt.stats(), { tokenRequests: 1, cacheHits: 5, refreshes: 0, unauthorizedRetries: 0, refreshTokenGrants: 0 });
    assert.equal(emu.counters.sso.token, 1);
  });

  s.test('concurrent getToken() calls share one request and one token', async (emu) => {
    const dt = client(emu);
    const tokens = await Promise.all(Array.from({ length: 20 }, () => dt.getToken()));
    assert.equal(new Set(tokens.map((t) => t.accessToken)).size, 1);
    assert.equal(new Set(tokens.map((t) => t.expiresAt)).size, 1);
    assert.equal(emu.counters.sso.token, 1);
    const again = await dt.getToken();
    assert.equal(again.accessToken, tokens[0].accessToken);
    assert.equal(emu.counters.sso.token, 1);
  });

  s.test('a token error reaches every concurrent caller as the same object; the next call tries again', async (emu) => {
    const dt = client(emu);
    emu.setFault('sso', 'token', { kind: 'unauthorized', count: 2 });
    const calls = [
      ...Array.from({ length: 10 }, () => dt.getToken()),
      ...Array.from({ length: 10 }, () => dt.fetch(ENV)),
    ];
    const results = await Promise.allSettled(calls);
    assert.deepEqual(new Set(results.map((r) => r.status)), new Set(['rejected']));
    const first = results[0].reason;
    s.checkApmError(first, 'invalid_client', { status: 400 });
    for (const r of results) assert.equal(r.reason, first, 'the same error object');
    assert.equal(emu.counters.sso.token, 1);
    assert.equal(emu.counters.dynatrace.api, 0);

    // The failure is not cached: the next call makes a new request (and gets a new error).
    const second = await s.rejects(dt.getToken(), 'invalid_client');
    assert.notEqual(second, first);
    assert.equal(emu.counters.sso.token, 2);

    const ok = await dt.fetch(ENV);
    assert.equal(ok.status, 200);
    assert.equal(emu.counters.sso.token, 3);
    assert.equal(dt.stats().tokenRequests, 3);
  });

  s.test('a 2 s token is refreshed once after half its lifetime, by one request for all callers', async (emu) => {
    emu.options.dynatrace.tokenLifetimeSeconds = 2;
    const dt = client(emu);
    const started = Date.now();
    const t1 = await dt.getToken();
    assert.ok(t1.expiresAt >= started + 2000 && t1.expiresAt <= Date.now() + 2000, 'expiresAt = now + 2 s');
    const t1b = await dt.getToken();
    // Only meaningful while the token is still fresh (refresh at expiresAt - min(30 s, 1 s)).
    if (Date.now() < t1.expiresAt - 1000) {
      assert.equal(t1b.accessToken, t1.accessToken);
      assert.equal(emu.counters.sso.token, 1);
    }
    await sleep(1100);
    const results = await Promise.all(Array.from({ length: 10 }, () => dt.fetch('/platform/echo')));
    const seen = await Promise.all(results.map((r) => r.json()));
    assert.equal(emu.counters.sso.token, 2, 'one refresh for ten callers');
    assert.equal(dt.stats().refreshes, 1);
    const t2 = await dt.getToken();
    assert.notEqual(t2.accessToken, t1.accessToken);
    for (const e of seen) assert.equal(e.headers.authorization, `Bearer ${t2.accessToken}`);
    assert.equal(dt.stats().tokenRequests, 2);
  });

  s.test('an early refresh that fails for a passing reason (503, 429, a dropped connection) leaves the unexpired token in use; once it has expired, the failure is the call\'s', async (emu) => {
    emu.options.dynatrace.tokenLifetimeSeconds = 2;
    const dt = client(emu, { maxRetries: 0 });
    const t1 = await dt.getToken();
    await sleep(1100);
    for (const fault of [{ kind: 'status', status: 503 }, { kind: 'rateLimit', retryAfter: 1 }, { kind: 'drop' }]) {
      // Every token request fails meanwhile (Deno's fetch sends a request again by itself when
      // its connection was dropped).
      emu.setFault('sso', 'token', fault);
      const before = emu.counters.sso.token;
      const res = await dt.fetch('/platform/echo');
      emu.clearFaults();
      // Only meaningful while the token has not expired yet.
      if (Date.now() < t1.expiresAt - 50) {
        assert.ok(emu.counters.sso.token > before, `${fault.kind}: the refresh was tried`);
        assert.equal((await res.json()).headers.authorization, `Bearer ${t1.accessToken}`, fault.kind);
      }
    }
    assert.equal(dt.stats().tokenRequests, 4);
    await sleep(Math.max(0, t1.expiresAt - Date.now()) + 50);
    emu.setFault('sso', 'token', { kind: 'status', status: 503, count: 1 });
    await s.rejects(dt.fetch('/platform/echo'), 'server_error', { status: 503 });
    // A refusal is no passing failure: the token is not used on.
    const dt2 = client(emu, { maxRetries: 0 });
    await dt2.getToken();
    await sleep(1100);
    emu.setFault('sso', 'token', { kind: 'unauthorized', count: 1 });
    await s.rejects(dt2.getToken(), 'invalid_client');
  });

  s.test('refreshSkewSeconds 0 keeps a token until it expires', async (emu) => {
    emu.options.dynatrace.tokenLifetimeSeconds = 2;
    const dt = client(emu, { refreshSkewSeconds: 0 });
    const t1 = await dt.getToken();
    await sleep(1100);
    const t2 = await dt.getToken();
    if (Date.now() < t1.expiresAt - 50) {
      assert.equal(t2.accessToken, t1.accessToken);
      assert.equal(dt.stats().refreshes, 0);
      assert.equal(emu.counters.sso.token, 1);
    }
  });

  s.test('invalidate() makes the next call request a new token', async (emu) => {
    const dt = client(emu);
    const t1 = await dt.getToken();
    dt.invalidate();
    const t2 = await dt.getToken();
    assert.notEqual(t2.accessToken, t1.accessToken);
    assert.equal(emu.counters.sso.token, 2);
    assert.equal(dt.stats().refreshes, 0, 'not an early refresh');
    dt.invalidate();
    dt.invalidate();
    assert.equal((await dt.fetch(ENV)).status, 200);
    assert.equal(emu.counters.sso.token, 3);
  });

  s.test('expires_in 0: the token serves the calls waiting for it but is not cached', async (emu) => {
    emu.setFault('sso', 'token', { kind: 'json', count: 2, body: { access_token: 'zero-lifetime-token-a', token_type: 'Bearer', expires_in: 0 } });
    const dt = client(emu);
    const [a, b] = await Promise.all([dt.getToken(), dt.getToken()]);
    assert.equal(a.accessToken, 'zero-lifetime-token-a');
    assert.equal(b.accessToken, 'zero-lifetime-token-a');
    assert.equal(emu.counters.sso.token, 1);
    await dt.getToken();
    assert.equal(emu.counters.sso.token, 2);
  });

  s.test('expires_in: numeric strings accepted, missing means 300 s, absurd values are capped', async (emu) => {
    const dt = client(emu);
    const cases = [
      [{ expires_in: '60' }, 60],
      [{}, 300],
      [{ expires_in: null }, 300],
      [{ expires_in: 'soon' }, 300],
      [{ expires_in: 1e12 }, 30 * 24 * 3600],
    ];
    for (const [fields, seconds] of cases) {
      emu.setFault('sso', 'token', { kind: 'json', count: 1, body: { access_token: 'opaque-token', token_type: 'bearer', ...fields } });
      dt.invalidate();
      const before = Date.now();
      const t = await dt.getToken();
      const after = Date.now();
      assert.ok(t.expiresAt >= before + seconds * 1000 && t.expiresAt <= after + seconds * 1000, `${JSON.stringify(fields)} → ${seconds} s`);
      assert.equal(t.tokenType, 'Bearer');
    }
  });

  s.test('one 401: the token is renewed once and the call retried; the caller sees the 200', async (emu) => {
    const dt = client(emu);
    await dt.getToken();
    emu.setFault('dynatrace', 'api', { kind: 'unauthorized', count: 1 });
    const res = await dt.fetch('/platform/echo', { method: 'POST', body: 'sent twice' });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).body, 'sent twice');
    assert.equal(emu.counters.sso.token, 2);
    assert.equal(emu.counters.dynatrace.api, 2);
    const [first, second] = requestsOf(emu, 'dynatrace');
    assert.notEqual(bearerOf(first), bearerOf(second), 'the retry carries the new token');
    assert.equal(second.body, 'sent twice');
    assert.deepEqual(dt.stats(), { tokenRequests: 2, cacheHits: 1, refreshes: 0, unauthorizedRetries: 1, refreshTokenGrants: 0 });
  });

  s.test('a token the server has expired early is renewed on its 401', async (emu) => {
    const dt = client(emu);
    assert.equal((await dt.fetch(ENV)).status, 200);
    emu.expireTokens();
    assert.equal((await dt.fetch(ENV)).status, 200);
    assert.equal(emu.counters.sso.token, 2);
    assert.equal(emu.counters.dynatrace.unauthorized, 1);
  });

  s.test('401 every time: exactly one retry, then the 401 Response is returned', async (emu) => {
    const dt = client(emu);
    emu.setFault('dynatrace', 'api', { kind: 'unauthorized' });
    const res = await dt.fetch(ENV);
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error.code, 401);
    assert.equal(emu.counters.dynatrace.api, 2);
    assert.equal(emu.counters.sso.token, 2);
    assert.equal(dt.stats().unauthorizedRetries, 1);
    // The new token was refused too: renewing it again would not help, so the next calls get
    // their 401 without a token request each (a polling job would hit the SSO's rate limit).
    for (let i = 0; i < 3; i++) assert.equal((await dt.fetch(ENV)).status, 401);
    assert.equal(emu.counters.dynatrace.api, 5);
    assert.equal(emu.counters.sso.token, 2);
    assert.equal(dt.stats().unauthorizedRetries, 1);
    // A token obtained later gets its one retry again.
    dt.invalidate();
    assert.equal((await dt.fetch(ENV)).status, 401);
    assert.equal(emu.counters.sso.token, 4);
    assert.equal(dt.stats().unauthorizedRetries, 2);
  });

  s.test('string, URLSearchParams, Blob and ArrayBuffer bodies are sent again on the retry', async (emu) => {
    const dt = client(emu);
    await dt.getToken();
    const bodies = [
      ['text body', 'text body'],
      [new URLSearchParams({ a: '1', b: 'x y' }), 'a=1&b=x+y'],
      [new Blob(['blob body']), 'blob body'],
      [new TextEncoder().encode('bytes body').buffer, 'bytes body'],
    ];
    for (const [body, text] of bodies) {
      const seen = requestsOf(emu, 'dynatrace').length;
      emu.setFault('dynatrace', 'api', { kind: 'unauthorized', count: 1 });
      const res = await dt.fetch('/platform/echo', { method: 'POST', body });
      assert.equal(res.status, 200, `${text}: retried`);
      assert.equal((await res.json()).body, text);
      const sent = requestsOf(emu, 'dynatrace').slice(seen);
      assert.deepEqual(sent.map((r) => r.body), [text, text]);
    }
    assert.equal(emu.counters.sso.token, 5);
    assert.equal(dt.stats().unauthorizedRetries, 4);
  });

  s.test('a ReadableStream body is not retried on 401: the 401 is returned', async (emu) => {
    const dt = client(emu);
    await dt.getToken();
    emu.setFault('dynatrace', 'api', { kind: 'unauthorized', count: 1 });
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('streamed'));
        controller.close();
      },
    });
    const res = await dt.fetch('/platform/echo', { method: 'POST', body, duplex: 'half' });
    assert.equal(res.status, 401);
    assert.equal(emu.counters.dynatrace.api, 1);
    assert.equal(emu.counters.sso.token, 1);
    assert.equal(dt.stats().unauthorizedRetries, 0);
  });

  s.test('ten parallel 401s with the same token: one new token request, every call retried', async (emu) => {
    const dt = client(emu);
    await dt.getToken();
    // The server revokes the token: every call made with it gets a 401, every retry succeeds.
    emu.expireTokens();
    const results = await Promise.all(Array.from({ length: 10 }, () => dt.fetch(ENV)));
    assert.equal(emu.counters.sso.token, 2, 'one new token for all of them');
    assert.equal(emu.counters.dynatrace.api, 20);
    assert.equal(emu.counters.dynatrace.unauthorized, 10);
    assert.equal(dt.stats().unauthorizedRetries, 10);
    assert.deepEqual(results.map((r) => r.status), Array(10).fill(200));
    const t = await dt.getToken();
    const withNew = requestsOf(emu, 'dynatrace').filter((r) => bearerOf(r) === `Bearer ${t.accessToken}`);
    assert.equal(withNew.length, 10, 'every retry carries the new token');
  });

  s.finish();
}

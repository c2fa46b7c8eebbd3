// The bearer token never leaves the configured origin: other origins are refused before any IO,
// redirects are returned instead of followed (for API calls and token requests), and plain HTTP
// is refused unless the host is loopback or the user allowed it.
import { createSuite, dynatraceOptions, appdOptions, requestsOf } from './harness.mjs';

export function originCases(ctx) {
  const s = createSuite(ctx);
  const { assert } = ctx;
  const { DynatraceClient, AppDynamicsClient, OAuthClient } = ctx.lib;
  const dynatrace = (emu, extra) => s.track(new DynatraceClient(dynatraceOptions(emu, extra)));

  s.test('an absolute URL to another origin is refused with insecure_url, and nothing is sent', async (emu) => {
    const dt = dynatrace(emu);
    const other = new URL(emu.urls.elsewhere);
    const sameHostOtherPort = `http://127.0.0.1:${other.port}/x`;
    for (const target of [
      `${emu.urls.elsewhere}/x`,
      sameHostOtherPort,
      new URL('/x', emu.urls.elsewhere),
      `${emu.urls.dynatrace.replace('http:', 'https:')}/platform/echo`,
      `http://localhost:${new URL(emu.urls.dynatrace).port}/platform/echo`,
    ]) {
      const e = await s.rejects(dt.fetch(target), 'insecure_url');
      assert.match(e.message, /another origin/);
      assert.equal(typeof e.hint, 'string');
    }
    assert.equal(emu.counters.elsewhere.requests, 0);
    assert.equal(emu.counters.sso.token, 0, 'refused before a token is even fetched');
    assert.equal(emu.counters.dynatrace.api, 0);
  });

  s.test('protocol-relative and backslash paths are refused', async (emu) => {
    const dt = dynatrace(emu);
    const host = new URL(emu.urls.elsewhere).host;
    for (const target of [`//${host}/x`, `\\\\${host}/x`, `/\\${host}/x`, `\\/${host}/x`]) {
      await s.rejects(dt.fetch(target), 'insecure_url');
    }
    for (const target of [`javascript:alert(1)`, `file:///etc/passwd`, `data:text/plain,x`]) {
      const e = await s.rejects(dt.fetch(target), 'insecure_url');
      assert.doesNotMatch(e.message, /passwd/);
    }
    assert.equal(emu.counters.elsewhere.requests, 0);
    assert.equal(emu.requests.length, 0);
  });

  s.test('AppDynamics and OAuthClient refuse other origins too', async (emu) => {
    const ad = s.track(new AppDynamicsClient(appdOptions(emu, emu.urls.appdynamics)));
    await s.rejects(ad.fetch(`${emu.urls.appdynamicsLegacy}/controller/rest/applications`), 'insecure_url');
    const oc = s.track(
      new OAuthClient({
        tokenUrl: emu.urls.ssoToken,
        clientId: emu.credentials.dynatrace.clientId,
        clientSecret: emu.credentials.dynatrace.clientSecret,
        baseUrl: emu.urls.dynatrace,
      }),
    );
    await s.rejects(oc.fetch(`${emu.urls.elsewhere}/`), 'insecure_url');
    assert.equal(emu.requests.length, 0);
  });

  s.test('a redirect is not followed: the 3xx Response is returned and the other origin sees nothing', async (emu) => {
    const dt = dynatrace(emu);
    const target = `${emu.urls.elsewhere}/x`;
    const res = await dt.fetch(`/platform/redirect?to=${encodeURIComponent(target)}`);
    if (res.type === 'opaqueredirect') {
      // Browsers hide the 3xx of a manual redirect behind an opaque response.
      assert.equal(res.status, 0);
    } else {
      assert.equal(res.status, 302);
      assert.equal(res.headers.get('location'), target);
    }
    assert.equal(emu.counters.elsewhere.requests, 0);
    assert.equal(emu.counters.elsewhere.authorization, 0);
    assert.equal(emu.counters.dynatrace.api, 1);
  });

  s.test('a redirect to the same origin is not followed either', async (emu) => {
    const ad = s.track(new AppDynamicsClient(appdOptions(emu, emu.urls.appdynamics)));
    const res = await ad.fetch(`/controller/redirect?to=${encodeURIComponent('/controller/echo')}`);
    assert.ok(res.status === 302 || res.type === 'opaqueredirect');
    assert.equal(requestsOf(emu, 'appdynamics', '/controller/echo').length, 0);
  });

  s.test('a token endpoint that redirects: an error, and the credentials go nowhere else', async (emu) => {
    emu.setFault('sso', 'token', { kind: 'redirect', status: 307, location: `${emu.urls.elsewhere}/sso/oauth2/token` });
    const dt = dynatrace(emu);
    const e = await s.rejects(dt.getToken(), 'token_error');
    assert.ok(e.status === 307 || e.status === 0 || e.status === undefined);
    assert.equal(emu.counters.elsewhere.requests, 0);
    assert.equal(emu.counters.sso.token, 1);

    emu.setFault('appdynamics', 'token', { kind: 'redirect', location: `${emu.urls.elsewhere}/controller/api/oauth/access_token` });
    const ad = s.track(new AppDynamicsClient(appdOptions(emu, emu.urls.appdynamics)));
    await s.rejects(ad.getToken(), 'token_error');
    assert.equal(emu.counters.elsewhere.requests, 0);
  });

  s.test('http:// to a host that is not loopback: constructors throw insecure_url', (emu) => {
    const c = emu.credentials.dynatrace;
    const a = emu.credentials.appdynamics;
    const cases = [
      () => new DynatraceClient({ clientId: c.clientId, clientSecret: c.clientSecret, environmentUrl: 'http://abc12345.apps.dynatrace.com' }),
      () => new DynatraceClient({ clientId: c.clientId, clientSecret: c.clientSecret, tokenUrl: 'http://sso.example.com/sso/oauth2/token' }),
      () => new AppDynamicsClient({ controllerUrl: 'http://controller.example.com:8090', clientName: a.clientName, accountName: a.accountName, clientSecret: a.clientSecret }),
      () => new AppDynamicsClient({ controllerUrl: 'http://10.0.0.5:8090', accessToken: a.temporaryToken }),
      () => new OAuthClient({ tokenUrl: 'http://idp.example/token', clientId: 'c', clientSecret: c.clientSecret }),
      () => new OAuthClient({ tokenUrl: emu.urls.ssoToken, clientId: 'c', clientSecret: c.clientSecret, baseUrl: 'http://api.example' }),
    ];
    for (const make of cases) {
      const e = s.throws(make, 'insecure_url');
      assert.match(e.message, /http:\/\//);
      assert.match(e.hint, /allowInsecureHttp/);
    }
    assert.equal(emu.requests.length, 0);
  });

  s.test('allowInsecureHttp lifts the http:// rule; loopback hosts never needed it', (emu) => {
    const c = emu.credentials.dynatrace;
    const a = emu.credentials.appdynamics;
    const dt = s.track(new DynatraceClient({ clientId: c.clientId, clientSecret: c.clientSecret, environmentUrl: 'http://abc12345.apps.dynatrace.com', allowInsecureHttp: true }));
    assert.equal(dt.platformUrl('x/y'), 'http://abc12345.apps.dynatrace.com/platform/x/y');
    assert.equal(dt.toJSON().tokenUrl, 'https://sso.dynatrace.com/sso/oauth2/token', 'the SSO stays https');
    const ad = s.track(new AppDynamicsClient({ controllerUrl: 'http://controller.example.com:8090', clientName: a.clientName, accountName: a.accountName, clientSecret: a.clientSecret, allowInsecureHttp: true }));
    assert.equal(ad.toJSON().controllerUrl, 'http://controller.example.com:8090');
    for (const host of ['http://localhost:8090', 'http://127.0.0.1:8090', 'http://[::1]:8090', 'http://app.localhost']) {
      s.track(new AppDynamicsClient({ controllerUrl: host, accessToken: a.temporaryToken }));
    }
    assert.equal(emu.requests.length, 0);
  });

  s.finish();
}

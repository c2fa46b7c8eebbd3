// A broken or hostile token endpoint that echoes the client secret back in its error body, in
// every place an error quotes from: the OAuth fields, a text body, an HTML title, a token_type.
// The secrets are made of short runs between punctuation (so the "long token-like run" redaction
// of quoted snippets does not hide them by luck), and contain `:`, `%`, `+`, `/`, `&`, `=`, `#`,
// a space and a non-ASCII letter, so their form-urlencoded spelling differs from the raw one.
// Nothing of a secret may show: not as is, not encoded, and no 8-character piece of it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DynatraceClient, AppDynamicsClient, OAuthClient } from '../../pkg/node.mjs';
import { startEmulator } from '../emulator/index.mjs';
import { findLeaks, describeLeaks, secretForms, secretWindows, captureConsole } from './hygiene.mjs';

const SECRET_DT = 'Qx7:Vb%2F+ Zk/ü@Wm9&Pr4=Ty6#Hs3';
const SECRET_AD = 'Jd4:Np%3A+ Lc/é@Rf8&Gt2=Yw5#Km1';

let emu;
let capture;

function needlesFor(secret) {
  const encoded = new URLSearchParams({ s: secret }).toString().slice(2);
  return [...new Set([...secretForms(secret), ...secretWindows(secret), ...secretWindows(encoded)])];
}

const VENDORS = {
  dynatrace: {
    role: 'sso',
    secret: SECRET_DT,
    client: () =>
      new DynatraceClient({
        clientId: 'dt0s02.ECHO',
        clientSecret: SECRET_DT,
        environmentUrl: emu.urls.dynatrace,
        tokenUrl: emu.urls.ssoToken,
        maxRetries: 0,
        timeoutMs: 2000,
      }),
    formBody: () => new URLSearchParams({ grant_type: 'client_credentials', client_id: 'dt0s02.ECHO', client_secret: SECRET_DT }).toString(),
  },
  appdynamics: {
    role: 'appdynamics',
    secret: SECRET_AD,
    client: () =>
      new AppDynamicsClient({
        controllerUrl: emu.urls.appdynamics,
        clientName: 'echo-client',
        accountName: 'customer1',
        clientSecret: SECRET_AD,
        maxRetries: 0,
        timeoutMs: 2000,
      }),
    formBody: () => new URLSearchParams({ grant_type: 'client_credentials', client_id: 'echo-client@customer1', client_secret: SECRET_AD }).toString(),
  },
};

/** JSON with every non-ASCII character and `/` escaped, as some servers write it. */
function escapedJson(value) {
  return JSON.stringify(value)
    .replace(/\//g, '\\/')
    .replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const padding = (n) => 'word '.repeat(n);

// [name, (vendor) => fault]
const ECHOES = [
  ['JSON error_description', (v) => ({ kind: 'status', status: 400, body: { error: 'invalid_request', error_description: `bad secret ${v.secret}` } })],
  ['JSON error_description with escapes', (v) => ({ kind: 'status', status: 400, contentType: 'application/json', body: escapedJson({ error: 'invalid_request', error_description: `bad secret ${v.secret}` }) })],
  ['JSON error field', (v) => ({ kind: 'status', status: 400, body: { error: v.secret } })],
  ['JSON issueId', (v) => ({ kind: 'status', status: 400, body: { error: 'invalid_request', issueId: v.secret } })],
  ['JSON message only', (v) => ({ kind: 'status', status: 400, body: { errorCode: 400, message: `bad secret ${v.secret}` } })],
  ['JSON invalid_client description', (v) => ({ kind: 'status', status: 401, body: { error: 'invalid_client', error_description: `unknown secret ${v.secret}` } })],
  ['text 400', (v) => ({ kind: 'status', status: 400, body: `bad secret ${v.secret}` })],
  ['text 401', (v) => ({ kind: 'status', status: 401, body: `bad secret ${v.secret}` })],
  ['text 503', (v) => ({ kind: 'status', status: 503, body: `bad secret ${v.secret}` })],
  ['HTML title, 400', (v) => ({ kind: 'status', status: 400, contentType: 'text/html', body: `<html><head><title>Denied ${v.secret}</title></head><body>${v.secret}</body></html>` })],
  ['HTML title, 200', (v) => ({ kind: 'status', status: 200, contentType: 'text/html', body: `<!DOCTYPE html><html><head><title>Denied ${v.secret}</title></head></html>` })],
  ['form-urlencoded request body, 400', (v) => ({ kind: 'status', status: 400, body: `cannot parse ${v.formBody()}` })],
  ['text cut in the middle of the secret', (v) => ({ kind: 'status', status: 400, body: `${padding(22)}${v.secret}` })],
  ['error_description cut in the middle of the secret', (v) => ({ kind: 'status', status: 400, body: { error: 'invalid_request', error_description: `${padding(38)}${v.secret}` } })],
  ['HTML title of a 200, cut in the middle of the secret', (v) => ({ kind: 'status', status: 200, contentType: 'text/html', body: `<!DOCTYPE html><html><head><title>${padding(10)}${v.secret}</title></head></html>` })],
  ['token_type', (v) => ({ kind: 'json', body: { access_token: 'abc.def.ghi', token_type: v.secret, expires_in: 300 } })],
];

before(async () => {
  emu = await startEmulator({
    dynatrace: { clients: [{ clientId: 'dt0s02.ECHO', clientSecret: SECRET_DT }] },
    appdynamics: { clients: [{ clientName: 'echo-client', accountName: 'customer1', clientSecret: SECRET_AD }] },
  });
  capture = captureConsole(() => [...needlesFor(SECRET_DT), ...needlesFor(SECRET_AD)]);
});

after(async () => {
  capture.restore();
  await emu.close();
});

test('the echo clients work with these secrets when nothing is wrong', async () => {
  for (const v of Object.values(VENDORS)) {
    emu.reset();
    const token = await v.client().getToken();
    assert.equal(token.tokenType, 'Bearer');
  }
});

for (const [vendorKey, v] of Object.entries(VENDORS)) {
  for (const [name, fault] of ECHOES) {
    test(`${vendorKey}: a secret echoed in the ${name} does not reach the error`, async () => {
      emu.reset();
      emu.setFault(v.role, 'token', fault(v));
      const client = v.client();
      const err = await client.getToken().then(
        () => null,
        (e) => e,
      );
      assert.ok(err, 'the token request should fail');
      assert.equal(err.name, 'ApmOAuthError');
      const leaks = [...findLeaks(err, needlesFor(v.secret)), ...findLeaks(client, needlesFor(v.secret))];
      assert.deepEqual(describeLeaks(leaks, `${err.code} ${err.status}`), []);
    });
  }
}

test('appdynamics: an access token echoed by a REST error does not reach listApplications\' error', async () => {
  emu.reset();
  const client = VENDORS.appdynamics.client();
  const { accessToken } = await client.getToken();
  emu.setFault('appdynamics', 'api', { kind: 'status', status: 403, body: `token ${accessToken} may not list applications` });
  const err = await client.listApplications().then(
    () => null,
    (e) => e,
  );
  assert.equal(err?.code, 'http_error');
  assert.equal(err.status, 403);
  assert.deepEqual(describeLeaks(findLeaks(err, [accessToken, ...secretWindows(accessToken, 24)]), 'http_error'), []);
});

// A transport failure quoted in a `network` error: here a fetch wrapper whose error message
// repeats the request it could not send (the cut of the quote lands inside the secret).
for (const pad of [0, 9]) {
  test(`a fetch that fails with the request body in its error message does not put the secret in the error (${pad} words before it)`, async () => {
    const client = new OAuthClient({
      tokenUrl: 'https://auth.example.com/oauth/token',
      clientId: 'echo-client',
      clientSecret: SECRET_DT,
      authMethod: 'client_secret_post',
      maxRetries: 0,
      fetch: (url, init) => Promise.reject(new TypeError(`${padding(pad)}cannot send ${init.body}`)),
    });
    const err = await client.getToken().then(
      () => null,
      (e) => e,
    );
    assert.equal(err?.code, 'network');
    assert.deepEqual(describeLeaks(findLeaks(err, needlesFor(SECRET_DT)), 'network'), []);
  });
}

test('no console line printed during the echo pass holds a secret', () => {
  const needles = [...needlesFor(SECRET_DT), ...needlesFor(SECRET_AD)];
  assert.equal(capture.lines.filter((l) => needles.some((n) => l.includes(n))).length, 0);
});

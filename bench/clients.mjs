// The libraries under test, each used the way its documentation shows, against the emulator's
// Dynatrace SSO and environment. Each factory returns { name, call(), close?() } where call()
// makes one authenticated GET of the environment endpoint and resolves to the HTTP status after
// reading the body (so keep-alive connections are reused).

export const API_PATH = '/platform/management/v1/environment';
export const SCOPES = ['app-engine:apps:run', 'storage:logs:read'];

export async function plainToken(emu) {
  const c = emu.credentials.dynatrace;
  const res = await fetch(emu.urls.ssoToken, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: c.clientId,
      client_secret: c.clientSecret,
      scope: SCOPES.join(' '),
    }),
  });
  if (!res.ok) throw new Error(`token request failed: HTTP ${res.status}`);
  return (await res.json()).access_token;
}

const drain = async (res) => {
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`unexpected HTTP ${res.status}`);
  return res.status;
};

/** Plain fetch with a fixed Authorization header: the floor every library is compared with. */
export async function plainFetch(emu) {
  const token = await plainToken(emu);
  const url = emu.urls.dynatrace + API_PATH;
  const headers = { authorization: `Bearer ${token}` };
  return { name: 'plain fetch', call: () => fetch(url, { headers }).then(drain) };
}

/**
 * Plain fetch that can time out as apm-oauth's calls do: its own AbortController's signal, and a
 * timer cleared when the body is read. Not an anchor: it shows what a cancellable timeout costs
 * the platform's fetch, which apm-oauth pays on every call.
 */
export const PLAIN_TIMEOUT = 'plain fetch + timeout signal';
export async function plainFetchTimeout(emu) {
  const token = await plainToken(emu);
  const url = emu.urls.dynatrace + API_PATH;
  const headers = { authorization: `Bearer ${token}` };
  return {
    name: PLAIN_TIMEOUT,
    call: async () => {
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(), 30_000);
      try {
        return await fetch(url, { headers, signal: ctl.signal }).then(drain);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** apm-oauth's DynatraceClient.fetch (token cache and single flight inside). */
export async function apmOauth(emu, { DynatraceClient }) {
  const c = emu.credentials.dynatrace;
  const client = new DynatraceClient({
    clientId: c.clientId,
    clientSecret: c.clientSecret,
    environmentUrl: emu.urls.dynatrace,
    tokenUrl: emu.urls.ssoToken,
    scope: SCOPES,
  });
  return { name: 'apm-oauth', call: () => client.fetch(API_PATH).then(drain), client, close: () => client.free() };
}

/** @badgateway/oauth2-client: OAuth2Fetch with getNewToken = client credentials (single flight). */
export async function badgateway(emu, { OAuth2Client, OAuth2Fetch }) {
  const c = emu.credentials.dynatrace;
  const client = new OAuth2Client({
    server: emu.urls.sso,
    tokenEndpoint: emu.urls.ssoToken,
    clientId: c.clientId,
    clientSecret: c.clientSecret,
    authenticationMethod: 'client_secret_post',
  });
  const wrapper = new OAuth2Fetch({ client, getNewToken: () => client.clientCredentials({ scope: SCOPES }) });
  const url = emu.urls.dynatrace + API_PATH;
  return { name: '@badgateway/oauth2-client', call: () => wrapper.fetch(url).then(drain) };
}

function o4wSetup(emu, oauth) {
  const c = emu.credentials.dynatrace;
  const as = { issuer: emu.urls.sso, token_endpoint: emu.urls.ssoToken };
  const client = { client_id: c.clientId };
  const auth = oauth.ClientSecretPost(c.clientSecret);
  const opts = { [oauth.allowInsecureRequests]: true };
  const getToken = async () => {
    const res = await oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams({ scope: SCOPES.join(' ') }), opts);
    return (await oauth.processClientCredentialsResponse(as, client, res)).access_token;
  };
  const url = new URL(emu.urls.dynatrace + API_PATH);
  const get = (token) => oauth.protectedResourceRequest(token, 'GET', url, new Headers(), null, opts).then(drain);
  return { getToken, get };
}

/** oauth4webapi has no token cache: for the overhead run the token is fetched once and kept by hand. */
export async function oauth4webapiCached(emu, oauth) {
  const { getToken, get } = o4wSetup(emu, oauth);
  const token = await getToken();
  return { name: 'oauth4webapi (token kept by hand)', call: () => get(token) };
}

/** oauth4webapi as documented, with no cache: every call gets a token, then calls. */
export async function oauth4webapiIdiomatic(emu, oauth) {
  const { getToken, get } = o4wSetup(emu, oauth);
  return { name: 'oauth4webapi (no cache)', call: async () => get(await getToken()) };
}

function oidcSetup(emu, client) {
  const c = emu.credentials.dynatrace;
  const config = new client.Configuration({ issuer: emu.urls.sso, token_endpoint: emu.urls.ssoToken }, c.clientId, c.clientSecret);
  client.allowInsecureRequests(config);
  const getToken = async () => (await client.clientCredentialsGrant(config, { scope: SCOPES.join(' ') })).access_token;
  const url = new URL(emu.urls.dynatrace + API_PATH);
  const get = (token) => client.fetchProtectedResource(config, token, url, 'GET').then(drain);
  return { getToken, get };
}

/** openid-client has no token cache either: token kept by hand for the overhead run. */
export async function openidClientCached(emu, client) {
  const { getToken, get } = oidcSetup(emu, client);
  const token = await getToken();
  return { name: 'openid-client (token kept by hand)', call: () => get(token) };
}

/** openid-client as documented, with no cache: clientCredentialsGrant, then fetchProtectedResource. */
export async function openidClientIdiomatic(emu, client) {
  const { getToken, get } = oidcSetup(emu, client);
  return { name: 'openid-client (no cache)', call: async () => get(await getToken()) };
}


// Adversarial paths and URLs for client.fetch(), checked against the WHATWG URL parser. Shared
// by url-fuzz.test.mjs and scripts/reliability-report.mjs.
import { DynatraceClient, AppDynamicsClient, OAuthClient, ApmOAuthError } from '../../pkg/node.mjs';

export const DEFAULT_SEED = 0x5eed1234;

/** mulberry32: small, seeded, good enough to pick pieces. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  '/', '//', '///', '\\', '\\\\', '/\\', '\\/', '@', ':', '::', '.', '..', '/..', '/../', '%2e', '%2E%2e', '%2f', '%5c',
  '%40', '%3a', '%00', '%', '%zz', '?', '#', '&', '=', ';', ' ', '\t', '\n', '\r', '\u0000', '\u001f', '\u007f',
  '\u00a0', '\u3002', '\uff0e', '\uff0f', '\u2044', '\ufeff', '\u200b', 'ü', 'ß', 'İ', '\ud800', '\udfff', '😀',
  'http://', 'https://', 'HTTP://', 'hTtPs://', 'http:', 'https:', 'http:/', 'https:\\\\', 'file://', 'javascript:',
  'data:', 'blob:', 'ws://', 'mailto:', 'evil.com', 'evil.com:443', 'user:pass@', 'user@', '[::1]', '[::ffff:127.0.0.1]',
  '127.0.0.1', '0x7f.1', '2130706433', 'localhost', ':443', ':80', ':8090', ':8443', ':65536', ':0', ':-1',
  'platform', 'controller', 'rest', 'app-engine', 'a', 'x', '1', 'output=JSON',
];

function originOf(url) {
  return new URL(url).origin;
}

/** Inputs: random concatenations of pieces, plus pieces around each client's own origin and host. */
function generateInputs(rand, base, count) {
  const host = new URL(base).host;
  const hostname = new URL(base).hostname;
  const own = [base, `${base}/`, host, hostname, `//${host}`, `${new URL(base).protocol}//${hostname.toUpperCase()}`, `${base}.`, `${base}:`];
  const all = [...PIECES, ...own];
  const pick = () => all[Math.floor(rand() * all.length)];
  const inputs = [];
  for (let i = 0; i < count; i++) {
    const n = 1 + Math.floor(rand() * 6);
    let s = '';
    // Half of the inputs start with one of the client's own spellings of its origin.
    if (rand() < 0.5) s += own[Math.floor(rand() * own.length)];
    for (let k = 0; k < n; k++) s += pick();
    inputs.push(s);
  }
  return inputs;
}

const TOKEN_BODY = JSON.stringify({ access_token: 'fuzz-access-token-0123456789', token_type: 'Bearer', expires_in: 3600 });

export function recorderClient(make, tokenUrl) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url: String(url), init });
    if (String(url) === tokenUrl) return new Response(TOKEN_BODY, { status: 200, headers: { 'content-type': 'application/json' } });
    return new Response('{}', { status: 200 });
  };
  return { client: make(fetch), calls };
}

export const CLIENTS = [
  {
    name: 'OAuthClient, https://api.example.com',
    base: 'https://api.example.com',
    tokenUrl: 'https://auth.example.com/oauth/token',
    make: (fetch) => new OAuthClient({ tokenUrl: 'https://auth.example.com/oauth/token', clientId: 'c', clientSecret: 'fuzz-secret', baseUrl: 'https://api.example.com', fetch }),
  },
  {
    name: 'DynatraceClient, https://abc12345.apps.dynatrace.com',
    base: 'https://abc12345.apps.dynatrace.com',
    tokenUrl: 'https://sso.dynatrace.com/sso/oauth2/token',
    make: (fetch) => new DynatraceClient({ clientId: 'dt0s02.FUZZ', clientSecret: 'fuzz-secret', environmentUrl: 'https://abc12345.apps.dynatrace.com', fetch }),
  },
  {
    name: 'AppDynamicsClient, http://127.0.0.1:8090',
    base: 'http://127.0.0.1:8090',
    tokenUrl: 'http://127.0.0.1:8090/controller/api/oauth/access_token',
    make: (fetch) => new AppDynamicsClient({ controllerUrl: 'http://127.0.0.1:8090', clientName: 'fuzz', accountName: 'customer1', clientSecret: 'fuzz-secret', fetch }),
  },
  {
    name: 'OAuthClient, https://[::1]:8443',
    base: 'https://[::1]:8443',
    tokenUrl: 'https://[::1]:8443/token',
    make: (fetch) => new OAuthClient({ tokenUrl: 'https://[::1]:8443/token', clientId: 'c', clientSecret: 'fuzz-secret', baseUrl: 'https://[::1]:8443', fetch }),
  },
];

/**
 * Runs `count` generated inputs through one client (CLIENTS[index]) and returns
 * { name, inputs, tally, tokenCalls, problems }.
 */
export async function runUrlFuzz(index, { seed = DEFAULT_SEED, count = 3000 } = {}) {
  const spec = CLIENTS[index];
  const rand = prng(seed + index);
  const inputs = generateInputs(rand, spec.base, count);
  const { client, calls } = recorderClient(spec.make, spec.tokenUrl);
  const expectedOrigin = originOf(spec.base);
  const problems = [];
  const tally = { accepted: 0, insecure_url: 0, invalid_argument: 0, whatwgSameOriginButRefused: 0 };
  for (const input of inputs) {
    const before = calls.length;
    let result;
    try {
      result = { value: await client.fetch(input) };
    } catch (error) {
      result = { error };
    }
    const api = calls.slice(before).filter((c) => c.url !== spec.tokenUrl);
    if (result.error) {
      const e = result.error;
      if (!(e instanceof ApmOAuthError) || !['insecure_url', 'invalid_argument'].includes(e.code)) {
        problems.push(`${JSON.stringify(input)}: rejected with ${e && e.code ? e.code : String(e)}`);
      } else tally[e.code] += 1;
      if (api.length) problems.push(`${JSON.stringify(input)}: refused, yet ${api.length} request(s) reached the transport`);
      let whatwg = null;
      try {
        whatwg = new URL(input, `${spec.base}/`).origin;
      } catch {}
      if (whatwg === expectedOrigin) tally.whatwgSameOriginButRefused += 1;
      continue;
    }
    tally.accepted += 1;
    if (api.length !== 1) {
      problems.push(`${JSON.stringify(input)}: ${api.length} API requests, want 1`);
      continue;
    }
    const { url, init } = api[0];
    let origin;
    try {
      origin = originOf(url);
    } catch {
      origin = '(not a URL for WHATWG)';
    }
    if (origin !== expectedOrigin) problems.push(`${JSON.stringify(input)}: sent to ${JSON.stringify(url)}, origin ${origin}`);
    if (!url.startsWith(`${expectedOrigin}/`)) problems.push(`${JSON.stringify(input)}: ${JSON.stringify(url)} does not start with the origin and /`);
    if (init.redirect !== 'manual') problems.push(`${JSON.stringify(input)}: redirect ${init.redirect}`);
  }
  const tokenCalls = calls.filter((c) => c.url === spec.tokenUrl).length;
  return { name: spec.name, inputs: inputs.length, tally, tokenCalls, problems };
}

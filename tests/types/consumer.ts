// A TypeScript consumer of the package: every class, option and result type used as a user would,
// and `@ts-expect-error` lines proving that wrong uses are rejected. Checked, never run:
//   node_modules/.bin/tsc -p tests/types/tsconfig.json
import {
  DynatraceClient,
  AppDynamicsClient,
  OAuthClient,
  DynatraceAccountClient,
  ApmOAuthError,
  ERROR_CODES,
  type ApmOAuthErrorCode,
  type TokenInfo,
  type ClientStats,
  type CommonOptions,
  type DynatraceClientOptions,
  type AppDynamicsClientOptions,
  type AppDynamicsCredentials,
  type AppDynamicsApplication,
  type OAuthClientOptions,
  type DynatraceAccountClientOptions,
} from 'apm-oauth';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_: T): void {}

// ---------------------------------------------------------------------------------------------
// Options

const common: CommonOptions = {
  fetch: globalThis.fetch,
  timeoutMs: 10_000,
  refreshSkewSeconds: 30,
  allowInsecureHttp: false,
  maxRetries: 2,
};

const dtOptions: DynatraceClientOptions = {
  ...common,
  clientId: 'dt0s02.JDMK2DWV',
  clientSecret: 'dt0s02.JDMK2DWV.SECRET',
  environmentUrl: 'https://abc12345.apps.dynatrace.com',
  scope: ['app-engine:apps:run', 'storage:logs:read'],
  resource: 'urn:dtaccount:00000000-0000-4000-8000-000000000000',
  tokenUrl: 'https://sso.dynatrace.com/sso/oauth2/token',
  authMethod: 'client_secret_post',
};
const dt = new DynatraceClient(dtOptions);
new DynatraceClient({ clientId: 'a', clientSecret: 'b', scope: 'storage:logs:read', authMethod: 'client_secret_basic' });

const byName: AppDynamicsClientOptions = {
  controllerUrl: 'https://acme.saas.appdynamics.com',
  clientName: 'api-client',
  accountName: 'acme',
  clientSecret: 'uuid',
  tokenContentType: 'auto',
  basicAuth: 'auto',
};
const byId: AppDynamicsClientOptions = {
  controllerUrl: 'http://controller:8090',
  clientId: 'api-client@customer1',
  clientSecret: 'uuid',
  tokenContentType: 'vendor',
  basicAuth: true,
  allowInsecureHttp: true,
};
const withToken: AppDynamicsClientOptions = {
  controllerUrl: 'https://acme.saas.appdynamics.com',
  accessToken: 'eyJ...',
  tokenContentType: 'form',
  basicAuth: false,
};
const credentials: AppDynamicsCredentials = { clientId: 'a@b', clientSecret: 's' };
const ad = new AppDynamicsClient(byName);
new AppDynamicsClient(byId);
new AppDynamicsClient(withToken);
new AppDynamicsClient({ controllerUrl: 'https://acme.saas.appdynamics.com', ...credentials });

const oauthOptions: OAuthClientOptions = {
  tokenUrl: 'https://idp.example/oauth/token',
  clientId: 'client',
  clientSecret: 'secret',
  scope: 'read write',
  resource: ['https://api.example/'],
  audience: 'https://api.example/',
  authMethod: 'client_secret_basic',
  baseUrl: 'https://api.example',
  extraParams: { tenant: 'acme' },
  timeoutMs: 5000,
};
const oc = new OAuthClient(oauthOptions);
new OAuthClient({ tokenUrl: 'https://idp.example/t', clientId: 'c', clientSecret: 's', resource: 'urn:x', audience: ['a', 'b'] });

// Signing a user in: redirectUri instead of clientSecret, the endpoints, the stores.
const dtUserOptions: DynatraceClientOptions = {
  environmentUrl: 'https://abc12345.apps.dynatrace.com',
  clientId: 'dt0s12.XXXXXXXX',
  redirectUri: 'https://console.example.com/callback',
  scope: ['openid', 'storage:logs:read'],
  authorizationUrl: 'https://sso.dynatrace.com/oauth2/authorize',
  tokenUrl: 'https://token.dynatrace.com/sso/oauth2/token',
  userInfoUrl: 'https://sso.dynatrace.com/sso/oauth2/userinfo',
  authorizationParams: { prompt: 'consent' },
  stateStorage: sessionStorage,
  tokenStore: {
    get: () => JSON.parse(localStorage.getItem('tokens') ?? 'null'),
    set: async (tokens) => {
      if (tokens === null) return localStorage.removeItem('tokens');
      const access: string = tokens.accessToken;
      const expiresAt: number = tokens.expiresAt;
      const refresh: string | undefined = tokens.refreshToken;
      const scope: string | undefined = tokens.scope;
      void access;
      void expiresAt;
      void refresh;
      void scope;
      localStorage.setItem('tokens', JSON.stringify(tokens));
    },
  },
};
const dtUser = new DynatraceClient(dtUserOptions);
new DynatraceClient({ clientId: 'dt0s12.X', redirectUri: 'http://localhost:3232/auth/login', clientSecret: 'confidential' });
new DynatraceClient({ clientId: 'a', clientSecret: 'b', tokenStore: { get: async () => null, set: async () => {} } });
// A store shared by processes, with its lock.
new DynatraceClient({
  clientId: 'a',
  clientSecret: 'b',
  tokenStore: {
    get: async () => null,
    set: async () => {},
    lock: async <T>(fn: () => Promise<T>): Promise<T> => {
      const result: T = await fn();
      return result;
    },
  },
});
const ocUser = new OAuthClient({
  issuer: 'https://idp.example',
  clientId: 'spa',
  redirectUri: 'https://app.example/callback',
  scope: 'openid offline_access',
  authorizationParams: { prompt: 'consent' },
  baseUrl: 'https://api.example',
});
new OAuthClient({
  authorizationUrl: 'https://idp.example/authorize',
  tokenUrl: 'https://idp.example/token',
  userInfoUrl: 'https://idp.example/userinfo',
  clientId: 'spa',
  redirectUri: 'https://app.example/callback',
});

// A Dynatrace platform token instead of client credentials.
const dtPlatform = new DynatraceClient({ environmentUrl: 'https://abc12345.apps.dynatrace.com', platformToken: 'dt0s16.XXXXXXXX.YYYY' });
const platformOptions: DynatraceClientOptions = { environmentUrl: 'https://abc12345.apps.dynatrace.com', platformToken: 'dt0s16.X.Y', timeoutMs: 5000 };
new DynatraceClient(platformOptions);

// The Account Management API.
const accountOptions: DynatraceAccountClientOptions = {
  ...common,
  accountUuid: '00000000-0000-4000-8000-000000000000',
  clientId: 'dt0s02.XXXXXXXX',
  clientSecret: 'dt0s02.XXXXXXXX.YYYY',
  scope: ['account-idm-read'],
  tokenUrl: 'https://sso.dynatrace.com/sso/oauth2/token',
  accountApiUrl: 'https://api.dynatrace.com',
  authMethod: 'client_secret_post',
};
const account = new DynatraceAccountClient(accountOptions);
new DynatraceAccountClient({ accountUuid: 'urn:dtaccount:00000000-0000-4000-8000-000000000000', clientId: 'a', clientSecret: 'b', scope: 'account-idm-read' });

// ---------------------------------------------------------------------------------------------
// Wrong options are rejected

// @ts-expect-error platformToken and clientSecret are alternatives
new DynatraceClient({ environmentUrl: 'https://abc12345.apps.dynatrace.com', platformToken: 't', clientId: 'a', clientSecret: 'b' });
// @ts-expect-error platformToken is a string
new DynatraceClient({ environmentUrl: 'https://abc12345.apps.dynatrace.com', platformToken: 5 });
// @ts-expect-error accountUuid is required
new DynatraceAccountClient({ clientId: 'a', clientSecret: 'b' });
// @ts-expect-error clientSecret is required
new DynatraceAccountClient({ accountUuid: 'u', clientId: 'a' });
// @ts-expect-error unknown option (environmentUrl is the environment client's)
new DynatraceAccountClient({ accountUuid: 'u', clientId: 'a', clientSecret: 'b', environmentUrl: 'https://x.example' });
// @ts-expect-error unknown option (a typo of accountUuid)
new DynatraceAccountClient({ account_uuid: 'u', clientId: 'a', clientSecret: 'b' });

// @ts-expect-error unknown option (a typo of clientId)
new DynatraceClient({ client_id: 'a', clientSecret: 'b' });
// @ts-expect-error unknown option
new OAuthClient({ tokenUrl: 'https://idp.example/t', clientId: 'c', clientSecret: 's', scopes: ['x'] });
// @ts-expect-error clientSecret is required
new DynatraceClient({ clientId: 'a' });
// @ts-expect-error authMethod is one of two strings
new DynatraceClient({ clientId: 'a', clientSecret: 'b', authMethod: 'private_key_jwt' });
// @ts-expect-error authMethod is one of two strings
new OAuthClient({ tokenUrl: 'https://idp.example/t', clientId: 'c', clientSecret: 's', authMethod: 'basic' });
// @ts-expect-error scope is a string or an array of strings
new DynatraceClient({ clientId: 'a', clientSecret: 'b', scope: 5 });
// @ts-expect-error timeoutMs is a number
new DynatraceClient({ clientId: 'a', clientSecret: 'b', timeoutMs: '100' });
// @ts-expect-error AppDynamics clientSecret needs clientName + accountName or clientId
new AppDynamicsClient({ controllerUrl: 'https://acme.saas.appdynamics.com', clientSecret: 's' });
// @ts-expect-error clientName without accountName
new AppDynamicsClient({ controllerUrl: 'https://acme.saas.appdynamics.com', clientName: 'n', clientSecret: 's' });
// @ts-expect-error clientId and clientName are alternatives
new AppDynamicsClient({ controllerUrl: 'https://x.example', clientId: 'n@a', clientName: 'n', accountName: 'a', clientSecret: 's' });
// @ts-expect-error accessToken and clientSecret are alternatives
new AppDynamicsClient({ controllerUrl: 'https://x.example', accessToken: 't', clientId: 'n@a', clientSecret: 's' });
// @ts-expect-error controllerUrl is required
new AppDynamicsClient({ accessToken: 't' });
// @ts-expect-error accountName is required with clientName, also next to a temporary token
new AppDynamicsClient({ controllerUrl: 'https://x.example', accessToken: 't', clientName: 'n' });
// @ts-expect-error clientId and clientName/accountName are alternatives, also next to a temporary token
new AppDynamicsClient({ controllerUrl: 'https://x.example', accessToken: 't', clientId: 'n@a', clientName: 'n', accountName: 'a' });
new AppDynamicsClient({ controllerUrl: 'https://x.example', accessToken: 't', clientName: 'n', accountName: 'a' });
new AppDynamicsClient({ controllerUrl: 'https://x.example', accessToken: 't', clientId: 'n@a' });
// @ts-expect-error tokenContentType is "form", "vendor" or "auto"
new AppDynamicsClient({ controllerUrl: 'https://x.example', accessToken: 't', tokenContentType: 'json' });
// @ts-expect-error extraParams values are strings
new OAuthClient({ tokenUrl: 'https://idp.example/t', clientId: 'c', clientSecret: 's', extraParams: { n: 1 } });
// @ts-expect-error options are required
new DynatraceClient();
// @ts-expect-error redirectUri is a string
new DynatraceClient({ clientId: 'a', redirectUri: new URL('https://x.example/cb') });
// @ts-expect-error authorizationParams values are strings
new DynatraceClient({ clientId: 'a', redirectUri: 'https://x.example/cb', authorizationParams: { max_age: 5 } });
// @ts-expect-error a tokenStore has get and set
new DynatraceClient({ clientId: 'a', redirectUri: 'https://x.example/cb', tokenStore: { get: () => null } });
// @ts-expect-error a stateStorage has getItem, setItem and removeItem
new DynatraceClient({ clientId: 'a', redirectUri: 'https://x.example/cb', stateStorage: { getItem: () => null } });

// ---------------------------------------------------------------------------------------------
// Results

async function results(): Promise<void> {
  const token: TokenInfo = await dt.getToken();
  expectType<Equal<typeof token.accessToken, string>>(true);
  expectType<Equal<typeof token.tokenType, 'Bearer'>>(true);
  expectType<Equal<typeof token.expiresAt, number>>(true);
  expectType<Equal<typeof token.scope, string | undefined>>(true);
  expectType<Equal<typeof token.resource, string | undefined>>(true);
  // @ts-expect-error accessToken is a string, not any
  const notANumber: number = token.accessToken;
  void notANumber;
  // @ts-expect-error getToken() is a Promise
  (dt.getToken() satisfies TokenInfo);

  const res: Response = await dt.fetch('/platform/management/v1/environment');
  await dt.fetch(new URL('https://abc12345.apps.dynatrace.com/platform/echo'), { method: 'POST', body: '{}', signal: AbortSignal.timeout(1000) });
  const url: string = dt.platformUrl('management/v1/environment');
  const fn: Response = await dt.callAppFunction('my.app', 'fn');
  await dt.callAppFunction('my.app', 'fn', { a: 1 }, { headers: { 'x-id': '1' } });
  // @ts-expect-error fetch takes a path or URL
  await dt.fetch(123);

  const apps: AppDynamicsApplication[] = await ad.listApplications();
  const first = apps[0];
  if (first) {
    expectType<Equal<typeof first.id, number>>(true);
    expectType<Equal<typeof first.name, string>>(true);
    expectType<Equal<typeof first.description, string>>(true);
  }
  // @ts-expect-error listApplications is AppDynamics only
  await dt.listApplications();
  // @ts-expect-error platformUrl is Dynatrace only
  ad.platformUrl('x');
  await ad.fetch('/controller/rest/applications');
  await oc.fetch('/v1/things', { method: 'DELETE' });

  // Platform token: the same client methods.
  const platformToken: TokenInfo = await dtPlatform.getToken();
  await dtPlatform.fetch('/platform/management/v1/environment');

  // The account client.
  const users = await account.listUsers();
  const count: number | undefined = users.count;
  const items: Array<Record<string, unknown>> | undefined = users.items;
  const path: string = account.accountPath('users');
  const groups: Response = await account.fetch(account.accountPath('groups'), { signal: AbortSignal.timeout(1000) });
  // @ts-expect-error listUsers takes no argument
  await account.listUsers('x');
  // @ts-expect-error accountPath is the account client's
  dt.accountPath('users');
  // @ts-expect-error platformUrl is the environment client's
  account.platformUrl('x');
  // @ts-expect-error no sign-in for the account client
  await account.signIn();
  void platformToken;
  void count;
  void items;
  void path;
  void groups;

  // Signing in.
  for (const c of [dtUser, ocUser]) {
    const authorizeUrl: string = await c.buildAuthorizationUrl();
    await c.signIn();
    const back: TokenInfo | null = await c.handleRedirect('https://console.example.com/callback?code=c&state=s');
    const me = await c.userInfo();
    const sub: unknown = me.sub;
    const signedIn: boolean = c.isSignedIn();
    const out: Promise<void> = c.signOut();
    await out;
    // @ts-expect-error handleRedirect takes the URL as a string
    await c.handleRedirect(5);
    void authorizeUrl;
    void back;
    void sub;
    void signedIn;
  }

  for (const c of [dt, ad, oc, dtPlatform, account]) {
    const stats: ClientStats = c.stats();
    const counts: number[] = [stats.tokenRequests, stats.cacheHits, stats.refreshes, stats.unauthorizedRetries, stats.refreshTokenGrants];
    void counts;
    c.invalidate();
    const json: Record<string, string> = c.toJSON();
    const text: string = c.toString();
    void json;
    void text;
    c.free();
  }
  void res;
  void url;
  void fn;
}

// ---------------------------------------------------------------------------------------------
// Errors

async function errors(): Promise<void> {
  try {
    await dt.getToken();
  } catch (e: unknown) {
    if (e instanceof ApmOAuthError) {
      const err: Error = e;
      expectType<Equal<typeof e.name, 'ApmOAuthError'>>(true);
      expectType<Equal<typeof e.code, ApmOAuthErrorCode>>(true);
      const status: number | undefined = e.status;
      const retryAfter: number | undefined = e.retryAfter;
      const fields: (string | undefined)[] = [e.hint, e.error, e.errorDescription, e.issueId];
      switch (e.code) {
        case 'invalid_config':
        case 'invalid_argument':
        case 'insecure_url':
        case 'invalid_client':
        case 'invalid_scope':
        case 'token_error':
        case 'invalid_response':
        case 'rate_limited':
        case 'server_error':
        case 'network':
        case 'timeout':
        case 'aborted':
        case 'http_error':
        case 'login_required':
        case 'authorization_error':
          break;
        default: {
          // Exhaustive: every code is handled above.
          const never: never = e.code;
          void never;
        }
      }
      // @ts-expect-error not a code
      if (e.code === 'unauthorized') return;
      // @ts-expect-error code is read-only
      e.code = 'network';
      void err;
      void status;
      void retryAfter;
      void fields;
    }
  }
  const codes: readonly ApmOAuthErrorCode[] = ERROR_CODES;
  // @ts-expect-error ERROR_CODES is read-only
  ERROR_CODES.push('network');
  // @ts-expect-error not a code
  const bad: ApmOAuthErrorCode = 'unauthorized';
  void codes;
  void bad;
}

void results;
void errors;

// Types of the apm-oauth package. Hand-written so that options and results are exact (the
// generated bindings would say `any`); tests/types type-checks a consumer against this file.

/** Every `code` an `ApmOAuthError` can carry. */
export type ApmOAuthErrorCode =
  | 'invalid_config'
  | 'invalid_argument'
  | 'insecure_url'
  | 'invalid_client'
  | 'invalid_scope'
  | 'token_error'
  | 'invalid_response'
  | 'rate_limited'
  | 'server_error'
  | 'network'
  | 'timeout'
  | 'aborted'
  | 'http_error'
  | 'login_required'
  | 'authorization_error';

/** The codes, in documentation order. */
export declare const ERROR_CODES: readonly ApmOAuthErrorCode[];

/**
 * Every failure is an `Error` named `ApmOAuthError` with a stable `code`. `instanceof
 * ApmOAuthError` works across the Node and web builds. No property ever holds a secret.
 */
export declare class ApmOAuthError extends Error {
  readonly name: 'ApmOAuthError';
  readonly code: ApmOAuthErrorCode;
  /** What to check or do, when there is something useful to say (also at the end of `message`). */
  readonly hint?: string;
  /** HTTP status, when a server answered. */
  readonly status?: number;
  /** The OAuth `error` field of the server's answer. */
  readonly error?: string;
  /** The OAuth `error_description` field (or the vendor's message). */
  readonly errorDescription?: string;
  /** Dynatrace's `issueId`, to quote to Dynatrace support. */
  readonly issueId?: string;
  /** Seconds to wait before trying again (`Retry-After`). */
  readonly retryAfter?: number;
  /** For `aborted`: the caller's signal's `reason` (e.g. a `TimeoutError` of `AbortSignal.timeout()`). */
  readonly cause?: unknown;
}

/** A token as `getToken()` returns it. */
export interface TokenInfo {
  accessToken: string;
  tokenType: 'Bearer';
  /** Expiry in ms since the epoch; `Infinity` for a static token whose expiry is unknown. */
  expiresAt: number;
  /** Scopes granted, when the server said. */
  scope?: string;
  /** Dynatrace account URN, when the server said. */
  resource?: string;
}

/** Counters of one client. */
export interface ClientStats {
  /** HTTP requests sent to the token endpoint (fallbacks and retries included). */
  tokenRequests: number;
  /** Calls served from the cached token. */
  cacheHits: number;
  /** Token requests started because the cached token reached its refresh time. */
  refreshes: number;
  /** API calls retried once after a 401. */
  unauthorizedRetries: number;
  /** Refresh token grants of a signed-in user (also counted in `tokenRequests`); 0 without sign-in. */
  refreshTokenGrants: number;
}

/** Tokens as a `tokenStore` holds them. */
export interface StoredTokens {
  accessToken: string;
  /** Expiry in ms since the epoch. */
  expiresAt: number;
  /** When the token was obtained (ms since the epoch; written by the client, to judge freshness). */
  obtainedAt?: number;
  refreshToken?: string;
  scope?: string;
}

/**
 * Keeps tokens beyond the client (another page load, another process, a serverless function's
 * next run): read when the client holds no fresh token, written after every grant and sign-out.
 * An answer is waited for at most `timeoutMs`: a read that takes longer counts as empty, a write
 * goes on by itself. Several clients may share one store: a refresh token refused because another
 * client rotated it first is looked for in the store again before the user is signed out. One
 * store (one key) per client id, environment and set of scopes: a stored token is used as it is.
 */
export interface TokenStore {
  get(): StoredTokens | null | undefined | Promise<StoredTokens | null | undefined>;
  set(tokens: StoredTokens | null): void | Promise<void>;
  /**
   * Optional, for stores shared by processes: runs `fn` while holding a lock every client of the
   * store respects, and returns `fn`'s promise, settled after the lock is released. Tokens are then
   * obtained only inside it, after the store is read again: one client refreshes, the others take
   * its tokens. A lock that throws, rejects or is not given within
   * `timeoutMs × (maxRetries + 3)` is done without. (In a page, tabs use `navigator.locks`.)
   */
  lock?<T>(fn: () => Promise<T>): Promise<T>;
}

/** Where the state and PKCE verifier wait for the redirect back (`sessionStorage` fits). */
export interface StateStorage {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
}

/** The sign-in options of the clients that can sign a user in. */
export interface SignInOptions {
  /** The redirect URI registered for the client: with it, the client signs a user in. */
  redirectUri: string;
  /** A confidential client's secret (on a server); a public client has none. */
  clientSecret?: string;
  /** The authorize endpoint. */
  authorizationUrl?: string;
  /** The user-info endpoint. */
  userInfoUrl?: string;
  /** More authorize parameters, e.g. `{ prompt: "consent" }`. */
  authorizationParams?: Record<string, string>;
  /**
   * Default: `sessionStorage` where it exists, memory otherwise. A `setItem` that throws or
   * rejects fails `buildAuthorizationUrl` with `invalid_config`; a `getItem` that does fails
   * `handleRedirect` the same way.
   */
  stateStorage?: StateStorage;
}

/** The methods of a client that signs a user in. */
export interface SignInMethods {
  /** The authorize URL with a fresh `state` and PKCE S256 challenge. */
  buildAuthorizationUrl(): Promise<string>;
  /** In browsers `location.assign(await buildAuthorizationUrl())`; resolves to the URL. */
  signIn(): Promise<string>;
  /**
   * On the callback: checks the state, exchanges the code; the token, or `null` when `href` carries
   * neither a code nor an error (after reading the `tokenStore`, so that `isSignedIn()` knows of a
   * user signed in before). Rejects with `authorization_error`. `href` defaults to `location.href`
   * in a page; elsewhere it is required (`invalid_argument`).
   */
  handleRedirect(href?: string | URL): Promise<TokenInfo | null>;
  /**
   * The user's claims from the user-info endpoint (a 401 gets one refresh and one retry). A refusal
   * rejects with `http_error`, its `error` and `errorDescription` those of the endpoint's
   * `WWW-Authenticate: Bearer` challenge (e.g. `insufficient_scope`), else of its JSON body.
   */
  userInfo(): Promise<{ sub?: string; email?: string; name?: string; [claim: string]: unknown }>;
  /**
   * Whether this client holds a token or a refresh token now: one it obtained, or a
   * `platformToken` given in the options (which `signOut()` does not forget).
   */
  isSignedIn(): boolean;
  /** Forgets the tokens here, in the store and in the other tabs. */
  signOut(): Promise<void>;
}

/** Options every client accepts. */
export interface CommonOptions {
  /**
   * A fetch to use instead of the global one (proxy, tests, a same-origin forwarder). It must
   * answer with a fetch `Response` (one whose body is a Node stream, as node-fetch's, serves too);
   * anything else fails the call with `invalid_config`. `timeoutMs` and the caller's signal end
   * the call even when it ignores the signal it is given.
   */
  fetch?: typeof fetch;
  /** Per HTTP attempt, token and API; default 30000. */
  timeoutMs?: number;
  /** Refresh this long before expiry (never more than half the token's lifetime); default 30. */
  refreshSkewSeconds?: number;
  /** Allow http:// to hosts that are not loopback; default false. */
  allowInsecureHttp?: boolean;
  /** Keeps tokens beyond this client (see `TokenStore`). */
  tokenStore?: TokenStore;
  /** Retries of a token request after a network error, 429 or 502/503/504: 0 to 10, whole; default 2. */
  maxRetries?: number;
}

/** What every client has. Each class below merges these methods in. */
export interface ClientBase {
  /** The current token, fetched (once, for all concurrent callers) when needed. */
  getToken(options?: { signal?: AbortSignal }): Promise<TokenInfo>;
  /**
   * An authenticated call. A path is resolved against the configured origin; an absolute URL to
   * another origin is refused. Redirects are not followed (the 3xx is returned). On 401 the token
   * is renewed and the call retried once when its body can be sent again.
   */
  fetch(pathOrUrl: string | URL, init?: RequestInit): Promise<Response>;
  /** Forget the cached token. */
  invalidate(): void;
  stats(): ClientStats;
  /**
   * Releases the client's wasm memory now (the garbage collector reclaims it without this). Calls
   * already in flight finish normally. Afterwards `free()` does nothing, `String(client)` is
   * `"<Class> (freed)"`, `toJSON()` is `{}`, and every other method fails with an
   * `invalid_argument` ApmOAuthError (a rejected Promise where the method returns one).
   */
  free(): void;
  toJSON(): Record<string, string>;
  toString(): string;
}

/** Client credentials: no `redirectUri`, a `clientSecret`. */
export interface ClientCredentialsOptions {
  clientSecret: string;
  redirectUri?: undefined;
}

/**
 * A Dynatrace platform token (`dt0s16.…`), sent as it is: no token request. The options of token
 * requests (`scope`, `resource`, `tokenUrl`, `tokenStore`, sign-in; `authMethod`,
 * `refreshSkewSeconds` and `maxRetries` set to anything but their defaults) are refused with it
 * (`invalid_config`).
 */
export interface PlatformTokenOptions {
  platformToken: string;
  clientId?: string;
  clientSecret?: undefined;
  redirectUri?: undefined;
}

export type DynatraceClientOptions = DynatraceBaseOptions &
  (({ clientId: string } & (ClientCredentialsOptions | SignInOptions)) | PlatformTokenOptions);

export interface DynatraceBaseOptions extends CommonOptions {
  /** e.g. `https://abc12345.apps.dynatrace.com`; needed for fetch, platformUrl, callAppFunction. */
  environmentUrl?: string;
  /** Sent space-separated; to sign a user in, `openid` when none is given. */
  scope?: string | string[];
  /** `urn:dtaccount:<uuid>` (a bare account UUID is accepted). */
  resource?: string;
  /** Default: the SSO host of the environment's stage (prod, sprint, dev), else prod. */
  tokenUrl?: string;
  /** Default `client_secret_post`; Basic is not documented by Dynatrace. */
  authMethod?: 'client_secret_post' | 'client_secret_basic';
}

export declare class DynatraceClient {
  constructor(options: DynatraceClientOptions);
  /** `<environmentUrl>/platform/<apiPath>` */
  platformUrl(apiPath: string): string;
  /**
   * POST with a JSON body when `payload` is given (it is the body: an `init.body` is not sent;
   * `init.method` is kept), else GET.
   */
  callAppFunction(appId: string, functionName: string, payload?: unknown, init?: RequestInit): Promise<Response>;
}
export interface DynatraceClient extends ClientBase, SignInMethods {}

interface AppDynamicsBase extends CommonOptions {
  /**
   * e.g. `https://acme.saas.appdynamics.com` or `https://controller.example.com:8181`; an on-premises
   * controller's plain http port (8090) needs `allowInsecureHttp` unless it is on loopback. A path
   * (such as `/controller`, as the UI shows it) is left out: only the origin is used.
   */
  controllerUrl: string;
  /** Default "auto": form-urlencoded, then the vendor content type if the controller refuses it. */
  tokenContentType?: 'form' | 'vendor' | 'auto';
  /** Controllers before 4.5.9; "auto" (default) retries a refused token request with Basic. */
  basicAuth?: boolean | 'auto';
}

/** An API client: `clientName` (the name alone) + `accountName`, or `clientId` = `name@account`. */
export type AppDynamicsCredentials =
  | { clientName: string; accountName: string; clientId?: never; clientSecret: string; accessToken?: never }
  | { clientId: string; clientName?: never; accountName?: never; clientSecret: string; accessToken?: never }
  // A temporary token; an API client's names may come with it (as the constructor checks them).
  // The options of token requests (tokenContentType, basicAuth, refreshSkewSeconds, maxRetries)
  // set to anything but their defaults are refused with it.
  | { accessToken: string; clientSecret?: never; clientName: string; accountName: string; clientId?: never }
  | { accessToken: string; clientSecret?: never; clientId?: string; clientName?: never; accountName?: never };

export type AppDynamicsClientOptions = AppDynamicsBase & AppDynamicsCredentials;

export interface AppDynamicsApplication {
  id: number;
  name: string;
  description: string;
}

/** `fetch` adds `output=JSON` to `/controller/rest/*` unless the query sets `output`. */
export declare class AppDynamicsClient {
  constructor(options: AppDynamicsClientOptions);
  /**
   * Rejects with `http_error` when the controller answers an error status; a 401 with an
   * `accessToken` whose JWT `exp` has passed says in `hint` when it expired.
   */
  listApplications(): Promise<AppDynamicsApplication[]>;
}
export interface AppDynamicsClient extends ClientBase {}

export type OAuthClientOptions = OAuthBaseOptions &
  (
    | (ClientCredentialsOptions & { tokenUrl: string })
    | (SignInOptions & ({ tokenUrl: string; authorizationUrl: string } | { issuer: string; tokenUrl?: string }))
  );

export interface OAuthBaseOptions extends CommonOptions {
  clientId: string;
  /**
   * An OpenID issuer: the endpoints are read from its discovery document on first use, which must
   * name this issuer; a redirect whose `iss` names another server (or that has none, where the
   * document says the issuer always sends it) is refused.
   */
  issuer?: string;
  tokenUrl?: string;
  scope?: string | string[];
  /** RFC 8707 resource indicator(s). */
  resource?: string | string[];
  audience?: string | string[];
  /** Default `client_secret_basic` (RFC 6749 §2.3.1 encoding). */
  authMethod?: 'client_secret_post' | 'client_secret_basic';
  /** The origin `fetch` calls go to (`https://api.example.com`; one with a path or query is refused). */
  baseUrl?: string;
  /** More form parameters for the token request. */
  extraParams?: Record<string, string>;
}

export declare class OAuthClient {
  constructor(options: OAuthClientOptions);
}
export interface OAuthClient extends ClientBase, SignInMethods {}

export interface DynatraceAccountClientOptions extends CommonOptions {
  /** The account's UUID (`urn:dtaccount:<uuid>` is accepted). */
  accountUuid: string;
  clientId: string;
  clientSecret: string;
  /** Account scopes, e.g. `account-idm-read`. */
  scope?: string | string[];
  /** Default `https://sso.dynatrace.com/sso/oauth2/token`. */
  tokenUrl?: string;
  /** Default `https://api.dynatrace.com`; `fetch` calls go there only. */
  accountApiUrl?: string;
  authMethod?: 'client_secret_post' | 'client_secret_basic';
}

/** The Dynatrace Account Management API: its token is requested for one account. */
export declare class DynatraceAccountClient {
  constructor(options: DynatraceAccountClientOptions);
  /**
   * `GET /iam/v1/accounts/<uuid>/users`, parsed; rejects with `http_error` on an error status and
   * `invalid_response` when the answer is not a JSON object.
   */
  listUsers(): Promise<{ count?: number; items?: Array<Record<string, unknown>>; [key: string]: unknown }>;
  /** `/iam/v1/accounts/<uuid>/` + `rest`. */
  accountPath(rest: string): string;
}
export interface DynatraceAccountClient extends ClientBase {}

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
  | 'http_error';

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
}

/** Options every client accepts. */
export interface CommonOptions {
  /** A fetch to use instead of the global one (proxy, tests, a same-origin forwarder). */
  fetch?: typeof fetch;
  /** Per HTTP attempt, token and API; default 30000. */
  timeoutMs?: number;
  /** Refresh this long before expiry (never more than half the token's lifetime); default 30. */
  refreshSkewSeconds?: number;
  /** Allow http:// to hosts that are not loopback; default false. */
  allowInsecureHttp?: boolean;
  /** Retries of a token request after a network error, 429 or 502/503/504; default 2. */
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
   * already in flight finish normally; the client itself cannot be used afterwards.
   */
  free(): void;
  toJSON(): Record<string, string>;
  toString(): string;
}

export interface DynatraceClientOptions extends CommonOptions {
  /** e.g. `dt0s02.JDMK2DWV` */
  clientId: string;
  clientSecret: string;
  /** e.g. `https://abc12345.apps.dynatrace.com`; needed for fetch, platformUrl, callAppFunction. */
  environmentUrl?: string;
  /** Sent space-separated. */
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
  /** POST with a JSON body when `payload` is given, else GET. */
  callAppFunction(appId: string, functionName: string, payload?: unknown, init?: RequestInit): Promise<Response>;
}
export interface DynatraceClient extends ClientBase {}

interface AppDynamicsBase extends CommonOptions {
  /** e.g. `https://acme.saas.appdynamics.com` or `http://controller:8090` */
  controllerUrl: string;
  /** Default "auto": form-urlencoded, then the vendor content type if the controller refuses it. */
  tokenContentType?: 'form' | 'vendor' | 'auto';
  /** Controllers before 4.5.9; "auto" (default) retries a refused token request with Basic. */
  basicAuth?: boolean | 'auto';
}

/** An API client: `clientName` + `accountName`, or `clientId` = `name@account`. */
export type AppDynamicsCredentials =
  | { clientName: string; accountName: string; clientId?: never; clientSecret: string; accessToken?: never }
  | { clientId: string; clientName?: never; accountName?: never; clientSecret: string; accessToken?: never }
  | { accessToken: string; clientSecret?: never; clientName?: string; accountName?: string; clientId?: string };

export type AppDynamicsClientOptions = AppDynamicsBase & AppDynamicsCredentials;

export interface AppDynamicsApplication {
  id: number;
  name: string;
  description: string;
}

/** `fetch` adds `output=JSON` to `/controller/rest/*` unless the query sets `output`. */
export declare class AppDynamicsClient {
  constructor(options: AppDynamicsClientOptions);
  /** Rejects with `http_error` when the controller answers an error status. */
  listApplications(): Promise<AppDynamicsApplication[]>;
}
export interface AppDynamicsClient extends ClientBase {}

export interface OAuthClientOptions extends CommonOptions {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string | string[];
  /** RFC 8707 resource indicator(s). */
  resource?: string | string[];
  audience?: string | string[];
  /** Default `client_secret_basic` (RFC 6749 §2.3.1 encoding). */
  authMethod?: 'client_secret_post' | 'client_secret_basic';
  /** The origin `fetch` calls go to. */
  baseUrl?: string;
  /** More form parameters for the token request. */
  extraParams?: Record<string, string>;
}

export declare class OAuthClient {
  constructor(options: OAuthClientOptions);
}
export interface OAuthClient extends ClientBase {}

// Entry for browsers, Deno, workers and bundlers: an ES module that instantiates the wasm with
// top-level await, so importers never call init().
import init, { DynatraceClient, AppDynamicsClient, OAuthClient } from './dist/web/apm_oauth.js';

await init({ module_or_path: new URL('./dist/web/apm_oauth_bg.wasm', import.meta.url) });

/** The error class for `instanceof` checks; see index.d.ts. */
export class ApmOAuthError extends Error {
  static [Symbol.hasInstance](value) {
    return value instanceof Error && value.name === 'ApmOAuthError' && typeof value.code === 'string';
  }
}

export const ERROR_CODES = Object.freeze([
  'invalid_config', 'invalid_argument', 'insecure_url', 'invalid_client', 'invalid_scope',
  'token_error', 'invalid_response', 'rate_limited', 'server_error', 'network', 'timeout',
  'aborted', 'http_error',
]);

export { DynatraceClient, AppDynamicsClient, OAuthClient };

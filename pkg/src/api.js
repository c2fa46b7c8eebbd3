// The JavaScript part of apm-oauth: the error class (defined once here, constructed by the wasm)
// and the finishing touches every entry gives the wasm's classes. Everything else, the clients
// included, is the Rust crate's (src/js/ over src/client/).

export const ERROR_CODES = Object.freeze([
  'invalid_config', 'invalid_argument', 'insecure_url', 'invalid_client', 'invalid_scope',
  'token_error', 'invalid_response', 'rate_limited', 'server_error', 'network', 'timeout',
  'aborted', 'http_error', 'login_required', 'authorization_error',
]);

const FIELDS = ['code', 'hint', 'status', 'error', 'errorDescription', 'issueId', 'retryAfter'];

/** Every failure of the package: a real Error with a stable `code`. */
export class ApmOAuthError extends Error {
  constructor(fields) {
    const { message, hint } = fields;
    super(hint ? `${message}. ${hint[0].toUpperCase()}${hint.slice(1)}` : message);
    for (const k of FIELDS) {
      if (fields[k] !== undefined) this[k] = fields[k];
    }
  }

  // An error made by another copy of the package (the Node and the web build are separate) is an
  // ApmOAuthError too.
  static [Symbol.hasInstance](value) {
    return value instanceof Error && value.name === 'ApmOAuthError' && typeof value.code === 'string';
  }
}
Object.defineProperty(ApmOAuthError.prototype, 'name', { value: 'ApmOAuthError', configurable: true, writable: true });

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** The package's exports, from the wasm module of one build. */
export function finish(wasm) {
  wasm.setErrorClass(ApmOAuthError);
  const classes = [wasm.DynatraceClient, wasm.AppDynamicsClient, wasm.OAuthClient, wasm.DynatraceAccountClient];
  for (const C of classes) {
    // util.inspect shows what toJSON shows: never a credential.
    Object.defineProperty(C.prototype, INSPECT, {
      value() {
        return `${C.name} ${JSON.stringify(this.toJSON())}`;
      },
    });
  }
  const [DynatraceClient, AppDynamicsClient, OAuthClient, DynatraceAccountClient] = classes;
  return { DynatraceClient, AppDynamicsClient, OAuthClient, DynatraceAccountClient, ApmOAuthError, ERROR_CODES };
}

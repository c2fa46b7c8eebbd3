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
    // `message` ends with the hint already (the wasm's `full_message`); `cause`: what the
    // caller's signal was aborted with, as native fetch rejects with it.
    super(fields.message, 'cause' in fields ? { cause: fields.cause } : undefined);
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
// The methods that answer at once; every other one returns a promise.
const SYNC = ['invalidate', 'stats', 'platformUrl', 'accountPath', 'isSignedIn'];

/** Gives the wasm module of one build the error class (`setErrorClass`), and its classes their
 * finishing touches. */
export function finish(setErrorClass, classes) {
  setErrorClass(ApmOAuthError);
  for (const C of classes) {
    const p = C.prototype;
    // After free() (or the end of a `using` block) the wasm's object is gone (`__wbg_ptr` is 0):
    // free() again does nothing, String() and util.inspect say so, toJSON() is empty, and every
    // other method fails with an ApmOAuthError (rejecting, where it returns a promise).
    // (The prototype has methods only: no getter runs here.)
    for (const k of Object.getOwnPropertyNames(p)) {
      const f = p[k];
      if (k === 'constructor' || k[0] === '_') continue;
      p[k] = function (a, b, c, d) {
        if (this.__wbg_ptr) return f.call(this, a, b, c, d);
        if (k === 'free') return;
        if (k === 'toString') return `${C.name} (freed)`;
        if (k === 'toJSON') return {};
        const e = new ApmOAuthError({ code: 'invalid_argument', message: `${C.name}.${k}: this client was freed. Create a new ${C.name}`, hint: `create a new ${C.name}` });
        if (SYNC.includes(k)) throw e;
        return Promise.reject(e);
      };
    }
    if (Symbol.dispose) p[Symbol.dispose] = p.free;
    // util.inspect shows what toJSON shows: never a credential.
    Object.defineProperty(p, INSPECT, {
      value() {
        return this.__wbg_ptr ? `${C.name} ${JSON.stringify(this.toJSON())}` : String(this);
      },
    });
  }
}

'use strict';
// The error class users test with `instanceof`. The wasm creates a real Error named
// "ApmOAuthError" with a `code`; this class recognises those, whichever build made them.
class ApmOAuthError extends Error {
  static [Symbol.hasInstance](value) {
    return value instanceof Error && value.name === 'ApmOAuthError' && typeof value.code === 'string';
  }
}

const ERROR_CODES = Object.freeze([
  'invalid_config', 'invalid_argument', 'insecure_url', 'invalid_client', 'invalid_scope',
  'token_error', 'invalid_response', 'rate_limited', 'server_error', 'network', 'timeout',
  'aborted', 'http_error',
]);

module.exports = { ApmOAuthError, ERROR_CODES };

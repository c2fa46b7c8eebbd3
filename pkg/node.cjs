'use strict';
// Node entry (CommonJS; node.mjs re-exports it so ESM and CommonJS share one instance).
// The wasm is compiled synchronously at require time: no init() call is needed.
const wasm = require('./dist/nodejs/apm_oauth.js');
const { ApmOAuthError, ERROR_CODES } = require('./errors.cjs');

const inspect = Symbol.for('nodejs.util.inspect.custom');
for (const cls of [wasm.DynatraceClient, wasm.AppDynamicsClient, wasm.OAuthClient]) {
  // util.inspect shows what toJSON shows: never a credential.
  Object.defineProperty(cls.prototype, inspect, {
    value() { return `${cls.name} ${JSON.stringify(this.toJSON())}`; },
  });
}

module.exports = {
  DynatraceClient: wasm.DynatraceClient,
  AppDynamicsClient: wasm.AppDynamicsClient,
  OAuthClient: wasm.OAuthClient,
  ApmOAuthError,
  ERROR_CODES,
};

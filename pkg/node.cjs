'use strict';
// Node entry (CommonJS; node.mjs re-exports it so ESM and CommonJS share one instance).
// The wasm is compiled synchronously at require time: no init() call is needed.
const wasm = require('./dist/nodejs/apm_oauth.js');
const { finish, ApmOAuthError, ERROR_CODES } = require('./dist/nodejs/api.cjs');

const { DynatraceClient, AppDynamicsClient, OAuthClient, DynatraceAccountClient } = wasm;
finish(wasm.setErrorClass, [DynatraceClient, AppDynamicsClient, OAuthClient, DynatraceAccountClient]);
module.exports = { DynatraceClient, AppDynamicsClient, OAuthClient, DynatraceAccountClient, ApmOAuthError, ERROR_CODES };

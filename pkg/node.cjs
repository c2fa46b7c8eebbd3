'use strict';
// Node entry (CommonJS; node.mjs re-exports it so ESM and CommonJS share one instance).
// The wasm is compiled synchronously at require time: no init() call is needed.
const wasm = require('./dist/nodejs/apm_oauth.js');
const { finish } = require('./dist/nodejs/api.cjs');

module.exports = finish(wasm);

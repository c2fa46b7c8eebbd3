'use strict';
// Node entry (CommonJS; node.mjs re-exports it so ESM and CommonJS share one instance).
// The wasm is compiled synchronously at require time: no init() call is needed.
const core = require('./dist/nodejs/apm_oauth.js');
const { clients } = require('./dist/nodejs/client.cjs');

module.exports = clients(core);

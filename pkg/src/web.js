// Entry for browsers, Deno, workers and bundlers: an ES module that instantiates the wasm with
// top-level await, so importers never call init(). scripts/build.sh bundles it with
// wasm-bindgen's glue and api.js into one minified pkg/web.js: the paths below are the bundle's
// (`apm-oauth-glue` is the glue of the web build, aliased by the build). The glue's exports are
// imported by name, so that the bundle leaves out those no entry uses (`initSync`).
import init, { setErrorClass, DynatraceClient, AppDynamicsClient, OAuthClient, DynatraceAccountClient } from 'apm-oauth-glue';
import { finish, ApmOAuthError, ERROR_CODES } from './api.js';

await init({ module_or_path: new URL('./dist/web/apm_oauth_bg.wasm', import.meta.url) });

finish(setErrorClass, [DynatraceClient, AppDynamicsClient, OAuthClient, DynatraceAccountClient]);
export { DynatraceClient, AppDynamicsClient, OAuthClient, DynatraceAccountClient, ApmOAuthError, ERROR_CODES };

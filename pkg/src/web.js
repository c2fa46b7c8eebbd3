// Entry for browsers, Deno, workers and bundlers: an ES module that instantiates the wasm with
// top-level await, so importers never call init(). scripts/build.sh bundles it with
// wasm-bindgen's glue and api.js into one minified pkg/web.js: the paths below are the bundle's
// (`apm-oauth-glue` is the glue of the web build, aliased by the build). The glue's exports are
// imported by name, so that the bundle leaves out those no entry uses (`initSync`).
import init, { setErrorClass, DynatraceClient as D, AppDynamicsClient as A, OAuthClient as O, DynatraceAccountClient as C } from 'apm-oauth-glue';
import { finish } from './api.js';

await init({ module_or_path: new URL('./dist/web/apm_oauth_bg.wasm', import.meta.url) });

export const { DynatraceClient, AppDynamicsClient, OAuthClient, DynatraceAccountClient, ApmOAuthError, ERROR_CODES } = finish({
  setErrorClass, DynatraceClient: D, AppDynamicsClient: A, OAuthClient: O, DynatraceAccountClient: C,
});

// Cold start under Deno (or any runtime with fetch of file URLs): the web entry instantiates the
// wasm with top-level await. Prints ms since process start.
import { DynatraceClient } from '../../pkg/web.js';

const client = new DynatraceClient({ clientId: 'dt0s02.BENCH', clientSecret: 'dt0s02.BENCH.secret', tokenUrl: 'http://127.0.0.1:9/token' });
if (!client) throw new Error('no client');
console.log(JSON.stringify({ readyMs: performance.now() }));

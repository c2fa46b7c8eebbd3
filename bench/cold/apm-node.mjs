// Cold start: import apm-oauth's Node entry (compiles and instantiates the wasm) and construct a
// client. Prints ms since process start (performance.now() counts from the time origin).
import { DynatraceClient } from '../../pkg/node.mjs';

const client = new DynatraceClient({ clientId: 'dt0s02.BENCH', clientSecret: 'dt0s02.BENCH.secret', tokenUrl: 'http://127.0.0.1:9/token' });
if (!client) throw new Error('no client');
console.log(JSON.stringify({ readyMs: performance.now() }));

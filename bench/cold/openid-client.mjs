// Cold start of openid-client: import and construct a Configuration without discovery.
import * as client from 'openid-client';

const config = new client.Configuration({ issuer: 'http://127.0.0.1:9', token_endpoint: 'http://127.0.0.1:9/token' }, 'a', 'b');
if (!config) throw new Error('no client');
console.log(JSON.stringify({ readyMs: performance.now() }));

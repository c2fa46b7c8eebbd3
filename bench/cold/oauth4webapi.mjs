// Cold start of oauth4webapi: import and build the (plain object) server and client metadata.
import * as oauth from 'oauth4webapi';

const as = { issuer: 'http://127.0.0.1:9', token_endpoint: 'http://127.0.0.1:9/token' };
const auth = oauth.ClientSecretPost('b');
if (!as || !auth) throw new Error('no client');
console.log(JSON.stringify({ readyMs: performance.now() }));

// Cold start of @badgateway/oauth2-client: import, construct OAuth2Client and OAuth2Fetch.
import { OAuth2Client, OAuth2Fetch } from '@badgateway/oauth2-client';

const client = new OAuth2Client({ server: 'http://127.0.0.1:9/', tokenEndpoint: '/token', clientId: 'a', clientSecret: 'b' });
const wrapper = new OAuth2Fetch({ client, getNewToken: () => client.clientCredentials() });
if (!wrapper) throw new Error('no client');
console.log(JSON.stringify({ readyMs: performance.now() }));

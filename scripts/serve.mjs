#!/usr/bin/env node
// The demo server of `npm start`: the page in www/ at `/`, the package in pkg/ at `/pkg/` (the page
// imports `/pkg/web.js` exactly as a user imports the package's browser entry), the vendor emulator
// on other loopback ports, `/config.json` to prefill the page, and the same-origin forwarding route
// `/forward?url=...` (see serve-forward.mjs). Listens on 127.0.0.1 only.
//
//   node scripts/serve.mjs [--port N] [--no-emulator] [--allow-host HOST]... [--token-lifetime S]
//
// Importable: `startDemoServer({ port: 0 })` resolves to `{ url, emu, close }`.

import http from 'node:http';
import { createReadStream, realpathSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startEmulator } from '../tests/emulator/index.mjs';
import { createForwarder, parseAllowRule, splitAllowHosts } from './serve-forward.mjs';

const HOST = '127.0.0.1';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Longest prefix first.
const MOUNTS = [
  ['/pkg/', path.join(ROOT, 'pkg')],
  ['/', path.join(ROOT, 'www')],
];

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.ts': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

// Scripts only from this server (a script injected into the page could read the secret fields);
// 'wasm-unsafe-eval' lets the package compile its wasm. Calls may go to any http(s) host: the
// emulator's ports, or a tenant reached directly when it allows CORS.
const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "connect-src 'self' http: https:",
  "style-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const DEFAULT_SCOPE = 'app-engine:apps:run storage:logs:read';
const DEFAULT_SIGNIN_SCOPE = 'openid storage:logs:read';

function sendText(res, status, text, headers = {}) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendJson(res, status, value) {
  const body = JSON.stringify(value, null, 2);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

/** The file a URL path names, or null when it leaves its mount or does not exist. */
async function resolveFile(pathname) {
  let decoded;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  for (const [prefix, dir] of MOUNTS) {
    if (!decoded.startsWith(prefix)) continue;
    let file = path.resolve(dir, `.${decoded.slice(prefix.length - 1)}`);
    if (file !== dir && !file.startsWith(dir + path.sep)) return null;
    try {
      let info = await stat(file);
      if (info.isDirectory()) {
        file = path.join(file, 'index.html');
        info = await stat(file);
      }
      return info.isFile() ? { file, size: info.size } : null;
    } catch {
      return null;
    }
  }
  return null;
}

async function serveStatic(req, res, pathname) {
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'Method Not Allowed', { allow: 'GET, HEAD' });
  const found = await resolveFile(pathname);
  if (!found) return sendText(res, 404, 'Not Found');
  const type = CONTENT_TYPES[path.extname(found.file).toLowerCase()] || 'application/octet-stream';
  const headers = {
    'content-type': type,
    'content-length': found.size,
    // A rebuilt pkg/ or an edited page shows up on reload.
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  if (type.startsWith('text/html')) headers['content-security-policy'] = CSP;
  res.writeHead(200, headers);
  if (req.method === 'HEAD') return res.end();
  createReadStream(found.file).on('error', () => res.destroy()).pipe(res);
}

/** What the page prefills: the emulator's URLs and its fake demo credentials, never real ones. */
function pageConfig(emu, forwarder) {
  const config = {
    emulator: Boolean(emu),
    // Besides the emulator's origins.
    forward: { route: '/forward?url=', hosts: forwarder.hosts() },
    dynatrace: { environmentUrl: '', tokenUrl: '', clientId: '', clientSecret: '', scope: DEFAULT_SCOPE, resource: '' },
    appdynamics: { controllerUrl: '', controllerUrls: [], clientName: '', accountName: '', clientSecret: '', temporaryToken: '' },
    // A user's sign-in (authorization code + PKCE): empty endpoints mean the stage's defaults.
    dynatraceSignIn: { environmentUrl: '', clientId: '', scope: DEFAULT_SIGNIN_SCOPE, authorizationUrl: '', tokenUrl: '', userInfoUrl: '' },
  };
  if (emu) {
    const dt = emu.credentials.dynatrace;
    const ad = emu.credentials.appdynamics;
    Object.assign(config.dynatrace, {
      environmentUrl: emu.urls.dynatrace,
      tokenUrl: emu.urls.ssoToken,
      clientId: dt.clientId,
      clientSecret: dt.clientSecret,
      resource: dt.accountUrn,
    });
    Object.assign(config.appdynamics, {
      controllerUrl: emu.urls.appdynamics,
      controllerUrls: [
        { url: emu.urls.appdynamics, label: 'emulated controller 24.10 and later' },
        { url: emu.urls.appdynamicsLegacy, label: 'emulated controller before 4.5.9' },
      ],
      clientName: ad.clientName,
      accountName: ad.accountName,
      clientSecret: ad.clientSecret,
      temporaryToken: ad.temporaryToken,
    });
    Object.assign(config.dynatraceSignIn, {
      environmentUrl: emu.urls.dynatrace,
      clientId: emu.credentials.dynatraceUser.clientId,
      authorizationUrl: emu.urls.ssoAuthorize,
      tokenUrl: emu.urls.dtToken,
      userInfoUrl: emu.urls.ssoUserInfo,
    });
  }
  return config;
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: HOST }, () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

/**
 * Start the demo server (and the emulator).
 * @param {object} [options]
 * @param {number} [options.port=0] 0 picks a free port
 * @param {boolean|object} [options.emulator=true] false: none; an object: startEmulator options
 * @param {string[]} [options.allowHosts=[]] hosts /forward may reach besides the emulator's
 * @param {(line: string) => void} [options.log] one line per forwarded request (never bodies or headers)
 * @returns {Promise<{ url: string, port: number, emu: object | null, allowed: string[], close: () => Promise<void> }>}
 */
export async function startDemoServer({ port = 0, emulator = true, allowHosts = [], log = () => {} } = {}) {
  const emu = emulator ? await startEmulator(typeof emulator === 'object' ? emulator : {}) : null;
  // The emulator's vendor roles only: its "elsewhere" origin stands for a host nobody allowed.
  const emulatorOrigins = emu
    ? [emu.urls.sso, emu.urls.dtTokenOrigin, emu.urls.dynatrace, emu.urls.appdynamics, emu.urls.appdynamicsLegacy]
    : [];
  let selfOrigin = '';
  let forwarder;
  try {
    forwarder = createForwarder({ origins: () => emulatorOrigins, allowHosts, selfOrigin: () => selfOrigin, log });
  } catch (err) {
    if (emu) await emu.close();
    throw err;
  }

  const server = http.createServer((req, res) => {
    let requestUrl;
    try {
      requestUrl = new URL(req.url, 'http://server.invalid');
    } catch {
      return sendText(res, 400, 'Bad Request');
    }
    const { pathname } = requestUrl;
    if (pathname === '/forward') return forwarder.handle(req, res, requestUrl);
    // Drain any body of the other routes.
    req.resume();
    if (pathname === '/config.json') return sendJson(res, 200, pageConfig(emu, forwarder));
    serveStatic(req, res, pathname).catch(() => {
      if (!res.headersSent) sendText(res, 500, 'Internal Server Error');
      else res.destroy();
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  let actualPort;
  try {
    actualPort = await listen(server, port);
  } catch (err) {
    forwarder.close();
    if (emu) await emu.close();
    if (err.code === 'EADDRINUSE') {
      throw Object.assign(new Error(`port ${port} on ${HOST} is already in use: stop what uses it, or choose another port with --port N (or PORT=N)`), { code: 'EADDRINUSE' });
    }
    throw err;
  }
  selfOrigin = `http://${HOST}:${actualPort}`;

  let closing = null;
  return {
    url: `${selfOrigin}/`,
    port: actualPort,
    emu,
    allowed: forwarder.describe(),
    close() {
      if (!closing) {
        closing = (async () => {
          await new Promise((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          });
          forwarder.close();
          if (emu) await emu.close();
        })();
      }
      return closing;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Command line

const USAGE = `usage: npm start -- [options]   (or: node scripts/serve.mjs [options])

  --port N            port on 127.0.0.1 (default: PORT or 8080)
  --no-emulator       do not start the vendor emulator (for real tenants)
  --allow-host HOST   let /forward reach HOST (repeatable; also ALLOW_HOSTS="a,b"):
                      host, host:port, *.domain or https://host:port
  --token-lifetime S  lifetime of the emulator's tokens in seconds (default 300)
  -h, --help          this text
`;

function parseArgs(argv, env) {
  const out = { port: env.PORT !== undefined && env.PORT !== '' ? Number(env.PORT) : 8080, emulator: true, allowHosts: splitAllowHosts(env.ALLOW_HOSTS) };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [name, inline] = arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = () => {
      const v = inline !== undefined ? inline : argv[++i];
      if (v === undefined) throw new Error(`${name} needs a value`);
      return v;
    };
    if (name === '--port') out.port = Number(value());
    else if (name === '--no-emulator') out.emulator = false;
    else if (name === '--allow-host') out.allowHosts.push(...splitAllowHosts(value()));
    else if (name === '--token-lifetime') out.tokenLifetimeSeconds = Number(value());
    else if (name === '--help' || name === '-h') out.help = true;
    else throw new Error(`unknown option ${arg}`);
  }
  if (!(Number.isInteger(out.port) && out.port >= 0 && out.port < 65536)) throw new Error('--port (or PORT) needs a port number');
  if (out.tokenLifetimeSeconds !== undefined && !(out.tokenLifetimeSeconds > 0)) throw new Error('--token-lifetime needs a number of seconds');
  for (const host of out.allowHosts) parseAllowRule(host);
  return out;
}

function isMain() {
  if (!process.argv[1]) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(path.resolve(process.argv[1]))).href;
  } catch {
    return false;
  }
}

if (isMain()) {
  let args;
  try {
    args = parseArgs(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`serve: ${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (args.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  let server;
  try {
    server = await startDemoServer({
      port: args.port,
      emulator: args.emulator && (args.tokenLifetimeSeconds ? { tokenLifetimeSeconds: args.tokenLifetimeSeconds } : true),
      allowHosts: args.allowHosts,
      log: (line) => process.stdout.write(`${line}\n`),
    });
  } catch (err) {
    process.stderr.write(`serve: ${err.message}\n`);
    process.exit(1);
  }
  const lines = [`apm-oauth demo: ${server.url}`];
  if (server.emu) {
    const u = server.emu.urls;
    lines.push(
      `emulator (fake vendors, demo credentials prefilled):`,
      `  Dynatrace SSO token URL      ${u.ssoToken}`,
      `  Dynatrace environment        ${u.dynatrace}`,
      `  Dynatrace sign-in            ${u.ssoAuthorize} (user token URL ${u.dtToken})`,
      `  AppDynamics controller       ${u.appdynamics}`,
      `  AppDynamics (before 4.5.9)   ${u.appdynamicsLegacy}`,
    );
  } else {
    lines.push('no emulator: enter a real tenant in the page');
  }
  lines.push(`/forward reaches: ${server.allowed.length ? server.allowed.join(', ') : 'nothing yet (add --allow-host HOST)'}`);
  lines.push('Ctrl+C stops it.');
  process.stdout.write(`${lines.join('\n')}\n`);
  const stop = () => server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

// Small helpers shared by every emulated role: answering, parsing headers, making tokens.
// Only Node built-ins are used so the emulator runs anywhere Node 20 runs.

import { randomBytes, randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';

/** Send a complete answer unless the socket is already gone (dropped, closed by the client). */
export function send(res, status, body = '', headers = {}) {
  if (res.destroyed || res.writableEnded) return;
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : String(body);
  const all = { ...headers, 'content-length': Buffer.byteLength(payload) };
  try {
    res.writeHead(status, all);
    res.end(payload);
  } catch {
    // A header value a test supplied may be invalid; never crash the emulator for it.
    if (!res.headersSent) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('emulator: could not write response');
    }
  }
}

export function sendJson(res, status, value, headers = {}) {
  send(res, status, JSON.stringify(value), { 'content-type': 'application/json', ...headers });
}

export function sendText(res, status, text, headers = {}) {
  send(res, status, text, { 'content-type': 'text/plain; charset=utf-8', ...headers });
}

export function statusText(status) {
  return STATUS_CODES[status] || 'Error';
}

/** The bare media type of a Content-Type header: lower case, parameters after ';' dropped. */
export function mediaType(header) {
  if (!header) return '';
  return String(header).split(';')[0].trim().toLowerCase();
}

/** The bearer token of an Authorization header, or null. The scheme name is case-insensitive (RFC 7235). */
export function bearerToken(header) {
  if (!header) return null;
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(String(header));
  return m ? m[1] : null;
}

/**
 * Decode an HTTP Basic header into { user, password, raw } or null.
 * `raw` is the decoded text as sent; `user`/`password` are the parts split at the first ':'.
 */
export function basicCredentials(header) {
  if (!header) return null;
  const m = /^\s*basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(String(header));
  if (!m) return null;
  const raw = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = raw.indexOf(':');
  if (colon < 0) return { user: raw, password: '', raw };
  return { user: raw.slice(0, colon), password: raw.slice(colon + 1), raw };
}

/** RFC 6749 2.3.1: Basic client credentials are form-urlencoded before base64. Undo that. */
export function formDecode(text) {
  try {
    return decodeURIComponent(String(text).replace(/\+/g, ' '));
  } catch {
    return String(text);
  }
}

const ALNUM_UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** Random uppercase alphanumeric id, like Dynatrace's `issueId` (e.g. Q7P5EUSO5T6AXQYY). */
export function randomUpperAlnum(length) {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALNUM_UPPER[b % ALNUM_UPPER.length];
  return out;
}

export function base64url(value) {
  const buf = Buffer.isBuffer(value) ? value : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
  return buf.toString('base64url');
}

/**
 * A real-looking but unsigned JWT: base64url header and payload, and a random "signature".
 * Clients must treat access tokens as opaque strings; the shape only helps spot accidental parsing.
 */
export function makeJwt(payload, header = { alg: 'RS256', typ: 'JWT' }) {
  return `${base64url(header)}.${base64url({ jti: randomUUID(), ...payload })}.${base64url(randomBytes(64))}`;
}

/** Query parameters as an object; a repeated name becomes an array of its values. */
export function queryObject(searchParams) {
  const out = {};
  for (const [k, v] of searchParams) {
    if (Object.hasOwn(out, k)) out[k] = [].concat(out[k], v);
    else out[k] = v;
  }
  return out;
}

/** Minimal XML text escaping for the AppDynamics XML answers. */
export function xmlEscape(text) {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** An HTML page of the kind a classic host or a login gateway returns instead of JSON. */
export function loginPage(title) {
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${title} - Sign in</title></head>`,
    '<body><h1>Sign in</h1>',
    '<form method="post" action="/login">',
    '<label>Username <input name="username"></label>',
    '<label>Password <input type="password" name="password"></label>',
    '<button type="submit">Sign in</button>',
    '</form></body></html>',
  ].join('\n');
}

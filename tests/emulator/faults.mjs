// Fault injection: queued per role and per place ("token" endpoint or "api" routes).
// The first queued fault with uses left applies to a matching request; `count` uses, then it is gone.

import { send, sendJson, loginPage, statusText } from './util.mjs';

export const FAULT_KINDS = new Set([
  'delay',
  'status',
  'rateLimit',
  'html',
  'truncatedJson',
  'emptyBody',
  'drop',
  'json',
  'unauthorized',
  'redirect',
  // Only at the places named in ROLE_FAULT_KINDS:
  'errorRedirect',
  'refuseRefresh',
  'expiredCode',
]);

/** Kinds that apply at one place only: kind -> "role:where". */
export const ROLE_FAULT_KINDS = {
  errorRedirect: 'sso:authorize',
  refuseRefresh: 'dtToken:token',
  expiredCode: 'dtToken:token',
};

/** Which (role, where) pairs have something a fault can apply to. */
export const FAULT_TARGETS = {
  sso: ['token', 'authorize', 'userinfo'],
  dtToken: ['token'],
  dynatrace: ['api'],
  account: ['api'],
  appdynamics: ['token', 'api'],
  appdynamicsLegacy: ['token', 'api'],
};

export function validateFault(role, where, fault) {
  const places = FAULT_TARGETS[role];
  if (!places) {
    throw new TypeError(`setFault: unknown role ${JSON.stringify(role)} (use ${Object.keys(FAULT_TARGETS).join(', ')})`);
  }
  if (!places.includes(where)) {
    const hint = role === 'dynatrace' && where === 'token' ? " (the Dynatrace token endpoint is role 'sso')" : '';
    throw new TypeError(`setFault: role ${role} has no ${JSON.stringify(where)} place${hint}`);
  }
  if (!fault || typeof fault !== 'object' || !FAULT_KINDS.has(fault.kind)) {
    throw new TypeError(`setFault: fault.kind must be one of ${[...FAULT_KINDS].join(', ')}`);
  }
  const only = ROLE_FAULT_KINDS[fault.kind];
  if (only && only !== `${role}:${where}`) {
    const [r, w] = only.split(':');
    throw new TypeError(`setFault: ${fault.kind} applies only to role ${r} at ${JSON.stringify(w)}`);
  }
  if (fault.kind === 'errorRedirect' && !(typeof fault.error === 'string' && fault.error !== '')) {
    throw new TypeError('setFault: errorRedirect needs an error (e.g. "access_denied")');
  }
  if (fault.kind === 'delay' && !(Number(fault.ms) >= 0)) throw new TypeError('setFault: delay needs ms >= 0');
  if (fault.kind === 'status' && !Number.isInteger(fault.status)) throw new TypeError('setFault: status needs an integer status');
  if (fault.kind === 'redirect' && typeof fault.location !== 'string') throw new TypeError('setFault: redirect needs a location');
  if (fault.kind === 'json' && !('body' in fault)) throw new TypeError('setFault: json needs a body');
  if (fault.count !== undefined && !(Number(fault.count) >= 0)) throw new TypeError('setFault: count must be >= 0');
}

/**
 * Take one use of the first applicable fault for (role, where), or null.
 * `applies(fault)` may skip a fault for this request (e.g. refuseRefresh on a code grant); a skipped fault
 * keeps its uses and its place in the queue.
 */
export function takeFault(faults, role, where, applies = () => true) {
  const queue = faults.get(`${role}:${where}`);
  if (!queue) return null;
  for (let i = 0; i < queue.length; ) {
    const entry = queue[i];
    if (!(entry.remaining > 0)) {
      queue.splice(i, 1);
      continue;
    }
    if (!applies(entry.fault)) {
      i += 1;
      continue;
    }
    entry.remaining -= 1;
    if (entry.remaining <= 0) queue.splice(i, 1);
    return entry.fault;
  }
  return null;
}

// A token answer cut in the middle: valid start of JSON, no end.
const TRUNCATED_TOKEN_JSON = '{"scope":"app-engine:apps:run","token_type":"Bearer","expires_in":300,"access_token":"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJkdDBzMDIu';

/**
 * Apply a fault. Returns true when the request has been answered (or dropped),
 * false when normal handling should go on (after a delay).
 * `ctx.unauthorized()` answers the way the vendor does for bad credentials / tokens at this place.
 */
export async function applyFault(ctx, fault) {
  const { res, req } = ctx;
  switch (fault.kind) {
    case 'delay':
      await ctx.sleep(Number(fault.ms));
      return false;
    case 'status': {
      const status = fault.status;
      const body = fault.body === undefined ? statusText(status) : typeof fault.body === 'string' ? fault.body : JSON.stringify(fault.body);
      const contentType = fault.contentType || (typeof fault.body === 'object' && fault.body !== null ? 'application/json' : 'text/plain; charset=utf-8');
      send(res, status, body, { 'content-type': contentType, ...(fault.headers || {}) });
      return true;
    }
    case 'rateLimit': {
      const headers = { 'content-type': 'text/plain; charset=utf-8' };
      // Retry-After only when the test asks for it: clients must cope without it.
      if (fault.retryAfter !== undefined && fault.retryAfter !== null) headers['retry-after'] = String(fault.retryAfter);
      send(res, 429, 'Too Many Requests', headers);
      return true;
    }
    case 'html':
      send(res, fault.status || 200, loginPage(ctx.title), { 'content-type': 'text/html; charset=utf-8' });
      return true;
    case 'truncatedJson':
      send(res, 200, TRUNCATED_TOKEN_JSON, { 'content-type': 'application/json' });
      return true;
    case 'emptyBody':
      send(res, fault.status || 200, '', { 'content-type': 'application/json' });
      return true;
    case 'drop':
      // No answer at all: the client sees the connection close.
      req.socket.destroy();
      return true;
    case 'json': {
      const body = typeof fault.body === 'string' ? fault.body : JSON.stringify(fault.body);
      send(res, fault.status || 200, body, { 'content-type': 'application/json' });
      return true;
    }
    case 'unauthorized':
      ctx.unauthorized();
      return true;
    case 'redirect':
      send(res, fault.status || 302, '', { location: fault.location });
      return true;
    default:
      sendJson(res, 500, { error: `emulator: unknown fault ${fault.kind}` });
      return true;
  }
}

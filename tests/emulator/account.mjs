// Dynatrace Account Management API (`https://api.dynatrace.com`): `/iam/v1/accounts/{accountUuid}/users`
// and `/groups`, for bearer tokens of this SSO that were requested for that account
// (`resource=urn:dtaccount:<uuid>`) and carry `account-idm-read`.
// Also the Dynatrace platform token (`dt0s16.…`) the environment API accepts as a bearer.

import { sendJson, bearerToken, randomUpperAlnum } from './util.mjs';
import { userFor } from './dynatrace-signin.mjs';

export const ACCOUNT_URN_PREFIX = 'urn:dtaccount:';

/** The scope every route of the account role needs. */
export const ACCOUNT_READ_SCOPE = 'account-idm-read';

/**
 * The OAuth client for the account API, registered next to the configured Dynatrace clients (the
 * default environment client `dt0s02.EMULATOR` has no account scopes, as real clients usually do not).
 * Same account as the default client.
 */
export const DEFAULT_DT_ACCOUNT_CLIENT = {
  clientId: 'dt0s02.EMUACCNT',
  clientSecret: 'dt0s02.EMUACCNT.K7WQ2M9TXR4HVB8NJ3LDP6YCF5GZ1SA0E2QW8RT4YU6IO9PA3SD5FG7HJ1KL0ZXC',
  accountUrn: 'urn:dtaccount:00000000-0000-4000-8000-00000000e001',
  scopes: ['account-idm-read', 'account-idm-write', 'account-env-read', 'account-uac-read'],
};

const USER_ROWS = [
  ['emulator.user@example.com', 'Emulator', 'User', 'ACTIVE'],
  ['jane.doe@example.com', 'Jane', 'Doe', 'ACTIVE'],
  ['pending.person@example.com', 'Pending', 'Person', 'PENDING'],
];

/** The users of every emulated account (`uid` as the sign-in's `sub` of the same email). */
export function accountUsers() {
  return USER_ROWS.map(([email, name, surname, userStatus]) => ({ uid: userFor(email).sub, email, name, surname, userStatus }));
}

/** The groups of every emulated account. */
export function accountGroups() {
  return [
    {
      uuid: '00000000-0000-4000-8000-0000000a0001',
      name: 'Emulator admins',
      description: 'Account administrators',
      federatedAttributeValues: [],
      owner: 'LOCAL',
      createdAt: '2024-01-01T00:00:00Z',
      updatedAt: '2024-01-01T00:00:00Z',
    },
    {
      uuid: '00000000-0000-4000-8000-0000000a0002',
      name: 'Emulator readers',
      description: 'Read-only users',
      federatedAttributeValues: [],
      owner: 'LOCAL',
      createdAt: '2024-01-02T00:00:00Z',
      updatedAt: '2024-01-02T00:00:00Z',
    },
  ];
}

/** A platform token as Dynatrace shows it once: `dt0s16.<id>.<64 characters>`; this one is per emulator. */
export function newPlatformToken() {
  return `dt0s16.EMULATOR.${randomUpperAlnum(64)}`;
}

const ROUTE_RE = /^\/iam\/v1\/accounts\/([^/]+)\/(users|groups)\/?$/;

function accountError(res, status, message, headers = {}) {
  sendJson(res, status, { error: { code: status, message } }, headers);
}

export function accountRole(state) {
  const counters = state.counters.account;

  function unauthorized(ctx, message = 'Unauthorized: the provided token is not valid.') {
    counters.unauthorized += 1;
    accountError(ctx.res, 401, message, { 'www-authenticate': 'Bearer' });
  }

  function forbidden(ctx, message) {
    counters.forbidden += 1;
    accountError(ctx.res, 403, message);
  }

  return {
    name: 'account',
    title: 'Dynatrace Account Management',
    classify(ctx) {
      return ctx.pathname === '/iam' || ctx.pathname.startsWith('/iam/') ? 'api' : null;
    },
    unauthorized(ctx) {
      unauthorized(ctx);
    },
    handle(ctx, where) {
      if (where !== 'api') return accountError(ctx.res, 404, `Not Found: ${ctx.pathname}`);

      // Only tokens of this SSO (client credentials or sign-in), not expired; not platform tokens.
      const raw = bearerToken(ctx.headers.authorization);
      if (!raw) return unauthorized(ctx, 'Unauthorized: an Authorization header with a Bearer token is required.');
      const token = state.dtTokens.get(raw);
      if (!token) return unauthorized(ctx, 'Unauthorized: the provided token is not valid.');
      if (token.expiresAt <= Date.now()) return unauthorized(ctx, 'Unauthorized: the provided token has expired.');

      const m = ROUTE_RE.exec(ctx.pathname);
      if (!m) return accountError(ctx.res, 404, `Not Found: ${ctx.pathname}`);
      let uuid;
      try {
        uuid = decodeURIComponent(m[1]);
      } catch {
        return accountError(ctx.res, 400, 'Malformed path.');
      }
      if (ctx.method !== 'GET') return accountError(ctx.res, 405, `Method ${ctx.method} not allowed`, { allow: 'GET' });

      const urn = `${ACCOUNT_URN_PREFIX}${uuid}`;
      if (token.resource !== urn) {
        const had = token.resource ? `it was requested for ${token.resource}` : 'it was requested without a resource';
        return forbidden(ctx, `Forbidden: the token is not valid for account ${uuid} (${had}; request it with resource=${urn}).`);
      }
      if (!token.scopes.has(ACCOUNT_READ_SCOPE)) {
        return forbidden(ctx, `Forbidden: missing scopes [${ACCOUNT_READ_SCOPE}]`);
      }
      const items = m[2] === 'users' ? accountUsers() : accountGroups();
      return sendJson(ctx.res, 200, { count: items.length, items });
    },
  };
}

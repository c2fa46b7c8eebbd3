// The little framework every shared case module uses. Runtime-neutral: no Node built-ins, no
// `process`, no `Buffer`, so the same cases run under Node (tests/node/) and Deno.
//
// A case module exports `fooCases(ctx)` where ctx is
//   { test, before, after, assert, lib, startEmulator }
//   test(name, fn, options?)  registers a test; options may hold { todo: 'why' } or { skip: 'why' }
//   before(fn) / after(fn)    hooks around all tests of the module (one emulator per module)
//   assert                    node:assert/strict semantics (equal, notEqual, deepEqual, ok, match,
//                             doesNotMatch, throws, rejects, fail)
//   lib                       { DynatraceClient, AppDynamicsClient, OAuthClient, ApmOAuthError, ERROR_CODES }
//   startEmulator             tests/emulator/index.mjs's factory
// and builds its tests with `createSuite(ctx, emulatorOptions)`.

/** Resolves after `ms`. */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `predicate()` is true, checking every few ms; throws after `limitMs`. */
export async function waitFor(predicate, what, limitMs = 5000) {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > limitMs) throw new Error(`gave up waiting for ${what}`);
    await sleep(5);
  }
}

/** Every string an error carries, where a secret must never appear. */
export function errorTexts(err) {
  const texts = [];
  const push = (label, v) => texts.push([label, typeof v === 'string' ? v : String(v)]);
  push('String(err)', String(err));
  push('message', err?.message);
  push('stack', err?.stack);
  push('hint', err?.hint);
  push('errorDescription', err?.errorDescription);
  if (err !== null && typeof err === 'object') {
    for (const name of Object.getOwnPropertyNames(err)) {
      let v;
      try {
        v = err[name];
      } catch {
        continue;
      }
      push(`own property ${name}`, typeof v === 'object' && v !== null ? safeJson(v) : v);
    }
    push('JSON.stringify(err, own names)', safeJson(err, Object.getOwnPropertyNames(err)));
  }
  return texts;
}

function safeJson(v, names) {
  try {
    return JSON.stringify(v, names);
  } catch (e) {
    return `[unserialisable: ${e && e.message}]`;
  }
}

/** The forms a secret can take on the wire: as is, form-urlencoded, percent-encoded. */
export function secretForms(secret) {
  const forms = new Set([secret]);
  forms.add(new URLSearchParams({ x: secret }).toString().slice(2));
  forms.add(encodeURIComponent(secret));
  // Short forms would match by accident; every secret in these suites is long.
  return [...forms].filter((f) => f.length >= 8);
}

/** Throws when any of `texts` ([label, text] pairs) holds any form of any of `secrets`. */
export function assertNoSecret(assert, where, texts, secrets) {
  for (const [label, text] of texts) {
    for (const secret of secrets) {
      for (const form of secretForms(secret)) {
        if (text.includes(form)) {
          // Never print the secret itself: name where it was found and how long it is.
          assert.fail(`${where}: ${label} holds a secret (${secret.length} characters, form ${form === secret ? 'raw' : 'encoded'})`);
        }
      }
    }
  }
}

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'];

/**
 * Records everything written through console.* (and still lets it through unless `quiet`). The
 * records are the arguments, stringified the way a reader of the log would see them.
 */
export function captureConsole({ quiet = false } = {}) {
  const lines = [];
  const originals = {};
  for (const m of CONSOLE_METHODS) {
    originals[m] = console[m];
    console[m] = (...args) => {
      lines.push(
        args
          .map((a) => {
            if (typeof a === 'string') return a;
            if (a instanceof Error) return `${a.stack}\n${safeJson(a, Object.getOwnPropertyNames(a))}`;
            try {
              return `${String(a)} ${safeJson(a)}`;
            } catch {
              return safeJson(a);
            }
          })
          .join(' '),
      );
      return quiet ? undefined : originals[m].apply(console, args);
    };
  }
  return {
    lines,
    restore() {
      for (const m of CONSOLE_METHODS) console[m] = originals[m];
    },
  };
}

/**
 * One emulator for a case module, reset before each test, plus the bookkeeping of secrets:
 * every client secret in play and every access token seen is remembered, every error a test
 * expects is checked for them, and the module's last test checks all errors and the console
 * output once more against every secret known by then.
 */
export function createSuite(ctx, emulatorOptions = {}) {
  const { assert, lib } = ctx;
  const secrets = new Set();
  const errors = [];
  const clients = [];
  let emu = null;
  let consoleCapture = null;

  ctx.before(async () => {
    consoleCapture = captureConsole();
    emu = await ctx.startEmulator(emulatorOptions);
    secrets.add(emu.credentials.dynatrace.clientSecret);
    secrets.add(emu.credentials.appdynamics.clientSecret);
    secrets.add(emu.credentials.appdynamics.temporaryToken);
    for (const c of emulatorOptions.dynatrace?.clients ?? []) secrets.add(c.clientSecret);
    for (const c of emulatorOptions.appdynamics?.clients ?? []) secrets.add(c.clientSecret);
  });
  ctx.after(async () => {
    if (consoleCapture) consoleCapture.restore();
    if (emu) await emu.close();
  });

  /** Remembers every bearer token the emulator saw, so later checks look for it too. */
  function harvestTokens() {
    if (!emu) return;
    for (const r of emu.requests) {
      const m = /^bearer\s+(\S+)$/i.exec(r.headers.authorization ?? '');
      if (m) secrets.add(m[1]);
    }
  }

  function checkError(err, where) {
    assertNoSecret(assert, where, errorTexts(err), [...secrets]);
  }

  /** Asserts the shape every failure has, and that it holds no secret. */
  function checkApmError(err, code, props = {}) {
    const { ApmOAuthError } = lib;
    // Leaks first, so that no later assertion message can print a secret. An error that leaks
    // fails here (its own test); only clean ones are kept for the module's last check.
    checkError(err, `error ${code}`);
    errors.push(err);
    assert.ok(err instanceof Error, `expected an Error, got ${Object.prototype.toString.call(err)}: ${err}`);
    assert.equal(err.name, 'ApmOAuthError', `name of: ${err.message}`);
    assert.ok(err instanceof ApmOAuthError, 'instanceof ApmOAuthError');
    assert.equal(err.code, code, `code of: ${err.message}`);
    assert.ok(lib.ERROR_CODES.includes(err.code), `ERROR_CODES lists ${err.code}`);
    assert.equal(typeof err.message, 'string');
    assert.ok(err.message.length > 0, 'the message is not empty');
    assert.match(String(err.stack), /^ApmOAuthError/, 'the stack starts with the error name');
    assert.equal(String(err).startsWith('ApmOAuthError: '), true, 'String(err) names ApmOAuthError');
    for (const [k, v] of Object.entries(props)) {
      if (v instanceof RegExp) assert.match(String(err[k]), v, `${k} of: ${err.message}`);
      else assert.deepEqual(err[k], v, `${k} of: ${err.message}`);
    }
    return err;
  }

  const suite = {
    lib,
    assert,
    /** The emulator (started by the module's before hook). */
    get emu() {
      if (!emu) throw new Error('the emulator is not running');
      return emu;
    },
    secrets,
    errors,
    /** Registers a test that starts from a reset emulator. */
    test(name, fn, options) {
      ctx.test(
        name,
        async () => {
          emu.reset();
          try {
            await fn(emu);
          } finally {
            harvestTokens();
          }
        },
        options,
      );
    },
    /** A client whose secrets are tracked (and which is freed by the module's last test). */
    track(client) {
      clients.push(client);
      return client;
    },
    addSecret(s) {
      if (typeof s === 'string' && s.length > 0) secrets.add(s);
    },
    /** Awaits `promiseOrFn` and returns its ApmOAuthError with `code`; fails when it resolves. */
    async rejects(promiseOrFn, code, props) {
      let err;
      try {
        const value = await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn);
        assert.fail(`expected a rejection with ${code}, got ${describeValue(value)}`);
      } catch (e) {
        if (e && e.code === 'ERR_ASSERTION') throw e;
        err = e;
      }
      return checkApmError(err, code, props);
    },
    /** Calls `fn` and returns the ApmOAuthError with `code` it throws synchronously. */
    throws(fn, code, props) {
      let err;
      let threw = false;
      let value;
      try {
        value = fn();
      } catch (e) {
        threw = true;
        err = e;
      }
      if (!threw) assert.fail(`expected a synchronous throw with ${code}, got ${describeValue(value)}`);
      return checkApmError(err, code, props);
    },
    checkApmError,
    /** Every client of the module: no secret in String(), JSON.stringify() or its own keys. */
    checkClient(client, where) {
      const texts = [
        ['String(client)', String(client)],
        ['JSON.stringify(client)', JSON.stringify(client)],
        ['own keys', Object.getOwnPropertyNames(client).join(',')],
        ['Object.entries', safeJson(Object.fromEntries(Object.entries(client)))],
      ];
      assertNoSecret(assert, where, texts, [...secrets]);
    },
    /** Registers the module's last test: no secret in any error seen or anything logged. */
    finish() {
      ctx.test('no secret in any error of this module, any client, or anything logged', () => {
        harvestTokens();
        const all = [...secrets];
        assert.ok(all.length >= 3, 'secrets are known');
        for (const err of errors) assertNoSecret(assert, `error ${err.code}`, errorTexts(err), all);
        for (const c of clients) suite.checkClient(c, String(c));
        const lines = consoleCapture ? consoleCapture.lines : [];
        assertNoSecret(
          assert,
          'console output',
          lines.map((l, i) => [`line ${i + 1}`, l]),
          all,
        );
      });
    },
  };
  return suite;
}

function describeValue(v) {
  if (v && typeof v === 'object' && typeof v.status === 'number') return `a Response with status ${v.status}`;
  if (v && typeof v === 'object') return `an object with keys ${Object.keys(v).join(', ')}`;
  return `${typeof v}`;
}

/** A Dynatrace client on the emulator, with options merged over the defaults. */
export function dynatraceOptions(emu, extra = {}) {
  const c = emu.credentials.dynatrace;
  return {
    clientId: c.clientId,
    clientSecret: c.clientSecret,
    environmentUrl: emu.urls.dynatrace,
    tokenUrl: emu.urls.ssoToken,
    ...extra,
  };
}

/** AppDynamics options (clientName + accountName) for a controller URL of the emulator. */
export function appdOptions(emu, controllerUrl, extra = {}) {
  const c = emu.credentials.appdynamics;
  return {
    controllerUrl,
    clientName: c.clientName,
    accountName: c.accountName,
    clientSecret: c.clientSecret,
    ...extra,
  };
}

/** The emulator's logged requests of one role (and optionally a path prefix). */
export function requestsOf(emu, role, pathPrefix = '') {
  return emu.requests.filter((r) => r.role === role && r.path.startsWith(pathPrefix));
}

/** Decodes an `Authorization: Basic` value into its raw "user:password" text. */
export function decodeBasic(header) {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return null;
  const bin = atob(m[1]);
  const bytes = Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

// The command line's persistent token cache: one JSON file per (token URL, client id, scope,
// resource, grant) in a private directory, handed to the clients as their `tokenStore`, and a lock
// file so that processes started together make one token request. Node built-ins only.
//
// Files: <dir>/<vendor>-<sha256 hex>.json (0600) holds the access token, its expiry and, for a
// signed-in user, the refresh token; never a client secret. <name>.lock (created with 'wx') holds
// the pid, host and start time of the process making the token request.

import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { homedir, hostname } from 'node:os';
import { dirname, join } from 'node:path';

/** Owners and modes are checked on POSIX systems only (Windows has no uid or mode bits). */
const POSIX = process.platform !== 'win32';
const NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;
const FORMAT = 1;
/** Our files: what `logout` may delete. */
const ENTRY = /^([a-z][a-z-]*)-[0-9a-f]{64}\.json$/;
/** A takeover guard older than this was left by a killed process. */
const GUARD_STALE_MS = 10_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** $APM_OAUTH_CACHE_DIR, else $XDG_CACHE_HOME/apm-oauth, else ~/.cache/apm-oauth. */
export function cacheDirectory(env) {
  if (env.APM_OAUTH_CACHE_DIR) return env.APM_OAUTH_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'apm-oauth');
  return join(env.HOME || homedir(), '.cache', 'apm-oauth');
}

/**
 * Creates `dir` and its missing parents, 0700. Not Node's recursive mkdir, which retries for ever
 * where a parent exists and a child cannot be made there but the error is ENOENT (/proc, /sys).
 */
function makeDirectory(dir) {
  for (let parentMade = false; ; parentMade = true) {
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
      return;
    } catch (err) {
      // Made meanwhile by another process started at the same time: as good.
      if (err.code === 'EEXIST') return;
      const parent = dirname(dir);
      if (err.code !== 'ENOENT' || parentMade || parent === dir) throw err;
      makeDirectory(parent);
    }
  }
}

/** Why a file or directory may not be trusted, or null. `what` names it in the message. */
function unsafe(st) {
  if (!POSIX) return null;
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) return 'is not owned by you';
  if (st.mode & 0o077) return `is open to group or others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')})`;
  return null;
}

/**
 * The cache in `dir`, created 0700 when missing; null (after a warning) when the directory is a
 * symlink, not a directory, not owned by the user or open to group/others, or cannot be created.
 */
export function openCache(dir, warn) {
  try {
    makeDirectory(dir);
  } catch (err) {
    warn(`the token cache directory ${dir} cannot be created (${err.code || err.message}): the cache is not used`);
    return null;
  }
  let st;
  try {
    st = fs.lstatSync(dir);
  } catch (err) {
    warn(`the token cache directory ${dir} cannot be read (${err.code || err.message}): the cache is not used`);
    return null;
  }
  const why = st.isSymbolicLink() ? 'is a symbolic link' : !st.isDirectory() ? 'is not a directory' : unsafe(st);
  if (why) {
    warn(`the token cache directory ${dir} ${why}: the cache is not used (it must be a directory of yours with mode 0700)`);
    return null;
  }
  return new TokenCache(dir, warn);
}

export class TokenCache {
  constructor(dir, warn) {
    this.dir = dir;
    this.warn = warn;
    this.warned = new Set();
  }

  /** The entry of one token: `fields` are what tells tokens apart (never a secret). */
  entry(vendor, fields) {
    const hash = createHash('sha256').update(JSON.stringify(fields)).digest('hex');
    const name = `${vendor}-${hash}`;
    return { name, file: join(this.dir, `${name}.json`), lock: join(this.dir, `${name}.lock`), fields };
  }

  warnOnce(key, message) {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.warn(message);
  }

  /** The record in the entry's file; null when there is none or it cannot be trusted (warned). */
  read(entry) {
    let fd;
    try {
      fd = fs.openSync(entry.file, fs.constants.O_RDONLY | NOFOLLOW);
    } catch (err) {
      if (err.code === 'ENOENT') return null;
      const why = err.code === 'ELOOP' ? 'is a symbolic link' : `cannot be read (${err.code || err.message})`;
      this.warnOnce(entry.file, `the cache file ${entry.file} ${why}: ignored, it will be replaced`);
      return null;
    }
    try {
      const st = fs.fstatSync(fd);
      const why = !st.isFile() ? 'is not a regular file' : unsafe(st);
      if (why) {
        this.warnOnce(entry.file, `the cache file ${entry.file} ${why}: ignored, it will be replaced`);
        return null;
      }
      const text = fs.readFileSync(fd, 'utf8');
      let record;
      try {
        record = JSON.parse(text);
      } catch {
        record = null;
      }
      const valid =
        record !== null &&
        typeof record === 'object' &&
        record.format === FORMAT &&
        typeof record.accessToken === 'string' &&
        record.accessToken !== '' &&
        typeof record.expiresAt === 'number' &&
        Number.isFinite(record.expiresAt) &&
        (record.refreshToken === undefined || typeof record.refreshToken === 'string');
      if (!valid) {
        this.warnOnce(entry.file, `the cache file ${entry.file} is corrupt: ignored, it will be replaced`);
        return null;
      }
      return record;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Writes the record atomically: a 0600 temp file in the same directory, renamed over the entry. */
  write(entry, record) {
    const tmp = join(this.dir, `.${entry.name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      fs.writeFileSync(tmp, `${JSON.stringify({ format: FORMAT, ...record })}\n`, { mode: 0o600, flag: 'wx' });
      if (POSIX) fs.chmodSync(tmp, 0o600); // whatever the umask
      fs.renameSync(tmp, entry.file);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      this.warnOnce(`write:${entry.file}`, `the cache file ${entry.file} cannot be written (${err.code || err.message}): the token is not cached`);
    }
  }

  remove(entry) {
    fs.rmSync(entry.file, { force: true });
  }

  /**
   * Deletes the entries of `vendor` (all when undefined; "dynatrace" includes "dynatrace-account").
   * Returns { removed, failed: [{ file, code }] } (an entry that cannot be deleted does not stop the
   * others); throws when the directory cannot be listed.
   */
  clear(vendor) {
    let removed = 0;
    const failed = [];
    for (const name of fs.readdirSync(this.dir)) {
      const m = ENTRY.exec(name);
      if (!m || (vendor !== undefined && !name.startsWith(`${vendor}-`))) continue;
      const file = join(this.dir, name);
      try {
        fs.unlinkSync(file);
        removed += 1;
      } catch (err) {
        if (err.code !== 'ENOENT') failed.push({ file, code: err.code || err.message });
      }
    }
    return { removed, failed };
  }

  /**
   * Takes the entry's lock: resolves to { release } once it is ours, or to { value } when `check()`
   * returns something while waiting (another process wrote a fresh token). A lock whose process is
   * gone, or older than `staleMs`, is taken over. A lock that cannot be created at all (read-only
   * directory) is given up with a warning: { release: noop }.
   */
  async acquire(entry, staleMs, check) {
    const mine = JSON.stringify({ pid: process.pid, host: hostname(), startedAt: Date.now() });
    for (;;) {
      try {
        const fd = fs.openSync(entry.lock, 'wx', 0o600);
        try {
          fs.writeSync(fd, mine);
        } finally {
          fs.closeSync(fd);
        }
        return { release: () => this.release(entry, mine) };
      } catch (err) {
        if (err.code !== 'EEXIST') {
          this.warnOnce(`lock:${entry.lock}`, `the lock file ${entry.lock} cannot be created (${err.code || err.message}): going on without it`);
          return { release: () => {} };
        }
      }
      const held = this.holder(entry, staleMs);
      if (held.stale) {
        this.takeOver(entry, held.raw);
        continue;
      }
      const value = check();
      if (value) return { value };
      await sleep(15 + Math.random() * 25);
    }
  }

  /** Removes the lock if it is still ours (another process may have taken it over meanwhile). */
  release(entry, mine) {
    try {
      if (fs.readFileSync(entry.lock, 'utf8') === mine) fs.rmSync(entry.lock, { force: true });
    } catch {
      // Gone already.
    }
  }

  /** { raw, stale }: whether the lock's process is gone or the lock is older than `staleMs`. */
  holder(entry, staleMs) {
    let raw;
    let st;
    try {
      raw = fs.readFileSync(entry.lock, 'utf8');
      st = fs.statSync(entry.lock);
    } catch {
      return { raw: null, stale: false }; // released meanwhile: try again
    }
    let info = null;
    try {
      info = JSON.parse(raw);
    } catch {
      // Being written (open and write are two steps), or garbage: judged by its age.
    }
    const startedAt = typeof info?.startedAt === 'number' ? info.startedAt : st.mtimeMs;
    if (Date.now() - startedAt > (info ? staleMs : Math.min(staleMs, 5_000))) return { raw, stale: true };
    if (info && Number.isInteger(info.pid) && info.pid > 0 && info.host === hostname() && !alive(info.pid)) return { raw, stale: true };
    return { raw, stale: false };
  }

  /** Removes a stale lock, guarded so that two processes never remove each other's new lock. */
  takeOver(entry, raw) {
    const guard = `${entry.lock}.takeover`;
    let fd;
    try {
      fd = fs.openSync(guard, 'wx', 0o600);
    } catch {
      try {
        if (Date.now() - fs.statSync(guard).mtimeMs > GUARD_STALE_MS) fs.rmSync(guard, { force: true });
      } catch {
        // Gone.
      }
      return;
    }
    fs.closeSync(fd);
    try {
      // Still the lock judged stale, not one taken since.
      if (fs.readFileSync(entry.lock, 'utf8') === raw) fs.rmSync(entry.lock, { force: true });
    } catch {
      // Gone already.
    } finally {
      fs.rmSync(guard, { force: true });
    }
  }
}

/** Whether a process with this pid exists (EPERM: it does, as another user's). */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code !== 'ESRCH';
  }
}

/**
 * A client's `tokenStore` on one cache entry. `get()` answers a fresh token from the file without
 * locking; otherwise it takes the entry's lock (waiting for another process's token meanwhile),
 * reads the file again and returns what is there as stale (so that the client makes the request
 * or, for a signed-in user, the refresh grant). `set()` writes the file and releases the lock.
 * `release()` must be called when the command ends (a failed request writes nothing).
 */
export class CachedTokenStore {
  constructor(cache, entry, { staleMs, skewMs = 30_000, meta = {} }) {
    this.cache = cache;
    this.entry = entry;
    this.staleMs = staleMs;
    this.skewMs = skewMs;
    this.meta = meta;
    this.seen = new Set(); // tokens this process has had: asked again, the client found them stale
    this.held = null;
    this.served = null; // 'cache' | 'request': where the last token came from
  }

  /** The client's rule (expiry minus the skew, at most half the lifetime), on the cached lifetime. */
  fresh(record) {
    if (!record || this.seen.has(record.accessToken)) return false;
    const obtainedAt = typeof record.obtainedAt === 'number' ? record.obtainedAt : Date.now();
    const lifetime = Math.max(0, record.expiresAt - obtainedAt);
    return Date.now() < record.expiresAt - Math.min(this.skewMs, lifetime / 2);
  }

  hand(record) {
    this.seen.add(record.accessToken);
    this.served = 'cache';
    const tokens = { accessToken: record.accessToken, expiresAt: record.expiresAt };
    if (record.refreshToken) tokens.refreshToken = record.refreshToken;
    if (record.scope) tokens.scope = record.scope;
    return tokens;
  }

  async get() {
    let record = this.cache.read(this.entry);
    if (this.fresh(record)) return this.hand(record);
    if (!this.held) {
      const got = await this.cache.acquire(this.entry, this.staleMs, () => {
        const r = this.cache.read(this.entry);
        return this.fresh(r) ? r : undefined;
      });
      if (got.value) return this.hand(got.value);
      this.held = got.release;
      record = this.cache.read(this.entry); // under the lock: what the last holder wrote
      if (this.fresh(record)) {
        this.release();
        return this.hand(record);
      }
    }
    // Stale: the client makes the request; a signed-in user's refresh token goes with it.
    this.served = 'request';
    return record?.refreshToken ? { accessToken: record.accessToken, expiresAt: 0, refreshToken: record.refreshToken } : null;
  }

  async set(tokens) {
    if (tokens === null) {
      this.cache.remove(this.entry);
    } else {
      this.seen.add(tokens.accessToken);
      const record = { ...this.meta, accessToken: tokens.accessToken, expiresAt: tokens.expiresAt, obtainedAt: Date.now() };
      if (tokens.refreshToken) record.refreshToken = tokens.refreshToken;
      if (tokens.scope) record.scope = tokens.scope;
      if (Number.isFinite(record.expiresAt)) this.cache.write(this.entry, record);
    }
    this.release();
  }

  release() {
    const held = this.held;
    this.held = null;
    held?.();
  }
}

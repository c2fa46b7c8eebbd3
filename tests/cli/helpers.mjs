// Helpers of the CLI suites: run pkg/bin/apm-oauth.mjs as a child process with a clean environment
// (only what a test sets, plus PATH), and find its cache files.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../pack/scratch.mjs';

export const CLI = fileURLToPath(new URL('../../pkg/bin/apm-oauth.mjs', import.meta.url));

/** The environment a child gets: PATH and the defined entries of `env`. */
function childEnv(env) {
  const defined = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined));
  return { PATH: process.env.PATH, ...defined };
}

/** Runs the CLI to its end: { code, stdout, stderr }. */
export function cli(args, { env = {}, input } = {}) {
  return run(process.execPath, [CLI, ...args], { env: childEnv(env), input });
}

/**
 * Starts the CLI and returns at once: { child, waitForStderr(regex) → the match, done → { code,
 * stdout, stderr } }. For `login`, whose URL a test reads while the command waits.
 */
export function startCli(args, { env = {} } = {}) {
  const child = spawn(process.execPath, [CLI, ...args], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters = [];
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => {
    stderr += d;
    for (const w of [...waiters]) {
      const m = stderr.match(w.regex);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  const done = new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      for (const w of waiters) w.reject(new Error(`the CLI ended (${code}) before printing ${w.regex}: ${stderr}`));
      resolve({ code, stdout, stderr });
    });
  });
  function waitForStderr(regex) {
    const m = stderr.match(regex);
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => waiters.push({ regex, resolve, reject }));
  }
  return { child, waitForStderr, done };
}

/** A new empty directory under `parent` (mkdtemp makes it 0700). */
export function freshDir(parent, prefix = 'cache-') {
  return mkdtempSync(join(parent, prefix));
}

/** The cache entries (`<vendor>-<sha256>.json`) in `dir`. */
export function cacheFiles(dir) {
  return readdirSync(dir).filter((f) => /^[a-z-]+-[0-9a-f]{64}\.json$/.test(f)).sort();
}

/** The parsed cache entry (the only one, or the one whose name starts with `prefix`). */
export function readEntry(dir, prefix = '') {
  const files = cacheFiles(dir).filter((f) => f.startsWith(prefix));
  if (files.length !== 1) throw new Error(`expected one cache entry ${prefix}* in ${dir}, found ${files.join(', ') || 'none'}`);
  return { file: join(dir, files[0]), name: files[0], record: JSON.parse(readFileSync(join(dir, files[0]), 'utf8')) };
}

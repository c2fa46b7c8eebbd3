// Helpers shared by the packed-tarball and bundler suites: pack pkg/ with npm, install the tarball
// into a scratch project (offline: the package has no dependencies), run commands asynchronously
// (the emulator lives in the test process, so a synchronous spawn would block it).

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PKG_DIR = fileURLToPath(new URL('../../pkg/', import.meta.url));

/** Runs a command; resolves with { code, stdout, stderr }. */
export function run(command, args, { cwd, env = process.env, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** npm with its cache inside `dir`, so the run neither reads nor writes the user's cache. */
export function npmEnv(dir, extra = {}) {
  return {
    ...process.env,
    npm_config_cache: join(dir, '.npm-cache'),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    ...extra,
  };
}

/** Fails with a clear message when pkg/dist has not been built. */
export function assertBuilt() {
  for (const file of ['dist/web/apm_oauth_bg.wasm', 'dist/nodejs/apm_oauth_bg.wasm']) {
    if (!existsSync(join(PKG_DIR, file))) throw new Error(`pkg/${file} is missing: run bash scripts/build.sh first`);
  }
}

/** `npm pack` pkg/ into `dir`; resolves with { tarball, files (paths in the tarball) }. */
export async function packInto(dir) {
  assertBuilt();
  const r = await run('npm', ['pack', '--json', '--pack-destination', dir, PKG_DIR], { cwd: dir, env: npmEnv(dir) });
  if (r.code !== 0) throw new Error(`npm pack failed (${r.code}): ${r.stderr}`);
  const [info] = JSON.parse(r.stdout);
  return { tarball: join(dir, info.filename), files: info.files.map((f) => f.path).sort() };
}

/** A scratch project in `dir` with the tarball installed as its only dependency. */
export async function installInto(dir, tarball, packageJson = {}) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'scratch-consumer', version: '1.0.0', private: true, ...packageJson }, null, 2));
  const r = await run('npm', ['install', tarball, '--offline', '--no-audit', '--no-fund', '--no-package-lock'], { cwd: dir, env: npmEnv(dir) });
  if (r.code !== 0) throw new Error(`npm install of the tarball failed (${r.code}): ${r.stderr}`);
  return r;
}

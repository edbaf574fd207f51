#!/usr/bin/env node
// Builds (or finds cached) the real-Vault test server in test/vault/server/ and
// prints the binary's path.
//
//   node test/vault/build.mjs         -> prints /…/vault-test-server
//   import { ensureVaultBinary } from './build.mjs'
//
// Cache key: sha256 over go.mod, go.sum and every *.go file of the server.
// Binary: ${XDG_CACHE_HOME:-$HOME/.cache}/vaultfill/test-vault/<key>/vault-test-server
// (outside the repo, so fresh clones on the same machine reuse it; Go's own
// module and build caches persist on the machine too). Build output -> stderr.
// Concurrent callers (e.g. several ava worker processes) share one build via a
// lock directory.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { acquireLock } from '../helpers/dir-lock.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const serverDir = path.join(here, 'server');
const BINARY_NAME = 'vault-test-server';
const LOCK_STALE_MS = 45 * 60 * 1000;
const KEEP_OLD_BUILDS = 2;
// -s -w: no symbol table/DWARF; links ~40% faster, binary 84 MB instead of 116 MB
// (panics still print full stack traces).
const GO_BUILD_ARGS = ['build', '-trimpath', '-ldflags=-s -w'];

/** sha256 over go.mod, go.sum and *.go (names and contents, sorted), and the go build flags. */
export async function cacheKey() {
  const entries = await fs.readdir(serverDir);
  const files = entries
    .filter((f) => f === 'go.mod' || f === 'go.sum' || f.endsWith('.go'))
    .sort();
  const hash = createHash('sha256');
  hash.update(`${GO_BUILD_ARGS.join(' ')}\0`);
  for (const f of files) {
    const data = await fs.readFile(path.join(serverDir, f));
    hash.update(`${f}\0${data.length}\0`);
    hash.update(data);
  }
  return hash.digest('hex');
}

export function cacheRoot() {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'vaultfill', 'test-vault');
}

/** The go command the test builds use: $GO, then PATH, then /usr/local/go. */
export function goCommand() {
  if (process.env.GO) return process.env.GO;
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'go'))) return path.join(dir, 'go');
  }
  if (existsSync('/usr/local/go/bin/go')) return '/usr/local/go/bin/go';
  return 'go';
}

function runGoBuild(out) {
  const go = goCommand();
  const args = [...GO_BUILD_ARGS, '-o', out, '.'];
  return new Promise((resolve, reject) => {
    const child = spawn(go, args, {
      cwd: serverDir,
      env: { ...process.env, CGO_ENABLED: '0' },
      stdio: ['ignore', process.stderr, process.stderr],
    });
    child.on('error', (err) =>
      reject(new Error(`cannot run '${go}' (is Go installed? set $GO to its path): ${err.message}`)),
    );
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`'${go} ${args.join(' ')}' in ${serverDir} failed (${signal ?? `exit ${code}`})`));
    });
  });
}

/** Keeps the KEEP_OLD_BUILDS most recent other builds (~84 MB each); removes older ones. */
async function pruneOldBuilds(currentKey) {
  const root = cacheRoot();
  const dirs = [];
  for (const name of await fs.readdir(root)) {
    if (name === currentKey || !/^[0-9a-f]{64}$/.test(name)) continue;
    const dir = path.join(root, name);
    if (existsSync(path.join(dir, '.lock'))) continue; // being built right now
    dirs.push({ dir, mtime: (await fs.stat(dir)).mtimeMs });
  }
  dirs.sort((a, b) => b.mtime - a.mtime);
  for (const { dir } of dirs.slice(KEEP_OLD_BUILDS)) await fs.rm(dir, { recursive: true, force: true });
}

let pending;

/** Returns the path of an up-to-date vault-test-server binary, building it if needed. */
export function ensureVaultBinary() {
  pending ??= build().catch((err) => {
    pending = undefined;
    throw err;
  });
  return pending;
}

async function build() {
  const key = await cacheKey();
  const dir = path.join(cacheRoot(), key);
  const binary = path.join(dir, BINARY_NAME);
  if (existsSync(binary)) return binary;

  await fs.mkdir(dir, { recursive: true });
  const lockDir = path.join(dir, '.lock');
  const locked = await acquireLock(lockDir, {
    isDone: () => existsSync(binary),
    label: 'vault-test-server',
    staleMs: LOCK_STALE_MS,
  });
  if (!locked) return binary;
  try {
    if (existsSync(binary)) return binary;
    const tmp = path.join(dir, `.${BINARY_NAME}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    const started = Date.now();
    process.stderr.write(`[vault-test-server] building ${binary}\n`);
    try {
      await runGoBuild(tmp);
      await fs.rename(tmp, binary);
    } finally {
      await fs.rm(tmp, { force: true });
    }
    process.stderr.write(`[vault-test-server] built in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
    await pruneOldBuilds(key).catch(() => {});
    return binary;
  } finally {
    await fs.rm(lockDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  ensureVaultBinary().then(
    (p) => process.stdout.write(`${p}\n`),
    (err) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    },
  );
}

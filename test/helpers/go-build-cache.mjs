// Builds a test-only Go program (its own module under test/) once per source change and keeps
// the binary outside the repository, so fresh clones and worktrees on one machine reuse it.
// Plain JS so that `node test/…/build.mjs` runs before anything is installed (.ci/run).
// Used by test/vault/build.mjs (the real Vault), test/oracle/build.mjs (Kubernetes' YAML reader),
// test/k8s/build.mjs (the test cluster's control plane) and test/argocd/build.mjs (Argo CD).
//
// Cache key: sha256 over the go build flags and go.mod, go.sum and every *.go file of the
// module (plus, when given, the package built, the extra environment and `keyFiles`).
// Binary: ${XDG_CACHE_HOME:-$HOME/.cache}/vaultfill/<cacheName>/<key>/<binaryName>; `finish`
// may put more files beside it (links, files copied from the module cache): it runs before the
// binary is moved into place, so a present binary always means a complete directory.
// Go's own module and build caches (GOMODCACHE, GOCACHE, GOFLAGS from `go env`) apply as for
// any go build. Build output goes to stderr. Concurrent callers (several ava worker processes)
// share one build through a lock directory.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { acquireLock } from './dir-lock.mjs';

const LOCK_STALE_MS = 45 * 60 * 1000;
// -s -w: no symbol table/DWARF; Vault links ~40% faster, binary 84 MB instead of 116 MB
// (panics still print full stack traces).
const GO_BUILD_ARGS = ['build', '-trimpath', '-ldflags=-s -w'];

export function goCommand() {
  if (process.env.GO) return process.env.GO;
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'go'))) return path.join(dir, 'go');
  }
  if (existsSync('/usr/local/go/bin/go')) return '/usr/local/go/bin/go';
  return 'go';
}

/**
 * @typedef {object} GoBuildSpec
 * @property {string} sourceDir the module (go.mod, go.sum, *.go)
 * @property {string} cacheName
 * @property {string} binaryName
 * @property {number} keepOldBuilds how many builds of other source versions stay in the cache
 * @property {string} [buildTarget] the package to build; default '.' (the module's main package)
 * @property {string} [ldflags] more linker flags after `-s -w` (e.g. `-X pkg.version=v1`)
 * @property {Record<string, string>} [env] extra environment for go (GOTOOLCHAIN, GOFLAGS…)
 * @property {string[]} [keyFiles] more files whose contents change the build (e.g. the script
 *   whose `finish` shapes the directory)
 * @property {(dir: string, binary: string, env: NodeJS.ProcessEnv) => Promise<void>} [finish]
 *   completes the build directory `dir`; `binary` is the built file, not yet under its name
 */

/** @param {GoBuildSpec} spec */
export function goBuildCache(spec) {
  const { sourceDir, cacheName, binaryName, keepOldBuilds, buildTarget = '.', ldflags = '', env = {}, keyFiles = [], finish } = spec;
  const label = `[${binaryName}]`;
  const goEnv = { ...process.env, CGO_ENABLED: '0', ...env };

  /** sha256 over go.mod, go.sum and *.go (names and contents, sorted), and the go build flags. */
  async function cacheKey() {
    const entries = await fs.readdir(sourceDir);
    const files = entries.filter((f) => f === 'go.mod' || f === 'go.sum' || f.endsWith('.go')).sort();
    const hash = createHash('sha256');
    hash.update(`${GO_BUILD_ARGS.join(' ')}\0`);
    // Only when set, so the keys of the first callers (and their cached builds) stay as they were.
    if (buildTarget !== '.') hash.update(`target\0${buildTarget}\0`);
    if (ldflags) hash.update(`ldflags\0${ldflags}\0`);
    for (const [k, v] of Object.entries(env).sort()) hash.update(`env\0${k}=${v}\0`);
    const inputs = [...files.map((f) => [f, path.join(sourceDir, f)]), ...keyFiles.map((f) => [path.basename(f), f])];
    for (const [name, file] of inputs) {
      const data = await fs.readFile(file);
      hash.update(`${name}\0${data.length}\0`);
      hash.update(data);
    }
    return hash.digest('hex');
  }

  function cacheRoot() {
    const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
    return path.join(base, 'vaultfill', cacheName);
  }

  function runGoBuild(out) {
    const go = goCommand();
    const buildArgs = ldflags ? [...GO_BUILD_ARGS.slice(0, -1), `${GO_BUILD_ARGS.at(-1)} ${ldflags}`] : GO_BUILD_ARGS;
    const args = [...buildArgs, '-o', out, buildTarget];
    return new Promise((resolve, reject) => {
      const child = spawn(go, args, {
        cwd: sourceDir,
        env: goEnv,
        stdio: ['ignore', process.stderr, process.stderr],
      });
      child.on('error', (err) =>
        reject(new Error(`cannot run '${go}' (is Go installed? set $GO to its path): ${err.message}`)),
      );
      child.on('exit', (code, signal) => {
        if (code === 0) resolve();
        else reject(new Error(`'${go} ${args.join(' ')}' in ${sourceDir} failed (${signal ?? `exit ${code}`})`));
      });
    });
  }

  /** Keeps the keepOldBuilds most recent other builds; removes older ones. */
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
    for (const { dir } of dirs.slice(keepOldBuilds)) await fs.rm(dir, { recursive: true, force: true });
  }

  async function build() {
    const key = await cacheKey();
    const dir = path.join(cacheRoot(), key);
    const binary = path.join(dir, binaryName);
    if (existsSync(binary)) return binary;

    await fs.mkdir(dir, { recursive: true });
    const lockDir = path.join(dir, '.lock');
    if (!(await acquireLock(lockDir, { isDone: () => existsSync(binary), label: binaryName, staleMs: LOCK_STALE_MS }))) return binary;
    try {
      if (existsSync(binary)) return binary;
      const tmp = path.join(dir, `.${binaryName}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
      const started = Date.now();
      process.stderr.write(`${label} building ${binary}\n`);
      try {
        await runGoBuild(tmp);
        if (finish) await finish(dir, tmp, goEnv);
        await fs.rename(tmp, binary);
      } finally {
        await fs.rm(tmp, { force: true });
      }
      process.stderr.write(`${label} built in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
      await pruneOldBuilds(key).catch(() => {});
      return binary;
    } finally {
      await fs.rm(lockDir, { recursive: true, force: true });
    }
  }

  let pending;

  /** Returns the path of an up-to-date binary, building it if needed (once per process). */
  function ensureBinary() {
    pending ??= build().catch((err) => {
      pending = undefined;
      throw err;
    });
    return pending;
  }

  return { cacheKey, cacheRoot, ensureBinary };
}

/** When `moduleUrl` is the script node was started with: print the binary's path, or fail. */
export function printPathWhenRun(moduleUrl, ensureBinary) {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(path.resolve(process.argv[1])).href) return;
  ensureBinary().then(
    (p) => process.stdout.write(`${p}\n`),
    (err) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    },
  );
}

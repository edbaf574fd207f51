// Servers the loop harnesses run (etcd, kube-apiserver, Argo CD's components, redis, git): each
// writes its output to a log file a failing test can print, and none outlives the test process.
//
// Why setpriv: a test process can be killed (ava's timeout, Ctrl-C, SIGKILL) without running any
// exit hook, and servers we do not write cannot watch their stdin the way test/vault/server
// does. `setpriv --pdeathsig KILL` (util-linux, in every Debian) makes the kernel kill the child
// when the process that spawned it dies; node spawns from its main thread, so that is the test
// process itself. The exit hook below still stops them first on a normal exit.
// Temp directories carry the owner's pid, so those a killed process left are removed by the next.
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pidAlive } from './dir-lock.mjs';

/** A real part a test starts (a proxy, a Vault Proxy): its log for failures, and a way to stop it. */
export interface LoggedPart {
  /** the part's own log and output, for failures */
  logTail(bytes?: number): string;
  /** prints logTail() when the test fails */
  logOnFailure(t: ExecutionContext): void;
  close(): Promise<void>;
}

/** logOnFailure for a part with this logTail. */
export function logOnFailure(logTail: () => string): (t: ExecutionContext) => void {
  return (t) => {
    t.teardown(() => {
      if (!t.passed) t.log(logTail());
    });
  };
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** stdout and stderr, interleaved */
  readonly logFile: string;
  /** settles when the process has exited, with how */
  readonly exited: Promise<string>;
  /** whether it is still running */
  running(): boolean;
  /** the last `bytes` of its log */
  logTail(bytes?: number): string;
  /** resident memory now (VmRSS), 0 when it has exited */
  rssBytes(): number;
  /** SIGTERM, then SIGKILL after `graceMs` */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnSpec {
  name: string;
  command: string;
  args: readonly string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

const running = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const child of running) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
  });
}

/**
 * A new directory `${tmpdir}/vaultfill-<label>-<pid>-XXXXXX`, removed when this process exits;
 * directories of the same label whose owner is dead are removed now.
 */
export function makeTempDir(label: string): string {
  hookExit();
  const prefix = `vaultfill-${label}-`;
  for (const name of readdirSync(os.tmpdir())) {
    const m = name.startsWith(prefix) ? /^(\d+)-/.exec(name.slice(prefix.length)) : null;
    if (m && !pidAlive(Number(m[1]))) rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), `${prefix}${process.pid}-`));
  tempDirs.add(dir);
  return dir;
}

/** Removes a directory made by makeTempDir now rather than at exit. */
export function removeTempDir(dir: string): void {
  tempDirs.delete(dir);
  rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
}

export function spawnManaged(spec: SpawnSpec): ManagedProcess {
  hookExit();
  const fd = openSync(spec.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', spec.command, ...spec.args], {
      env: spec.env ?? process.env,
      cwd: spec.cwd,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  running.add(child);
  child.unref(); // the exit hook (or the kernel) ends it; it must not keep the test alive
  let alive = true;
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => {
      alive = false;
      running.delete(child);
      resolve(`could not start: ${err.message}`);
    });
    child.once('exit', (code, signal) => {
      alive = false;
      running.delete(child);
      resolve(signal ? `killed by ${signal}` : `exit status ${code}`);
    });
  });
  const logTail = (bytes = 4000): string => {
    if (!existsSync(spec.logFile)) return '';
    const size = statSync(spec.logFile).size;
    const buf = Buffer.alloc(Math.min(bytes, size));
    const tail = openSync(spec.logFile, 'r');
    try {
      readSync(tail, buf, 0, buf.length, size - buf.length);
    } finally {
      closeSync(tail);
    }
    return buf.toString('utf8');
  };
  return {
    name: spec.name,
    pid: child.pid ?? -1,
    logFile: spec.logFile,
    exited,
    running: () => alive,
    logTail,
    rssBytes() {
      try {
        const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        return m ? Number(m[1]) * 1024 : 0;
      } catch {
        return 0;
      }
    },
    async stop(graceMs = 5_000) {
      if (!alive) return;
      // Ref'd again: once the SIGKILL timer has fired nothing else may hold the event loop,
      // and an unref'd child's exit would never be seen (argocd-cmp-server ignores SIGTERM).
      child.ref();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Polls `probe` every `intervalMs` until it returns a value other than undefined; fails after
 * `timeoutMs` with `what` and the last error, or at once when one of `watch` has exited.
 */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs, intervalMs = 200, watch = [] }: { timeoutMs: number; intervalMs?: number; watch?: readonly ManagedProcess[] },
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    for (const p of watch) {
      if (!p.running()) throw new Error(`${what}: ${p.name} ${await p.exited}\n--- ${p.logFile} ---\n${p.logTail()}`);
    }
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) {
      const logs = watch.map((p) => `--- ${p.logFile} ---\n${p.logTail(2000)}`).join('\n');
      throw new Error(`${what}: not within ${timeoutMs / 1000}s${last ? ` (last error: ${last})` : ''}\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

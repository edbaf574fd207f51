/**
 * Vault token cache: `$XDG_CACHE_HOME/vaultfill` (default `~/.cache/vaultfill`), directory 0700,
 * one 0600 file per (address, namespace, auth method, mount, role), written atomically. A token
 * is reused without a lookup while more than a minute of its lifetime is left; an entry that is
 * not a usable token is dropped. A lock file (holding its owner's pid, so a lock left by a killed
 * run is taken over at once) makes concurrent runs sharing the cache log in once. The cache
 * holds tokens, never secret values. A missing or unwritable home means no cache, never a
 * failure.
 */
import path from 'node:path';
import { nodeCrypto, sha256Hex } from '../hash.js';
import type { Logger } from '../log.js';
import type { Login } from './types.js';

/**
 * node:fs/promises, loaded on first use: ~5 ms under the launcher's V8 flag (it pulls in
 * directories, watchers and readline), which a run with the cache off never needs. The other
 * modules read their few small files with node:fs.
 */
let fsModule: typeof import('node:fs/promises') | undefined;
const fsp = async (): Promise<typeof import('node:fs/promises')> => (fsModule ??= await import('node:fs/promises'));

const MARGIN_MS = 60_000;
const LOCK_WAIT_MS = 15_000;
const LOCK_STALE_MS = 30_000;

/** What Vault issues as tokens (`hvs.…`, `s.…`, batch tokens): printable ASCII, nothing a header cannot carry. */
const TOKEN = /^[\x21-\x7e]{1,4096}$/;

/** Whether process `pid` (on this host: the cache lives in the pod's own /tmp) still runs. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface TokenCache {
  /** A cached token with more than a minute left, if any. */
  get(): Promise<string | undefined>;
  put(login: Login): Promise<void>;
  drop(): Promise<void>;
  /** Runs `fn` holding the cache's lock, so concurrent runs do not all log in. */
  locked<T>(fn: () => Promise<T>): Promise<T>;
}

export function cacheDirectory(env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (env['XDG_CACHE_HOME']) return path.join(env['XDG_CACHE_HOME'], 'vaultfill');
  if (env['HOME']) return path.join(env['HOME'], '.cache', 'vaultfill');
  return undefined;
}

export function createTokenCache(directory: string | undefined, identity: string, logger: Logger): TokenCache | undefined {
  if (!directory) {
    logger.debug('token cache off: neither XDG_CACHE_HOME nor HOME is set');
    return undefined;
  }
  const name = `token-${sha256Hex(identity).slice(0, 32)}`;
  const file = path.join(directory, `${name}.json`);
  const lock = path.join(directory, `${name}.lock`);
  let usable: Promise<boolean> | undefined;
  const ready = (): Promise<boolean> =>
    (usable ??= (async () => {
      try {
        const { chmod, mkdir } = await fsp();
        // Level by level: Node's recursive mkdir never returns on some paths (e.g. under /proc).
        for (const dir of [path.dirname(directory), directory]) {
          await mkdir(dir, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
            if (error.code !== 'EEXIST') throw error;
          });
        }
        await chmod(directory, 0o700);
        return true;
      } catch (error) {
        logger.debug(`token cache off: cannot use ${directory} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
        return false;
      }
    })());

  const drop = async (): Promise<void> => {
    const { rm } = await fsp();
    await rm(file, { force: true }).catch(() => undefined);
  };
  return {
    async get() {
      if (!(await ready())) return undefined;
      const { readFile } = await fsp();
      let entry: { token?: unknown; expiresAt?: unknown };
      try {
        entry = JSON.parse(await readFile(file, 'utf8')) as typeof entry;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        entry = {};
      }
      // An entry that is not a usable token (a torn or tampered file) is dropped, not reused
      // by every later run.
      if (typeof entry.token !== 'string' || !TOKEN.test(entry.token) || (entry.expiresAt !== null && typeof entry.expiresAt !== 'number')) {
        logger.debug('token cache: dropped an unusable entry');
        await drop();
        return undefined;
      }
      const fresh = entry.expiresAt === null || (entry.expiresAt as number) - Date.now() > MARGIN_MS;
      return fresh ? entry.token : undefined;
    },
    async put(login) {
      if (!(await ready())) return;
      const expiresAt = login.ttlSeconds > 0 ? Date.now() + login.ttlSeconds * 1000 : null;
      const { rename, rm, writeFile } = await fsp();
      const temp = `${file}.${process.pid}.${nodeCrypto().randomBytes(4).toString('hex')}`;
      try {
        await writeFile(temp, JSON.stringify({ token: login.token, expiresAt }), { mode: 0o600, flag: 'wx' });
        await rename(temp, file);
      } catch (error) {
        logger.debug(`token cache: not written (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
        await rm(temp, { force: true });
      }
    },
    drop,
    async locked(fn) {
      if (!(await ready())) return fn();
      const { open, readFile, rm, stat } = await fsp();
      const deadline = Date.now() + LOCK_WAIT_MS;
      for (;;) {
        try {
          const handle = await open(lock, 'wx', 0o600);
          await handle.write(String(process.pid));
          await handle.close();
          break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || Date.now() > deadline) return fn();
          // A lock whose holder has died (a login killed mid-way) is taken over at once.
          const holder = Number(await readFile(lock, 'utf8').catch(() => ''));
          const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
          if ((holder > 0 && !alive(holder)) || age > LOCK_STALE_MS) await rm(lock, { force: true });
          else await new Promise((r) => setTimeout(r, 25 + Math.random() * 50));
        }
      }
      try {
        return await fn();
      } finally {
        await rm(lock, { force: true });
      }
    },
  };
}

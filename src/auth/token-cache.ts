/**
 * Vault token cache: `$XDG_CACHE_HOME/vaultfill` (default `~/.cache/vaultfill`), directory 0700,
 * one 0600 file per (address, namespace, auth method, mount, role), written atomically. A token
 * is reused without a lookup while more than a minute of its lifetime is left. A lock file makes
 * concurrent runs sharing the cache log in once. The cache holds tokens, never secret values.
 * A missing or unwritable home means no cache, never a failure.
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

  return {
    async get() {
      if (!(await ready())) return undefined;
      const { readFile } = await fsp();
      try {
        const entry = JSON.parse(await readFile(file, 'utf8')) as { token?: unknown; expiresAt?: unknown };
        if (typeof entry.token !== 'string') return undefined;
        const fresh = entry.expiresAt === null || (typeof entry.expiresAt === 'number' && entry.expiresAt - Date.now() > MARGIN_MS);
        return fresh ? entry.token : undefined;
      } catch {
        return undefined;
      }
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
    async drop() {
      const { rm } = await fsp();
      await rm(file, { force: true }).catch(() => undefined);
    },
    async locked(fn) {
      if (!(await ready())) return fn();
      const { open, rm, stat } = await fsp();
      const deadline = Date.now() + LOCK_WAIT_MS;
      for (;;) {
        try {
          const handle = await open(lock, 'wx', 0o600);
          await handle.close();
          break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || Date.now() > deadline) return fn();
          const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
          if (age > LOCK_STALE_MS) await rm(lock, { force: true });
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

// A lock for builds that several processes may start at once (ava runs each test file in its
// own worker process, and more than one of them may need the test Vault or the corpus of real
// renders). mkdir is atomic on every filesystem we use, so the lock is a directory; it holds
// the owner's pid so that a lock left by a killed process is noticed and taken over.
// Plain JS so that scripts run with bare `node` can use it.
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** Whether process `pid` still runs (on this host). */
export function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Takes the lock `lockDir`, waiting while another live process holds it. Returns true when
 * taken (the caller removes `lockDir` when done), false when `isDone()` says someone else
 * finished the work meanwhile. A lock whose holder is dead, or older than `staleMs`, is removed.
 * @param {string} lockDir
 * @param {{ isDone: () => boolean, label: string, staleMs: number }} options
 * @returns {Promise<boolean>}
 */
export async function acquireLock(lockDir, { isDone, label, staleMs }) {
  let announced = false;
  for (;;) {
    try {
      await fs.mkdir(lockDir);
      await fs.writeFile(path.join(lockDir, 'pid'), String(process.pid));
      return true;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    if (isDone()) return false;
    let stale = false;
    try {
      const pid = Number(await fs.readFile(path.join(lockDir, 'pid'), 'utf8'));
      const st = await fs.stat(lockDir);
      stale = (pid > 0 && !pidAlive(pid)) || Date.now() - st.mtimeMs > staleMs;
    } catch {
      // pid file not written yet, or lock just released: retry
    }
    if (stale) {
      await fs.rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (!announced) {
      process.stderr.write(`[${label}] waiting for a concurrent build (${lockDir})\n`);
      announced = true;
    }
    await sleep(500);
  }
}

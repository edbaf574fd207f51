// Types for dir-lock.mjs (plain JS so scripts run with bare `node` can use it).
/** Whether process `pid` still runs (on this host). */
export declare function pidAlive(pid: number): boolean;
/** Takes the lock directory `lockDir` (see dir-lock.mjs); false when `isDone()` says someone else finished the work. */
export declare function acquireLock(lockDir: string, options: { isDone: () => boolean; label: string; staleMs: number }): Promise<boolean>;

// Types for build.mjs (plain JS so it runs with bare `node`).
export declare const serverDir: string;
export declare function cacheKey(): Promise<string>;
export declare function cacheRoot(): string;
export declare function ensureVaultBinary(): Promise<string>;
export declare function goCommand(): string;

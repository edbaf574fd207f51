// Types for build-cli.mjs (plain JS so it runs with bare `node`).
export declare const cliDir: string;
export declare function cacheKey(): Promise<string>;
export declare function cacheRoot(): string;
export declare function ensureVaultCliBinary(): Promise<string>;

// Types for build.mjs (plain JS so it runs with bare `node`).
export declare const sourceDir: string;
export declare function cacheKey(): Promise<string>;
export declare function cacheRoot(): string;
export declare function ensureControlPlaneBinary(): Promise<string>;
export declare const KUBERNETES_VERSION: string;

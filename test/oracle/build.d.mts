// Types for build.mjs (plain JS so it runs with bare `node`).
export declare const sourceDir: string;
export declare function cacheKey(): Promise<string>;
export declare function cacheRoot(): string;
export declare function ensureK8sYamlBinary(): Promise<string>;

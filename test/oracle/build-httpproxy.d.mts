// Types for build-httpproxy.mjs (plain JS so it runs with bare `node`).
export declare const sourceDir: string;
export declare function ensureHttpProxyBinary(): Promise<string>;

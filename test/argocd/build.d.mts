// Types for build.mjs (plain JS so it runs with bare `node`).
export declare const sourceDir: string;
export declare const ARGOCD_MODULE: string;
export declare const COMMANDS: readonly string[];
export declare function cacheKey(): Promise<string>;
export declare function cacheRoot(): string;
/** The directory with argocd, its command links, git-verify-wrapper.sh and crds/. */
export declare function ensureArgoCD(): Promise<string>;
/** The path of pluginconfig, which decodes plugin configs strictly against Argo CD's PluginConfig. */
export declare function ensurePluginConfigCheck(): Promise<string>;

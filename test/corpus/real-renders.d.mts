// Types for real-renders.mjs (plain JS so it runs with bare `node`).
export interface RealRenderFile {
  readonly name: string;
  readonly path: string;
}
export declare function cacheRoot(): string;
export declare function cacheKey(): string;
export declare function helmVersion(): string;
export declare function ensureRealRenders(): Promise<RealRenderFile[]>;
/** `go mod download -json` of one module into the machine's module cache; resolves to its directory. `cwd`: an empty scratch directory. */
export declare function download(source: { readonly module: string; readonly version: string }, cwd: string): Promise<string>;

// Types for real-renders.mjs (plain JS so it runs with bare `node`).
export interface RealRenderFile {
  readonly name: string;
  readonly path: string;
}
export declare function cacheRoot(): string;
export declare function cacheKey(): string;
export declare function helmVersion(): string;
export declare function ensureRealRenders(): Promise<RealRenderFile[]>;

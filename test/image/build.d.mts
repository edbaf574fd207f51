// Types for build.mjs (plain JS so that .ci/run runs it with bare `node`).
import type { Engine } from './dockerd.mjs';

export declare const repoRoot: string;
/** The tag of the image under test, vaultfill:test. */
export declare const IMAGE: string;
/** The files .dockerignore lets into the build context, relative to the repository, sorted. */
export declare function contextFiles(root?: string): string[];
/** The image's cache key: the build context and the stand-ins' image IDs. */
export declare function contextHash(standInIds: Readonly<Record<string, string>>, root?: string): string;

export interface BuiltImage {
  readonly image: string;
  readonly id: string;
  /** contextHash(), also the image's vaultfill.context label */
  readonly key: string;
  /** false when the cached image was up to date */
  readonly built: boolean;
  readonly seconds?: number;
}

/** Builds the image from the unchanged Dockerfile, or finds it in the cache. */
export declare function ensureImage(engine: Engine): Promise<BuiltImage>;

// Types for dockerd.mjs (plain JS so that .ci/run runs it with bare `node`).
export interface DockerResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface DockerOptions {
  /** written to the client's stdin */
  readonly input?: string;
  /** reject on a non-zero exit (default true) */
  readonly check?: boolean;
  /** kill the client after this long (default 10 minutes) */
  readonly timeoutMs?: number;
}

export interface Engine {
  /** DOCKER_HOST of the private engine, unix://… */
  readonly host: string;
  /** overlay2, or vfs where the cache's filesystem cannot hold overlay layers */
  readonly driver: string;
  /** the engine's data root, under the cache */
  readonly dataRoot: string;
  /** Runs the docker client against the engine. */
  docker(args: readonly string[], options?: DockerOptions): Promise<DockerResult>;
  /** Gives up this process's use; the engine stops when no process uses it. */
  close(): Promise<void>;
}

/** Starts the private engine, or joins the one already running on the same data root. */
export declare function startDocker(): Promise<Engine>;

/** The seam between the engine and a secret store. One file per backend implements it. */

/** One read: a secret path, an optional version, and the KV engine version it lives in. */
export interface SecretRequest {
  readonly path: string;
  readonly version: number | undefined;
  readonly kvVersion: 1 | 2;
}

/** The key/value pairs of one secret. Values are toxic: they may reach stdout and nothing else. */
export type SecretData = Readonly<Record<string, unknown>>;

export interface Backend {
  /** Reads one secret. Throws VaultfillError (SECRET_NOT_FOUND, PERMISSION_DENIED, BACKEND_*, AUTH_FAILED, …). */
  read(request: SecretRequest): Promise<SecretData>;
  /** Number of requests made to the store so far (for diagnostics and tests). */
  readonly requests: number;
}

/** Identity of one backend read: references with the same id share it. */
export function secretId(request: SecretRequest): string {
  return `kv${request.kvVersion}:${request.path}${request.version === undefined ? '' : `#${request.version}`}`;
}

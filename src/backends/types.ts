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
  /**
   * The KV v2 secrets read at their latest version (no `#version`, no secret-version annotation),
   * by data path (`secret/data/app`), with the version the store answered: what AVP_RECORD records.
   * Only paths whose metadata path is known (src/refresh/record.ts metadataPath). Never a value.
   */
  readonly versions?: ReadonlyMap<string, number>;
}

/** Identity of one backend read: references with the same id share it. */
export function secretId(request: SecretRequest): string {
  return `kv${request.kvVersion}:${request.path}${request.version === undefined ? '' : `#${request.version}`}`;
}

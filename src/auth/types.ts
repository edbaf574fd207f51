/** The seam for authentication methods: one file per method implements it. */
import type { VaultHttp } from '../backends/vault-http.js';

export interface Login {
  readonly token: string;
  /** Seconds the token lives; 0 means it does not expire (root tokens, some static tokens). */
  readonly ttlSeconds: number;
}

export interface AuthMethod {
  /** AVP_AUTH_TYPE value. */
  readonly name: string;
  /**
   * What identifies these credentials in the token cache (mount, role, user; hashed before use).
   * Undefined for methods that need no login (a given token): nothing is cached.
   */
  readonly cacheIdentity: string | undefined;
  login(http: VaultHttp): Promise<Login>;
}

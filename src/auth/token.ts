/** `AVP_AUTH_TYPE=token`: VAULT_TOKEN, or ~/.vault-token as the vault CLI writes it. */
import type { AuthMethod } from './types.js';

export function tokenAuth(token: string): AuthMethod {
  return { name: 'token', cacheIdentity: undefined, login: async () => ({ token, ttlSeconds: 0 }) };
}

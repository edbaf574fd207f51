/**
 * `AVP_AUTH_TYPE=k8s`: the pod's service-account JWT against Vault's kubernetes auth method.
 * Pointing the mount at a jwt auth mount gives JWT/OIDC login with the same request.
 */
import { readFileSync } from 'node:fs';
import { VaultfillError } from '../errors.js';
import { postLogin } from './login.js';
import type { AuthMethod } from './types.js';

export function kubernetesAuth(role: string, mount: string, tokenPath: string): AuthMethod {
  return {
    name: 'k8s',
    cacheIdentity: `k8s|${mount}|${role}|${tokenPath}`,
    async login(http) {
      let jwt: string;
      try {
        jwt = readFileSync(tokenPath, 'utf8').trim();
      } catch {
        throw new VaultfillError('CONFIG', `cannot read the service-account token at ${tokenPath} (AVP_K8S_TOKEN_PATH)`);
      }
      return postLogin(http, mount, '', { role, jwt }, 'kubernetes');
    },
  };
}

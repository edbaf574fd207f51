/** `AVP_AUTH_TYPE=approle`: AVP_ROLE_ID and AVP_SECRET_ID. */
import { postLogin } from './login.js';
import type { AuthMethod } from './types.js';

export function approleAuth(roleId: string, secretId: string, mount: string): AuthMethod {
  return {
    name: 'approle',
    cacheIdentity: `approle|${mount}|${roleId}`,
    login: (http) => postLogin(http, mount, '', { role_id: roleId, secret_id: secretId }, 'approle'),
  };
}

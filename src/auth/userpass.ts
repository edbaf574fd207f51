/** `AVP_AUTH_TYPE=userpass`: AVP_USERNAME and AVP_PASSWORD. */
import { postLogin } from './login.js';
import type { AuthMethod } from './types.js';

export function userpassAuth(username: string, password: string, mount: string): AuthMethod {
  return {
    name: 'userpass',
    cacheIdentity: `userpass|${mount}|${username}`,
    login: (http) => postLogin(http, mount, username, { password }, 'userpass'),
  };
}

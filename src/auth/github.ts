/** `AVP_AUTH_TYPE=github`: a GitHub personal access token (AVP_GITHUB_TOKEN). */
import { sha256Hex } from '../hash.js';
import { postLogin } from './login.js';
import type { AuthMethod } from './types.js';

export function githubAuth(token: string, mount: string): AuthMethod {
  // The cache identity must tell two GitHub users apart without holding the token itself.
  const fingerprint = sha256Hex(token).slice(0, 16);
  return {
    name: 'github',
    cacheIdentity: `github|${mount}|${fingerprint}`,
    login: (http) => postLogin(http, mount, '', { token }, 'github'),
  };
}

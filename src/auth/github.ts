/** `AVP_AUTH_TYPE=github`: a GitHub personal access token (AVP_GITHUB_TOKEN). */
import { createHash } from 'node:crypto';
import { postLogin } from './login.js';
import type { AuthMethod } from './types.js';

export function githubAuth(token: string, mount: string): AuthMethod {
  // The cache identity must tell two GitHub users apart without holding the token itself.
  const fingerprint = createHash('sha256').update(token).digest('hex').slice(0, 16);
  return {
    name: 'github',
    cacheIdentity: `github|${mount}|${fingerprint}`,
    login: (http) => postLogin(http, mount, '', { token }, 'github'),
  };
}

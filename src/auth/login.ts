/** The login call every Vault auth method shares: POST auth/<mount>/login[/<name>]. */
import { VaultfillError } from '../errors.js';
import { vaultErrors, type VaultHttp } from '../backends/vault-http.js';
import type { Login } from './types.js';

export async function postLogin(http: VaultHttp, mount: string, suffix: string, body: Record<string, string>, method: string): Promise<Login> {
  const apiPath = `${normalizeMount(mount)}/login${suffix ? `/${encodeURIComponent(suffix)}` : ''}`;
  // Everything a login sends but the role's name is a credential (secret and role IDs, a
  // password, a JWT, a GitHub token): no error text may show it, Vault's own included.
  http.redact(Object.entries(body).filter(([name]) => name !== 'role').map(([, value]) => value));
  const response = await http.request('POST', apiPath, { body });
  const auth = response.body && typeof response.body === 'object' ? (response.body as { auth?: { client_token?: unknown; lease_duration?: unknown } }).auth : undefined;
  if (response.status === 200 && typeof auth?.client_token === 'string') {
    return { token: auth.client_token, ttlSeconds: typeof auth.lease_duration === 'number' ? auth.lease_duration : 0 };
  }
  const reason = vaultErrors(response.body) || `HTTP ${response.status}`;
  const hint = response.status === 404 || /no handler|unsupported path/i.test(reason) ? `; is an auth method mounted at ${apiPath.replace(/\/login.*$/, '')}?` : '';
  throw new VaultfillError('AUTH_FAILED', `${method} login at ${apiPath} failed: ${reason}${hint}`);
}

/** `kubernetes`, `auth/kubernetes` and `/auth/kubernetes/` all name the same mount. */
export function normalizeMount(mount: string): string {
  const trimmed = mount.replace(/^\/+|\/+$/g, '');
  return trimmed.startsWith('auth/') ? trimmed : `auth/${trimmed}`;
}

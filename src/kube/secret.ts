/**
 * Reads a Kubernetes Secret for `-s/--secret-name` from the in-cluster API (kube/api.ts), with
 * the pod's service account: the token and `ca.crt` from the service-account directory (the
 * directory of AVP_K8S_TOKEN_PATH).
 */
import path from 'node:path';
import { DEFAULTS, SETTING } from '../constants.js';
import type { Env } from '../config.js';
import { VaultfillError } from '../errors.js';
import { inClusterApi } from './api.js';

export function kubeSecretReader(env: Env): (namespace: string, name: string) => Promise<Record<string, string>> {
  return async (namespace, name) => {
    const what = `Secret ${namespace}/${name} (--secret-name)`;
    // The sidecar's own setting only: an Application never chooses which file is sent as a credential.
    const tokenPath = env[SETTING.k8sTokenPath] ?? DEFAULTS.k8sTokenPath;
    const api = inClusterApi(env, path.dirname(tokenPath), what);
    const apiPath = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`;
    const { status, body } = await api.request('GET', apiPath).catch((error: unknown) => {
      // Settings that cannot be read are a settings error, whatever the reason.
      throw error instanceof VaultfillError && error.code !== 'CONFIG' ? new VaultfillError('CONFIG', error.message) : error;
    });
    if (status === 404) throw new VaultfillError('CONFIG', `${what} not found`);
    if (status === 401 || status === 403) {
      throw new VaultfillError('CONFIG', `the service account may not read ${what}; grant it "get" on secrets in ${namespace}`);
    }
    const data = (body as { data?: unknown } | undefined)?.data;
    if (status !== 200 || (data !== undefined && (typeof data !== 'object' || data === null))) {
      throw new VaultfillError('CONFIG', `cannot read ${what}: Kubernetes API answered HTTP ${status}`);
    }
    return Object.fromEntries(Object.entries((data ?? {}) as Record<string, unknown>).map(([k, v]) => [k, Buffer.from(String(v), 'base64').toString('utf8')]));
  };
}

/**
 * Reads a Kubernetes Secret for `-s/--secret-name` from the in-cluster API, with the pod's
 * service account: the API at KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT, the token and
 * `ca.crt` from the service-account directory (the directory of AVP_K8S_TOKEN_PATH).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULTS, SETTING } from '../constants.js';
import type { Env } from '../config.js';
import { VaultfillError } from '../errors.js';

export function kubeSecretReader(env: Env): (namespace: string, name: string) => Promise<Record<string, string>> {
  return async (namespace, name) => {
    const host = env['KUBERNETES_SERVICE_HOST'];
    const port = env['KUBERNETES_SERVICE_PORT'] ?? '443';
    const what = `Secret ${namespace}/${name} (--secret-name)`;
    if (!host) throw new VaultfillError('CONFIG', `cannot read ${what}: KUBERNETES_SERVICE_HOST is not set; is this running in a pod?`);
    // The sidecar's own setting only: an Application never chooses which file is sent as a credential.
    const tokenPath = env[SETTING.k8sTokenPath] ?? DEFAULTS.k8sTokenPath;
    let token: string;
    let ca: string;
    try {
      token = readFileSync(tokenPath, 'utf8').trim();
      ca = readFileSync(path.join(path.dirname(tokenPath), 'ca.crt'), 'utf8');
    } catch {
      throw new VaultfillError('CONFIG', `cannot read ${what}: no service-account token and ca.crt in ${path.dirname(tokenPath)}`);
    }
    const apiPath = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`;
    const { status, body } = await get(host, port, apiPath, token, ca).catch((error: unknown) => {
      throw new VaultfillError('CONFIG', `cannot read ${what}: Kubernetes API unreachable (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
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

async function get(host: string, port: string, apiPath: string, token: string, ca: string): Promise<{ status: number; body: unknown }> {
  const { default: https } = await import('node:https'); // only for -s: ~5 ms to load
  return new Promise((resolve, reject) => {
    const req = https.get({ host, port, path: apiPath, ca, headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' }, timeout: 10_000 }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(parts).toString('utf8'));
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
  });
}

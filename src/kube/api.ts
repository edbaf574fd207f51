/**
 * The in-cluster Kubernetes API, as a pod reaches it: https://KUBERNETES_SERVICE_HOST:
 * KUBERNETES_SERVICE_PORT, with a service-account token and the cluster's `ca.crt` from one
 * directory (the pod's own, /var/run/secrets/kubernetes.io/serviceaccount, unless told another).
 * The token is read for every request: kubelet rotates projected tokens in place.
 * Used by `-s/--secret-name` (kube/secret.ts) and `vaultfill refresh`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Env } from '../config.js';
import { VaultfillError } from '../errors.js';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
const TIMEOUT_MS = 10_000;

export interface KubeResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface KubeApi {
  /** One request; rejects with KUBE_UNREACHABLE when no answer came, never on an HTTP status. */
  request(method: 'GET' | 'PATCH', apiPath: string, body?: { readonly contentType: string; readonly json: unknown }): Promise<KubeResponse>;
  /** The namespace in the service-account directory (the pod's own), if there is one. */
  readonly namespace: string | undefined;
}

/** The API for `what` (named in errors); CONFIG when this is not a pod or the directory lacks the token or CA. */
export function inClusterApi(env: Env, serviceAccountDir: string, what: string): KubeApi {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'] ?? '443';
  if (!host) throw new VaultfillError('CONFIG', `cannot read ${what}: KUBERNETES_SERVICE_HOST is not set; is this running in a pod?`);
  const read = (file: string): string => readFileSync(path.join(serviceAccountDir, file), 'utf8');
  let ca: string;
  try {
    ca = read('ca.crt');
    read('token');
  } catch {
    throw new VaultfillError('CONFIG', `cannot read ${what}: no service-account token and ca.crt in ${serviceAccountDir}`);
  }
  let namespace: string | undefined;
  try {
    namespace = read('namespace').trim() || undefined;
  } catch {
    namespace = undefined;
  }
  return {
    namespace,
    async request(method, apiPath, body) {
      let token: string;
      try {
        token = read('token').trim();
      } catch {
        throw new VaultfillError('CONFIG', `cannot read ${what}: no service-account token in ${serviceAccountDir}`);
      }
      return send(host, port, ca, token, method, apiPath, body).catch((error: unknown) => {
        throw new VaultfillError('KUBE_UNREACHABLE', `cannot read ${what}: Kubernetes API unreachable at ${host}:${port} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      });
    },
  };
}

async function send(host: string, port: string, ca: string, token: string, method: string, apiPath: string, body: { contentType: string; json: unknown } | undefined): Promise<KubeResponse> {
  const { default: https } = await import('node:https'); // ~5 ms to load, only when the API is used
  const payload = body ? JSON.stringify(body.json) : undefined;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
    if (body && payload !== undefined) {
      headers['Content-Type'] = body.contentType;
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const req = https.request({ host, port, method, path: apiPath, ca, headers, timeout: TIMEOUT_MS }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(Buffer.concat(parts).toString('utf8'));
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(payload);
  });
}

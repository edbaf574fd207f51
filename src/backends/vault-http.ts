/**
 * A small typed Vault HTTP client on node:https: TLS from VAULT_CACERT / VAULT_CAPATH /
 * VAULT_CLIENT_CERT / VAULT_CLIENT_KEY / VAULT_SKIP_VERIFY / VAULT_TLS_SERVER_NAME, the
 * X-Vault-Namespace header on every request, a timeout per attempt, and at most 3 retries with
 * backoff (honouring Retry-After) on 429, 5xx and connection resets. It replaces node-vault,
 * which reads none of the TLS variables, has no retries, and costs ~0.1 s to load.
 */
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { VaultfillError } from '../errors.js';

export interface VaultHttpOptions {
  readonly address: string;
  readonly namespace: string | undefined;
  readonly caCert: string | undefined;
  readonly caPath: string | undefined;
  readonly clientCert: string | undefined;
  readonly clientKey: string | undefined;
  readonly skipVerify: boolean;
  readonly tlsServerName: string | undefined;
  readonly timeoutMs: number;
  readonly retries: number;
}

export interface VaultResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface VaultHttp {
  request(method: 'GET' | 'POST' | 'PUT', apiPath: string, options?: { token?: string | undefined; body?: unknown }): Promise<VaultResponse>;
  /** HTTP requests sent so far, retries included. */
  readonly sent: number;
}

const RETRYABLE_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET']);
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', ...RETRYABLE_CODES]);

export function createVaultHttp(options: VaultHttpOptions): VaultHttp {
  let base: URL;
  try {
    base = new URL(options.address);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error('protocol');
  } catch {
    throw new VaultfillError('CONFIG', 'VAULT_ADDR must be an http:// or https:// URL');
  }
  const secure = base.protocol === 'https:';
  const agent = secure
    ? new https.Agent({
        keepAlive: true,
        ca: caBundle(options),
        cert: options.clientCert ? readPem(options.clientCert, 'VAULT_CLIENT_CERT') : undefined,
        key: options.clientKey ? readPem(options.clientKey, 'VAULT_CLIENT_KEY') : undefined,
        rejectUnauthorized: !options.skipVerify,
        servername: options.tlsServerName,
      })
    : new http.Agent({ keepAlive: true });
  let sent = 0;

  const once = (method: string, apiPath: string, token: string | undefined, body: unknown): Promise<VaultResponse> =>
    new Promise((resolve, reject) => {
      const url = new URL(`/v1/${apiPath.replace(/^\/+/, '')}`, base);
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string> = { Accept: 'application/json' };
      if (token) headers['X-Vault-Token'] = token;
      if (options.namespace) headers['X-Vault-Namespace'] = options.namespace;
      if (payload !== undefined) {
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = String(Buffer.byteLength(payload));
      }
      sent++;
      const req = (secure ? https : http).request(url, { method, headers, agent, timeout: options.timeoutMs }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8');
          let parsed: unknown = undefined;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          const retryAfter = Number(res.headers['retry-after']);
          resolve({ status: res.statusCode ?? 0, body: parsed, ...(Number.isFinite(retryAfter) ? { retryAfter } : {}) });
        });
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'VAULTFILL_TIMEOUT' })));
      req.on('error', reject);
      req.end(payload);
    });

  return {
    get sent() {
      return sent;
    },
    async request(method, apiPath, { token, body } = {}) {
      for (let attempt = 0; ; attempt++) {
        let response: (VaultResponse & { retryAfter?: number }) | undefined;
        try {
          response = await once(method, apiPath, token, body);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code ?? '';
          if (attempt < options.retries && (RETRYABLE_CODES.has(code) || code === 'ECONNREFUSED')) {
            await sleep(backoff(attempt));
            continue;
          }
          throw transportError(error, code, options.address, options.timeoutMs);
        }
        const retryable = response.status === 429 || (response.status >= 500 && !isSealed(response));
        if (retryable && attempt < options.retries) {
          await sleep(response.retryAfter !== undefined ? Math.min(response.retryAfter * 1000, 10_000) : backoff(attempt));
          continue;
        }
        if (isSealed(response)) {
          throw new VaultfillError('BACKEND_SEALED', `Vault at ${options.address} is sealed; unseal it, or point VAULT_ADDR at an unsealed node`);
        }
        return response;
      }
    },
  };
}

/** Vault's `errors` array, for messages. Vault's own errors never contain secret data. */
export function vaultErrors(body: unknown): string {
  const errors = body && typeof body === 'object' ? (body as { errors?: unknown }).errors : undefined;
  if (!Array.isArray(errors) || !errors.length) return '';
  return errors.map((e) => String(e).split('\n')[0]?.slice(0, 200)).join('; ');
}

function isSealed(response: VaultResponse): boolean {
  return response.status === 503 && /sealed/i.test(vaultErrors(response.body));
}

function transportError(error: unknown, code: string, address: string, timeoutMs: number): VaultfillError {
  if (code === 'VAULTFILL_TIMEOUT') {
    return new VaultfillError('BACKEND_TIMEOUT', `Vault at ${address} did not answer within ${timeoutMs / 1000} s (VAULT_CLIENT_TIMEOUT)`);
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME|ALTNAME/.test(code)) {
    return new VaultfillError('BACKEND_UNREACHABLE', `TLS with Vault at ${address} failed (${code}); set VAULT_CACERT to the CA that signed Vault's certificate, or VAULT_TLS_SERVER_NAME`);
  }
  const reason = UNREACHABLE_CODES.has(code) ? code : error instanceof Error ? error.message : 'unknown error';
  return new VaultfillError('BACKEND_UNREACHABLE', `cannot reach Vault at ${address} (${reason}); check VAULT_ADDR and the network path`);
}

function caBundle(options: VaultHttpOptions): string[] | undefined {
  const pems: string[] = [];
  if (options.caCert) pems.push(readPem(options.caCert, 'VAULT_CACERT'));
  if (options.caPath) {
    let names: string[];
    try {
      names = readdirSync(options.caPath);
    } catch {
      throw new VaultfillError('CONFIG', `VAULT_CAPATH ${options.caPath} is not a readable directory`);
    }
    for (const name of names.sort()) if (/\.(pem|crt)$/.test(name)) pems.push(readPem(path.join(options.caPath, name), 'VAULT_CAPATH'));
  }
  return pems.length ? pems : undefined;
}

function readPem(file: string, setting: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new VaultfillError('CONFIG', `${setting}: cannot read ${file}`);
  }
}

function backoff(attempt: number): number {
  return 200 * 2 ** attempt;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

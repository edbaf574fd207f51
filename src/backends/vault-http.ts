/**
 * The Vault HTTP client. It reads TLS settings from VAULT_CACERT / VAULT_CAPATH /
 * VAULT_CLIENT_CERT / VAULT_CLIENT_KEY / VAULT_SKIP_VERIFY / VAULT_TLS_SERVER_NAME, sends
 * X-Vault-Namespace on every request, and has a timeout per attempt and at most `retries`
 * retries with backoff (honouring Retry-After) on 429, 5xx and connection resets. It replaced
 * node-vault, which reads none of the TLS variables, has no retries, and costs ~0.1 s to load;
 * the transport is our own HTTP/1.1 client (http1.ts).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { VaultfillError } from '../errors.js';
import { createHttp1 } from './http1.js';

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
  /** Registers a credential for redaction (log.ts): every token sent, and what logins send. */
  readonly redact: (value: unknown) => void;
}

export interface VaultResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface VaultHttp {
  request(method: 'GET' | 'POST' | 'PUT', apiPath: string, options?: { token?: string | undefined; body?: unknown }): Promise<VaultResponse>;
  /** HTTP requests sent so far, retries included. */
  readonly sent: number;
  /** Registers a credential for redaction, so no error text (Vault's included) can show it. */
  redact(value: unknown): void;
}

const RETRYABLE_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET']);
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', ...RETRYABLE_CODES]);
/** Header values node:http refuses too: anything but tab, printable ASCII and Latin-1. */
const UNSENDABLE = /[^\t\x20-\x7e\x80-\xff]/;

export function createVaultHttp(options: VaultHttpOptions): VaultHttp {
  let base: URL;
  let fixedHeaders = '';
  try {
    base = new URL(options.address);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error('protocol');
    // Credentials in the address become Basic auth, as node:http did with them.
    const credentials = base.username || base.password ? `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}` : '';
    if (credentials) fixedHeaders += `Authorization: Basic ${Buffer.from(credentials).toString('base64')}\r\n`;
  } catch {
    throw new VaultfillError('CONFIG', 'VAULT_ADDR must be an http:// or https:// URL');
  }
  if (options.namespace) {
    if (UNSENDABLE.test(options.namespace)) throw new VaultfillError('CONFIG', 'VAULT_NAMESPACE contains a control character (CR, LF, NUL…) and cannot be sent in a header');
    fixedHeaders += `X-Vault-Namespace: ${options.namespace}\r\n`;
  }
  const secure = base.protocol === 'https:';
  const host = base.hostname.startsWith('[') ? base.hostname.slice(1, -1) : base.hostname;
  const port = Number(base.port) || (secure ? 443 : 80);
  const http = createHttp1({
    host,
    port,
    timeoutMs: options.timeoutMs,
    tls: secure
      ? {
          ca: caBundle(options),
          cert: options.clientCert ? readPem(options.clientCert, 'VAULT_CLIENT_CERT') : undefined,
          key: options.clientKey ? readPem(options.clientKey, 'VAULT_CLIENT_KEY') : undefined,
          // As node:https: SNI and the certificate check use VAULT_TLS_SERVER_NAME, else a host name (not an IP).
          servername: options.tlsServerName ?? (isIP(host) ? undefined : host),
          rejectUnauthorized: !options.skipVerify,
        }
      : undefined,
  });

  const hostHeader = `Host: ${base.host}\r\nAccept: application/json\r\n${fixedHeaders}`;
  const once = async (method: string, apiPath: string, token: string | undefined, body: unknown): Promise<VaultResponse & { retryAfter?: number }> => {
    const url = new URL(`/v1/${apiPath.replace(/^\/+/, '')}`, base);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let head = `${method} ${url.pathname}${url.search} HTTP/1.1\r\n${hostHeader}`;
    if (token) head += `X-Vault-Token: ${token}\r\n`;
    if (payload !== undefined) head += `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n`;
    else if (method !== 'GET') head += 'Content-Length: 0\r\n';
    const answer = await http.roundTrip(method, `${head}Connection: keep-alive\r\n\r\n`, payload);
    const text = answer.body.toString('utf8');
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // A success without a JSON body is not Vault's (a captive portal, a proxy's page): never
      // read it as "no secret here". Other statuses are reported by their number.
      if (answer.status >= 200 && answer.status < 300) {
        throw new VaultfillError('BACKEND_ERROR', `Vault at ${options.address} answered HTTP ${answer.status} to ${method} /v1/${apiPath.split('?')[0]} with a body that is not JSON; check that VAULT_ADDR points at Vault`);
      }
    }
    const retryAfter = Number(answer.retryAfter);
    return { status: answer.status, body: parsed, ...(Number.isFinite(retryAfter) ? { retryAfter } : {}) };
  };

  return {
    get sent() {
      return http.sent;
    },
    redact: options.redact,
    async request(method, apiPath, { token, body } = {}) {
      if (token) options.redact(token);
      if (token && UNSENDABLE.test(token)) {
        throw new VaultfillError('CONFIG', 'the Vault token contains a control character (CR, LF, NUL…) and cannot be sent in a header; check VAULT_TOKEN or the token file');
      }
      for (let attempt = 0; ; attempt++) {
        let response: (VaultResponse & { retryAfter?: number }) | undefined;
        try {
          response = await once(method, apiPath, token, body);
        } catch (error) {
          if (error instanceof VaultfillError) throw error;
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
  if (code === 'VAULTFILL_BAD_RESPONSE' || code === 'VAULTFILL_TOO_LARGE') {
    return new VaultfillError('BACKEND_ERROR', `Vault at ${address} sent a ${(error as Error).message}; check that VAULT_ADDR points at Vault`, { cause: error });
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

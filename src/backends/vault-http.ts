/**
 * The Vault HTTP client. It reads TLS settings from VAULT_CACERT / VAULT_CAPATH /
 * VAULT_CLIENT_CERT / VAULT_CLIENT_KEY / VAULT_SKIP_VERIFY / VAULT_TLS_SERVER_NAME, sends
 * X-Vault-Namespace on every request, and has a timeout per attempt and at most `retries`
 * retries with backoff (honouring Retry-After) on 429, 5xx and connection resets. It replaced
 * node-vault, which reads none of the TLS variables, has no retries, and costs ~0.1 s to load;
 * the transport is our own HTTP/1.1 client (http1.ts).
 *
 * It reaches Vault as Vault's own client does: the address's path is a prefix of every request;
 * `unix://` addresses (a Vault Agent's or Vault Proxy's listener) are spoken to as plain http;
 * forward proxies come from VAULT_PROXY_ADDR / VAULT_HTTP_PROXY, else HTTPS_PROXY / HTTP_PROXY /
 * NO_PROXY (proxy-env.ts); redirects (an HA standby's 307 to the active node) are followed, at
 * most MAX_REDIRECTS, never from https to http. Each origin gets its own connections.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { VaultfillError } from '../errors.js';
import { createHttp1, type Http1 } from './http1.js';
import { parseProxy, proxyForUrl } from './proxy-env.js';

export interface VaultHttpOptions {
  /** VAULT_AGENT_ADDR, else VAULT_ADDR: http://, https:// (a path is kept as a prefix) or unix://. */
  readonly address: string;
  /** VAULT_PROXY_ADDR, else VAULT_HTTP_PROXY: every request goes through it, NO_PROXY or not. */
  readonly proxy?: { readonly setting: string; readonly value: string } | undefined;
  /** Where HTTPS_PROXY, HTTP_PROXY and NO_PROXY are read (proxy-env.ts); the process's own environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
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
  /** --verbose: how each origin is reached, and redirects followed. */
  readonly debug?: ((message: string) => void) | undefined;
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
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOENT', 'EACCES', ...RETRYABLE_CODES]);
/** Header values node:http refuses too: anything but tab, printable ASCII and Latin-1. */
const UNSENDABLE = /[^\t\x20-\x7e\x80-\xff]/;
const REDIRECTS = new Set([301, 302, 307, 308]);
/** Vault's client follows one; an HA standby's redirect after a proxy's or a path's is two. */
export const MAX_REDIRECTS = 3;

/** One way to an origin: its connections, and what every request to it carries. */
interface Route {
  readonly http: Http1;
  /** Host, Accept and the fixed headers, each ending in CRLF. */
  readonly headers: string;
  /** Through a plain-http proxy: the request line names the whole URL. */
  readonly absolute: boolean;
  /** For messages: ` through the proxy http://host:port`, credentials left out. */
  readonly via: string;
}

export function createVaultHttp(options: VaultHttpOptions): VaultHttp {
  const { base, socketPath } = parseAddress(options.address);
  const prefix = base.pathname.replace(/\/+$/, '');
  let namespaceHeader = '';
  if (options.namespace) {
    if (UNSENDABLE.test(options.namespace)) throw new VaultfillError('CONFIG', 'VAULT_NAMESPACE contains a control character (CR, LF, NUL…) and cannot be sent in a header');
    namespaceHeader = `X-Vault-Namespace: ${options.namespace}\r\n`;
  }
  const forced = options.proxy ? proxyUrl(options.proxy.value, options.proxy.setting) : undefined;
  let tlsFiles: { ca: string[] | undefined; cert: string | undefined; key: string | undefined } | undefined;
  const routes = new Map<string, Route>();

  const routeTo = (url: URL): Route => {
    let route = routes.get(url.origin);
    if (route) return route;
    const secure = url.protocol === 'https:';
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port) || (secure ? 443 : 80);
    const local = socketPath !== undefined && url.origin === base.origin;
    const proxy = local ? undefined : (forced ?? proxyUrl(proxyForUrl(url, options.env ?? {}), secure ? 'HTTPS_PROXY' : 'HTTP_PROXY'));
    let headers = `Host: ${url.host}\r\nAccept: application/json\r\n${namespaceHeader}`;
    // Credentials in the address become Basic auth, as node:http did with them; not sent elsewhere.
    if (url.origin === base.origin && (base.username || base.password)) {
      headers += `Authorization: Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}\r\n`;
    }
    const authorization = proxy && (proxy.username || proxy.password) ? `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}` : undefined;
    if (authorization) {
      options.redact(decodeURIComponent(proxy?.password ?? ''));
      options.redact(authorization);
    }
    if (secure) {
      tlsFiles ??= {
        ca: caBundle(options),
        cert: options.clientCert ? readPem(options.clientCert, 'VAULT_CLIENT_CERT') : undefined,
        key: options.clientKey ? readPem(options.clientKey, 'VAULT_CLIENT_KEY') : undefined,
      };
    }
    const proxyHost = proxy?.hostname.replace(/^\[|\]$/g, '');
    const proxyPort = proxy ? Number(proxy.port) || 80 : 0;
    const tunnel = proxy && secure ? { host: proxyHost as string, port: proxyPort, authorization } : undefined;
    const absolute = Boolean(proxy && !secure);
    if (absolute && authorization) headers += `Proxy-Authorization: ${authorization}\r\n`;
    const http = createHttp1({
      host: absolute ? (proxyHost as string) : host,
      port: absolute ? proxyPort : port,
      socketPath: local ? socketPath : undefined,
      tunnel,
      timeoutMs: options.timeoutMs,
      tls: secure
        ? {
            ...(tlsFiles as NonNullable<typeof tlsFiles>),
            // As node:https: SNI and the certificate check use VAULT_TLS_SERVER_NAME, else a host name (not an IP).
            servername: options.tlsServerName ?? (isIP(host) ? undefined : host),
            rejectUnauthorized: !options.skipVerify,
          }
        : undefined,
    });
    route = { http, headers, absolute, via: proxy ? ` through the proxy ${proxy.protocol}//${proxy.host}` : '' };
    routes.set(url.origin, route);
    const how = local ? `over the Unix socket ${socketPath}` : proxy ? `${route.via.slice(1)} (${forced ? options.proxy?.setting : secure ? 'HTTPS_PROXY' : 'HTTP_PROXY'}${tunnel ? ', CONNECT tunnel' : ''})` : 'directly';
    options.debug?.(`reaching Vault at ${local ? options.address : url.origin} ${how}`);
    return route;
  };
  const first = routeTo(base);

  const once = async (method: string, url: URL, route: Route, token: string | undefined, payload: string | undefined): Promise<Reply> => {
    const target = route.absolute ? `${url.origin}${url.pathname}${url.search}` : `${url.pathname}${url.search}`;
    let head = `${method} ${target} HTTP/1.1\r\n${route.headers}`;
    if (token) head += `X-Vault-Token: ${token}\r\n`;
    if (payload !== undefined) head += `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n`;
    else if (method !== 'GET') head += 'Content-Length: 0\r\n';
    const answer = await route.http.roundTrip(method, `${head}Connection: keep-alive\r\n\r\n`, payload);
    if (answer.status === 407) {
      throw new VaultfillError('BACKEND_UNREACHABLE', `the proxy${route.via.replace(/^ through the proxy/, '')} answered HTTP 407 (proxy authentication required) to ${method} ${url.pathname}; check the credentials in the proxy's URL`);
    }
    const text = answer.body.toString('utf8');
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // A success without a JSON body is not Vault's (a captive portal, a proxy's page): never
      // read it as "no secret here". Other statuses are reported by their number.
      if (answer.status >= 200 && answer.status < 300) {
        throw new VaultfillError('BACKEND_ERROR', `Vault at ${options.address}${route.via} answered HTTP ${answer.status} to ${method} ${url.pathname} with a body that is not JSON; check that VAULT_ADDR points at Vault`);
      }
    }
    const retryAfter = Number(answer.retryAfter);
    return { status: answer.status, body: parsed, location: answer.location, ...(Number.isFinite(retryAfter) ? { retryAfter } : {}) };
  };

  /** One request to one URL, with its retries. */
  const exchange = async (method: string, url: URL, route: Route, token: string | undefined, payload: string | undefined): Promise<Reply> => {
    for (let attempt = 0; ; attempt++) {
      let response: Reply;
      try {
        response = await once(method, url, route, token, payload);
      } catch (error) {
        if (error instanceof VaultfillError) throw error;
        const code = (error as NodeJS.ErrnoException).code ?? '';
        if (attempt < options.retries && (RETRYABLE_CODES.has(code) || code === 'ECONNREFUSED')) {
          await sleep(backoff(attempt));
          continue;
        }
        throw transportError(error, code, `${options.address}${route.via}`, options.timeoutMs);
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
  };

  return {
    get sent() {
      let sent = 0;
      for (const route of routes.values()) sent += route.http.sent;
      return sent;
    },
    redact: options.redact,
    async request(method, apiPath, { token, body } = {}) {
      if (token) options.redact(token);
      if (token && UNSENDABLE.test(token)) {
        throw new VaultfillError('CONFIG', 'the Vault token contains a control character (CR, LF, NUL…) and cannot be sent in a header; check VAULT_TOKEN or the token file');
      }
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const shown = `${method} /v1/${apiPath.split('?')[0]}`;
      let url = new URL(`${base.origin}${prefix}/v1/${apiPath.replace(/^\/+/, '')}`);
      let route = first;
      for (let redirects = 0; ; redirects++) {
        const response = await exchange(method, url, route, token, payload);
        if (!REDIRECTS.has(response.status)) return response;
        // An HA standby sends clients to the active node; Vault's client follows, keeping the
        // method, body and token. Never from https to plain http: the token would be in clear.
        let next: URL | undefined;
        try {
          next = response.location ? new URL(response.location, url) : undefined;
        } catch {
          next = undefined;
        }
        const where = `Vault at ${options.address} answered HTTP ${response.status} to ${shown}`;
        if (!next || (next.protocol !== 'http:' && next.protocol !== 'https:')) {
          throw new VaultfillError('BACKEND_ERROR', `${where} without a usable Location; check VAULT_ADDR`);
        }
        if (url.protocol === 'https:' && next.protocol === 'http:') {
          throw new VaultfillError('BACKEND_ERROR', `${where}, redirecting to plain http at ${next.host}; refused, as the token would travel unencrypted`);
        }
        if (redirects === MAX_REDIRECTS) {
          throw new VaultfillError('BACKEND_ERROR', `${where} after ${MAX_REDIRECTS} redirects already (last to ${next.host}); check VAULT_ADDR and the path`);
        }
        options.debug?.(`following HTTP ${response.status} for ${shown} to ${next.origin}${next.pathname === url.pathname ? '' : ` (${next.pathname})`}`);
        url = next;
        route = routeTo(next);
      }
    },
  };
}

type Reply = VaultResponse & { readonly retryAfter?: number; readonly location: string | undefined };

/** VAULT_ADDR's forms: http(s)://host[:port][/prefix], or unix:///path/to/socket (as Vault's client: spoken as plain http). */
function parseAddress(address: string): { base: URL; socketPath: string | undefined } {
  if (address.startsWith('unix://')) {
    const socketPath = address.slice('unix://'.length);
    if (!socketPath) throw new VaultfillError('CONFIG', 'VAULT_ADDR unix:// needs a socket path, as in unix:///var/run/vault/agent.sock');
    return { base: new URL('http://localhost'), socketPath };
  }
  let base: URL;
  try {
    base = new URL(address);
  } catch {
    base = new URL('invalid://');
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new VaultfillError('CONFIG', 'VAULT_ADDR must be an http://, https:// or unix:// address');
  }
  return { base, socketPath: undefined };
}

/** A proxy URL from a setting; only plain-http proxies (what corporate proxies are) are spoken. */
function proxyUrl(raw: string | undefined, setting: string): URL | undefined {
  if (raw === undefined) return undefined;
  const url = parseProxy(raw);
  if (!url) throw new VaultfillError('CONFIG', `${setting} is not a URL`);
  if (url.protocol !== 'http:') {
    throw new VaultfillError('CONFIG', `${setting} names a ${url.protocol.slice(0, -1)}:// proxy (${url.host}); vaultfill speaks to http:// proxies only (https to Vault is tunnelled through them)`);
  }
  return url;
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
  if (code === 'VAULTFILL_PROXY') {
    return new VaultfillError('BACKEND_UNREACHABLE', `cannot reach Vault at ${address}: ${(error as Error).message}${(error as { status?: number }).status === 407 ? '; check the credentials in the proxy\'s URL' : ''}`);
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
  return Math.min(200 * 2 ** attempt, 10_000);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A small HTTP/1.1 client, the transport of the Vault client (vault-http.ts): kept-alive
 * sockets on node:net / node:tls with one request in flight each, reused newest first and
 * unref'd while idle; one write per request; answers framed by Content-Length, chunked, or the
 * end of the connection. A reused socket that fails before any byte of an answer (the server
 * closed it while idle) is replaced transparently.
 *
 * Why not node:http: a run is CPU-bound, and node:http cost ~0.45 ms of CPU per request. For
 * 358 reads at concurrency 16 from a local Vault (25 interleaved runs, medians), request CPU
 * fell from 186 to 59 ms, process CPU by 121 ms and wall time by 95 ms. Not supported:
 * compression, HTTP/2.
 *
 * Besides host and port, a connection can go to a Unix socket (a Vault Agent or Vault Proxy
 * listener), or through a forward proxy's CONNECT tunnel (node:http makes the tunnel, loaded only
 * then; TLS to Vault runs inside it). A plain-http request through a proxy is the caller's
 * business: it connects to the proxy and writes an absolute URL.
 */
import { createRequire } from 'node:module';
import net from 'node:net';
import type tls from 'node:tls';

const require = createRequire(import.meta.url);

/** node:http's limit for a response head (--max-http-header-size); also for chunk lines and trailers. */
const MAX_HEAD = 16 * 1024;
/** The response headers the client acts on; the others are checked for form only. */
const TRACKED = new Set(['content-length', 'transfer-encoding', 'connection', 'retry-after', 'keep-alive', 'location']);
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?:[ \t].*)?$/;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:/;
/** Far above any Vault answer; a bigger one is a misdirected VAULT_ADDR, not a secret. */
export const MAX_BODY = 64 * 1024 * 1024;

export interface Http1Options {
  readonly host: string;
  readonly port: number;
  /** Connect to this Unix socket instead of host and port. */
  readonly socketPath?: string | undefined;
  /** Reach host and port through this proxy's CONNECT tunnel. */
  readonly tunnel?: Tunnel | undefined;
  /** Plain TCP when undefined. */
  readonly tls:
    | {
        readonly ca: string[] | undefined;
        readonly cert: string | undefined;
        readonly key: string | undefined;
        readonly servername: string | undefined;
        readonly rejectUnauthorized: boolean;
      }
    | undefined;
  readonly timeoutMs: number;
}

export interface Tunnel {
  readonly host: string;
  readonly port: number;
  /** A Proxy-Authorization header value, from the credentials in the proxy's URL. */
  readonly authorization: string | undefined;
}

export interface Http1 {
  /**
   * One attempt: `head` (request line and headers, ending in an empty line), then `payload`.
   * Errors carry a `code`: the socket's, or VAULTFILL_TIMEOUT, VAULTFILL_BAD_RESPONSE,
   * VAULTFILL_TOO_LARGE, VAULTFILL_PROXY (the proxy refused the tunnel; `status` says how).
   */
  roundTrip(method: string, head: string, payload: string | undefined): Promise<Answer>;
  /** Requests written so far, transparent resends included. */
  readonly sent: number;
}

export function createHttp1(options: Http1Options): Http1 {
  const { host, port } = options;
  let secureContext: tls.SecureContext | undefined;
  let session: Buffer | undefined;
  const idle: Connection[] = [];
  let sent = 0;

  const forget = (connection: Connection): void => {
    const i = idle.lastIndexOf(connection);
    if (i >= 0) idle.splice(i, 1);
  };
  /** A new connection; throws when the TLS files do not make a context (reported like node:https did). */
  const open = (tunnelled?: net.Socket): Connection => {
    let socket: net.Socket;
    if (options.tls) {
      const { ca, cert, key, servername, rejectUnauthorized } = options.tls;
      // node:tls (and node:crypto under it) load only for an https address: ~7 ms.
      const { createSecureContext, connect } = require('node:tls') as typeof tls;
      // One context for all sockets: node:https parsed the CA bundle again for each connection.
      secureContext ??= createSecureContext({ ca, cert, key });
      socket = tunnelled
        ? connect({ socket: tunnelled, servername, secureContext, session, rejectUnauthorized })
        : options.socketPath
          ? connect({ path: options.socketPath, servername, secureContext, session, rejectUnauthorized })
          : connect({ host, port, servername, secureContext, session, rejectUnauthorized });
      socket.on('session', (s: Buffer) => (session = s));
      socket.on('error', () => (session = undefined));
    } else {
      socket = tunnelled ?? (options.socketPath ? net.connect({ path: options.socketPath }) : net.connect({ host, port }));
    }
    if (!options.socketPath) {
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 1000);
    }
    return new Connection(socket, forget);
  };
  /** A new connection through the proxy's tunnel; `abort` gives up on it. */
  const dial = (signal: AbortSignal): Connection | Promise<Connection> => {
    const { tunnel } = options;
    if (!tunnel) return open();
    return connectTunnel(tunnel, `${host.includes(':') ? `[${host}]` : host}:${port}`, signal).then((raw) => open(raw));
  };
  /** The newest idle connection that still looks usable. */
  const take = (): Connection | undefined => {
    for (let c = idle.pop(); c; c = idle.pop()) {
      const s = c.socket;
      if (!s.destroyed && s.writable && !s.readableEnded && (c.idleUntil === Infinity || Date.now() < c.idleUntil)) {
        s.ref();
        return c;
      }
      s.destroy();
    }
    return undefined;
  };

  /** One attempt: one request and its answer, on a fresh socket if a reused one turns out closed. */
  const roundTrip = (method: string, head: string, payload: string | undefined): Promise<Answer> =>
    new Promise((resolve, reject) => {
      let current: Connection | undefined;
      let settled = false;
      let dialing: AbortController | undefined;
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        dialing?.abort();
        if (current) {
          current.exchange = undefined;
          current.socket.destroy();
        }
        reject(error);
      };
      const timer = setTimeout(() => fail(coded('VAULTFILL_TIMEOUT', 'timeout')), options.timeoutMs);
      const attempt = (reused: Connection | undefined): void => {
        let opened: Connection | Promise<Connection>;
        try {
          opened = reused ?? dial((dialing = new AbortController()).signal);
        } catch (error) {
          fail(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        if (opened instanceof Promise) {
          opened.then((connection) => {
            dialing = undefined;
            if (settled) connection.socket.destroy();
            else send(connection, false);
          }, (error: Error) => fail(error));
        } else {
          send(opened, Boolean(reused));
        }
      };
      const send = (connection: Connection, reused: boolean): void => {
        current = connection;
        const parser = new ResponseParser(method);
        let received = false;
        const complete = (): void => {
          settled = true;
          clearTimeout(timer);
          connection.exchange = undefined;
          if (parser.keepAlive && connection.socket.writable) release(connection, parser.keepAliveMs);
          else connection.socket.destroy();
          resolve({ status: parser.status, body: parser.body(), retryAfter: parser.retryAfter, location: parser.location });
        };
        connection.exchange = {
          data(data) {
            received = true;
            let done: boolean;
            try {
              done = parser.push(data);
            } catch (error) {
              fail(error as Error);
              return;
            }
            if (done) complete();
          },
          stop(error) {
            connection.exchange = undefined;
            if (reused && !received) {
              // Closed by the server while idle: nothing of this request was answered, so it is
              // sent again on a new socket. It is the same attempt, not one of `retries`.
              connection.socket.destroy();
              attempt(undefined);
            } else if (!error && parser.end()) {
              complete();
            } else {
              fail(error ?? coded('ECONNRESET', received ? 'aborted' : 'socket hang up'));
            }
          },
        };
        sent++;
        if (payload === undefined) connection.socket.write(head, 'latin1');
        else {
          connection.socket.cork();
          connection.socket.write(head, 'latin1');
          connection.socket.write(payload, 'utf8');
          connection.socket.uncork();
        }
      };
      attempt(take());
    });

  const release = (connection: Connection, keepAliveMs: number | undefined): void => {
    // Node's agent does the same with a `Keep-Alive: timeout=N` hint: give the socket up 1 s early.
    if (keepAliveMs !== undefined) {
      if (keepAliveMs <= 1000) {
        connection.socket.destroy();
        return;
      }
      connection.idleUntil = Date.now() + keepAliveMs - 1000;
    }
    connection.socket.unref();
    idle.push(connection);
  };

  return {
    roundTrip,
    get sent() {
      return sent;
    },
  };
}

export interface Answer {
  readonly status: number;
  readonly body: Buffer;
  readonly retryAfter: string | undefined;
  readonly location: string | undefined;
}

/** The request in flight on a connection. */
interface Exchange {
  data(data: Buffer): void;
  /** The socket ended, failed or closed before the answer was complete. */
  stop(error: Error | undefined): void;
}

/** One socket. Its listeners are attached once and forward to the request in flight, if any. */
class Connection {
  exchange: Exchange | undefined;
  /** When an idle socket must no longer be used (the server's Keep-Alive hint). */
  idleUntil = Infinity;

  constructor(
    readonly socket: net.Socket,
    forget: (connection: Connection) => void,
  ) {
    socket.on('data', (data: Buffer) => {
      if (this.exchange) this.exchange.data(data);
      else socket.destroy(); // bytes nobody asked for: the connection is out of step
    });
    socket.on('end', () => this.exchange?.stop(undefined));
    socket.on('error', (error: Error) => this.exchange?.stop(error));
    socket.on('close', () => {
      forget(this);
      this.exchange?.stop(undefined);
    });
  }
}

type State = 'head' | 'fixed' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'until-close' | 'done';

/**
 * An incremental parser for one HTTP/1.1 response: any split of the bytes gives the same
 * result. Lines end in CRLF, as node:http insists too. Throws VAULTFILL_BAD_RESPONSE or
 * VAULTFILL_TOO_LARGE errors.
 */
export class ResponseParser {
  status = 0;
  keepAlive = true;
  retryAfter: string | undefined;
  location: string | undefined;
  keepAliveMs: number | undefined;
  private state: State = 'head';
  private pending: Buffer | undefined;
  private version = 1;
  private remaining = 0;
  private size = 0;
  private readonly parts: Buffer[] = [];
  private contentLength: string | undefined;
  private transferEncoding: string | undefined;
  private connection = '';
  /** The header a folded line continues: '' for one not kept, undefined before the first. */
  private last: string | undefined;

  constructor(private readonly method: string) {}

  /** Takes the next bytes; true once the response is complete. */
  push(data: Buffer): boolean {
    const buf = this.pending ? Buffer.concat([this.pending, data]) : data;
    this.pending = undefined;
    let at = 0;
    while (at < buf.length) {
      const state = this.state;
      if (state === 'fixed' || state === 'chunk-data' || state === 'until-close') {
        const n = state === 'until-close' ? buf.length - at : Math.min(this.remaining, buf.length - at);
        this.size += n;
        if (this.size > MAX_BODY) throw tooLarge();
        this.parts.push(buf.subarray(at, at + n));
        at += n;
        if (state !== 'until-close' && (this.remaining -= n) === 0) this.state = state === 'fixed' ? 'done' : 'chunk-end';
      } else if (state === 'done') {
        this.keepAlive = false; // bytes after the answer: the connection is out of step
        break;
      } else if (state === 'chunk-end') {
        if (buf[at] !== 13 || (at + 1 < buf.length && buf[at + 1] !== 10)) throw bad('chunk data longer than its size');
        if (at + 1 === buf.length) {
          this.pending = buf.subarray(at);
          break;
        }
        at += 2;
        this.state = 'chunk-size';
      } else {
        // A head, a chunk-size line or trailers: complete ones only, at most 16 KiB each.
        const empty = state === 'trailers' && buf[at] === 13 && buf[at + 1] === 10;
        const end = empty ? at : buf.indexOf(state === 'chunk-size' ? '\r\n' : '\r\n\r\n', at, 'latin1');
        if (end < 0 ? buf.length - at > MAX_HEAD : end - at > MAX_HEAD) throw bad(state === 'chunk-size' ? 'chunk size line longer than 16 KiB' : 'head longer than 16 KiB');
        if (end < 0) {
          this.partial(state, buf.toString('latin1', at));
          this.pending = buf.subarray(at);
          break;
        }
        const text = buf.toString('latin1', at, end);
        if (state === 'chunk-size') {
          this.chunkSize(text);
          at = end + 2;
        } else {
          if (state === 'head') this.head(text);
          else this.state = 'done'; // trailers are read and ignored
          at = end + (empty ? 2 : 4);
        }
      }
    }
    return this.state === 'done';
  }

  /** The server closed the connection: true if that completes the response. */
  end(): boolean {
    if (this.state !== 'until-close') return this.state === 'done';
    this.state = 'done';
    return true;
  }

  body(): Buffer {
    return this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.size);
  }

  /** Fails early on an incomplete line or head that can never become valid, rather than wait for the timeout. */
  private partial(state: State, text: string): void {
    if (/\r(?!\n|$)|(?<!\r)\n|\0/.test(text)) throw bad('CR, LF or NUL inside a line');
    if (state === 'head') {
      const eol = text.indexOf('\r\n');
      const first = eol < 0 ? text : text.slice(0, eol);
      if (eol < 0 ? !'HTTP/1.'.startsWith(first.slice(0, 7)) : !STATUS_LINE.test(first)) throw bad(`unexpected status line ${JSON.stringify(first.slice(0, 40))}`);
    } else if (state === 'chunk-size' && !/^[0-9a-fA-F]/.test(text)) {
      throw bad('invalid chunk size');
    }
  }

  private chunkSize(text: string): void {
    const hex = /^([0-9a-fA-F]{1,16})[ \t]*(?:;[^\r\n]*)?$/.exec(text)?.[1];
    if (hex === undefined) throw bad('invalid chunk size');
    const size = parseInt(hex, 16);
    if (this.size + size > MAX_BODY) throw tooLarge();
    this.remaining = size;
    this.state = size === 0 ? 'trailers' : 'chunk-data';
  }

  private head(text: string): void {
    if (/\r(?!\n)|(?<!\r)\n|\0/.test(text)) throw bad('CR, LF or NUL inside a line');
    const lines = text.split('\r\n');
    const status = STATUS_LINE.exec(lines[0] ?? '');
    if (!status) throw bad(`unexpected status line ${JSON.stringify(lines[0]?.slice(0, 40))}`);
    this.version = Number(status[1]);
    this.status = Number(status[2]);
    for (let i = 1; i < lines.length; i++) this.header(lines[i] as string);
    this.endHead();
  }

  private header(line: string): void {
    const first = line.charCodeAt(0);
    if (first === 32 || first === 9) {
      // An obsolete folded line continues the previous header (node:http refuses these).
      if (this.last === undefined) throw bad('folded line before any header');
      if (this.last) this.record(this.last, line, true);
      return;
    }
    // Not echoed: a server that never ends its head could be sending the body (secrets) here.
    if (!HEADER_NAME.test(line)) throw bad('invalid header line');
    const colon = line.indexOf(':');
    // Only names as long as a kept one are lower-cased and looked up.
    this.last = colon === 8 || colon === 10 || colon === 11 || colon === 14 || colon === 17 ? line.slice(0, colon).toLowerCase() : '';
    if (TRACKED.has(this.last)) this.record(this.last, line.slice(colon + 1), false);
    else this.last = '';
  }

  /** Keeps the few headers that matter; repeated ones are joined as one list. */
  private record(name: string, raw: string, folded: boolean): void {
    const value = raw.replace(/^[ \t]+|[ \t]+$/g, '');
    const join = (old: string | undefined): string => (old === undefined ? value : `${old}${folded ? ' ' : ', '}${value}`);
    if (name === 'content-length') this.contentLength = join(this.contentLength);
    else if (name === 'transfer-encoding') this.transferEncoding = join(this.transferEncoding);
    else if (name === 'connection') this.connection = join(this.connection || undefined);
    else if (name === 'retry-after') this.retryAfter = folded ? join(this.retryAfter) : (this.retryAfter ?? value);
    else if (name === 'location') this.location = folded ? join(this.location) : (this.location ?? value);
    else if (!folded) {
      const hint = /^timeout=(\d+)/i.exec(value)?.[1]; // keep-alive
      if (hint !== undefined) this.keepAliveMs = Number(hint) * 1000;
    }
  }

  private endHead(): void {
    if (this.status < 200) {
      if (this.status === 101) throw bad('unexpected 101 Switching Protocols');
      // 1xx interim answer (100 Continue, 103 Early Hints): the real one follows.
      this.status = 0;
      this.contentLength = this.transferEncoding = this.retryAfter = this.location = this.keepAliveMs = this.last = undefined;
      this.connection = '';
      return;
    }
    const tokens = this.connection ? this.connection.toLowerCase().split(',').map((t) => t.trim()) : [];
    this.keepAlive = this.version === 1 ? !tokens.includes('close') : tokens.includes('keep-alive');
    if (this.method === 'HEAD' || this.status === 204 || this.status === 304) {
      this.state = 'done';
    } else if (this.transferEncoding !== undefined) {
      const codings = this.transferEncoding.toLowerCase().split(',').map((t) => t.trim()).filter(Boolean);
      // Both framings at once is how requests are smuggled: read this answer, then drop the socket.
      if (this.contentLength !== undefined) this.keepAlive = false;
      if (codings[codings.length - 1] === 'chunked') this.state = 'chunk-size';
      else {
        this.state = 'until-close';
        this.keepAlive = false;
      }
    } else if (this.contentLength !== undefined) {
      // A repeated Content-Length is acceptable only when every copy says the same.
      const values = new Set(this.contentLength.split(',').map((v) => v.trim()));
      const [only = ''] = values;
      if (values.size !== 1 || !/^\d{1,16}$/.test(only)) throw bad('invalid Content-Length');
      this.remaining = Number(only);
      if (this.remaining > MAX_BODY) throw tooLarge();
      this.state = this.remaining === 0 ? 'done' : 'fixed';
    } else {
      this.state = 'until-close';
      this.keepAlive = false;
    }
  }
}

/**
 * A CONNECT tunnel to `authority` through the proxy, made by node:http (loaded only here). A
 * refusal (any status but 2xx) is VAULTFILL_PROXY with the status; its body is not read.
 */
function connectTunnel(proxy: Tunnel, authority: string, signal: AbortSignal): Promise<net.Socket> {
  const http = require('node:http') as typeof import('node:http');
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Host: authority };
    if (proxy.authorization) headers['Proxy-Authorization'] = proxy.authorization;
    const request = http.request({ host: proxy.host, port: proxy.port, method: 'CONNECT', path: authority, headers, agent: false, signal });
    const refused = (status: number | undefined, message: string | undefined): Error =>
      Object.assign(coded('VAULTFILL_PROXY', `the proxy answered HTTP ${status ?? '?'}${message ? ` ${message}` : ''} to CONNECT ${authority}`), { status });
    request.once('connect', (response, socket, head) => {
      const status = response.statusCode ?? 0;
      if (status < 200 || status > 299) {
        socket.destroy();
        reject(refused(status, response.statusMessage));
        return;
      }
      if (head.length) socket.unshift(head);
      resolve(socket);
    });
    request.once('response', (response) => {
      response.destroy();
      reject(refused(response.statusCode, response.statusMessage));
    });
    request.once('error', (error: NodeJS.ErrnoException) => reject(signal.aborted ? coded('VAULTFILL_TIMEOUT', 'timeout') : error));
    request.end();
  });
}

function coded(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function bad(reason: string): Error {
  return coded('VAULTFILL_BAD_RESPONSE', `malformed HTTP response: ${reason}`);
}

function tooLarge(): Error {
  return coded('VAULTFILL_TOO_LARGE', `response larger than ${MAX_BODY / 1024 / 1024} MiB`);
}

// A real prefix-routing reverse proxy in front of the test Vault: Debian's nginx, started on
// 127.0.0.1 with its own configuration in a temp dir, routing `<prefix>…` to the upstream's
// `/…` and answering 404 to everything else — the gateway a `VAULT_ADDR` with a path
// (`https://gw.example/vault/`) stands for.
//
//   const gw = await startPrefixProxy({ upstream: vault.address, prefix: '/vault/' });
//   // VAULT_ADDR=gw.address (http://127.0.0.1:<port>/vault/): /vault/v1/… reaches Vault's /v1/…
//   gw.requests()   // [{ method: 'GET', uri: '/vault/v1/sys/health', status: 200, upstream: '127.0.0.1:…' }]
//
// nginx runs as one process (`master_process off`) in the foreground, so it never changes user
// (as root it would hand its workers to `nobody`, who cannot write the temp dir) and the test
// owns its only pid. Access-log lines are JSON, written as each request completes.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { type LoggedPart, type ManagedProcess, freePort, logOnFailure, makeTempDir, removeTempDir, spawnManaged, waitUntil } from './processes.js';

export interface PrefixProxyOptions {
  /** where the prefix leads, e.g. http://127.0.0.1:8200 (an https:// upstream is not verified) */
  readonly upstream: string;
  /** path prefix with both slashes; default '/vault/' */
  readonly prefix?: string;
}

/** One access-log line. */
export interface PrefixProxyRequest {
  readonly method: string;
  /** the request target as the client sent it, e.g. /vault/v1/sys/health?x=1 */
  readonly uri: string;
  readonly status: number;
  /** host:port nginx forwarded to; absent when nothing was forwarded (the 404s) */
  readonly upstream?: string;
  /** the status the upstream answered with, when forwarded */
  readonly upstreamStatus?: number;
  /** whether the request carried an X-Vault-Token header (never its value) */
  readonly hadToken: boolean;
}

export interface PrefixProxy extends LoggedPart {
  /** http://127.0.0.1:<port><prefix> — what VAULT_ADDR would hold */
  readonly address: string;
  readonly port: number;
  requests(): PrefixProxyRequest[];
}

const NGINX = '/usr/sbin/nginx';
const READY_TIMEOUT_MS = 30_000;
const PORT_ATTEMPTS = 3;

function nginxConfig(dir: string, port: number, upstream: URL, prefix: string): string {
  const file = (name: string) => path.join(dir, name);
  const target = `${upstream.protocol}//${upstream.host}/`;
  return `daemon off;
master_process off;
worker_processes 1;
pid ${file('nginx.pid')};
error_log ${file('error.log')} info;
events { worker_connections 256; }
http {
  # Whether a token came along, never the token.
  map $http_x_vault_token $vaultfill_had_token { "" false; default true; }
  log_format vaultfill escape=json '{"method":"$request_method","uri":"$request_uri","status":$status,'
    '"upstream":"$upstream_addr","upstreamStatus":"$upstream_status","hadToken":$vaultfill_had_token}';
  access_log ${file('access.log')} vaultfill;
  client_body_temp_path ${file('client_body')};
  proxy_temp_path ${file('proxy')};
  fastcgi_temp_path ${file('fastcgi')};
  uwsgi_temp_path ${file('uwsgi')};
  scgi_temp_path ${file('scgi')};
  server {
    listen 127.0.0.1:${port};
    server_name _;
    # The trailing slashes replace the prefix: ${prefix}v1/x goes to ${target}v1/x.
    location ${prefix} {
      proxy_pass ${target};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_ssl_server_name on;
    }
    location / {
      return 404;
    }
  }
}
`;
}

function canConnect(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(undefined));
  });
}

function parseAccessLog(text: string): PrefixProxyRequest[] {
  const out: PrefixProxyRequest[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const raw = JSON.parse(line) as { method: string; uri: string; status: number; upstream: string; upstreamStatus: string; hadToken: boolean };
    out.push({
      method: raw.method,
      uri: raw.uri,
      status: raw.status,
      hadToken: raw.hadToken,
      ...(raw.upstream ? { upstream: raw.upstream, upstreamStatus: Number(raw.upstreamStatus) } : {}),
    });
  }
  return out;
}

/** Starts nginx on a free loopback port; stops with close() or with the test process. */
export async function startPrefixProxy(opts: PrefixProxyOptions): Promise<PrefixProxy> {
  if (!existsSync(NGINX)) throw new Error(`${NGINX} is missing: apt-get install nginx (.ci/run does)`);
  const prefix = opts.prefix ?? '/vault/';
  if (!/^\/([\w.-]+\/)+$/.test(prefix)) throw new Error(`prefix '${prefix}' must look like /name/ (slashes at both ends)`);
  const upstream = new URL(opts.upstream);
  if (upstream.pathname !== '/' || upstream.search) throw new Error(`upstream '${opts.upstream}' must be an origin without a path`);

  const dir = makeTempDir('nginx');
  const errorLog = path.join(dir, 'error.log');
  const accessLog = path.join(dir, 'access.log');
  let nginx: ManagedProcess | undefined;
  const logTail = (bytes = 4000): string => {
    const own = existsSync(errorLog) ? readFileSync(errorLog, 'utf8').slice(-bytes) : '';
    return `--- ${errorLog} ---\n${own}\n--- ${nginx?.logFile ?? 'nginx output'} ---\n${nginx?.logTail(bytes) ?? ''}`;
  };

  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    const config = path.join(dir, 'nginx.conf');
    writeFileSync(config, nginxConfig(dir, port, upstream, prefix));
    // -e: the error log from the first line on (before the config is read, nginx would
    // otherwise try /var/log/nginx/error.log); -p: relative paths under the temp dir.
    nginx = spawnManaged({ name: 'nginx', command: NGINX, args: ['-p', dir, '-c', config, '-e', errorLog], logFile: path.join(dir, 'nginx.out'), cwd: dir });
    try {
      // A connection that sends nothing is not an access-log line (nginx logs no request).
      await waitUntil(`nginx on 127.0.0.1:${port}`, () => canConnect(port), { timeoutMs: READY_TIMEOUT_MS, intervalMs: 100, watch: [nginx] });
      break;
    } catch (err) {
      await nginx.stop();
      // Someone took the port between freePort() and nginx's bind: try another.
      if (attempt < PORT_ATTEMPTS && /Address already in use/.test(logTail())) continue;
      const message = `${(err as Error).message}\n${logTail()}`;
      removeTempDir(dir);
      throw new Error(`nginx did not start: ${message}`, { cause: err });
    }
  }

  return {
    address: `http://127.0.0.1:${port}${prefix}`,
    port,
    requests: () => (existsSync(accessLog) ? parseAccessLog(readFileSync(accessLog, 'utf8')) : []),
    logTail,
    logOnFailure: logOnFailure(logTail),
    async close() {
      await nginx?.stop();
      removeTempDir(dir);
    },
  };
}

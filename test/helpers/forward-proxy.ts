// A real forward proxy between a client and the test Vault: Debian's squid, started on
// 127.0.0.1 with its own configuration in a temp dir (no disk cache, nothing cached at all),
// for the tests of HTTP_PROXY / HTTPS_PROXY (plain requests and CONNECT tunnels) and proxy
// credentials.
//
//   const proxy = await startForwardProxy({ hosts: { 'vault.internal': '127.0.0.1' } });
//   // HTTPS_PROXY=proxy.url, VAULT_ADDR=https://vault.internal:<port>
//   proxy.requests()   // [{ method: 'CONNECT', url: 'vault.internal:<port>', status: 200, … }]
//
// Why squid (not tinyproxy, not test/helpers/proxy.ts): `hosts` names resolve inside squid only
// (`hosts_file`), so a client that reaches `vault.internal` at all must have gone through the
// proxy; and squid is what such networks run (407 challenges, CONNECT, access log).
// Runs as the current user; as root, squid refuses to keep root and drops to `proxy` (the Debian
// package's user), so the temp dir is handed to that user. Access-log lines are written when a
// transaction ends: a CONNECT appears once its tunnel has closed.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type LoggedPart, type ManagedProcess, freePort, logOnFailure, makeTempDir, removeTempDir, spawnManaged, waitUntil } from './processes.js';

export interface ForwardProxyOptions {
  /** require these credentials (Basic, checked by squid's basic_ncsa_auth); 407 without them */
  readonly auth?: { readonly user: string; readonly password: string };
  /** names only the proxy resolves, e.g. { 'vault.internal': '127.0.0.1' } */
  readonly hosts?: Readonly<Record<string, string>>;
}

/** One access-log line. */
export interface ProxyRequest {
  /** GET, POST, CONNECT… */
  readonly method: string;
  /** the absolute URL asked for, or host:port for CONNECT */
  readonly url: string;
  /** host:port the request was for */
  readonly host: string;
  /** status squid answered with (200 for an established tunnel, 407 for missing credentials) */
  readonly status: number;
  /** the proxy user, when one authenticated */
  readonly user?: string;
  /** squid's result code, e.g. TCP_MISS, TCP_TUNNEL, TCP_DENIED */
  readonly result: string;
}

export interface ForwardProxy extends LoggedPart {
  /** http://[user:password@]127.0.0.1:<port> — what HTTP(S)_PROXY would hold */
  readonly url: string;
  readonly port: number;
  /** the access log so far, oldest first */
  requests(): ProxyRequest[];
}

const SQUID = '/usr/sbin/squid';
const NCSA_AUTH = '/usr/lib/squid/basic_ncsa_auth';
const READY_TIMEOUT_MS = 30_000;
const PORT_ATTEMPTS = 3;
// Squid, as root, switches to this user (Debian's squid package creates it).
const ROOT_RUN_AS = 'proxy';

/** Numeric ids of a local user, from /etc/passwd. */
function userIds(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no user '${name}' (it comes with Debian's squid package)`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function chownTree(dir: string, uid: number, gid: number): void {
  chownSync(dir, uid, gid);
  for (const name of readdirSync(dir)) chownSync(path.join(dir, name), uid, gid);
}

/** An Apache-style htpasswd line (apr1 MD5, which basic_ncsa_auth reads) made with openssl. */
function htpasswdLine(user: string, password: string): string {
  if (/[:\n]/.test(user)) throw new Error(`proxy user '${user}' cannot hold ':' or a newline`);
  const hash = execFileSync('openssl', ['passwd', '-apr1', '-stdin'], { input: `${password}\n`, encoding: 'utf8' }).trim();
  return `${user}:${hash}\n`;
}

function squidConfig(dir: string, port: number, opts: ForwardProxyOptions, asRoot: boolean): string {
  const file = (name: string) => path.join(dir, name);
  const lines = [
    `http_port 127.0.0.1:${port}`,
    'visible_hostname vaultfill-test-proxy',
    ...(asRoot ? [`cache_effective_user ${ROOT_RUN_AS}`] : []),
    `pid_filename ${file('squid.pid')}`,
    `cache_log ${file('cache.log')}`,
    `coredump_dir ${dir}`,
    // time, status, method, URL (host:port for CONNECT), user, result code; space-separated
    // fields that never hold a space themselves ('-' when empty).
    'logformat vaultfill %ts.%03tu %>Hs %rm %ru %un %Ss',
    `access_log stdio:${file('access.log')} logformat=vaultfill`,
    'buffered_logs off',
    'strip_query_terms off',
    'cache deny all',
    'cache_mem 8 MB',
    'memory_cache_shared off',
    'pinger_enable off',
    'icp_port 0',
    'htcp_port 0',
    'digest_generation off',
    'shutdown_lifetime 0 seconds',
    'dns_timeout 5 seconds',
    `hosts_file ${file('hosts')}`,
  ];
  if (opts.auth) {
    lines.push(
      `auth_param basic program ${NCSA_AUTH} ${file('htpasswd')}`,
      'auth_param basic children 2',
      'auth_param basic realm vaultfill test proxy',
      'acl authenticated proxy_auth REQUIRED',
      'http_access allow authenticated',
    );
  } else {
    lines.push('http_access allow all');
  }
  // Everything else (CONNECT to any port included) is allowed above; this only ends the list.
  lines.push('http_access deny all');
  return `${lines.join('\n')}\n`;
}

function parseAccessLog(text: string): ProxyRequest[] {
  const out: ProxyRequest[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length !== 6) continue;
    const [, status, method, url, user, result] = fields as [string, string, string, string, string, string];
    // A connection closed before it sent a request is logged as `- error:transaction-end-before-headers`.
    if (method === '-') continue;
    let host = url;
    if (method !== 'CONNECT') {
      try {
        host = new URL(url).host;
      } catch {
        // not an absolute URL (a request squid could not parse): keep it as it came
      }
    }
    out.push({ method, url, host, status: Number(status), result, ...(user !== '-' ? { user: decodeURIComponent(user) } : {}) });
  }
  return out;
}


/** Starts squid on a free loopback port; stops with close() or with the test process. */
export async function startForwardProxy(opts: ForwardProxyOptions = {}): Promise<ForwardProxy> {
  if (!existsSync(SQUID)) throw new Error(`${SQUID} is missing: apt-get install squid (.ci/run does)`);
  const dir = makeTempDir('squid');
  const asRoot = process.getuid?.() === 0;
  const hosts = Object.entries({ localhost: '127.0.0.1', ...opts.hosts }).map(([name, ip]) => `${ip} ${name}\n`);
  writeFileSync(path.join(dir, 'hosts'), hosts.join(''));
  if (opts.auth) writeFileSync(path.join(dir, 'htpasswd'), htpasswdLine(opts.auth.user, opts.auth.password), { mode: 0o600 });

  const cacheLog = path.join(dir, 'cache.log');
  const accessLog = path.join(dir, 'access.log');
  let squid: ManagedProcess | undefined;
  const logTail = (bytes = 4000): string => {
    const own = existsSync(cacheLog) ? readFileSync(cacheLog, 'utf8').slice(-bytes) : '';
    return `--- ${cacheLog} ---\n${own}\n--- ${squid?.logFile ?? 'squid output'} ---\n${squid?.logTail(bytes) ?? ''}`;
  };
  const close = async () => {
    // A clean shutdown takes shutdown_lifetime + 1 s at least (~2 s measured). Nothing is lost
    // by cutting it short: each access-log line is written as its transaction ends.
    await squid?.stop(250);
    removeTempDir(dir);
  };

  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    const config = path.join(dir, 'squid.conf');
    writeFileSync(config, squidConfig(dir, port, opts, asRoot));
    if (asRoot) {
      const { uid, gid } = userIds(ROOT_RUN_AS);
      chownTree(dir, uid, gid);
    }
    // -N: stay in the foreground (no daemon, no SMP kids) so the test owns the process.
    squid = spawnManaged({ name: 'squid', command: SQUID, args: ['-N', '-f', config], logFile: path.join(dir, 'squid.out'), cwd: dir });
    try {
      // Its own word rather than a probe connection, which would land in the access log.
      const listening = new RegExp(`Accepting HTTP Socket connections at \\S+ local=127\\.0\\.0\\.1:${port} `);
      const isListening = async () => (existsSync(cacheLog) && listening.test(readFileSync(cacheLog, 'utf8')) ? true : undefined);
      await waitUntil(`squid on 127.0.0.1:${port}`, isListening, { timeoutMs: READY_TIMEOUT_MS, intervalMs: 100, watch: [squid] });
      break;
    } catch (err) {
      await squid.stop();
      // Someone took the port between freePort() and squid's bind: try another.
      if (attempt < PORT_ATTEMPTS && /Address already in use|Cannot bind/i.test(logTail())) continue;
      const message = `${(err as Error).message}\n${logTail()}`;
      removeTempDir(dir);
      throw new Error(`squid did not start: ${message}`, { cause: err });
    }
  }

  const credentials = opts.auth ? `${encodeURIComponent(opts.auth.user)}:${encodeURIComponent(opts.auth.password)}@` : '';
  return {
    url: `http://${credentials}127.0.0.1:${port}`,
    port,
    requests: () => (existsSync(accessLog) ? parseAccessLog(readFileSync(accessLog, 'utf8')) : []),
    logTail,
    logOnFailure: logOnFailure(logTail),
    close,
  };
}

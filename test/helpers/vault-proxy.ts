// A real Vault Proxy (or Vault Agent) next to the test Vault: HashiCorp Vault's own CLI
// (test/vault/cli, built by test/vault/build-cli.mjs) running `vault proxy` with AppRole
// auto-auth and a Unix-socket listener whose requests carry the auto-auth token — what
// operators run beside an application so that it needs no token of its own.
//
//   const proxy = await startVaultProxy({ vaultAddress: vault.address, roleId, secretId });
//   // VAULT_AGENT_ADDR=proxy.address (unix:///…/proxy.sock), no VAULT_TOKEN
//
// `mode: 'agent'` runs `vault agent` with the same configuration plus its lease cache. Ready
// means auto-auth is done (its file sink, in the temp dir, holds a token) and a token lookup
// through the socket, sent without a token, answers 200.
import { existsSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { ensureVaultCliBinary } from '../vault/build-cli.mjs';
import { type LoggedPart, type ManagedProcess, freePort, logOnFailure, makeTempDir, removeTempDir, spawnManaged, waitUntil } from './processes.js';

export interface VaultProxyOptions {
  /** the Vault it fronts, e.g. http://127.0.0.1:8200 */
  readonly vaultAddress: string;
  /** CA file for an https:// Vault */
  readonly caCert?: string;
  readonly roleId: string;
  readonly secretId: string;
  /** where the AppRole is mounted; default 'approle' */
  readonly approleMount?: string;
  /** the Unix socket to listen on; default proxy.sock in its temp dir */
  readonly socketPath?: string;
  /** also listen on 127.0.0.1:<free port> (plain http) */
  readonly tcp?: boolean;
  /** 'proxy' (default) runs `vault proxy`, 'agent' runs `vault agent` */
  readonly mode?: 'proxy' | 'agent';
}

export interface VaultProxy extends LoggedPart {
  readonly socketPath: string;
  /** unix://<socketPath> — what VAULT_AGENT_ADDR would hold */
  readonly address: string;
  /** http://127.0.0.1:<port> when `tcp` was asked for */
  readonly tcpAddress?: string;
  /** the process's output (Vault's log) */
  readonly logFile: string;
}

const READY_TIMEOUT_MS = 30_000;

/** HCL string literal (JSON's escaping is a subset HCL reads). */
const hcl = (s: string): string => JSON.stringify(s);

function proxyConfig(o: {
  dir: string;
  vaultAddress: string;
  caCert?: string;
  approleMount: string;
  socketPath: string;
  tcpPort?: number;
  mode: 'proxy' | 'agent';
}): string {
  const file = (name: string) => path.join(o.dir, name);
  return `pid_file = ${hcl(file('vault.pid'))}

vault {
  address = ${hcl(o.vaultAddress)}
${o.caCert ? `  ca_cert = ${hcl(o.caCert)}\n` : ''}}

auto_auth {
  method "approle" {
    mount_path = ${hcl(`auth/${o.approleMount}`)}
    config = {
      role_id_file_path = ${hcl(file('role-id'))}
      secret_id_file_path = ${hcl(file('secret-id'))}
      remove_secret_id_file_after_reading = false
    }
  }
  # Only the readiness signal: the token is here once auto-auth has succeeded.
  sink "file" {
    config = {
      path = ${hcl(file('token-sink'))}
    }
  }
}

api_proxy {
  use_auto_auth_token = true
}
${o.mode === 'agent' ? "\n# The agent's lease cache, as agents beside applications usually run (the proxy has one too,\n# but only with it configured; the listeners serve either way).\ncache {}\n" : ''}
listener "unix" {
  address = ${hcl(o.socketPath)}
  tls_disable = true
}
${o.tcpPort ? `\nlistener "tcp" {\n  address = "127.0.0.1:${o.tcpPort}"\n  tls_disable = true\n}\n` : ''}`;
}

/** GET over the Unix socket without a token; resolves with the status. */
function statusOverSocket(socketPath: string, pathname: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path: pathname, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.setTimeout(5_000, () => req.destroy(new Error('timed out')));
  });
}

/** Starts `vault proxy` (or `vault agent`); stops with close() or with the test process. */
export async function startVaultProxy(opts: VaultProxyOptions): Promise<VaultProxy> {
  const binary = await ensureVaultCliBinary();
  const mode = opts.mode ?? 'proxy';
  const dir = makeTempDir(`vault-${mode}`);
  const socketPath = opts.socketPath ?? path.join(dir, `${mode}.sock`);
  writeFileSync(path.join(dir, 'role-id'), opts.roleId, { mode: 0o600 });
  writeFileSync(path.join(dir, 'secret-id'), opts.secretId, { mode: 0o600 });
  const tcpPort = opts.tcp ? await freePort() : undefined;
  const config = path.join(dir, `${mode}.hcl`);
  writeFileSync(config, proxyConfig({ dir, vaultAddress: opts.vaultAddress, caCert: opts.caCert, approleMount: opts.approleMount ?? 'approle', socketPath, tcpPort, mode }));

  // Only what the configuration says: no VAULT_ADDR, VAULT_TOKEN, proxies or token helper of
  // the machine or the test process.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir };
  const proc: ManagedProcess = spawnManaged({
    name: `vault ${mode}`,
    command: binary,
    args: [mode, `-config=${config}`, '-log-level=info'],
    logFile: path.join(dir, `${mode}.log`),
    env,
    cwd: dir,
  });
  const logTail = (bytes = 4000) => `--- ${proc.logFile} ---\n${proc.logTail(bytes)}`;
  const close = async () => {
    await proc.stop();
    removeTempDir(dir);
  };
  try {
    // The sink first: polling the socket meanwhile would bury auto-auth's errors in the log
    // under one line per probe.
    const sink = path.join(dir, 'token-sink');
    await waitUntil(`vault ${mode}: auto-auth (AppRole)`, async () => (existsSync(sink) ? true : undefined), {
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 100,
      watch: [proc],
    });
    await waitUntil(
      `vault ${mode} on ${socketPath} with its auto-auth token`,
      async () => ((await statusOverSocket(socketPath, '/v1/auth/token/lookup-self')) === 200 ? true : undefined),
      { timeoutMs: READY_TIMEOUT_MS, intervalMs: 100, watch: [proc] },
    );
  } catch (err) {
    // waitUntil's message ends with the log's tail already.
    await close();
    throw new Error(`vault ${mode} did not start: ${(err as Error).message}`, { cause: err });
  }
  return {
    socketPath,
    address: `unix://${socketPath}`,
    ...(tcpPort ? { tcpAddress: `http://127.0.0.1:${tcpPort}` } : {}),
    logFile: proc.logFile,
    logTail,
    logOnFailure: logOnFailure(logTail),
    close,
  };
}

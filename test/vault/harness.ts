// Test harness for a REAL HashiCorp Vault: starts test/vault/server (Vault's
// own Go code, in-memory storage, unsealed, kv-v2 at secret/) on a free
// loopback port and offers a tiny request helper for seeding.
//
//   const vault = await sharedTestVault();          // one per test process
//   await vault.request('POST', 'secret/data/app', { data: { password: 'x' } });
//   // point the code under test at vault.address with vault.token
//
// startTestVaultHA() starts an HA pair instead: an active node and a standby that
// answers 307 to the active node (request forwarding off).
//
// With VAULT_TEST_ADDR and VAULT_TEST_TOKEN set, sharedTestVault() uses that
// existing Vault instead (e.g. a `vault server -dev` or `npm run vault:dev`);
// VAULT_TEST_CACERT optionally names its CA file, VAULT_TEST_UNSEAL_KEYS
// (comma-separated) its unseal keys.
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { ensureVaultBinary } from './build.mjs';

export interface VaultResponse {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface TestVault {
  /** e.g. http://127.0.0.1:40123 (https://… in TLS mode) */
  address: string;
  /** root token */
  token: string;
  /** base64 unseal keys (all are needed: threshold = number of keys) */
  unsealKeys: string[];
  /** TLS mode: CA that signed the server (and client) certificate */
  caFile?: string;
  /** TLS mode: a client certificate/key pair signed by the CA (not required by the server) */
  clientCert?: string;
  clientKey?: string;
  /**
   * Calls `${address}/v1/${path}` (path may carry a query string) with JSON
   * `body`, as `token` (default: root). Body of the answer is parsed JSON, or
   * null when empty (e.g. 204). Never throws on HTTP error statuses.
   */
  request(method: string, path: string, body?: unknown, token?: string): Promise<VaultResponse>;
  /** Stops the server (no-op for an external Vault). */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** serve HTTPS with a generated CA (caFile/clientCert/clientKey are set) */
  tls?: boolean;
  /** extra environment for the server (e.g. VAULT_DEV_ROOT_TOKEN_ID) */
  env?: Record<string, string>;
}

interface ReadyLine {
  address: string;
  token: string;
  unsealKeys: string[];
}

const READY_TIMEOUT_MS = 60_000;
const STDERR_KEEP = 64 * 1024;

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

function makeRequester(
  address: string,
  defaultToken: string,
  ca?: Buffer,
): { request: TestVault['request']; close(): void } {
  const base = new URL(address);
  const isHttps = base.protocol === 'https:';
  const agent = isHttps
    ? new https.Agent({ keepAlive: true, ...(ca ? { ca } : {}) })
    : new http.Agent({ keepAlive: true });
  const request: TestVault['request'] = (method, p, body, token) => {
    let rel = p.replace(/^\/+/, '');
    if (!rel.startsWith('v1/')) rel = `v1/${rel}`;
    const url = new URL(rel, base.href.endsWith('/') ? base.href : `${base.href}/`);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = { 'X-Vault-Token': token ?? defaultToken };
    if (payload) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = payload.length;
    }
    return new Promise<VaultResponse>((resolve, reject) => {
      const mod = isHttps ? https : http;
      const req = mod.request(url, { method: method.toUpperCase(), headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = null;
          if (text.trim() !== '') {
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = text;
            }
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      });
      req.on('error', reject);
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${url.href}: timed out`)));
      req.end(payload);
    });
  };
  return { request, close: () => agent.destroy() };
}

interface Launched<T> {
  ready: T;
  /** SIGTERM (SIGKILL after 5 s), then waits for the exit; once */
  stop(): Promise<void>;
}

/**
 * Runs the server binary with `env` and resolves with its JSON ready line; rejects with its
 * stderr when it exits or stays silent. It exits with this process (its stdin is our pipe).
 */
async function launch<T>(binary: string, env: NodeJS.ProcessEnv): Promise<Launched<T>> {
  installExitHook();
  const child = spawn(binary, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  const verbose = Boolean(process.env.VAULT_TEST_LOG_LEVEL);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    stderr = (stderr + d).slice(-STDERR_KEEP);
    if (verbose) process.stderr.write(d);
  });
  // Keep a drain on stdout so the child never blocks writing to it.
  child.stdout!.setEncoding('utf8');
  // The server exits when this pipe closes, i.e. also when we die hard.
  child.stdin!.on('error', () => {});

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let ready: T;
  try {
    ready = await new Promise<T>((resolve, reject) => {
      let out = '';
      let done = false;
      const fail = (why: string) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        reject(new Error(`vault test server (${binary}) ${why}\n--- stderr ---\n${stderr}`));
      };
      const timer = setTimeout(() => fail(`not ready within ${READY_TIMEOUT_MS / 1000}s`), READY_TIMEOUT_MS);
      child.once('error', (err) => fail(`failed to start: ${err.message}`));
      child.once('exit', (code, signal) => fail(`exited before ready (${signal ?? `code ${code}`})`));
      child.stdout!.on('data', (d: string) => {
        if (done) return;
        out += d;
        const nl = out.indexOf('\n');
        if (nl < 0) return;
        const line = out.slice(0, nl);
        let parsed: T;
        try {
          parsed = JSON.parse(line) as T;
        } catch {
          fail(`printed an unexpected first line: ${line}`);
          return;
        }
        done = true;
        clearTimeout(timer);
        resolve(parsed);
      });
    });
  } catch (err) {
    child.kill('SIGKILL');
    running.delete(child);
    throw err;
  }

  // Don't let the server keep the test process alive; the exit hook kills it.
  child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr]) {
    (s as unknown as { unref?: () => void } | null)?.unref?.();
  }
  let stopped: Promise<void> | undefined;
  return {
    ready,
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
          await exited;
          clearTimeout(t);
        }
        running.delete(child);
      })();
      return stopped;
    },
  };
}

function serverEnv(extra: Record<string, string> | undefined, tlsDir: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    VAULT_DEV_LISTEN_ADDRESS: '127.0.0.1:0',
    VAULT_TEST_EXIT_ON_STDIN_CLOSE: '1',
    ...extra,
  };
  delete env.VAULT_DEV_TLS_DIR;
  delete env.VAULT_TEST_HA;
  if (tlsDir) env.VAULT_DEV_TLS_DIR = tlsDir;
  return env;
}

/** Starts a new real Vault server (in-memory) on 127.0.0.1 and a free port. */
export async function startTestVault(opts: StartOptions = {}): Promise<TestVault> {
  const binary = await ensureVaultBinary();
  const tlsDir = opts.tls ? await fs.mkdtemp(path.join(os.tmpdir(), 'vaultfill-vault-tls-')) : undefined;
  const cleanupTls = async () => {
    if (tlsDir) await fs.rm(tlsDir, { recursive: true, force: true });
  };
  let server: Launched<ReadyLine>;
  try {
    server = await launch<ReadyLine>(binary, serverEnv(opts.env, tlsDir));
  } catch (err) {
    await cleanupTls();
    throw err;
  }
  const { ready } = server;
  const caFile = tlsDir ? path.join(tlsDir, 'ca.pem') : undefined;
  const { request, close } = makeRequester(ready.address, ready.token, caFile ? readFileSync(caFile) : undefined);
  let stopped: Promise<void> | undefined;
  const vault: TestVault = {
    address: ready.address,
    token: ready.token,
    unsealKeys: ready.unsealKeys,
    request,
    stop() {
      stopped ??= (async () => {
        close();
        await server.stop();
        await cleanupTls();
      })();
      return stopped;
    },
  };
  if (tlsDir) {
    vault.caFile = caFile;
    vault.clientCert = path.join(tlsDir, 'client.pem');
    vault.clientKey = path.join(tlsDir, 'client-key.pem');
  }
  return vault;
}

export interface TestVaultHA extends TestVault {
  /** the active node, https://127.0.0.1:<port> (also `address`; request() goes there) */
  active: string;
  /** a standby with request forwarding off: answers 307 to the active node */
  standby: string;
  /** the cluster's CA (both nodes' certificates: 127.0.0.1, localhost) */
  caFile: string;
}

/**
 * Starts a real two-node HA Vault (Vault's own test cluster: in-memory storage and HA lock,
 * HTTPS with its own CA, the same layout as startTestVault) whose standby redirects instead of
 * forwarding. See test/vault/server/ha.go.
 */
export async function startTestVaultHA(opts: { env?: Record<string, string> } = {}): Promise<TestVaultHA> {
  const binary = await ensureVaultBinary();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vaultfill-vault-ha-'));
  let server: Launched<ReadyLine & { active: string; standby: string; caFile: string }>;
  try {
    server = await launch(binary, { ...serverEnv(opts.env, dir), VAULT_TEST_HA: '1' });
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true });
    throw err;
  }
  const { ready } = server;
  const { request, close } = makeRequester(ready.active, ready.token, readFileSync(ready.caFile));
  let stopped: Promise<void> | undefined;
  return {
    address: ready.active,
    active: ready.active,
    standby: ready.standby,
    caFile: ready.caFile,
    token: ready.token,
    unsealKeys: ready.unsealKeys,
    request,
    stop() {
      stopped ??= (async () => {
        close();
        await server.stop();
        await fs.rm(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

let shared: Promise<TestVault> | undefined;

/**
 * One Vault per test process (memoised). With VAULT_TEST_ADDR and
 * VAULT_TEST_TOKEN set, that existing Vault instead; its stop() does nothing.
 * Tests sharing it should use distinct paths.
 */
export function sharedTestVault(): Promise<TestVault> {
  shared ??= (async () => {
    const addr = process.env.VAULT_TEST_ADDR;
    const token = process.env.VAULT_TEST_TOKEN;
    if (addr && token) {
      const caFile = process.env.VAULT_TEST_CACERT || undefined;
      const { request } = makeRequester(addr.replace(/\/+$/, ''), token, caFile ? readFileSync(caFile) : undefined);
      const vault: TestVault = {
        address: addr.replace(/\/+$/, ''),
        token,
        unsealKeys: (process.env.VAULT_TEST_UNSEAL_KEYS ?? '').split(',').filter(Boolean),
        request,
        stop: async () => {},
      };
      if (caFile) vault.caFile = caFile;
      return vault;
    }
    const vault = await startTestVault();
    // Shared by every test of the process: stopping is left to process exit.
    return { ...vault, stop: async () => {} };
  })().catch((err: unknown) => {
    shared = undefined;
    throw err;
  });
  return shared;
}

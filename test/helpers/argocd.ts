// Argo CD v3.6.1's own application-controller and repo-server (test/argocd/build.mjs) on the
// host, against a test cluster (k8s-cluster.ts), with Debian's redis-server as their cache.
//
//   const argocd = await startArgoCD(cluster, { pluginSocketDir });
//   await argocd.applyApplication(yaml);
//   const status = await argocd.waitForSync('app', (s) => s.sync === 'Synced' && s.health === 'Healthy', 60_000);
//
// How it runs outside a cluster: ARGOCD_FAKE_IN_CLUSTER=true with KUBECONFIG makes the in-cluster
// destination (https://kubernetes.default.svc) the test cluster's API server; the repo-server
// serves plain gRPC (--disable-tls, and --client-ca-path= so it does not look for the mTLS CA
// file of the standard install); it finds CMP sidecars by their sockets in
// ARGOCD_PLUGINSOCKFILEPATH, a directory the caller shares with the sidecar containers.
// Short cache lifetimes (--revision-cache-expiration, --app-resync) keep the tests quick; a hard
// refresh (hardRefresh) bypasses the caches altogether.
import type { ExecutionContext } from 'ava';
import { chmodSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { ensureArgoCD } from '../argocd/build.mjs';
import { ARGOCD_NAMESPACE, installArgoCDResources } from './argocd-install.js';
import type { Cluster } from './k8s-cluster.js';
import { freePort, makeTempDir, removeTempDir, spawnManaged, waitUntil, type ManagedProcess } from './processes.js';

export interface ArgoCDOptions {
  /**
   * ARGOCD_PLUGINSOCKFILEPATH: where CMP sidecars put their sockets. A sidecar running as uid 999
   * must be able to create its socket there; default: a new empty directory, mode 0777.
   */
  readonly pluginSocketDir?: string;
  /** more environment for the repo-server (e.g. ARGOCD_EXEC_TIMEOUT) */
  readonly repoServerEnv?: Readonly<Record<string, string>>;
  /** the controller's --repo-server-timeout-seconds; @default 60 (Argo CD's default) */
  readonly repoServerTimeoutSeconds?: number;
  /** the controller's --app-resync, seconds; @default 20 */
  readonly appResyncSeconds?: number;
  /** merged into argocd-cm's data */
  readonly argocdCm?: Readonly<Record<string, string>>;
}

/** What the tests read of an Application's status. */
export interface AppStatus {
  /** status.sync.status: Synced, OutOfSync, Unknown, or '' before the first reconciliation */
  readonly sync: string;
  /** status.sync.revision */
  readonly revision: string;
  /** status.health.status: Healthy, Progressing, Missing, … */
  readonly health: string;
  /** status.conditions, e.g. { type: 'ComparisonError', message: 'Failed to load target state: …' } */
  readonly conditions: ReadonlyArray<{ readonly type: string; readonly message: string }>;
  /** status.operationState.phase and .message of the last sync */
  readonly operationPhase: string;
  readonly operationMessage: string;
  /** the whole Application object */
  readonly raw: Record<string, unknown>;
}

export interface ArgoCD {
  readonly namespace: string;
  /** the repo-server's plaintext gRPC address, 127.0.0.1:<port> */
  readonly repoServerAddress: string;
  readonly pluginSocketDir: string;
  /** the Argo CD build: argocd, argocd-cmp-server (to mount into sidecars), … */
  readonly binDir: string;
  readonly cmpServerBinary: string;
  /** component → log file */
  readonly logs: Readonly<Record<string, string>>;
  /** redis, argocd-repo-server, argocd-application-controller */
  readonly processes: readonly ManagedProcess[];
  logTails(bytes?: number): string;
  /** prints every component's log tail (Argo CD's and the cluster's) when the test fails */
  logOnFailure(t: ExecutionContext): void;
  /** applies Application YAML (or JSON) in the argocd namespace, server-side */
  applyApplication(yaml: string): Promise<void>;
  application(name: string): Promise<AppStatus>;
  /** polls the Application until `predicate` holds; fails with the last status and the logs */
  waitForSync(name: string, predicate: (s: AppStatus) => boolean, timeoutMs: number): Promise<AppStatus>;
  /** the argocd.argoproj.io/refresh=hard annotation: regenerate manifests, bypassing caches */
  hardRefresh(name: string): Promise<void>;
  deleteApplication(name: string): Promise<void>;
  close(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;

function healthz(port: number): Promise<true | undefined> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? true : undefined);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

function toStatus(app: Record<string, unknown>): AppStatus {
  const s = (app.status ?? {}) as {
    sync?: { status?: string; revision?: string };
    health?: { status?: string };
    conditions?: Array<{ type?: string; message?: string }>;
    operationState?: { phase?: string; message?: string };
  };
  return {
    sync: s.sync?.status ?? '',
    revision: s.sync?.revision ?? '',
    health: s.health?.status ?? '',
    conditions: (s.conditions ?? []).map((c) => ({ type: c.type ?? '', message: c.message ?? '' })),
    operationPhase: s.operationState?.phase ?? '',
    operationMessage: s.operationState?.message ?? '',
    raw: app,
  };
}

function summary(s: AppStatus | undefined): string {
  if (!s) return 'no status read';
  const conditions = s.conditions.map((c) => `${c.type}: ${c.message}`).join('; ');
  return `sync=${s.sync || '-'} revision=${s.revision || '-'} health=${s.health || '-'} operation=${s.operationPhase || '-'}${
    s.operationMessage ? ` (${s.operationMessage})` : ''
  }${conditions ? ` conditions: ${conditions}` : ''}`;
}

export async function startArgoCD(cluster: Cluster, options: ArgoCDOptions = {}): Promise<ArgoCD> {
  const binDir = await ensureArgoCD();
  const dir = makeTempDir('argocd');
  const pluginSocketDir = options.pluginSocketDir ?? path.join(dir, 'plugins');
  for (const d of [pluginSocketDir, path.join(dir, 'tmp'), path.join(dir, 'home')]) mkdirSync(d, { recursive: true });
  if (!options.pluginSocketDir) chmodSync(pluginSocketDir, 0o777);
  const procs: ManagedProcess[] = [];
  const logs: Record<string, string> = {};
  const start = (name: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env) => {
    const logFile = path.join(dir, `${name}.log`);
    logs[name] = logFile;
    const p = spawnManaged({ name, command, args, env, logFile, cwd: dir });
    procs.push(p);
    return p;
  };
  const logTails = (bytes = 4000) => procs.map((p) => `--- ${p.name} (${p.logFile}) ---\n${p.logTail(bytes)}`).join('\n');
  const close = async () => {
    for (const p of [...procs].reverse()) await p.stop();
    removeTempDir(dir);
  };

  try {
    // redis and the repo-server need nothing from the cluster: they start while it is set up.
    const installing = installArgoCDResources(cluster, binDir, options.argocdCm);
    installing.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
    const [redisPort, repoPort, repoMetricsPort, controllerMetricsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const redisAddress = `127.0.0.1:${redisPort}`;
    const redis = start('redis', 'redis-server', [
      '--bind', '127.0.0.1', '--port', String(redisPort), '--save', '', '--appendonly', 'no', '--dir', dir,
    ]);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // binDir first: git-verify-wrapper.sh and `argocd` (the GIT_ASKPASS helper) are run by name.
      PATH: `${binDir}${path.delimiter}${process.env.PATH ?? ''}`,
      KUBECONFIG: cluster.kubeconfig,
      ARGOCD_FAKE_IN_CLUSTER: 'true',
      // Signature checks need gpg and the standard install's keyring directory; no test signs commits.
      ARGOCD_GPG_ENABLED: 'false',
      // The repo-server clones into $TMPDIR/_argocd-repo; git reads $HOME/.gitconfig.
      TMPDIR: path.join(dir, 'tmp'),
      HOME: path.join(dir, 'home'),
    };
    const repoServer = start('argocd-repo-server', path.join(binDir, 'argocd-repo-server'), [
      '--address', '127.0.0.1', '--port', String(repoPort),
      '--metrics-address', '127.0.0.1', '--metrics-port', String(repoMetricsPort),
      '--disable-tls', '--client-ca-path=',
      '--redis', redisAddress,
      '--revision-cache-expiration', '5s', '--repo-cache-expiration', '1m',
      '--logformat', 'text',
    ], { ...env, ARGOCD_PLUGINSOCKFILEPATH: pluginSocketDir, ...options.repoServerEnv });
    const repoServerAddress = `127.0.0.1:${repoPort}`;
    await installing;
    const controller = start('argocd-application-controller', path.join(binDir, 'argocd-application-controller'), [
      '--namespace', ARGOCD_NAMESPACE,
      '--repo-server', repoServerAddress, '--repo-server-plaintext',
      '--repo-server-timeout-seconds', String(options.repoServerTimeoutSeconds ?? 60),
      '--redis', redisAddress,
      '--metrics-port', String(controllerMetricsPort),
      '--app-resync', String(options.appResyncSeconds ?? 20),
      '--status-processors', '2', '--operation-processors', '2',
      '--logformat', 'text',
    ], env);
    const all = [redis, repoServer, controller];
    await waitUntil('argocd-repo-server /healthz', () => healthz(repoMetricsPort), { timeoutMs: READY_TIMEOUT_MS, watch: all });
    await waitUntil('argocd-application-controller /healthz', () => healthz(controllerMetricsPort), { timeoutMs: READY_TIMEOUT_MS, watch: all });

    const application = async (name: string) =>
      toStatus(JSON.parse(await cluster.kubectl(['get', 'applications.argoproj.io', name, '-n', ARGOCD_NAMESPACE, '-o', 'json'])) as Record<string, unknown>);
    return {
      namespace: ARGOCD_NAMESPACE,
      repoServerAddress,
      pluginSocketDir,
      binDir,
      processes: procs,
      cmpServerBinary: path.join(binDir, 'argocd-cmp-server'),
      logs,
      logTails,
      logOnFailure(t) {
        t.teardown(() => {
          if (!t.passed) t.log(`${logTails()}\n${cluster.logTails()}`);
        });
      },
      async applyApplication(yaml) {
        await cluster.kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=vaultfill-tests', '-n', ARGOCD_NAMESPACE, '-f', '-'], { input: yaml });
      },
      application,
      async waitForSync(name, predicate, timeoutMs) {
        let last: AppStatus | undefined;
        try {
          return await waitUntil(
            `Application ${name}`,
            async () => {
              last = await application(name);
              return predicate(last) ? last : undefined;
            },
            { timeoutMs, intervalMs: 500, watch: all },
          );
        } catch (err) {
          throw new Error(`${(err as Error).message}\nlast status: ${summary(last)}`, { cause: err });
        }
      },
      async hardRefresh(name) {
        await cluster.kubectl(['annotate', '--overwrite', 'applications.argoproj.io', name, '-n', ARGOCD_NAMESPACE, 'argocd.argoproj.io/refresh=hard']);
      },
      async deleteApplication(name) {
        await cluster.kubectl(['delete', 'applications.argoproj.io', name, '-n', ARGOCD_NAMESPACE, '--ignore-not-found', '--wait=true', '--timeout=60s']);
      },
      close,
    };
  } catch (err) {
    const message = `${(err as Error).message}\n${logTails()}`;
    await close().catch(() => {});
    throw new Error(`Argo CD did not start: ${message}`, { cause: err });
  }
}

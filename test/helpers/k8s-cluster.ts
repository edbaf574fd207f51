// A real Kubernetes control plane for the loop tests: etcd, kube-apiserver and
// kube-controller-manager (test/k8s/control-plane, built from the Go module proxy) on 127.0.0.1,
// no nodes. Enough for what Argo CD and Vault ask of a cluster: CRDs, server-side apply,
// RBAC, ServiceAccount tokens with an audience (`kubectl create token … --audience vault`) and
// TokenReview; kube-controller-manager does what the API server alone does not: garbage
// collection (Argo CD prunes with foreground deletion) and namespace finalization.
//
//   const cluster = await sharedCluster();               // one per test process
//   await cluster.kubectl(['apply', '-f', '-'], { input: yaml });
//   const jwt = await cluster.createToken('argocd', 'argocd-repo-server', 'vault');
//
// Every server's output goes to a log file in the cluster's temp directory (`logs`), printed
// when a start fails. The processes die with the test process (helpers/processes.ts).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { ensureControlPlaneBinary } from '../k8s/build.mjs';
import { makePki, writeKubeconfig, type ClusterPki } from './k8s-pki.js';
import { freePort, makeTempDir, removeTempDir, spawnManaged, waitUntil, type ManagedProcess } from './processes.js';

export interface Cluster {
  /** admin kubeconfig (client certificate in O=system:masters) */
  readonly kubeconfig: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** the CA file that signed the API server's certificate; `ca` is its PEM */
  readonly caFile: string;
  readonly ca: string;
  /** the `iss` of ServiceAccount tokens; also the API server's only API audience */
  readonly serviceAccountIssuer: string;
  readonly pki: ClusterPki;
  /** component name → its log file */
  readonly logs: Readonly<Record<string, string>>;
  /** etcd, kube-apiserver, kube-controller-manager */
  readonly processes: readonly ManagedProcess[];
  /** runs kubectl against this cluster; resolves with stdout, rejects with stderr in the message */
  kubectl(args: readonly string[], options?: { input?: string; timeoutMs?: number }): Promise<string>;
  /** a TokenRequest token (`kubectl create token`) for namespace/serviceAccount with `audience` */
  createToken(namespace: string, serviceAccount: string, audience: string, seconds?: number): Promise<string>;
  /** the last lines of every component's log */
  logTails(bytes?: number): string;
  close(): Promise<void>;
}

export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
const READY_TIMEOUT_MS = 90_000;

function runKubectl(kubeconfig: string, args: readonly string[], input?: string, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'kubectl',
      ['--kubeconfig', kubeconfig, ...args],
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, KUBECONFIG: kubeconfig } },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`kubectl ${args.join(' ')}: ${stderr.trim() || err.message}`));
        else resolve(stdout);
      },
    );
    child.stdin?.end(input ?? '');
  });
}

/** GET `url` with the admin's client certificate; resolves with the status and body. */
function adminGet(url: string, pki: ClusterPki): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      url,
      { ca: readFileSync(pki.caCert), cert: readFileSync(pki.adminCert), key: readFileSync(pki.adminKey), timeout: 5_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

/** Starts a new control plane; prefer sharedCluster() in tests. */
export async function startCluster(): Promise<Cluster> {
  const binary = await ensureControlPlaneBinary();
  const dir = makeTempDir('k8s');
  const procs: ManagedProcess[] = [];
  const logs: Record<string, string> = {};
  const start = (name: string, args: string[]) => {
    logs[name] = path.join(dir, `${name}.log`);
    const p = spawnManaged({ name, command: binary, args: [name, ...args], logFile: logs[name] });
    procs.push(p);
    return p;
  };
  const logTails = (bytes = 3000) => procs.map((p) => `--- ${p.name} (${p.logFile}) ---\n${p.logTail(bytes)}`).join('\n');
  const close = async () => {
    // Reverse order: the controller manager and the API server first, etcd last.
    for (const p of [...procs].reverse()) await p.stop();
    removeTempDir(dir);
  };

  try {
    const pki = await makePki(dir);
    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const server = `https://127.0.0.1:${apiPort}`;
    const kubeconfig = path.join(dir, 'kubeconfig');
    await writeKubeconfig(kubeconfig, server, pki);

    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const etcd = start('etcd', [
      '--name=test', `--data-dir=${path.join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`, `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`, `--initial-advertise-peer-urls=${peerUrl}`, `--initial-cluster=test=${peerUrl}`,
      // A test cluster's data is thrown away: fsync would only slow every write.
      '--unsafe-no-fsync', '--log-level=warn',
    ]);
    // The API server retries etcd until it answers, so both start at once.
    const apiserver = start('kube-apiserver', [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${apiPort}`,
      `--tls-cert-file=${pki.serverCert}`, `--tls-private-key-file=${pki.serverKey}`, `--client-ca-file=${pki.caCert}`,
      '--authorization-mode=RBAC',
      `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
      `--service-account-key-file=${pki.serviceAccountPub}`, `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      // Tokens for the API carry the issuer as audience; a token made for Vault
      // (--audience vault) is refused by the API server and accepted only by a TokenReview that
      // asks for "vault" — as in a real cluster.
      `--api-audiences=${SERVICE_ACCOUNT_ISSUER}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      // The default "kubernetes" Endpoints would hold 127.0.0.1, which Endpoints validation refuses.
      '--endpoint-reconciler-type=none',
      '--profiling=false',
    ]);
    const controllerManager = start('kube-controller-manager', [
      `--kubeconfig=${kubeconfig}`, '--secure-port=0', '--leader-elect=false',
      `--service-account-private-key-file=${pki.serviceAccountKey}`, `--root-ca-file=${pki.caCert}`,
    ]);
    const all = [etcd, apiserver, controllerManager];
    await waitUntil(
      `kube-apiserver ${server}/readyz`,
      async () => ((await adminGet(`${server}/readyz`, pki)).status === 200 ? true : undefined),
      { timeoutMs: READY_TIMEOUT_MS, watch: all },
    );

    return {
      kubeconfig,
      server,
      caFile: pki.caCert,
      ca: readFileSync(pki.caCert, 'utf8'),
      serviceAccountIssuer: SERVICE_ACCOUNT_ISSUER,
      pki,
      logs,
      processes: procs,
      kubectl: (args, options = {}) => runKubectl(kubeconfig, args, options.input, options.timeoutMs),
      async createToken(namespace, serviceAccount, audience, seconds = 3600) {
        const out = await runKubectl(kubeconfig, ['create', 'token', serviceAccount, '-n', namespace, '--audience', audience, `--duration=${seconds}s`]);
        return out.trim();
      },
      logTails,
      close,
    };
  } catch (err) {
    const message = `${(err as Error).message}\n${logTails()}`;
    await close().catch(() => {});
    throw new Error(`the test cluster did not start: ${message}`, { cause: err });
  }
}

let shared: Promise<Cluster> | undefined;

/** One cluster per test process (memoised); it stops when the process exits. */
export function sharedCluster(): Promise<Cluster> {
  shared ??= startCluster()
    .then((cluster) => ({ ...cluster, close: async () => {} }))
    .catch((err: unknown) => {
      shared = undefined;
      throw err;
    });
  return shared;
}


/**
 * The whole real loop, as the sidecar suite and `npm run loop:dev` use it: the test cluster,
 * Argo CD's own components, the real test Vault (behind a proxy that can fail it) with Kubernetes
 * auth against that cluster, and the vaultfill image run as examples/argocd/repo-server-patch.yaml
 * runs its three sidecars, with `argocd-cmp-server` from the Argo CD build in their var-files
 * volume and a token projected for the audience `vault`. The examples are committed to a git
 * server for Applications to pull.
 */
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { ensureImage } from '../image/build.mjs';
import { startDocker, type Engine } from '../image/dockerd.mjs';
import { patchContainer, startSidecar, type Sidecar } from '../image/sidecar.js';
import { startTestVault, type TestVault } from '../vault/harness.js';
import { startArgoCD, type ArgoCD, type ArgoCDOptions } from './argocd.js';
import { startGitServer, type GitServer } from './git-server.js';
import { startCluster, type Cluster } from './k8s-cluster.js';
import { makeTempDir, waitUntil } from './processes.js';
import { startProxy, type Proxy } from './proxy.js';

export const SIDECARS = ['vaultfill', 'vaultfill-helm', 'vaultfill-kustomize'] as const;
const root = path.resolve(import.meta.dirname, '../..');

export interface Loop {
  readonly cluster: Cluster;
  readonly argocd: ArgoCD;
  readonly vault: TestVault;
  /** Between the sidecars and Vault: `proxy.fault` makes Vault slow or unreachable. */
  readonly proxy: Proxy;
  readonly engine: Engine;
  readonly sidecars: readonly Sidecar[];
  /** The repository the Applications pull: examples/ committed at `initial`. */
  readonly git: GitServer;
  readonly initial: string;
  close(): Promise<void>;
}

export interface SeededSecret {
  readonly path: string;
  readonly data?: Record<string, unknown>;
  readonly versions?: Record<string, unknown>[];
}

/** examples/secrets.yaml: what the loop writes into Vault. */
export const seededSecrets = (YAML.parse(readFileSync(path.join(root, 'examples', 'secrets.yaml'), 'utf8')) as { secrets: SeededSecret[] }).secrets;

/** `argocd`: options for Argo CD's components (test/helpers/argocd.ts), e.g. a longer --app-resync. */
export async function startLoop(options: { readonly argocd?: ArgoCDOptions } = {}): Promise<Loop> {
  const dir = makeTempDir('loop');
  const engine = await startDocker();
  const image = ensureImage(engine);
  const cluster = await startCluster();
  const vault = await startTestVault();
  const proxy = await startProxy(vault.address);
  await configureVault(cluster, vault);
  const argocd = await startArgoCD(cluster, options.argocd);

  // What the repo-server pod gives its sidecars: argocd-cmp-server in var-files (Argo CD's init
  // container copies it there), the plugin socket directory, the projected Vault token.
  const varFiles = path.join(dir, 'var-files');
  const tokenDir = path.join(dir, 'vault-token');
  mkdirSync(varFiles);
  mkdirSync(tokenDir);
  copyFileSync(argocd.cmpServerBinary, path.join(varFiles, 'argocd-cmp-server'));
  chmodSync(path.join(varFiles, 'argocd-cmp-server'), 0o755);
  writeFileSync(path.join(tokenDir, 'token'), await cluster.createToken('argocd', 'argocd-repo-server', 'vault'), { mode: 0o644 });
  const volumes = { 'var-files': varFiles, plugins: argocd.pluginSocketDir, 'vaultfill-vault-token': tokenDir };
  const { image: tag } = await image;
  const sidecars: Sidecar[] = [];
  for (const name of SIDECARS) {
    // The patch's own environment, with Vault where the loop runs it (through the proxy).
    const env = (patchContainer(name) as { env?: Array<{ name: string; value: string }> }).env ?? [];
    const flags = env.flatMap((e) => ['--env', `${e.name}=${e.name === 'VAULT_ADDR' ? proxy.address : e.value}`]);
    sidecars.push(await startSidecar(engine, tag, name, volumes, ['--network', 'host', ...flags]));
  }
  await waitUntil('the three plugin sockets', async () => (SIDECARS.every((n) => existsSync(path.join(argocd.pluginSocketDir, `${n}.sock`))) ? true : undefined), { timeoutMs: 60_000 });

  const git = await startGitServer(path.join(dir, 'repo'));
  cpSync(path.join(root, 'examples'), path.join(git.dir, 'examples'), { recursive: true });
  const initial = await git.commit('the examples');
  return {
    cluster, argocd, vault, proxy, engine, sidecars, git, initial,
    async close() {
      for (const sidecar of sidecars) await sidecar.remove();
      await engine.close();
      await git.close();
      await argocd.close();
      await proxy.close();
      await vault.stop();
      await cluster.close();
    },
  };
}

/** Vault's Kubernetes auth against the cluster, a role for the sidecars' account, the examples' secrets. */
async function configureVault(cluster: Cluster, vault: TestVault): Promise<void> {
  // Vault reviews the sidecars' tokens with its own reviewer account (system:auth-delegator).
  await cluster.kubectl(['create', 'namespace', 'vault']);
  await cluster.kubectl(['create', 'serviceaccount', 'vault-reviewer', '-n', 'vault']);
  await cluster.kubectl(['create', 'clusterrolebinding', 'vault-reviewer', '--clusterrole=system:auth-delegator', '--serviceaccount=vault:vault-reviewer']);
  const reviewer = await cluster.createToken('vault', 'vault-reviewer', cluster.serviceAccountIssuer);
  const ok = (r: { status: number; body: unknown }, what: string) => {
    if (r.status >= 300) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  };
  ok(await vault.request('POST', 'sys/auth/kubernetes', { type: 'kubernetes' }), 'enable kubernetes auth');
  ok(await vault.request('POST', 'auth/kubernetes/config', { kubernetes_host: cluster.server, kubernetes_ca_cert: cluster.ca, token_reviewer_jwt: reviewer, disable_local_ca_jwt: true }), 'configure kubernetes auth');
  ok(await vault.request('PUT', 'sys/policies/acl/argocd', { policy: 'path "secret/data/demo/*" { capabilities = ["read"] }' }), 'policy');
  ok(await vault.request('POST', 'auth/kubernetes/role/argocd', { bound_service_account_names: 'argocd-repo-server', bound_service_account_namespaces: 'argocd', audience: 'vault', token_policies: 'argocd', token_ttl: '10m' }), 'role');
  for (const entry of seededSecrets) {
    for (const data of entry.versions ?? [entry.data ?? {}]) ok(await vault.request('POST', entry.path, { data }), `seed ${entry.path}`);
  }
}

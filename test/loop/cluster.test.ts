// The real loop's Kubernetes and Argo CD parts work together, without the vaultfill sidecar:
// a control plane built from the Go module proxy, Argo CD v3.6.1's own application-controller
// and repo-server, and a git server they pull from. The sidecar suite builds on these harnesses.
//
// Measured on the 2-core machine (2026-11-29):
//   cold builds, empty Go build and module caches: control plane 432 s, Argo CD 331 s (with the
//     Go 1.27.3 toolchain download); with the modules already downloaded 298 s and 290 s; each
//     peaks at 2.1-2.3 GB. Cached: 0.1 s.
//   warm start: cluster /readyz ~3 s; Argo CD (CRDs, redis, repo-server, controller) ~7 s more;
//     the first Application synced ~11-12 s after the start.
//   steady memory (RSS): kube-apiserver ~550 MB, application-controller ~200-250 MB, etcd,
//     kube-controller-manager and repo-server ~115 MB each, redis ~12 MB: ~1.1 GB in all.
import test from 'ava';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { startArgoCD, type AppStatus, type ArgoCD } from '../helpers/argocd.js';
import { startGitServer, type GitServer } from '../helpers/git-server.js';
import { startCluster, type Cluster } from '../helpers/k8s-cluster.js';
import { makeTempDir } from '../helpers/processes.js';

// A cold cache builds the control plane and Argo CD first (~10 min); .ci/run builds them before the tests.
const BUILD_WAIT_MS = 25 * 60_000;
const SYNC_MS = 90_000;

let cluster: Cluster;
let argocd: ArgoCD;
let git: GitServer;

test.before(async (t) => {
  t.timeout(BUILD_WAIT_MS, 'building and starting the control plane and Argo CD');
  const started = Date.now();
  cluster = await startCluster();
  const clusterMs = Date.now() - started;
  argocd = await startArgoCD(cluster);
  t.log(`cluster ready in ${clusterMs} ms, Argo CD in ${Date.now() - started - clusterMs} ms more`);
  git = await startGitServer(path.join(makeTempDir('git'), 'repo'));
  await cluster.kubectl(['create', 'namespace', 'smoke']);
});

test.after.always(async () => {
  await git?.close();
  await argocd?.close();
  await cluster?.close();
});

const configMap = (name: string, greeting: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  greeting: ${greeting}\n`;

const application = (name: string, repoURL: string, dir: string) =>
  JSON.stringify({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: 'argocd' },
    spec: {
      project: 'default',
      source: { repoURL, targetRevision: 'main', path: dir },
      destination: { server: 'https://kubernetes.default.svc', namespace: 'smoke' },
      syncPolicy: { automated: { prune: true } },
    },
  });

const syncedAt = (revision: string) => (s: AppStatus) =>
  s.sync === 'Synced' && s.revision === revision && s.health === 'Healthy' && s.operationPhase === 'Succeeded';

const greeting = async (name: string) => cluster.kubectl(['get', 'configmap', name, '-n', 'smoke', '-o', 'jsonpath={.data.greeting}']);

test.serial('a token made for Vault passes a TokenReview that asks for the vault audience, and no other', async (t) => {
  const token = await cluster.createToken('argocd', 'argocd-repo-server', 'vault');
  const review = async (audiences?: string[]) => {
    const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(audiences ? { audiences } : {}) } };
    const out = await cluster.kubectl(['create', '-f', '-', '-o', 'json'], { input: JSON.stringify(body) });
    return (JSON.parse(out) as { status: { authenticated?: boolean; user?: { username?: string }; error?: string } }).status;
  };
  const forVault = await review(['vault']);
  t.true(forVault.authenticated);
  t.is(forVault.user?.username, 'system:serviceaccount:argocd:argocd-repo-server');
  // Without audiences the API server checks its own (the issuer): the Vault token is not an API credential.
  const forApi = await review();
  t.falsy(forApi.authenticated);
  t.regex(forApi.error ?? '', /audience/);
});

test.serial('Argo CD syncs a plain directory from the git server, and a new commit after a hard refresh', async (t) => {
  t.timeout(3 * SYNC_MS); // two syncs; ava's default (60 s) is shorter than one SYNC_MS
  argocd.logOnFailure(t);
  await git.write({ 'plain/greeting.yaml': configMap('greeting', 'hello'), 'plain/extra.yaml': configMap('extra', 'x') });
  const first = await git.commit('plain: two ConfigMaps');
  await argocd.applyApplication(application('plain', git.url, 'plain'));
  await argocd.waitForSync('plain', syncedAt(first), SYNC_MS);
  t.is(await greeting('greeting'), 'hello');
  t.is(await greeting('extra'), 'x');

  // A changed value and a removed file: the change is applied, the ConfigMap pruned (Argo CD
  // deletes with foreground propagation, which only kube-controller-manager's garbage collector finishes).
  await git.write({ 'plain/greeting.yaml': configMap('greeting', 'hello again') });
  await rm(path.join(git.dir, 'plain/extra.yaml'));
  const second = await git.commit('plain: change one, remove one');
  await argocd.hardRefresh('plain');
  await argocd.waitForSync('plain', syncedAt(second), SYNC_MS);
  t.is(await greeting('greeting'), 'hello again');
  const left = await cluster.kubectl(['get', 'configmap', 'extra', '-n', 'smoke', '--ignore-not-found', '-o', 'name']);
  t.is(left.trim(), '');

  const rss = [...cluster.processes, ...argocd.processes].map((p) => `${p.name} ${Math.round(p.rssBytes() / 2 ** 20)} MiB`);
  t.log(`memory: ${rss.join(', ')}`);
});

test.serial('a broken manifest shows as a ComparisonError and changes nothing in the cluster', async (t) => {
  t.timeout(2 * SYNC_MS);
  argocd.logOnFailure(t);
  await git.write({ 'plain/greeting.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: [not, a, map\n' });
  await git.commit('plain: broken YAML');
  await argocd.hardRefresh('plain');
  const status = await argocd.waitForSync('plain', (s) => s.conditions.some((c) => c.type === 'ComparisonError'), SYNC_MS);
  const error = status.conditions.find((c) => c.type === 'ComparisonError')?.message ?? '';
  t.regex(error, /greeting\.yaml/, `the error names the file: ${error}`);
  t.is(await greeting('greeting'), 'hello again');
});

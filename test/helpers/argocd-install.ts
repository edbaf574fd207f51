// What Argo CD's application-controller and repo-server need in the cluster before they start,
// as the standard install has it: the CRDs, the argocd namespace, the settings ConfigMaps and
// argocd-secret (the settings manager lists them by the part-of label), the `default` project
// (normally made by argocd-server, which the tests do not run) and the repo-server's
// ServiceAccount (the sidecars log in to Vault with a token for it).
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Cluster } from './k8s-cluster.js';
import { waitUntil } from './processes.js';

export const ARGOCD_NAMESPACE = 'argocd';
const CRD_FILES = ['application-crd.yaml', 'applicationset-crd.yaml', 'appproject-crd.yaml'];
const PART_OF = { 'app.kubernetes.io/part-of': 'argocd' };

function configMap(name: string, data: Record<string, string> = {}): object {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ARGOCD_NAMESPACE, labels: PART_OF }, data };
}

/** The namespace's objects; `argocdCm` is merged into argocd-cm's data. */
export function argocdObjects(argocdCm: Record<string, string> = {}): object[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ARGOCD_NAMESPACE } },
    configMap('argocd-cm', argocdCm),
    configMap('argocd-cmd-params-cm'),
    configMap('argocd-rbac-cm'),
    configMap('argocd-gpg-keys-cm'),
    configMap('argocd-tls-certs-cm'),
    configMap('argocd-ssh-known-hosts-cm'),
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'argocd-secret', namespace: ARGOCD_NAMESPACE, labels: PART_OF },
      type: 'Opaque',
      stringData: { 'server.secretkey': randomBytes(24).toString('base64') },
    },
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AppProject',
      metadata: { name: 'default', namespace: ARGOCD_NAMESPACE },
      spec: {
        sourceRepos: ['*'],
        destinations: [{ server: '*', namespace: '*' }],
        clusterResourceWhitelist: [{ group: '*', kind: '*' }],
      },
    },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'argocd-repo-server', namespace: ARGOCD_NAMESPACE } },
  ];
}

/** Installs the CRDs (server-side: applicationset's is too large for client-side apply) and the objects. */
export async function installArgoCDResources(cluster: Cluster, argocdDir: string, argocdCm: Record<string, string> = {}): Promise<void> {
  const crds = CRD_FILES.flatMap((f) => ['-f', path.join(argocdDir, 'crds', f)]);
  await cluster.kubectl(['apply', '--server-side', '--field-manager=vaultfill-tests', ...crds]);
  // Polled rather than `kubectl wait`: kubectl 1.32's wait fails on a CRD that has no
  // status.conditions yet (right after its creation) instead of waiting.
  for (const crd of ['applications.argoproj.io', 'appprojects.argoproj.io']) {
    await waitUntil(
      `CRD ${crd} Established`,
      async () => ((await cluster.kubectl(['get', 'crd', crd, '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}'])) === 'True' ? true : undefined),
      { timeoutMs: 60_000 },
    );
  }
  const list = { apiVersion: 'v1', kind: 'List', items: argocdObjects(argocdCm) };
  await cluster.kubectl(['apply', '--server-side', '--field-manager=vaultfill-tests', '-f', '-'], { input: JSON.stringify(list) });
}

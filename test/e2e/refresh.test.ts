/**
 * `vaultfill refresh` against the real test Vault (behind a counting proxy) and a real Kubernetes
 * API server with Argo CD's Application CRD: records written by `generate` with AVP_RECORD from
 * real Vault reads, the refresher's RBAC and Vault policy exactly as examples/argocd has them
 * (refresher.yaml, vault-setup.sh: metadata only). No Argo CD controller runs here, so an
 * Application keeps the annotation the refresher sets: the test reads it back.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { ensureArgoCD } from '../argocd/build.mjs';
import { installArgoCDResources } from '../helpers/argocd-install.js';
import { bin, root, vaultfill } from '../helpers/cli.js';
import { startCluster, type Cluster } from '../helpers/k8s-cluster.js';
import { waitUntil } from '../helpers/processes.js';
import { startProxy, type Proxy } from '../helpers/proxy.js';
import { sharedTestVault, type TestVault } from '../vault/harness.js';

const VALUES = { shared: 'shared-value-v1-Zq8x', sharedNew: 'shared-value-v2-Kp3m', own: 'own-value-Jt7w', pinnedOwn: 'pinned-own-value-Rr2d' };
const SHARED = 'secret/data/demo/rt/shared';

let cluster: Cluster;
let vault: TestVault;
let proxy: Proxy;
let metadataToken: string;
let serviceAccountDir: string;
let refresherEnv: Record<string, string>;

const examples = path.join(root, 'examples', 'argocd');
const refresherPolicy = (): string => {
  const match = /vault policy write vaultfill-refresher - <<'HCL'\n([\s\S]*?)\nHCL/.exec(readFileSync(path.join(examples, 'vault-setup.sh'), 'utf8'));
  if (!match?.[1]) throw new Error('no vaultfill-refresher policy in vault-setup.sh');
  return match[1];
};

/** One Application (not reconciled: no controller runs) and the manifests its render uses. */
const APPS = {
  'app-a': { destination: 'team-a', secret: `<path:${SHARED}#v>` },
  'app-b': { destination: 'team-b', secret: `<path:${SHARED}#v>` },
  'app-c': { destination: 'team-c', secret: '<path:secret/data/demo/rt/own#v>' },
  // The shared path pinned to version 1, and one path of its own at its latest.
  'app-pinned': { destination: 'team-d', secret: `<path:${SHARED}#v#1>`, more: '<path:secret/data/demo/rt/pinned-own#v>' },
} as const;

test.before(async (t) => {
  t.timeout(15 * 60_000, 'the control plane and Argo CD builds may run first');
  const [argocdDir, started, testVault] = await Promise.all([ensureArgoCD(), startCluster(), sharedTestVault()]);
  cluster = started;
  vault = testVault;
  await installArgoCDResources(cluster, argocdDir);
  for (const [p, v] of [[SHARED, VALUES.shared], ['secret/data/demo/rt/own', VALUES.own], ['secret/data/demo/rt/pinned-own', VALUES.pinnedOwn]] as const) {
    const r = await vault.request('POST', p, { data: { v } });
    if (r.status >= 300) throw new Error(`seed ${p}: ${r.status}`);
  }
  await vault.request('PUT', 'sys/policies/acl/vaultfill-refresher', { policy: refresherPolicy() });
  metadataToken = (await vault.request('POST', 'auth/token/create', { policies: ['vaultfill-refresher'], ttl: '1h', no_default_policy: true })).body.auth.client_token as string;
  proxy = await startProxy(vault.address);

  // The refresher's service account with examples/argocd/refresher.yaml's RBAC, and its token
  // where a pod has it.
  const rbac = YAML.parseAllDocuments(readFileSync(path.join(examples, 'refresher.yaml'), 'utf8')).map((d) => d.toJS() as { kind: string }).filter((d) => d.kind !== 'Deployment');
  await cluster.kubectl(['apply', '-n', 'argocd', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rbac }) });
  serviceAccountDir = mkdtempSync(path.join(tmpdir(), 'vaultfill-refresher-sa-'));
  writeFileSync(path.join(serviceAccountDir, 'token'), await cluster.createToken('argocd', 'vaultfill-refresher', cluster.serviceAccountIssuer));
  writeFileSync(path.join(serviceAccountDir, 'ca.crt'), cluster.ca);
  writeFileSync(path.join(serviceAccountDir, 'namespace'), 'argocd');
  const api = new URL(cluster.server);
  refresherEnv = {
    KUBERNETES_SERVICE_HOST: api.hostname,
    KUBERNETES_SERVICE_PORT: api.port,
    AVP_TYPE: 'vault',
    VAULT_ADDR: proxy.address,
    VAULT_TOKEN: metadataToken,
  };

  // The Applications, and each one's record as its render writes it: real Vault reads.
  for (const [name, app] of Object.entries(APPS) as Array<[keyof typeof APPS, (typeof APPS)[keyof typeof APPS]]>) {
    await cluster.kubectl(['create', 'namespace', app.destination]);
    await cluster.kubectl(['apply', '-n', 'argocd', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: { name, namespace: 'argocd' },
        spec: { project: 'default', source: { repoURL: 'https://git.example.com/x.git', path: name }, destination: { server: 'https://kubernetes.default.svc', namespace: app.destination } },
      }),
    });
    await applyRender(name);
  }
});

test.after.always(async () => {
  await proxy?.close();
  await cluster?.close();
});

/** Renders `name`'s manifests as its sidecar would (AVP_RECORD on) and applies what comes out, as Argo CD would. */
async function applyRender(name: keyof typeof APPS): Promise<string> {
  const app = APPS[name];
  const input = [
    'apiVersion: v1',
    'kind: Secret',
    `metadata: {name: ${name}}`,
    'stringData:',
    `  v: ${app.secret}`,
    ...('more' in app ? [`  more: ${app.more}`] : []),
    '',
  ].join('\n');
  const r = await vaultfill(['generate', '-'], {
    input,
    env: { AVP_TYPE: 'vault', VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token, AVP_RECORD: 'true', ARGOCD_APP_NAME: name, ARGOCD_APP_NAMESPACE: app.destination },
  });
  if (r.code !== 0) throw new Error(`generate ${name}: ${r.stderr}`);
  await cluster.kubectl(['apply', '-n', app.destination, '-f', '-'], { input: r.stdout });
  return r.stdout;
}

const refreshAnnotation = async (name: string): Promise<string> =>
  cluster.kubectl(['get', 'applications.argoproj.io', name, '-n', 'argocd', '-o', 'jsonpath={.metadata.annotations.argocd\\.argoproj\\.io/refresh}']);
const clearAnnotations = async (): Promise<void> => {
  for (const name of Object.keys(APPS)) await cluster.kubectl(['annotate', 'applications.argoproj.io', name, '-n', 'argocd', 'argocd.argoproj.io/refresh-']);
};
const noValueIn = (t: import('ava').ExecutionContext, text: string): void => {
  for (const value of [...Object.values(VALUES), metadataToken, vault.token]) t.false(text.includes(value), 'a secret value or token in the logs');
};

test.serial('the records hold the paths and versions each render read at its latest, and nothing of the values', async (t) => {
  const versions = async (ns: string, name: string): Promise<unknown> =>
    JSON.parse(await cluster.kubectl(['get', 'configmap', `vaultfill-record-${name}`, '-n', ns, '-o', 'jsonpath={.data.versions}']));
  t.deepEqual(await versions('team-a', 'app-a'), { [SHARED]: 1 });
  t.deepEqual(await versions('team-c', 'app-c'), { 'secret/data/demo/rt/own': 1 });
  t.deepEqual(await versions('team-d', 'app-pinned'), { 'secret/data/demo/rt/pinned-own': 1 }, 'the pinned read is not recorded');
  noValueIn(t, await cluster.kubectl(['get', 'configmaps', '-A', '-l', 'vaultfill.io/record=true', '-o', 'yaml']));
  // The refresher's policy reads metadata and nothing of the data.
  t.is((await vault.request('GET', SHARED, undefined, metadataToken)).status, 403);
});

test.serial('refresh --once with a metadata-only token marks exactly the Applications that recorded an older version, reading each distinct path once', async (t) => {
  const quiet = await vaultfill(['refresh', '--once', '--service-account-dir', serviceAccountDir, '--verbose'], { env: refresherEnv });
  t.is(quiet.code, 0, quiet.stderr);
  for (const name of Object.keys(APPS)) t.is(await refreshAnnotation(name), '', `${name}: nothing changed in Vault yet`);

  t.is((await vault.request('POST', SHARED, { data: { v: VALUES.sharedNew } })).status, 200);
  proxy.requests.length = 0;
  const r = await vaultfill(['refresh', '--once', '--service-account-dir', serviceAccountDir, '--verbose'], { env: refresherEnv });
  t.is(r.code, 0, r.stderr);
  t.is(await refreshAnnotation('app-a'), 'hard');
  t.is(await refreshAnnotation('app-b'), 'hard');
  t.is(await refreshAnnotation('app-c'), '', 'app-c reads another path');
  t.is(await refreshAnnotation('app-pinned'), '', 'a pinned version never triggers');
  // Three distinct paths (shared, own, pinned-own), four records: three reads, all on metadata.
  t.deepEqual(proxy.requests.map((q) => `${q.method} ${q.path}`).sort(), [
    'GET /v1/secret/metadata/demo/rt/own',
    'GET /v1/secret/metadata/demo/rt/pinned-own',
    'GET /v1/secret/metadata/demo/rt/shared',
  ]);
  t.regex(r.stderr, /round 1: 4 record\(s\), 4 matched to an Application; 3 distinct path\(s\) read from Vault's KV metadata \(3 request\(s\)\); 2 Application\(s\) behind Vault, 2 marked for a hard refresh \(argocd\/app-a, argocd\/app-b\); 0 error\(s\)/);
  t.regex(r.stderr, /Application argocd\/app-a \(record team-a\/vaultfill-record-app-a\): secret\/data\/demo\/rt\/shared recorded 1, current 2: marked for a hard refresh/);
  t.regex(r.stderr, /Application argocd\/app-c \(record team-c\/vaultfill-record-app-c\): secret\/data\/demo\/rt\/own recorded 1, current 1: up to date/);
  noValueIn(t, r.stderr);
  await clearAnnotations();
});

test.serial('long-running, an Application is marked once per record and Vault version, a Vault outage is one logged line per round and the next round works', async (t) => {
  t.timeout(60_000);
  const child = spawn(bin, ['refresh', '--interval', '1s', '--service-account-dir', serviceAccountDir], { env: { PATH: process.env['PATH'] ?? '', ...refresherEnv }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  t.teardown(() => child.kill());
  const rounds = (): number => (stderr.match(/round \d+:.*error\(s\)$/gm) ?? []).length;
  const waitRounds = (n: number): Promise<true> => waitUntil(`${n} rounds`, async () => (rounds() >= n ? true : undefined), { timeoutMs: 20_000 });

  await waitRounds(1);
  t.is(await refreshAnnotation('app-a'), 'hard');
  // Argo CD takes the annotation off once it has refreshed; the app has not synced (same record).
  await clearAnnotations();
  const before = rounds();
  await waitRounds(before + 2);
  t.is(await refreshAnnotation('app-a'), '', 'not marked again for the same record and versions');
  t.regex(stderr, /2 Application\(s\) behind Vault, 0 marked for a hard refresh; 0 error\(s\)/);

  // Vault unreachable for a while: one line per failed read, the process lives on.
  proxy.fault = () => 'drop';
  const failing = rounds();
  await waitUntil('a failed round', async () => (/error BACKEND_UNREACHABLE/.test(stderr) ? true : undefined), { timeoutMs: 30_000 });
  proxy.fault = undefined;
  // The app syncs (a new render, a new record): then a new rotation marks it again.
  await applyRender('app-a');
  await clearAnnotations();
  t.is((await vault.request('POST', SHARED, { data: { v: `${VALUES.sharedNew}-3` } })).status, 200);
  await waitUntil('app-a marked after the new version', async () => ((await refreshAnnotation('app-a')) === 'hard' ? true : undefined), { timeoutMs: 20_000 });
  t.true(rounds() > failing);
  t.is(child.exitCode, null, 'still running');
  t.regex(stderr, /error BACKEND_UNREACHABLE/);
  t.is(await refreshAnnotation('app-c'), '');
  noValueIn(t, stderr);
  await clearAnnotations();
});

test.serial('refresh --once exits with the round\'s error when Vault or the Kubernetes API fails it', async (t) => {
  proxy.fault = () => ({ status: 503, body: { errors: ['Vault is sealed'] } });
  const down = await vaultfill(['refresh', '--once', '--service-account-dir', serviceAccountDir], { env: refresherEnv });
  proxy.fault = undefined;
  t.is(down.code, 4);
  t.regex(down.stderr, /vaultfill refresh: round 1: error BACKEND_(SEALED|ERROR)/);
  const denied = await vaultfill(['refresh', '--once', '--service-account-dir', serviceAccountDir], { env: { ...refresherEnv, VAULT_TOKEN: vault.token.replace(/.$/, 'x') } });
  t.is(denied.code, 5);
  t.regex(denied.stderr, /error PERMISSION_DENIED: permission denied reading secret\/metadata\/demo\/rt\//);
  // Another account without the refresher's RBAC: the API answers 403, named with what to grant.
  const other = mkdtempSync(path.join(tmpdir(), 'vaultfill-other-sa-'));
  await cluster.kubectl(['create', 'serviceaccount', 'nobody', '-n', 'argocd']);
  writeFileSync(path.join(other, 'token'), await cluster.createToken('argocd', 'nobody', cluster.serviceAccountIssuer));
  writeFileSync(path.join(other, 'ca.crt'), cluster.ca);
  const forbidden = await vaultfill(['refresh', '--once', '--service-account-dir', other], { env: refresherEnv });
  t.is(forbidden.code, 4);
  t.regex(forbidden.stderr, /error KUBE_API_ERROR: listing (ConfigMaps \(records\)|Applications): Kubernetes API answered HTTP 403 .*the refresher's service account needs list/);
  noValueIn(t, down.stderr + denied.stderr + forbidden.stderr);
});

/**
 * The real loop (issue 15): a Kubernetes API server, Argo CD v3.6.1's own application-controller,
 * repo-server and argocd-cmp-server, and the vaultfill image built from the unchanged Dockerfile,
 * run as examples/argocd/repo-server-patch.yaml runs its three sidecars (uid 999, read-only root,
 * /tmp an emptyDir, argocd-cmp-server from the shared /var/run/argocd, the plugin sockets shared
 * with the repo-server). The sidecars log in to the real test Vault with Kubernetes auth against
 * this API server, with a token projected for the audience `vault`. The example Applications
 * (examples/argocd) sync the examples from a local git repository, and the test reads the
 * cluster's Secrets and ConfigMaps: their values are the ones in Vault. Then what users hit:
 * a missing key and Vault down (a readable ComparisonError, nothing applied, nothing pruned),
 * a broken values file (helm's error first), a secret rotated in Vault (a hard refresh brings it).
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { AppStatus } from '../helpers/argocd.js';
import { seededSecrets, startLoop, type Loop } from '../helpers/loop.js';
import { waitUntil } from '../helpers/processes.js';

const BUILD_WAIT_MS = 40 * 60_000; // a cold cache builds the control plane, Argo CD and the image first
const SYNC_MS = 120_000;
const root = path.resolve(import.meta.dirname, '../..');

let loop: Loop;
const seeded = (secretPath: string, key: string): unknown => {
  const entry = seededSecrets.find((s) => s.path === secretPath);
  return (entry?.versions?.at(-1) ?? entry?.data)?.[key];
};

test.before(async (t) => {
  t.timeout(BUILD_WAIT_MS, 'building and starting the control plane, Argo CD, the image and Vault');
  loop = await startLoop();
});

test.after.always(async () => {
  await loop?.close();
});

/** An example Application (examples/argocd) pointed at this test's git server and cluster. */
async function applyExample(file: string): Promise<string> {
  const app = YAML.parse(readFileSync(path.join(root, 'examples', 'argocd', file), 'utf8')) as { metadata: { name: string }; spec: { source: { repoURL: string }; syncPolicy?: Record<string, unknown> } };
  app.spec.source.repoURL = loop.git.url;
  // selfHeal: Argo CD syncs a commit once; a value that changed in Vault under the same commit
  // is applied when the live state differs from a fresh render (see the rotation test).
  app.spec.syncPolicy = { ...app.spec.syncPolicy, automated: { prune: true, selfHeal: true } };
  await loop.argocd.applyApplication(JSON.stringify(app));
  return app.metadata.name;
}

const synced = (revision: string) => (s: AppStatus) => s.sync === 'Synced' && s.revision === revision && s.operationPhase === 'Succeeded';
const get = async (kind: string, namespace: string, name: string, jsonpath: string): Promise<string> =>
  loop.cluster.kubectl(['get', kind, name, '-n', namespace, '-o', `jsonpath=${jsonpath}`]);
const decoded = async (namespace: string, name: string, key: string): Promise<string> =>
  Buffer.from(await get('secret', namespace, name, `{.data.${key.replace(/\./g, '\\.')}}`), 'base64').toString('utf8');

const apps = { plain: 'demo-plain', helm: 'demo-helm', kustomize: 'demo-kustomize' };
/** The three apps' Secrets: namespace and name. */
const secrets = { plain: ['demo', 'demo-web'], helm: ['demo', 'demo-helm-demo-web'], kustomize: ['demo-prod', 'prod-demo-web'] } as const;
const password = () => String(seeded('secret/data/demo/db', 'password'));

test.serial('the example Applications sync through the sidecars, and the cluster holds the values in Vault', async (t) => {
  t.timeout(3 * SYNC_MS);
  loop.argocd.logOnFailure(t);
  for (const file of ['application-plain.yaml', 'application-helm.yaml', 'application-kustomize.yaml']) await applyExample(file);
  for (const name of Object.values(apps)) await loop.argocd.waitForSync(name, synced(loop.initial), SYNC_MS);
  for (const [namespace, name] of Object.values(secrets)) {
    t.is(await decoded(namespace, name, 'DB_PASSWORD'), password(), `${namespace}/${name}`);
    t.is(await decoded(namespace, name, 'API_KEY'), String(seeded('secret/data/demo/app', 'api-key')), `${namespace}/${name}`);
  }
  const url = `postgres://${String(seeded('secret/data/demo/db', 'username'))}:${password()}@${String(seeded('secret/data/demo/db', 'host'))}:5432/demo`;
  t.is(await decoded('demo', 'demo-web', 'DATABASE_URL'), url);
  t.is(await decoded('demo', 'demo-web', 'SESSION_SIGNING_KEY_PREVIOUS'), 'previous-signing-key-v1');
  t.is(await get('configmap', 'demo', 'demo-web', '{.data.REQUEST_TIMEOUT_SECONDS}'), '30');
  t.is(await get('configmap', 'demo', 'demo-helm-demo-web', '{.data.DB_HOST}'), String(seeded('secret/data/demo/db', 'host')));
  t.is(await get('deployment', 'demo-prod', 'prod-demo-web', '{.spec.replicas}'), String(seeded('secret/data/demo/app', 'replicas')));
  // The sidecars run with AVP_RECORD (the patch's env): each render's record, applied with it.
  for (const [app, namespace] of [[apps.plain, 'demo'], [apps.helm, 'demo'], [apps.kustomize, 'demo-prod']] as const) {
    const versions = JSON.parse(await get('configmap', namespace, `vaultfill-record-${app}`, '{.data.versions}')) as Record<string, number>;
    t.is(versions['secret/data/demo/db'], 1, app);
  }
  // Each sidecar logged in once, and every read went to Vault through the sidecars' own login.
  t.is(loop.proxy.count('auth/kubernetes/login', 'POST'), 3, 'one login per sidecar (the token cache in its /tmp)');
});

test.serial('a secret rotated in Vault reaches the cluster with a hard refresh', async (t) => {
  t.timeout(2 * SYNC_MS);
  loop.argocd.logOnFailure(t);
  await loop.vault.request('POST', 'secret/data/demo/db', { data: { ...(seededSecrets.find((e) => e.path === 'secret/data/demo/db')?.data ?? {}), password: 'rotated-password-2' } });
  await loop.argocd.hardRefresh(apps.plain);
  await waitUntil('the rotated password in the cluster', async () => ((await decoded('demo', 'demo-web', 'DB_PASSWORD')) === 'rotated-password-2' ? true : undefined), { timeoutMs: SYNC_MS });
  t.pass();
});

/** A ComparisonError on `app` after `change`, with nothing applied or pruned; then the change is undone. */
async function refused(t: import('ava').ExecutionContext, app: string, secret: readonly [string, string], change: () => Promise<void>, undo: () => Promise<void>): Promise<string> {
  const before = await loop.cluster.kubectl(['get', 'secrets,configmaps,deployments', '-n', secret[0], '-o', 'name']);
  const value = await decoded(secret[0], secret[1], 'DB_PASSWORD');
  await change();
  await loop.argocd.hardRefresh(app);
  const status = await loop.argocd.waitForSync(app, (s) => s.conditions.some((c) => c.type === 'ComparisonError'), SYNC_MS);
  const message = status.conditions.find((c) => c.type === 'ComparisonError')?.message ?? '';
  t.is(await loop.cluster.kubectl(['get', 'secrets,configmaps,deployments', '-n', secret[0], '-o', 'name']), before, 'nothing pruned or added');
  t.is(await decoded(secret[0], secret[1], 'DB_PASSWORD'), value, 'nothing applied');
  await undo();
  await loop.argocd.hardRefresh(app);
  await loop.argocd.waitForSync(app, (s) => s.sync === 'Synced' && !s.conditions.some((c) => c.type === 'ComparisonError'), SYNC_MS);
  return message;
}

test.serial('a missing key is a readable ComparisonError, and nothing is applied or pruned', async (t) => {
  t.timeout(3 * SYNC_MS);
  loop.argocd.logOnFailure(t);
  const file = 'examples/plain/secret.yaml';
  const original = readFileSync(path.join(loop.git.dir, file), 'utf8');
  const message = await refused(t, apps.plain, secrets.plain,
    async () => {
      await loop.git.write({ [file]: original.replace('stringData:\n', 'stringData:\n  MISSING: <path:secret/data/demo/db#no-such-key>\n') });
      await loop.git.commit('plain: a key that is not in Vault');
    },
    async () => {
      await loop.git.write({ [file]: original });
      await loop.git.commit('plain: back');
    });
  t.regex(message, /KEY_NOT_FOUND at secret\.yaml:\d+:\d+ \(document 1, Secret\/demo-web, stringData\.MISSING\) <path:secret\/data\/demo\/db#no-such-key>/);
  t.false(message.includes(password()) || message.includes('rotated-password-2'));
});

test.serial('Vault down is a readable ComparisonError, and nothing is applied or pruned', async (t) => {
  t.timeout(3 * SYNC_MS);
  loop.argocd.logOnFailure(t);
  const message = await refused(t, apps.kustomize, secrets.kustomize,
    async () => {
      loop.proxy.fault = () => 'drop';
    },
    async () => {
      loop.proxy.fault = undefined;
    });
  t.regex(message, /BACKEND_UNREACHABLE: cannot reach Vault at/);
});

test.serial('a broken values file fails the render with helm\'s own error near the start of the message', async (t) => {
  t.timeout(3 * SYNC_MS);
  loop.argocd.logOnFailure(t);
  const file = 'examples/helm/values-prod.yaml';
  const original = readFileSync(path.join(loop.git.dir, file), 'utf8');
  const message = await refused(t, apps.helm, secrets.helm,
    async () => {
      await loop.git.write({ [file]: `${original}\nbroken: [unclosed\n` });
      await loop.git.commit('helm: a broken values file');
    },
    async () => {
      await loop.git.write({ [file]: original });
      await loop.git.commit('helm: back');
    });
  // Argo CD's own wrapping comes first (~270 characters), then the command and helm's error.
  const cause = message.indexOf('Error: failed to parse values-prod.yaml');
  t.true(cause >= 0 && cause < 300, `helm's error starts at ${cause} of ${message.length}: ${message}`);
  t.regex(message, /`vaultfill helm` failed exit status 1: Error: failed to parse values-prod\.yaml/, 'helm\'s own exit status and message');
  t.false(message.includes('EMPTY_INPUT'));
});

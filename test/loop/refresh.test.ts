/**
 * Rotation that reaches the cluster (issue 17), in the real loop: Argo CD's own controller and
 * repo-server, the image's sidecars as examples/argocd/repo-server-patch.yaml runs them
 * (AVP_RECORD on), and `vaultfill refresh` with examples/argocd/refresher.yaml's RBAC and
 * vault-setup.sh's metadata-only Vault role, logging in with Kubernetes auth.
 *
 * Two Applications share a secret path, a third reads its own, a fourth reads the shared path
 * pinned to version 1 (and one path of its own). A new version of the shared path reaches the
 * first two Applications' Secrets within an interval and a sync; the others are not refreshed
 * (their annotations and status.reconciledAt stay as they were: the controller's periodic
 * resync is set long, so only a refresh would move them). The refresher runs in this process
 * with a short interval, then once more as refresher.yaml's container of the image (`--once`).
 */
import test from 'ava';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import YAML from 'yaml';
import { main } from '../../src/cli.js';
import { IMAGE } from '../image/build.mjs';
import type { AppStatus } from '../helpers/argocd.js';
import { startLoop, type Loop } from '../helpers/loop.js';
import { waitUntil } from '../helpers/processes.js';

const BUILD_WAIT_MS = 40 * 60_000;
const SYNC_MS = 120_000;
const INTERVAL_MS = 3_000;
const root = path.resolve(import.meta.dirname, '../..');
const SHARED = 'secret/data/demo/rotation/shared';
const PASSWORDS = { v1: 'shared-password-v1-Qm4r', v2: 'shared-password-v2-Lx9t', v3: 'shared-password-v3-Ce5y', c: 'own-password-c-Hd2k', pinned: 'own-password-pinned-Wb6n' };

/** Application → its destination namespace and its Secret's placeholders. */
const APPS: Record<string, Record<string, string>> = {
  'rot-a': { password: `<path:${SHARED}#password>` },
  'rot-b': { password: `<path:${SHARED}#password>` },
  'rot-c': { password: '<path:secret/data/demo/rotation/c#password>' },
  'rot-pinned': { password: `<path:${SHARED}#password#1>`, own: '<path:secret/data/demo/rotation/pinned#password>' },
};

let loop: Loop;
let revision: string;

test.before(async (t) => {
  t.timeout(BUILD_WAIT_MS, 'building and starting the control plane, Argo CD, the image and Vault');
  loop = await startLoop({ argocd: { appResyncSeconds: 3600 } });
  for (const [p, password] of [[SHARED, PASSWORDS.v1], ['secret/data/demo/rotation/c', PASSWORDS.c], ['secret/data/demo/rotation/pinned', PASSWORDS.pinned]] as const) {
    await loop.vault.request('POST', p, { data: { password } });
  }
  const files: Record<string, string> = {};
  for (const [name, data] of Object.entries(APPS)) {
    files[`rotation/${name}/.vaultfill`] = '';
    files[`rotation/${name}/secret.yaml`] = YAML.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: data });
  }
  await loop.git.write(files);
  revision = await loop.git.commit('rotation apps');
  for (const name of Object.keys(APPS)) {
    await loop.argocd.applyApplication(JSON.stringify({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name, namespace: 'argocd' },
      spec: {
        project: 'default',
        source: { repoURL: loop.git.url, targetRevision: 'HEAD', path: `rotation/${name}`, plugin: { name: 'vaultfill' } },
        destination: { server: 'https://kubernetes.default.svc', namespace: name },
        // selfHeal: a render that changed under the same commit is applied (see sidecar.test.ts).
        syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ['CreateNamespace=true'] },
      },
    }));
  }
});

test.after.always(async () => {
  await loop?.close();
});

const synced = (s: AppStatus): boolean => s.sync === 'Synced' && s.revision === revision && s.operationPhase === 'Succeeded';
const password = async (namespace: string, key = 'password'): Promise<string> =>
  Buffer.from(await loop.cluster.kubectl(['get', 'secret', namespace, '-n', namespace, '-o', `jsonpath={.data.${key}}`]), 'base64').toString('utf8');
const untouched = (s: AppStatus): unknown => ({
  annotations: (s.raw.metadata as { annotations?: unknown }).annotations ?? {},
  reconciledAt: (s.raw.status as { reconciledAt?: unknown }).reconciledAt,
});

/** The refresher's service account, RBAC (refresher.yaml) and Vault role (vault-setup.sh); the env a pod would give it. */
async function refresherEnv(): Promise<Record<string, string>> {
  const examples = path.join(root, 'examples', 'argocd');
  const rbac = YAML.parseAllDocuments(readFileSync(path.join(examples, 'refresher.yaml'), 'utf8')).map((d) => d.toJS() as { kind: string }).filter((d) => d.kind !== 'Deployment');
  await loop.cluster.kubectl(['apply', '-n', 'argocd', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rbac }) });
  const script = readFileSync(path.join(examples, 'vault-setup.sh'), 'utf8');
  const policy = /vault policy write vaultfill-refresher - <<'HCL'\n([\s\S]*?)\nHCL/.exec(script)?.[1] ?? '';
  const role = Object.fromEntries([...(/vault write auth\/kubernetes\/role\/vaultfill-refresher \\\n([\s\S]*?)\n\n/.exec(script)?.[1] ?? '').matchAll(/(\w+)=("?)([^\s"]*)\2/g)].map((m) => [m[1], m[3] === '$ARGOCD_NAMESPACE' ? 'argocd' : m[3]]));
  await loop.vault.request('PUT', 'sys/policies/acl/vaultfill-refresher', { policy });
  const answer = await loop.vault.request('POST', 'auth/kubernetes/role/vaultfill-refresher', role);
  if (answer.status >= 300) throw new Error(`role: ${JSON.stringify(answer.body)}`);

  const dir = mkdtempSync(path.join(tmpdir(), 'vaultfill-refresher-'));
  const serviceAccount = path.join(dir, 'serviceaccount');
  const vaultToken = path.join(dir, 'vault-token');
  // Readable by the image's user 999, as a pod's mounted token is.
  chmodSync(dir, 0o755);
  for (const d of [serviceAccount, vaultToken]) mkdirSync(d, { mode: 0o755 });
  writeFileSync(path.join(serviceAccount, 'token'), await loop.cluster.createToken('argocd', 'vaultfill-refresher', loop.cluster.serviceAccountIssuer), { mode: 0o644 });
  writeFileSync(path.join(serviceAccount, 'ca.crt'), loop.cluster.ca, { mode: 0o644 });
  writeFileSync(path.join(serviceAccount, 'namespace'), 'argocd', { mode: 0o644 });
  writeFileSync(path.join(vaultToken, 'token'), await loop.cluster.createToken('argocd', 'vaultfill-refresher', 'vault'), { mode: 0o644 });
  const api = new URL(loop.cluster.server);
  return {
    SERVICE_ACCOUNT_DIR: serviceAccount,
    VAULT_TOKEN_DIR: vaultToken,
    KUBERNETES_SERVICE_HOST: api.hostname,
    KUBERNETES_SERVICE_PORT: api.port,
    AVP_TYPE: 'vault',
    VAULT_ADDR: loop.proxy.address,
    AVP_AUTH_TYPE: 'k8s',
    AVP_K8S_ROLE: 'vaultfill-refresher',
    AVP_K8S_TOKEN_PATH: path.join(vaultToken, 'token'),
    XDG_CACHE_HOME: path.join(dir, 'cache'),
    HOME: dir,
  };
}

test('a new version of a shared secret reaches the Secrets of exactly the Applications that read it at its latest, through the refresher', async (t) => {
  t.timeout(6 * SYNC_MS);
  loop.argocd.logOnFailure(t);
  for (const name of Object.keys(APPS)) await loop.argocd.waitForSync(name, synced, SYNC_MS);
  t.is(await password('rot-a'), PASSWORDS.v1);
  t.is(await password('rot-pinned'), PASSWORDS.v1);
  // The sidecars' records, as Argo CD applied them with the rest of each render.
  const record = async (ns: string): Promise<unknown> =>
    JSON.parse(await loop.cluster.kubectl(['get', 'configmap', `vaultfill-record-${ns}`, '-n', ns, '-o', 'jsonpath={.data.versions}']));
  t.deepEqual(await record('rot-a'), { [SHARED]: 1 });
  t.deepEqual(await record('rot-c'), { 'secret/data/demo/rotation/c': 1 });
  t.deepEqual(await record('rot-pinned'), { 'secret/data/demo/rotation/pinned': 1 }, 'the pinned read is not recorded');

  const env = await refresherEnv();
  const stderr = new PassThrough();
  let log = '';
  stderr.on('data', (d: Buffer) => (log += d.toString()));
  const stop = new AbortController();
  const running = main({
    argv: ['refresh', '--interval', `${INTERVAL_MS}ms`, '--verbose', '--service-account-dir', env['SERVICE_ACCOUNT_DIR'] ?? ''],
    env,
    stdin: 0,
    stdout: new PassThrough(),
    stderr,
    signal: stop.signal,
  });
  t.teardown(() => stop.abort());
  const rounds = (): string[] => log.match(/^vaultfill refresh: round \d+: .*$/gm) ?? [];
  await waitUntil('the refresher\'s first round', async () => (rounds().length >= 1 ? true : undefined), { timeoutMs: 30_000 });
  t.regex(rounds()[0] ?? '', /4 record\(s\), 4 matched to an Application; 3 distinct path\(s\) read .*; 0 Application\(s\) behind Vault, 0 marked for a hard refresh; 0 error\(s\)/);
  const before = { c: untouched(await loop.argocd.application('rot-c')), pinned: untouched(await loop.argocd.application('rot-pinned')) };

  const rotated = Date.now();
  await loop.vault.request('POST', SHARED, { data: { password: PASSWORDS.v2 } });
  for (const ns of ['rot-a', 'rot-b']) {
    await waitUntil(`the new password in ${ns}`, async () => ((await password(ns)) === PASSWORDS.v2 ? true : undefined), { timeoutMs: INTERVAL_MS + SYNC_MS });
  }
  const elapsed = Date.now() - rotated;
  t.log(`the new version reached both Secrets ${(elapsed / 1000).toFixed(1)} s after it was written (interval ${INTERVAL_MS / 1000} s)`);
  // Their records follow the sync, so the refresher leaves them alone from then on.
  await waitUntil('rot-a\'s new record', async () => (JSON.stringify(await record('rot-a')) === JSON.stringify({ [SHARED]: 2 }) ? true : undefined), { timeoutMs: SYNC_MS });
  const settled = rounds().length;
  await waitUntil('two more rounds', async () => (rounds().length >= settled + 2 ? true : undefined), { timeoutMs: 4 * INTERVAL_MS + 30_000 });
  t.regex(rounds().at(-1) ?? '', /0 Application\(s\) behind Vault, 0 marked/);

  t.is(await password('rot-c'), PASSWORDS.c);
  t.is(await password('rot-pinned'), PASSWORDS.v1, 'the pinned version stays');
  t.is(await password('rot-pinned', 'own'), PASSWORDS.pinned);
  t.deepEqual(untouched(await loop.argocd.application('rot-c')), before.c, 'rot-c not refreshed');
  t.deepEqual(untouched(await loop.argocd.application('rot-pinned')), before.pinned, 'rot-pinned not refreshed');
  t.regex(log, /marked for a hard refresh \(argocd\/rot-a, argocd\/rot-b\)|marked for a hard refresh \(argocd\/rot-b, argocd\/rot-a\)/);
  t.false(/marked for a hard refresh \([^)]*rot-(c|pinned)/.test(log));

  stop.abort();
  t.is(await running, 0);
  // Vault reads: three distinct recorded paths per round, on metadata only (the sidecars read data).
  const metadata = loop.proxy.requests.filter((r) => r.path.startsWith('/v1/secret/metadata/'));
  t.is(metadata.length, 3 * rounds().length, `${rounds().length} rounds`);
  t.deepEqual([...new Set(metadata.map((r) => `${r.method} ${r.path}`))].sort(), [
    'GET /v1/secret/metadata/demo/rotation/c',
    'GET /v1/secret/metadata/demo/rotation/pinned',
    'GET /v1/secret/metadata/demo/rotation/shared',
  ]);
  t.is(loop.proxy.count('auth/kubernetes/login', 'POST'), 2, 'one login each for the plain sidecar and the refresher (their token caches)');
  for (const value of Object.values(PASSWORDS)) t.false(log.includes(value), 'no value in the refresher\'s log');

  // The same, once, as refresher.yaml's container: the image, its command, user 999, a read-only
  // root, the pod's service account and the Vault token where the Deployment mounts them.
  await loop.vault.request('POST', SHARED, { data: { password: PASSWORDS.v3 } });
  const deployment = YAML.parseAllDocuments(readFileSync(path.join(root, 'examples', 'argocd', 'refresher.yaml'), 'utf8')).map((d) => d.toJS() as Record<string, unknown>).find((d) => d['kind'] === 'Deployment') as {
    spec: { template: { spec: { containers: Array<{ command: string[]; args: string[]; env: Array<{ name: string; value: string }>; securityContext: { runAsUser: number } }> } } };
  };
  const container = deployment.spec.template.spec.containers[0];
  if (!container) return t.fail('no container in refresher.yaml');
  const [entrypoint = '', ...command] = container.command;
  t.deepEqual(container.args, ['--interval', '60s']);
  const run = await loop.engine.docker([
    'run', '--rm', '--network', 'host', '--user', String(container.securityContext.runAsUser), '--read-only', '--tmpfs', '/tmp:rw,mode=1777',
    '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
    '-v', `${env['SERVICE_ACCOUNT_DIR'] ?? ''}:/var/run/secrets/kubernetes.io/serviceaccount:ro`,
    '-v', `${env['VAULT_TOKEN_DIR'] ?? ''}:/var/run/secrets/vaultfill:ro`,
    '--env', `KUBERNETES_SERVICE_HOST=${env['KUBERNETES_SERVICE_HOST'] ?? ''}`, '--env', `KUBERNETES_SERVICE_PORT=${env['KUBERNETES_SERVICE_PORT'] ?? ''}`,
    ...container.env.flatMap((e) => ['--env', `${e.name}=${e.name === 'VAULT_ADDR' ? loop.proxy.address : e.value}`]),
    '--entrypoint', entrypoint, IMAGE, ...command, '--once',
  ], { check: false, timeoutMs: 60_000 });
  t.is(run.code, 0, run.stderr);
  t.regex(run.stderr, /round 1: 4 record\(s\), 4 matched to an Application; 3 distinct path\(s\) read .*; 2 Application\(s\) behind Vault, 2 marked for a hard refresh \(argocd\/rot-a, argocd\/rot-b\); 0 error\(s\)/);
  for (const ns of ['rot-a', 'rot-b']) {
    await waitUntil(`the third password in ${ns}`, async () => ((await password(ns)) === PASSWORDS.v3 ? true : undefined), { timeoutMs: SYNC_MS });
  }
  t.deepEqual(untouched(await loop.argocd.application('rot-c')), before.c, 'rot-c not refreshed');
  t.deepEqual(untouched(await loop.argocd.application('rot-pinned')), before.pinned, 'rot-pinned not refreshed');
  for (const value of Object.values(PASSWORDS)) t.false(run.stderr.includes(value), 'no value in the container\'s log');
});

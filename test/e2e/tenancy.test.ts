/**
 * Issue 13 through the plugins as shipped, against the real test Vault: an Application author is
 * not trusted with the sidecar's Vault identity or files. The sidecar logs in with AppRole; the
 * Application tries to send that login elsewhere, to read the sidecar's own token through a
 * placeholder, and to have a symlinked sidecar file echoed. Each fails with an error naming what
 * was refused; the address it chose receives no request; no credential, token or file content
 * reaches stdout or stderr. (Render arguments and symlinks for helm and kustomize: render.test.ts.)
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { startCapture } from '../helpers/capture.js';
import { startProxy } from '../helpers/proxy.js';
import { sharedTestVault, type TestVault } from '../vault/harness.js';
import { installHelm, launcherDir, loadPlugin, parseManifests, repoRoot, runPlugin, secretsFile, type PluginConfig, type RunOptions, type RunResult } from './cmp.js';

const plugins: Array<[string, PluginConfig, string]> = [
  ['plain', loadPlugin('plugin.yaml'), 'examples/plain'],
  ['helm', loadPlugin('cmp/helm/plugin.yaml'), 'examples/helm'],
  ['kustomize', loadPlugin('cmp/kustomize/plugin.yaml'), 'examples/kustomize/overlays/prod'],
];
const canary = `canary-${randomBytes(8).toString('hex')}`;
const scratch: string[] = [];
test.after.always(() => scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const tmp = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'vaultfill-tenancy-'));
  scratch.push(dir);
  return dir;
};

interface Sidecar {
  readonly vault: TestVault;
  readonly env: Record<string, string>;
  readonly secretId: string;
}

let seeding: Promise<void> | undefined;
/** examples/secrets.yaml, latest versions, written once into this process's test Vault. */
function seeded(vault: TestVault): Promise<void> {
  seeding ??= (async () => {
    const { secrets } = parse(readFileSync(secretsFile, 'utf8')) as { secrets: Array<{ path: string; data?: unknown; versions?: unknown[] }> };
    for (const entry of secrets) await vault.request('POST', entry.path, { data: entry.versions?.at(-1) ?? entry.data });
  })();
  return seeding;
}

/** An AppRole identity for the sidecar that may read secret/data/demo/* (and, by Vault's default policy, look itself up). */
async function sidecar(id: string): Promise<Sidecar> {
  const vault = await sharedTestVault();
  await vault.request('POST', `sys/auth/tenancy-${id}`, { type: 'approle' });
  await vault.request('PUT', `sys/policies/acl/tenancy-${id}`, { policy: 'path "secret/data/demo/*" { capabilities = ["read"] }' });
  await vault.request('POST', `auth/tenancy-${id}/role/argocd`, { token_policies: [`tenancy-${id}`], token_ttl: '10m' });
  await seeded(vault);
  const roleId = (await vault.request('GET', `auth/tenancy-${id}/role/argocd/role-id`)).body.data.role_id as string;
  const secretId = (await vault.request('POST', `auth/tenancy-${id}/role/argocd/secret-id`)).body.data.secret_id as string;
  const env = { AVP_TYPE: 'vault', AVP_AUTH_TYPE: 'approle', AVP_ROLE_ID: roleId, AVP_SECRET_ID: secretId, AVP_MOUNT_PATH: `auth/tenancy-${id}`, VAULT_ADDR: vault.address, XDG_CACHE_HOME: join(tmp(), '.cache') };
  return { vault, env, secretId };
}

function clean(t: import('ava').ExecutionContext, result: RunResult, secrets: readonly string[]): void {
  for (const text of [result.stdout, result.stderr]) {
    t.false(text.includes(canary), 'a sidecar file reached the output');
    for (const secret of secrets) t.false(text.includes(secret), 'a credential reached the output');
  }
}

for (const [variant, plugin, appPath] of plugins) {
  test(`${variant}: an Application pointing the sidecar at its own Vault, with the k8s JWT path of its choice, is refused and that address gets nothing`, async (t) => {
    t.timeout(20 * 60_000, 'helm may be built first');
    const { env, secretId } = await sidecar(`addr-${variant}`);
    const capture = await startCapture(t);
    const jwt = join(tmp(), 'projected-token');
    writeFileSync(jwt, canary);
    const options: RunOptions = {
      cwd: join(repoRoot, appPath), appName: 'demo', appNamespace: 'demo', path: [launcherDir(), await installHelm()], sidecarEnv: env,
      appEnv: { VAULT_ADDR: capture.address, AVP_AUTH_TYPE: 'k8s', AVP_K8S_TOKEN_PATH: jwt },
    };
    const result = await runPlugin(plugin, options);
    t.is(result.code, 2, result.stderr);
    t.is(result.stdout, '');
    t.regex(result.stderr, /error CONFIG: ARGOCD_ENV_VAULT_ADDR: an Application may not set VAULT_ADDR/);
    t.regex(result.stderr, /error CONFIG: ARGOCD_ENV_AVP_K8S_TOKEN_PATH: an Application may not set AVP_K8S_TOKEN_PATH/);
    clean(t, result, [secretId]);
    t.deepEqual(capture.seen, []);
    // The same Application without those settings renders from the sidecar's Vault.
    const allowed = await runPlugin(plugin, { ...options, appEnv: { AVP_KV_VERSION: '2' } });
    t.is(allowed.code, 0, allowed.stderr);
    t.true(parseManifests(allowed.stdout).length > 0);
  });
}

test('plain: a placeholder for the sidecar’s own token (auth/token/lookup-self) is refused and never read', async (t) => {
  const { vault, env, secretId } = await sidecar('self');
  const proxy = await startProxy(vault.address);
  t.teardown(() => proxy.close());
  const app = tmp();
  cpSync(join(repoRoot, 'examples', 'plain'), app, { recursive: true });
  writeFileSync(join(app, 'steal.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: steal\n  annotations:\n    avp.kubernetes.io/kv-version: "1"\ndata:\n  token: <path:auth/token/lookup-self#id>\n');
  const result = await runPlugin(plugin('plain'), { cwd: app, appName: 'demo', appNamespace: 'demo', path: [launcherDir()], sidecarEnv: { ...env, VAULT_ADDR: proxy.address } });
  t.is(result.code, 5, result.stderr);
  t.is(result.stdout, '');
  t.regex(result.stderr, /error MOUNT_NOT_ALLOWED at .*steal\.yaml:8:\d+ \(document 1, ConfigMap\/steal, data\.token\) <path:auth\/token\/lookup-self#id>: auth\/token\/lookup-self is on a token mount/);
  t.is(proxy.count('auth/token/lookup-self'), 0, 'the token was never looked up');
  clean(t, result, [secretId]);
});

test('plain: a repository file symlinked to the sidecar’s token cache is refused, not echoed', async (t) => {
  const { env, secretId } = await sidecar('link');
  const app = tmp();
  cpSync(join(repoRoot, 'examples', 'plain'), app, { recursive: true });
  const cached = join(tmp(), 'token-0123.json');
  writeFileSync(cached, `{"token": "${canary}", "expiresAt": null}`);
  symlinkSync(cached, join(app, 'leak.yaml'));
  const result = await runPlugin(plugin('plain'), { cwd: app, appName: 'demo', appNamespace: 'demo', path: [launcherDir()], sidecarEnv: env });
  t.is(result.code, 3, result.stderr);
  t.is(result.stdout, '');
  t.regex(result.stderr, /error INPUT_READ at .*leak\.yaml: .*leads outside .* through a symlink/);
  clean(t, result, [secretId]);
});

function plugin(name: string): PluginConfig {
  return (plugins.find(([variant]) => variant === name) as [string, PluginConfig, string])[1];
}

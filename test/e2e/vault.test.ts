/**
 * The Argo CD plugins end to end against the real test Vault: examples/secrets.yaml is written
 * into Vault, each plugin runs the way the CMP server runs it (working directory = the app's
 * path, Argo CD's variables, backend settings in the sidecar's env), and the render must equal the
 * file-backend render of the same app, with one Vault read per distinct secret.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { startProxy } from '../helpers/proxy.js';
import { sharedTestVault } from '../vault/harness.js';
import { launcherDir, leftoverPlaceholders, loadPlugin, parseManifests, repoRoot, runPlugin, secretsFile, type PluginConfig, type RunOptions } from './cmp.js';

interface Entry {
  path: string;
  data?: Record<string, unknown>;
  versions?: Record<string, unknown>[];
}
const entries = (parse(readFileSync(secretsFile, 'utf8')) as { secrets: Entry[] }).secrets;

// Seeded once: the tests run concurrently, and a second round of versions written while
// another test renders would change what "latest" means under it.
const seeded = (async () => {
  const vault = await sharedTestVault();
  for (const entry of entries) {
    for (const data of entry.versions ?? [entry.data ?? {}]) {
      const r = await vault.request('POST', entry.path, { data });
      if (r.status >= 300) throw new Error(`seeding ${entry.path}: HTTP ${r.status}`);
    }
  }
  return vault;
})();
seeded.catch(() => undefined); // reported by the tests that await it

const apps: Array<[string, PluginConfig, string, Partial<RunOptions>]> = [
  ['plain', loadPlugin('plugin.yaml'), 'examples/plain', {}],
  ['kustomize', loadPlugin('cmp/kustomize/plugin.yaml'), 'examples/kustomize/overlays/prod', {}],
  ['helm', loadPlugin('cmp/helm/plugin.yaml'), 'examples/helm', { parameters: [{ name: 'values-files', array: ['values-prod.yaml'] }] }],
];

for (const [variant, plugin, appPath, extra] of apps) {
  test(`${variant}: the Argo CD render from Vault equals the offline render, one read per secret`, async (t) => {
    t.timeout(20 * 60_000);
    const vault = await seeded;
    const id = variant;
    await vault.request('POST', `sys/auth/e2e-${id}`, { type: 'approle' });
    await vault.request('PUT', `sys/policies/acl/e2e-${id}`, { policy: 'path "secret/data/demo/*" { capabilities = ["read"] }' });
    await vault.request('POST', `auth/e2e-${id}/role/argocd`, { token_policies: [`e2e-${id}`], token_ttl: '10m' });
    const roleId = (await vault.request('GET', `auth/e2e-${id}/role/argocd/role-id`)).body.data.role_id as string;
    const secretId = (await vault.request('POST', `auth/e2e-${id}/role/argocd/secret-id`)).body.data.secret_id as string;
    const proxy = await startProxy(vault.address);
    t.teardown(() => proxy.close());

    const path = [launcherDir()];
    if (variant === 'helm') {
      const helm = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'install-helm.mjs')], { encoding: 'utf8' });
      t.is(helm.status, 0, helm.stderr);
      path.push(dirname(helm.stdout.trim()));
    }
    const base: RunOptions = { cwd: join(repoRoot, appPath), appName: `demo-${variant}`, appNamespace: 'demo', path, ...extra };
    const fromVault = await runPlugin(plugin, {
      ...base,
      sidecarEnv: { AVP_TYPE: 'vault', AVP_AUTH_TYPE: 'approle', AVP_ROLE_ID: roleId, AVP_SECRET_ID: secretId, AVP_MOUNT_PATH: `auth/e2e-${id}`, VAULT_ADDR: proxy.address },
    });
    t.is(fromVault.code, 0, fromVault.stderr);
    const offline = await runPlugin(plugin, { ...base, sidecarEnv: { AVP_TYPE: 'file', AVP_SECRETS_FILE: secretsFile } });
    t.is(offline.code, 0, offline.stderr);

    const manifests = parseManifests(fromVault.stdout);
    t.true(manifests.length > 0);
    t.deepEqual(leftoverPlaceholders(manifests), []);
    t.deepEqual(manifests, parseManifests(offline.stdout));
    const reads = proxy.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/v1/secret/data/demo/'));
    t.is(reads.length, new Set(reads.map((r) => r.path)).size, 'no secret is read twice');
    t.is(proxy.count(`auth/e2e-${id}/login`), 1);
  });
}

// The sidecar image itself: built from the unchanged Dockerfile in a private Docker engine (or
// found in the cache), then run as examples/argocd/repo-server-patch.yaml runs it — user 999,
// read-only root, /tmp as scratch, /var/run/argocd and the plugins directory shared with the
// repo-server — with a stand-in for Argo CD's argocd-cmp-server in /var/run/argocd that records
// how it was started and stays up, so the tests run each plugin's commands in the container the
// way the cmp-server does (docker exec: same user, environment and filesystem).
// test/e2e/image-build.test.ts lints the Dockerfile and covers image-build.sh's refusal.
import test from 'ava';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { vaultfill } from '../helpers/cli.js';
import { startProxy } from '../helpers/proxy.js';
import { sharedTestVault } from '../vault/harness.js';
import { at, cmpEnvironment, find, fromBase64, leftoverPlaceholders, parseManifests, type Parameter } from '../e2e/cmp.js';
import { contextFiles, ensureImage, IMAGE, repoRoot, type BuiltImage } from './build.mjs';
import { startDocker, type Engine } from './dockerd.mjs';
import { patchContainer, removeStaleSidecars, startSidecar, type Sidecar } from './sidecar.js';

const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
const arg = (name: string) => new RegExp(`^ARG ${name}=(\\S+)`, 'm').exec(dockerfile)?.[1];
/** The runtime stage's ENV, as the Dockerfile sets it. */
const runtimeEnv = Object.fromEntries(
  [...(dockerfile.split(/^FROM /m).at(-1) ?? '').matchAll(/^ENV\s+(.+)$/gm)].flatMap((m) =>
    (m[1] ?? '').trim().split(/\s+/).map((pair) => pair.split('=') as [string, string]),
  ),
);
const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

// The checkout as the cmp-server sees it: the repository's examples, read-only, at /repo.
const checkout = '/repo';
const fileBackend = { AVP_TYPE: 'file', AVP_SECRETS_FILE: `${checkout}/examples/secrets.yaml` };
const cmpServerStub = [
  '#!/bin/sh',
  '# Stand-in for Argo CD argocd-cmp-server: records how the image started it, then stays up.',
  'printf "uid=%s gid=%s cwd=%s args=%s\\n" "$(id -u)" "$(id -g)" "$(pwd)" "$*" > /tmp/cmp-server-started',
  'exec sleep infinity',
  '',
].join('\n');

let engine: Engine | undefined;
let built: BuiltImage | undefined;
const sidecars = new Map<string, Sidecar>();
const scratch: string[] = [];

function tempDir(prefix: string, mode: number): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, mode); // the container's user 999 reads (var-files) or writes (plugins) it
  scratch.push(dir);
  return dir;
}

test.before(async (t) => {
  t.timeout(45 * 60_000, 'a cold cache builds the base-image stand-ins and the image (~5 min here)');
  engine = await startDocker();
  built = await ensureImage(engine);
  await removeStaleSidecars(engine);
  t.log(built.built ? `built ${IMAGE} in ${built.seconds}s` : `${IMAGE} from the cache`);
  const varFiles = tempDir('vaultfill-var-files-', 0o755);
  writeFileSync(join(varFiles, 'argocd-cmp-server'), cmpServerStub, { mode: 0o755 });
  const token = tempDir('vaultfill-token-', 0o755);
  writeFileSync(join(token, 'token'), 'not-a-real-token\n', { mode: 0o644 });
  const volumes = { 'var-files': varFiles, plugins: tempDir('vaultfill-plugins-', 0o777), 'vaultfill-vault-token': token };
  const examples = ['-v', `${join(repoRoot, 'examples')}:${checkout}/examples:ro`];
  const env = Object.entries(fileBackend).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
  for (const name of ['vaultfill', 'vaultfill-helm', 'vaultfill-kustomize']) {
    sidecars.set(name, await startSidecar(engine, IMAGE, name, volumes, ['--network', 'none', ...examples, ...env]));
  }
  // Reachable Vault: the host's loopback, where the test Vault listens.
  sidecars.set('vault', await startSidecar(engine, IMAGE, 'vaultfill', volumes, ['--network', 'host', ...examples], 'vault'));
});

test.after.always(async () => {
  for (const sidecar of sidecars.values()) await sidecar.remove();
  await engine?.close();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

function sidecar(name: string): Sidecar {
  const found = sidecars.get(name);
  if (!found) throw new Error(`sidecar ${name} did not start`);
  return found;
}

/** Runs a plugin's init (if any) and generate in its sidecar, as the cmp-server runs them. */
async function runPlugin(name: string, configPath: string, appPath: string, options: { parameters?: Parameter[]; env?: Record<string, string> } = {}) {
  const read = await sidecar(name).exec(['cat', configPath]);
  if (read.code !== 0) throw new Error(`${configPath}: ${read.stderr}`);
  const { parseDocument } = await import('yaml');
  const spec = (parseDocument(read.stdout).toJS() as { spec: { init?: { command: string[]; args?: string[] }; generate: { command: string[]; args?: string[] } } }).spec;
  const cwd = posix.join(checkout, appPath);
  const env = {
    ...cmpEnvironment({ cwd, checkoutRoot: checkout, appName: 'demo', appNamespace: 'demo', path: [], parameters: options.parameters ?? [] }),
    ...options.env,
  };
  // PATH and HOME are the image's own, not the machine's.
  delete env['PATH'];
  delete env['HOME'];
  for (const step of [spec.init, spec.generate]) {
    if (!step) continue;
    const result = await sidecar(name).exec([...step.command, ...(step.args ?? [])], { cwd, env });
    if (result.code !== 0 || step === spec.generate) return result;
  }
  throw new Error('unreachable');
}

test('the image is the current build context, built from the unchanged Dockerfile', async (t) => {
  t.truthy(built);
  const labels = JSON.parse((await engine!.docker(['image', 'inspect', '--format', '{{json .Config.Labels}}', IMAGE])).stdout) as Record<string, string>;
  t.is(labels['vaultfill.context'], built?.key);
  t.true(contextFiles().includes('src/cli.ts'), 'the key covers the sources');
});

test('the image starts Argo CD\'s cmp-server from /var/run/argocd as user 999, with the patch\'s args', async (t) => {
  const config = JSON.parse((await engine!.docker(['image', 'inspect', '--format', '{{json .Config}}', IMAGE])).stdout) as {
    User: string; Entrypoint: string[]; WorkingDir: string; Env: string[];
  };
  t.is(config.User, '999');
  t.deepEqual(config.Entrypoint, patchContainer('vaultfill').command, 'the patch runs the image\'s own entrypoint');
  t.is(config.WorkingDir, '/home/argocd');
  for (const name of ['vaultfill', 'vaultfill-helm', 'vaultfill-kustomize']) {
    let started = await sidecar(name).exec(['cat', '/tmp/cmp-server-started']);
    for (let i = 0; started.code !== 0 && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      started = await sidecar(name).exec(['cat', '/tmp/cmp-server-started']);
    }
    const args = (patchContainer(name).args ?? []).join(' ');
    t.is(started.stdout.trim(), `uid=999 gid=999 cwd=/home/argocd args=${args}`, name);
  }
});

test('HOME, XDG_CACHE_HOME and helm\'s homes are as the Dockerfile sets them, and only /tmp is writable', async (t) => {
  t.truthy(runtimeEnv['HOME']);
  t.truthy(runtimeEnv['XDG_CACHE_HOME']);
  const names = Object.keys(runtimeEnv);
  const printed = await sidecar('vaultfill').exec(['printenv', ...names]);
  t.is(printed.code, 0, printed.stderr);
  t.deepEqual(printed.stdout.trim().split('\n'), names.map((n) => runtimeEnv[n] ?? ''));
  const id = await sidecar('vaultfill').exec(['id', '-u']);
  t.is(id.stdout.trim(), '999');
  const home = await sidecar('vaultfill').exec(['touch', '/home/argocd/x']);
  t.regex(home.stderr, /Read-only file system/);
  t.is((await sidecar('vaultfill').exec(['touch', '/tmp/probe'])).code, 0);
});

test('vaultfill and its argocd-vault-plugin alias run inside, also through a symlink', async (t) => {
  for (const name of ['vaultfill', 'argocd-vault-plugin']) {
    const result = await sidecar('vaultfill').exec([name, 'version']);
    t.is(result.code, 0, result.stderr);
    t.true(result.stdout.includes(version), `${name} version: ${result.stdout}`);
  }
  // AVP-era setups link the binary elsewhere: the launcher finds the app from its real path.
  const linked = await sidecar('vaultfill').exec(['sh', '-c', 'ln -sf /usr/local/bin/argocd-vault-plugin /tmp/avp && /tmp/avp version']);
  t.is(linked.code, 0, linked.stderr);
  t.true(linked.stdout.includes(version));
});

test('helm and kustomize inside are the versions the Dockerfile builds', async (t) => {
  const helm = await sidecar('vaultfill-helm').exec(['helm', 'version', '--short']);
  t.is(helm.code, 0, helm.stderr);
  t.true(helm.stdout.startsWith(arg('HELM_VERSION') ?? '?'), helm.stdout);
  const kustomize = await sidecar('vaultfill-kustomize').exec(['kustomize', 'version']);
  t.is(kustomize.code, 0, kustomize.stderr);
  t.is(kustomize.stdout.trim(), arg('KUSTOMIZE_VERSION') ?? '?');
});

test('the plugin configs are where each sidecar\'s cmp-server reads them', async (t) => {
  const expected: Array<[string, string]> = [
    ['/home/argocd/cmp-server/config/plugin.yaml', 'plugin.yaml'],
    ...['plain', 'helm', 'kustomize'].map((v): [string, string] => [`/home/argocd/cmp-server/config-variants/${v}/plugin.yaml`, `cmp/${v}/plugin.yaml`]),
  ];
  for (const [inImage, source] of expected) {
    const result = await sidecar('vaultfill').exec(['cat', inImage]);
    t.is(result.stdout, readFileSync(join(repoRoot, source), 'utf8'), inImage);
  }
  for (const variant of ['helm', 'kustomize']) {
    t.deepEqual(patchContainer(`vaultfill-${variant}`).args, ['--config-dir-path', `/home/argocd/cmp-server/config-variants/${variant}`]);
  }
});

test('the app is compiled code and production dependencies only', async (t) => {
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const paths = Object.keys(lock.packages).filter((p) => p.startsWith('node_modules/'));
  // One container for all the checks: prints the lock's package paths that exist in the image.
  const script = 'cd /opt/vaultfill && ls -A && echo -- && for p in "$@"; do [ -e "$p/package.json" ] && echo "$p"; done; true';
  const result = await sidecar('vaultfill').exec(['sh', '-c', script, 'sh', ...paths]);
  t.is(result.code, 0, result.stderr);
  const [top = '', present = ''] = result.stdout.split('--\n');
  t.deepEqual(top.trim().split('\n').sort(), ['dist', 'node_modules', 'package.json']);
  const production = paths.filter((p) => !lock.packages[p]?.dev);
  t.true(production.length > 0 && production.length < paths.length);
  t.deepEqual(present.trim().split('\n').sort(), production.sort(), 'every production package, and no dev one');
});

test('plain: the default plugin renders examples/plain from the read-only checkout, as the machine\'s build does', async (t) => {
  const result = await runPlugin('vaultfill', '/home/argocd/cmp-server/config/plugin.yaml', 'examples/plain');
  t.is(result.code, 0, result.stderr);
  const onHost = await vaultfill(['generate', '.'], {
    cwd: join(repoRoot, 'examples', 'plain'),
    env: { AVP_TYPE: 'file', AVP_SECRETS_FILE: join(repoRoot, 'examples', 'secrets.yaml') },
  });
  t.is(onHost.code, 0, onHost.stderr);
  t.is(result.stdout, onHost.stdout);
  t.deepEqual(parseManifests(result.stdout).flatMap(leftoverPlaceholders), []);
});

test('helm: the helm plugin renders examples/helm with a values file, through `vaultfill helm`', async (t) => {
  const result = await runPlugin('vaultfill-helm', '/home/argocd/cmp-server/config-variants/helm/plugin.yaml', 'examples/helm', {
    parameters: [{ name: 'values-files', array: ['values-prod.yaml'] }],
  });
  t.is(result.code, 0, result.stderr);
  const manifests = parseManifests(result.stdout);
  t.deepEqual(manifests.flatMap(leftoverPlaceholders), []);
  t.is(at(find(manifests, 'Deployment', 'demo-demo-web'), 'spec', 'replicas'), 3, 'values-prod.yaml applied');
  const secret = find(manifests, 'Secret', 'demo-demo-web');
  t.is(at(secret, 'stringData', 'DB_PASSWORD'), 'correct-horse-battery-staple');
  t.is(fromBase64(at(secret, 'data', 'API_KEY')), 'ak_test_51HqLyjWDarjtT1zdp7dc');
});

test('kustomize: the kustomize plugin renders examples/kustomize/overlays/prod through `vaultfill kustomize`', async (t) => {
  const result = await runPlugin('vaultfill-kustomize', '/home/argocd/cmp-server/config-variants/kustomize/plugin.yaml', 'examples/kustomize/overlays/prod');
  t.is(result.code, 0, result.stderr);
  const manifests = parseManifests(result.stdout);
  t.deepEqual(manifests.flatMap(leftoverPlaceholders), []);
  const secret = find(manifests, 'Secret', 'prod-demo-web');
  t.is(at(secret, 'metadata', 'namespace'), 'demo-prod');
  t.is(at(secret, 'stringData', 'SESSION_SIGNING_KEY'), 'current-signing-key-v2', 'from the overlay');
  t.is(at(secret, 'stringData', 'DB_USER'), 'demo_app', 'from the base');
});

test('vault: on the host network the image reads the real test Vault, logging in once for two renders', async (t) => {
  t.timeout(10 * 60_000, 'the test Vault may need building');
  const vault = await sharedTestVault();
  const secrets = (await import('yaml')).parse(readFileSync(join(repoRoot, 'examples', 'secrets.yaml'), 'utf8')) as {
    secrets: { path: string; data?: Record<string, unknown>; versions?: Record<string, unknown>[] }[];
  };
  for (const entry of secrets.secrets) {
    for (const data of entry.versions ?? [entry.data ?? {}]) await vault.request('POST', entry.path, { data });
  }
  await vault.request('POST', 'sys/auth/image', { type: 'approle' });
  await vault.request('PUT', 'sys/policies/acl/image', { policy: 'path "secret/data/demo/*" { capabilities = ["read"] }' });
  await vault.request('POST', 'auth/image/role/argocd', { token_policies: ['image'], token_ttl: '10m' });
  const roleId = (await vault.request('GET', 'auth/image/role/argocd/role-id')).body.data.role_id as string;
  const secretId = (await vault.request('POST', 'auth/image/role/argocd/secret-id')).body.data.secret_id as string;
  const proxy = await startProxy(vault.address);
  t.teardown(() => proxy.close());
  const env = { AVP_TYPE: 'vault', VAULT_ADDR: proxy.address, AVP_AUTH_TYPE: 'approle', AVP_ROLE_ID: roleId, AVP_SECRET_ID: secretId, AVP_MOUNT_PATH: 'auth/image' };
  const config = '/home/argocd/cmp-server/config/plugin.yaml';
  const first = await runPlugin('vault', config, 'examples/plain', { env });
  t.is(first.code, 0, first.stderr);
  const second = await runPlugin('vault', config, 'examples/plain', { env });
  t.is(second.code, 0, second.stderr);
  const offline = await runPlugin('vaultfill', config, 'examples/plain');
  t.deepEqual(parseManifests(first.stdout), parseManifests(offline.stdout));
  t.is(second.stdout, first.stdout);
  t.is(proxy.count('auth/image/login'), 1, 'the token cached under XDG_CACHE_HOME (/tmp) served the second render');
});

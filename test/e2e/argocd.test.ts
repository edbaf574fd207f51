// The Argo CD plugin configs (plugin.yaml, cmp/*/plugin.yaml) run end to end, the way
// argocd-cmp-server runs them, against the examples and the local file backend.
// A separate suite runs the same pipelines against a real Vault.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import YAML from 'yaml';
import {
  at,
  distBin,
  find,
  fromBase64,
  installHelm,
  isRecord,
  launcherDir,
  leftoverPlaceholders,
  loadPlugin,
  parseManifests,
  repoRoot,
  runPlugin,
  secretsFile,
  sharedHome,
  writeExecutable,
  type PluginConfig,
  type RunOptions,
} from './cmp.js';

const examples = join(repoRoot, 'examples');
const plugins = {
  top: loadPlugin('plugin.yaml'),
  plain: loadPlugin('cmp/plain/plugin.yaml'),
  helm: loadPlugin('cmp/helm/plugin.yaml'),
  kustomize: loadPlugin('cmp/kustomize/plugin.yaml'),
};

// The sidecar's own settings (an Application may not choose the backend).
const fileBackend = { AVP_TYPE: 'file', AVP_SECRETS_FILE: secretsFile };

// --- the seeded values, read from examples/secrets.yaml --------------------------------
interface SeededSecret {
  path: string;
  data?: Record<string, unknown>;
  versions?: Record<string, unknown>[];
}
const seeded = (YAML.parse(readFileSync(secretsFile, 'utf8')) as { secrets: SeededSecret[] }).secrets;
function secret(path: string, key: string, version?: number): unknown {
  const entry = seeded.find((s) => s.path === path);
  const data = entry?.versions ? entry.versions[(version ?? entry.versions.length) - 1] : entry?.data;
  if (!data || !(key in data)) throw new Error(`examples/secrets.yaml has no ${path}#${key}`);
  return data[key];
}
const db = (key: string) => String(secret('secret/data/demo/db', key));
const app = (key: string) => String(secret('secret/data/demo/app', key));
const databaseUrl = `postgres://${db('username')}:${db('password')}@${db('host')}:${db('port')}/demo`;

// --- shared setup ---------------------------------------------------------------------
let bin = '';
test.before(() => {
  if (!existsSync(distBin)) throw new Error(`${distBin} is missing: run \`npm run build\` first`);
  bin = launcherDir();
});

// helm is built from the Go module proxy on first use (minutes when cold, cached after):
// start at once, so the other tests run while it builds.
const helmDir = installHelm();
helmDir.catch(() => undefined); // reported by the tests that need it
const HELM_WAIT_MS = 20 * 60_000;

function options(cwd: string, extra: Partial<RunOptions> = {}): RunOptions {
  return {
    cwd,
    appName: 'demo',
    appNamespace: 'demo',
    path: [bin],
    ...extra,
    sidecarEnv: { ...fileBackend, ...extra.sidecarEnv },
  };
}

const scratchDirs: string[] = [];
function scratch(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `vaultfill-e2e-${prefix}-`));
  scratchDirs.push(dir);
  return dir;
}

// --- the plugin configs themselves ----------------------------------------------------
const variants: [string, PluginConfig, string, string][] = [
  ['plain', plugins.plain, 'vaultfill', './.vaultfill'],
  ['helm', plugins.helm, 'vaultfill-helm', './.vaultfill-helm'],
  ['kustomize', plugins.kustomize, 'vaultfill-kustomize', './.vaultfill-kustomize'],
];

for (const [variant, plugin, name, marker] of variants) {
  test(`cmp/${variant}/plugin.yaml is a CMP v2 plugin named ${name} discovered by its marker file`, (t) => {
    t.is(plugin.apiVersion, 'argoproj.io/v1alpha1');
    t.is(plugin.kind, 'ConfigManagementPlugin');
    t.is(plugin.metadata.name, name);
    t.is(plugin.spec.version, undefined, 'no version: Applications name the plugin without a suffix');
    t.deepEqual(plugin.spec.discover, { fileName: marker });
    t.false('lockRepo' in plugin.spec, 'lockRepo is not a field of Argo CD\'s PluginConfig');
    t.true(plugin.spec.generate.command.length > 0);
    // One vaultfill process, no shell pipeline: its exit status is the render's.
    t.deepEqual(plugin.spec.generate.command, variant === 'plain' ? ['vaultfill', 'generate', '.'] : ['vaultfill', variant]);
    t.is(plugin.spec.generate.args, undefined);
    if (plugin.spec.init?.command[0] === 'bash') t.regex((plugin.spec.init.args ?? []).join(' '), /set -euo pipefail/);
    for (const parameter of plugin.spec.parameters?.static ?? []) {
      t.regex(parameter.name, /^[a-z][a-z0-9-]*$/);
      t.true(['string', 'array', 'map'].includes(parameter.collectionType ?? 'string'), parameter.name);
      if (parameter.collectionType === 'array') t.true(Array.isArray(parameter.array), parameter.name);
    }
  });
}

test('the top-level plugin.yaml is the plain variant', (t) => {
  t.deepEqual(plugins.top.metadata, plugins.plain.metadata);
  t.deepEqual(plugins.top.spec, plugins.plain.spec);
});

test('each example carries the marker of its plugin and no other', (t) => {
  const markers = ['.vaultfill', '.vaultfill-helm', '.vaultfill-kustomize'];
  const expected: Record<string, string | undefined> = {
    plain: '.vaultfill',
    helm: '.vaultfill-helm',
    'kustomize/overlays/prod': '.vaultfill-kustomize',
    'kustomize/base': undefined,
  };
  for (const [dir, marker] of Object.entries(expected)) {
    const present = markers.filter((m) => existsSync(join(examples, dir, m)));
    t.deepEqual(present, marker ? [marker] : [], dir);
  }
});

// --- plain ----------------------------------------------------------------------------
test('plain: generate fills inline, annotation-path and modifier placeholders', async (t) => {
  const result = await runPlugin(plugins.plain, options(join(examples, 'plain')));
  t.is(result.code, 0, result.stderr);
  const manifests = parseManifests(result.stdout);
  t.deepEqual(manifests.flatMap(leftoverPlaceholders), []);

  const deployment = find(manifests, 'Deployment', 'demo-web');
  t.is(at(deployment, 'spec', 'replicas'), 2, 'a whole-value placeholder keeps the number type');
  const env = at(deployment, 'spec', 'template', 'spec', 'containers', 0, 'env');
  t.deepEqual(env, [
    { name: 'LOG_LEVEL', value: app('log-level') },
    { name: 'DB_HOST', value: db('host') },
  ]);

  const secretManifest = find(manifests, 'Secret', 'demo-web');
  t.deepEqual(at(secretManifest, 'stringData'), {
    DB_USER: db('username'),
    DB_PASSWORD: db('password'),
    DATABASE_URL: databaseUrl,
    SESSION_SIGNING_KEY: 'current-signing-key-v2',
    SESSION_SIGNING_KEY_PREVIOUS: 'previous-signing-key-v1',
  });
  t.is(fromBase64(at(secretManifest, 'data', 'API_KEY')), app('api-key'));

  t.deepEqual(at(find(manifests, 'ConfigMap', 'demo-web'), 'data'), {
    SEARCH_ENABLED: 'true',
    REQUEST_TIMEOUT_SECONDS: '30',
    DB_PORT: '5432',
  });
  t.is(at(find(manifests, 'NetworkPolicy', 'demo-web-to-db'), 'spec', 'egress', 0, 'ports', 0, 'port'), 5432);
  find(manifests, 'Service', 'demo-web');
  t.false(manifests.some((m) => at(m, 'metadata', 'name') === 'demo-web-legacy'), 'commented-out resource');
  t.is(manifests.length, 5);
});

test('plain: an Application env may set AVP_KV_VERSION but not the backend; the refusal names the setting', async (t) => {
  const kv = await runPlugin(plugins.plain, options(join(examples, 'plain'), { appEnv: { AVP_KV_VERSION: '2' } }));
  t.is(kv.code, 0, kv.stderr);
  t.deepEqual(parseManifests(kv.stdout).flatMap(leftoverPlaceholders), []);
  const refused = await runPlugin(plugins.plain, options(join(examples, 'plain'), { appEnv: { AVP_SECRETS_FILE: join(scratch('other'), 'secrets.yaml') } }));
  t.is(refused.code, 2);
  t.is(refused.stdout, '');
  t.regex(refused.stderr, /error CONFIG: ARGOCD_ENV_AVP_SECRETS_FILE: an Application may not set AVP_SECRETS_FILE/);
});

test('plain: a missing secret fails the render with nothing on stdout', async (t) => {
  const dir = scratch('plain-missing');
  cpSync(join(examples, 'plain'), dir, { recursive: true });
  writeFileSync(
    join(dir, 'extra.yaml'),
    'apiVersion: v1\nkind: Secret\nmetadata:\n  name: extra\nstringData:\n  TOKEN: <path:secret/data/demo/nowhere#token>\n',
  );
  const result = await runPlugin(plugins.plain, options(dir));
  t.not(result.code, 0);
  t.is(result.stdout, '');
  t.regex(result.stderr, /secret\/data\/demo\/nowhere/);
  t.false(result.stderr.includes(String(db('password'))), 'no secret value on stderr');
});

// --- helm -----------------------------------------------------------------------------
async function helmOptions(cwd: string, extra: Partial<RunOptions> = {}): Promise<RunOptions> {
  const helm = await helmDir;
  return options(cwd, { appName: 'demo-helm', ...extra, path: [bin, helm, ...(extra.path ?? [])] });
}

test('helm: helm template | vaultfill generate - renders the example chart', async (t) => {
  t.timeout(HELM_WAIT_MS, 'building helm with scripts/install-helm.mjs');
  const result = await runPlugin(plugins.helm, await helmOptions(join(examples, 'helm')));
  t.is(result.code, 0, result.stderr);
  const manifests = parseManifests(result.stdout);
  t.deepEqual(manifests.flatMap(leftoverPlaceholders), []);

  const deployment = find(manifests, 'Deployment', 'demo-helm-demo-web');
  t.is(at(deployment, 'metadata', 'namespace'), 'demo', 'namespace from ARGOCD_APP_NAMESPACE');
  t.is(at(deployment, 'spec', 'replicas'), 2);
  t.is(at(deployment, 'spec', 'template', 'spec', 'containers', 0, 'image'), 'ghcr.io/example/demo-web:1.4.2');

  const secretManifest = find(manifests, 'Secret', 'demo-helm-demo-web');
  t.deepEqual(at(secretManifest, 'stringData'), {
    DB_USER: db('username'),
    DB_PASSWORD: db('password'),
    DATABASE_URL: databaseUrl,
  });
  t.is(fromBase64(at(secretManifest, 'data', 'API_KEY')), app('api-key'), 'b64enc in the chart, filled inside');

  t.deepEqual(at(find(manifests, 'ConfigMap', 'demo-helm-demo-web'), 'data'), {
    LOG_LEVEL: app('log-level'),
    DB_HOST: db('host'),
    DB_PORT: '5432',
    REQUEST_TIMEOUT_SECONDS: '30',
  });
  t.is(manifests.length, 3);
});

test('helm: values-files, helm-args and release-name parameters reach helm template', async (t) => {
  t.timeout(HELM_WAIT_MS, 'building helm with scripts/install-helm.mjs');
  const result = await runPlugin(
    plugins.helm,
    await helmOptions(join(examples, 'helm'), {
      parameters: [
        { name: 'values-files', array: ['values-prod.yaml'] },
        { name: 'helm-args', array: ['--set-string', 'image.tag=1.4.3 with spaces'] },
        { name: 'release-name', string: 'shop' },
      ],
    }),
  );
  t.is(result.code, 0, result.stderr);
  const manifests = parseManifests(result.stdout);
  const deployment = find(manifests, 'Deployment', 'shop-demo-web');
  t.is(at(deployment, 'spec', 'replicas'), 3);
  t.is(at(deployment, 'spec', 'template', 'spec', 'containers', 0, 'image'), 'ghcr.io/example/demo-web:1.4.3 with spaces');
  t.is(at(find(manifests, 'ConfigMap', 'shop-demo-web'), 'data', 'LOG_LEVEL'), 'warn');
  t.deepEqual(manifests.flatMap(leftoverPlaceholders), []);
});

test('helm: HELM_ARGS and HELM_VALUES from argocd-vault-plugin setups still work', async (t) => {
  t.timeout(HELM_WAIT_MS, 'building helm with scripts/install-helm.mjs');
  const result = await runPlugin(
    plugins.helm,
    await helmOptions(join(examples, 'helm'), {
      appEnv: { HELM_ARGS: '--set-string image.tag=2.0.0  --values values-prod.yaml', HELM_VALUES: 'logLevel: error\n' },
    }),
  );
  t.is(result.code, 0, result.stderr);
  const manifests = parseManifests(result.stdout);
  const deployment = find(manifests, 'Deployment', 'demo-helm-demo-web');
  t.is(at(deployment, 'spec', 'replicas'), 3);
  t.is(at(deployment, 'spec', 'template', 'spec', 'containers', 0, 'image'), 'ghcr.io/example/demo-web:2.0.0');
  t.is(at(find(manifests, 'ConfigMap', 'demo-helm-demo-web'), 'data', 'LOG_LEVEL'), 'error');
});

test('helm: an absolute values file is refused', async (t) => {
  t.timeout(HELM_WAIT_MS, 'building helm with scripts/install-helm.mjs');
  const result = await runPlugin(
    plugins.helm,
    await helmOptions(join(examples, 'helm'), { parameters: [{ name: 'values-files', array: ['/etc/passwd'] }] }),
  );
  t.is(result.code, 2);
  t.is(result.stdout, '');
  t.regex(result.stderr, /^error RENDER_ARGUMENT: values-files\[0\] "\/etc\/passwd" is not allowed: the --values file must be relative/);
});

test('helm: a chart that fails to render fails the sync with nothing on stdout', async (t) => {
  t.timeout(HELM_WAIT_MS, 'building helm with scripts/install-helm.mjs');
  const dir = scratch('helm-broken');
  cpSync(join(examples, 'helm'), dir, { recursive: true });
  writeFileSync(
    join(dir, 'templates', 'broken.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\ndata:\n  digest: {{ required "image.digest is required" .Values.image.digest }}\n',
  );
  const result = await runPlugin(plugins.helm, await helmOptions(dir));
  t.not(result.code, 0);
  t.is(result.stdout, '');
  t.regex(result.stderr, /image\.digest is required/);
});

test('helm: a failed render exits with helm\'s status and message, and vaultfill adds nothing', async (t) => {
  t.timeout(HELM_WAIT_MS, 'building helm with scripts/install-helm.mjs');
  const dir = scratch('helm-fail');
  cpSync(join(examples, 'helm'), dir, { recursive: true });
  writeFileSync(join(dir, 'templates', 'broken.yaml'), '{{ fail "boom" }}\n');
  const result = await runPlugin(plugins.helm, await helmOptions(dir));
  t.is(result.code, 1, 'helm template exits 1');
  t.is(result.stdout, '');
  t.regex(result.stderr, /^Error: execution error at \(demo-web\/templates\/broken\.yaml:1:3\): boom\n/, 'helm\'s error comes first');
  t.false(result.stderr.includes('EMPTY_INPUT'));
  t.false(/^(error [A-Z_]+|vaultfill:)/m.test(result.stderr), 'no line of vaultfill\'s own');
});

test('helm: init builds missing chart dependencies once, and KUBE_VERSION / KUBE_API_VERSIONS reach helm', async (t) => {
  t.timeout(HELM_WAIT_MS, 'building helm with scripts/install-helm.mjs');
  const root = scratch('helm-deps');
  const chart = join(root, 'app');
  const sub = join(root, 'sub');
  writeFiles(sub, {
    'Chart.yaml': 'apiVersion: v2\nname: sub\nversion: 0.1.0\n',
    'values.yaml': 'token: "<path:secret/data/demo/app#api-key>"\n',
    'templates/cm.yaml':
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sub\ndata:\n  token: {{ .Values.token | quote }}\n',
  });
  writeFiles(chart, {
    '.vaultfill-helm': '',
    'Chart.yaml':
      'apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n  - name: sub\n    version: 0.1.0\n    repository: file://../sub\n',
    'templates/cm.yaml': [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  name: app',
      'data:',
      '  kube: {{ .Capabilities.KubeVersion.Version | quote }}',
      '  monitoring: {{ .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" | quote }}',
      '  user: "<path:secret/data/demo/db#username>"',
      '',
    ].join('\n'),
  });
  const run = async () =>
    runPlugin(
      plugins.helm,
      await helmOptions(chart, { kubeVersion: '1.29+', kubeApiVersions: 'v1,apps/v1,monitoring.coreos.com/v1' }),
    );

  const first = await run();
  t.is(first.code, 0, first.stderr);
  const packaged = join(chart, 'charts', 'sub-0.1.0.tgz');
  t.true(existsSync(packaged), 'helm dependency build ran');
  const manifests = parseManifests(first.stdout);
  t.is(at(find(manifests, 'ConfigMap', 'sub'), 'data', 'token'), app('api-key'));
  t.deepEqual(at(find(manifests, 'ConfigMap', 'app'), 'data'), {
    kube: 'v1.29.0',
    monitoring: 'true',
    user: db('username'),
  });

  const builtAt = statSync(packaged).mtimeMs;
  const second = await run();
  t.is(second.code, 0, second.stderr);
  t.is(statSync(packaged).mtimeMs, builtAt, 'dependencies already present are not fetched again');
});

// --- kustomize ------------------------------------------------------------------------
test('kustomize: the prod overlay renders with placeholders from base and overlay filled', async (t) => {
  const result = await runPlugin(
    plugins.kustomize,
    options(join(examples, 'kustomize', 'overlays', 'prod'), {
      appName: 'demo-kustomize',
      appNamespace: 'demo-prod',
      parameters: [{ name: 'kustomize-args', array: ['--load-restrictor', 'LoadRestrictionsRootOnly'] }],
    }),
  );
  t.is(result.code, 0, result.stderr);
  const manifests = parseManifests(result.stdout);
  t.deepEqual(manifests.flatMap(leftoverPlaceholders), []);

  const deployment = find(manifests, 'Deployment', 'prod-demo-web');
  t.is(at(deployment, 'metadata', 'namespace'), 'demo-prod');
  t.is(at(deployment, 'spec', 'replicas'), 2);
  t.deepEqual(at(deployment, 'spec', 'template', 'spec', 'containers', 0, 'env'), [
    { name: 'LOG_LEVEL', value: app('log-level') },
  ]);
  const secretManifest = find(manifests, 'Secret', 'prod-demo-web');
  t.deepEqual(at(secretManifest, 'stringData'), {
    DB_USER: db('username'),
    DB_PASSWORD: db('password'),
    SESSION_SIGNING_KEY: 'current-signing-key-v2',
    SESSION_SIGNING_KEY_PREVIOUS: 'previous-signing-key-v1',
  });
  t.is(fromBase64(at(secretManifest, 'data', 'API_KEY')), app('api-key'));
  t.deepEqual(at(find(manifests, 'ConfigMap', 'prod-demo-web'), 'data'), { DB_HOST: db('host'), DB_PORT: '5432' });
  t.is(manifests.length, 3);
});

test('kustomize: a kustomize binary on PATH is preferred and gets the kustomize-args', async (t) => {
  const stub = scratch('kustomize-bin');
  writeExecutable(
    join(stub, 'kustomize'),
    [
      '#!/bin/sh',
      'echo "kustomize-stub $*" >&2',
      'cat <<EOF',
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  name: from-stub',
      'data:',
      '  host: <path:secret/data/demo/db#host>',
      'EOF',
      '',
    ].join('\n'),
  );
  const result = await runPlugin(
    plugins.kustomize,
    options(join(examples, 'kustomize', 'overlays', 'prod'), {
      path: [bin, stub],
      parameters: [{ name: 'kustomize-args', array: ['--enable-helm'] }],
    }),
  );
  t.is(result.code, 0, result.stderr);
  t.regex(result.stderr, /kustomize-stub build \. --enable-helm/);
  t.is(at(find(parseManifests(result.stdout), 'ConfigMap', 'from-stub'), 'data', 'host'), db('host'));
});

test('kustomize: a broken kustomization fails the sync with kustomize\'s status and message only', async (t) => {
  const dir = scratch('kustomize-broken');
  cpSync(join(examples, 'kustomize'), dir, { recursive: true });
  writeFileSync(
    join(dir, 'overlays', 'prod', 'kustomization.yaml'),
    'resources:\n  - ../../base\n  - does-not-exist.yaml\n',
  );
  const result = await runPlugin(plugins.kustomize, options(join(dir, 'overlays', 'prod'), { checkoutRoot: dir }));
  t.is(result.code, 1, 'kubectl kustomize exits 1');
  t.is(result.stdout, '');
  t.regex(result.stderr, /does-not-exist\.yaml/);
  t.false(/^(error [A-Z_]+|vaultfill:)/m.test(result.stderr), 'no line of vaultfill\'s own, such as EMPTY_INPUT');
});

test('kustomize: a placeholder without a secret fails the sync with nothing on stdout', async (t) => {
  const dir = scratch('kustomize-missing');
  cpSync(join(examples, 'kustomize'), dir, { recursive: true });
  writeFileSync(
    join(dir, 'base', 'configmap.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo-web\ndata:\n  X: <path:secret/data/demo/db#no-such-key>\n',
  );
  const result = await runPlugin(plugins.kustomize, options(join(dir, 'overlays', 'prod')));
  t.not(result.code, 0);
  t.is(result.stdout, '');
  t.regex(result.stderr, /no-such-key/);
});

// --- examples/argocd ------------------------------------------------------------------
test('examples/argocd: each Application names an existing plugin, path and declared parameters', (t) => {
  const byName = new Map(variants.map(([, plugin]) => [plugin.metadata.name, plugin]));
  for (const file of ['application-plain.yaml', 'application-helm.yaml', 'application-kustomize.yaml']) {
    const application: unknown = YAML.parse(readFileSync(join(examples, 'argocd', file), 'utf8'));
    t.is(at(application, 'kind'), 'Application', file);
    const path = at(application, 'spec', 'source', 'path');
    t.is(typeof path, 'string', file);
    const source = join(repoRoot, String(path));
    t.true(existsSync(source), `${file}: ${String(path)}`);
    const named = at(application, 'spec', 'source', 'plugin', 'name');
    // Without a name Argo CD picks the plugin whose discovery rule matches the path.
    const plugin =
      typeof named === 'string'
        ? byName.get(named)
        : [...byName.values()].find((p) => existsSync(join(source, p.spec.discover?.fileName ?? '\0')));
    if (!plugin) return t.fail(`${file}: no plugin for ${String(named ?? path)}`);
    t.true(existsSync(join(source, plugin.spec.discover?.fileName ?? '\0')), `${file}: marker present`);
    const declared = new Set((plugin.spec.parameters?.static ?? []).map((p) => p.name));
    const used = at(application, 'spec', 'source', 'plugin', 'parameters');
    for (const parameter of Array.isArray(used) ? used : []) {
      t.true(declared.has(String(at(parameter, 'name'))), `${file}: parameter ${String(at(parameter, 'name'))}`);
    }
  }
});

test('examples/argocd: the repo-server patch adds one CMP sidecar per variant', (t) => {
  const dir = scratch('argocd-kustomize');
  for (const file of ['repo-server-patch.yaml', 'serviceaccount.yaml']) {
    cpSync(join(examples, 'argocd', file), join(dir, file));
  }
  // A stand-in for Argo CD's install.yaml: the repo-server with the volumes it really has.
  writeFiles(dir, {
    'repo-server.yaml': [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata: {name: argocd-repo-server}',
      'spec:',
      '  selector: {matchLabels: {app.kubernetes.io/name: argocd-repo-server}}',
      '  template:',
      '    metadata: {labels: {app.kubernetes.io/name: argocd-repo-server}}',
      '    spec:',
      '      containers: [{name: argocd-repo-server, image: quay.io/argoproj/argocd:v3.3.0}]',
      '      volumes: [{name: var-files, emptyDir: {}}, {name: plugins, emptyDir: {}}]',
      '',
    ].join('\n'),
    'kustomization.yaml': [
      'namespace: argocd',
      'resources: [repo-server.yaml, serviceaccount.yaml]',
      'patches: [{path: repo-server-patch.yaml}]',
      'images: [{name: vaultfill, newName: ghcr.io/example/vaultfill, newTag: 0.1.0}]',
      '',
    ].join('\n'),
  });
  const built = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  t.is(built.status, 0, built.stderr);
  const deployment = find(parseManifests(built.stdout), 'Deployment', 'argocd-repo-server');
  const spec = at(deployment, 'spec', 'template', 'spec');
  const containers = (at(spec, 'containers') as unknown[]).filter(isRecord);
  const volumes = new Set(((at(spec, 'volumes') as unknown[]) ?? []).map((v) => at(v, 'name')));
  const configDirs: Record<string, string> = {
    vaultfill: '/home/argocd/cmp-server/config',
    'vaultfill-helm': '/home/argocd/cmp-server/config-variants/helm',
    'vaultfill-kustomize': '/home/argocd/cmp-server/config-variants/kustomize',
  };
  for (const [name, configDir] of Object.entries(configDirs)) {
    const container = containers.find((c) => c.name === name);
    if (!container) return t.fail(`no sidecar ${name}`);
    t.is(container.image, 'ghcr.io/example/vaultfill:0.1.0');
    t.deepEqual(container.command, ['/var/run/argocd/argocd-cmp-server']);
    const args = (container.args as string[] | undefined) ?? [];
    t.is(args[1] ?? '/home/argocd/cmp-server/config', configDir, name);
    t.is(at(container, 'securityContext', 'runAsUser'), 999);
    const mounts = (at(container, 'volumeMounts') as unknown[]).map((m) => [at(m, 'name'), at(m, 'mountPath')]);
    t.deepEqual(mounts.find(([, path]) => path === '/var/run/argocd')?.[0], 'var-files', name);
    t.deepEqual(mounts.find(([, path]) => path === '/home/argocd/cmp-server/plugins')?.[0], 'plugins', name);
    for (const [volume] of mounts) t.true(volumes.has(volume), `${name}: volume ${String(volume)}`);
    const env = new Map(((at(container, 'env') as unknown[]) ?? []).map((e) => [at(e, 'name'), at(e, 'value')]));
    t.is(env.get('AVP_AUTH_TYPE'), 'k8s');
    t.is(env.get('AVP_K8S_ROLE'), 'argocd');
  }
});

test('examples/argocd/vault-setup.sh writes the same secrets as examples/secrets.yaml', (t) => {
  const script = readFileSync(join(examples, 'argocd', 'vault-setup.sh'), 'utf8');
  t.is(spawnSync('bash', ['-n', join(examples, 'argocd', 'vault-setup.sh')]).status, 0);
  t.regex(script, /vault auth enable kubernetes/);
  t.regex(script, /vault write auth\/kubernetes\/role\/argocd/);
  t.regex(script, /vault policy write/);
  const written = new Map<string, unknown[]>();
  for (const m of script.matchAll(/vault kv put -mount=(\S+) (\S+) - <<'JSON'\n([\s\S]*?)\nJSON/g)) {
    const path = `${m[1]}/data/${m[2]}`;
    written.set(path, [...(written.get(path) ?? []), JSON.parse(m[3] ?? '')]);
  }
  const expected = new Map(seeded.map((s) => [s.path, s.versions ?? [s.data]]));
  t.deepEqual(written, expected);
});

// --- shell hygiene --------------------------------------------------------------------
// shellcheck is installed by .ci/run (Debian package); a machine without it fails here, never skips.
test('shellcheck passes the plugin scripts and shell scripts', (t) => {
  t.is(spawnSync('shellcheck', ['--version']).status, 0, 'shellcheck is not installed: apt-get install shellcheck');
  const dir = scratch('shellcheck');
  const files = [join(repoRoot, 'scripts', 'image-build.sh'), join(examples, 'argocd', 'vault-setup.sh')];
  // The binary's first two lines are run by sh (src/bin.ts): the launcher that starts Node.
  const launcher = join(dir, 'launcher.sh');
  writeFileSync(launcher, `${readFileSync(join(repoRoot, 'src', 'bin.ts'), 'utf8').split('\n').slice(0, 2).join('\n')}\n`);
  files.push(launcher);
  for (const [variant, plugin] of variants) {
    for (const [phase, command] of Object.entries({ init: plugin.spec.init, generate: plugin.spec.generate })) {
      if (command?.command[0] !== 'bash') continue;
      const file = join(dir, `${variant}-${phase}.sh`);
      writeFileSync(file, `#!/usr/bin/env bash\n${command.args?.[0] ?? ''}`);
      files.push(file);
    }
  }
  const result = spawnSync('shellcheck', files, { encoding: 'utf8' });
  t.is(result.status, 0, result.stdout);
});

test.after.always(() => {
  for (const dir of [bin, sharedHome(), ...scratchDirs]) if (dir) rmSync(dir, { recursive: true, force: true });
});

function writeFiles(root: string, files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) {
    const file = join(root, name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
}

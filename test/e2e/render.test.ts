// Issue 13, end to end: the helm and kustomize plugins as shipped, run the way argocd-cmp-server
// runs them, with real helm and `kubectl kustomize`. Each reproduction of an attack by an
// Application author must fail the render, name what was refused, and let no content of the
// sidecar's files (a canary standing for /tmp/.cache/vaultfill) and no sidecar credential reach
// stdout or stderr. The renders an Application may legitimately ask for keep working.
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import {
  at,
  cmpEnvironment,
  distBin,
  find,
  installHelm,
  launcherDir,
  loadPlugin,
  parseManifests,
  repoRoot,
  runPlugin,
  secretsFile,
  sharedHome,
  type Parameter,
  type PluginConfig,
  type RunOptions,
  type RunResult,
} from './cmp.js';

const plugins = { helm: loadPlugin('cmp/helm/plugin.yaml'), kustomize: loadPlugin('cmp/kustomize/plugin.yaml') };
const HELM_WAIT_MS = 20 * 60_000;
const helmDir = installHelm();
helmDir.catch(() => undefined); // reported by the tests that need it

const canary = `canary-${randomBytes(12).toString('hex')}`;
const secretId = `secret-id-${randomBytes(12).toString('hex')}`;

let bin = '';
const scratchDirs: string[] = [];
test.before(() => {
  if (!existsSync(distBin)) throw new Error(`${distBin} is missing: run \`npm run build\` first`);
  bin = launcherDir();
});
test.after.always(() => {
  for (const dir of [bin, sharedHome(), ...scratchDirs]) if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Sidecar {
  /** Stands for the sidecar's /tmp: its .cache/vaultfill holds the canary "token". */
  readonly tmp: string;
  readonly token: string;
  /** The repository checkout, and the Application's directory in it. */
  readonly checkout: string;
  readonly app: string;
}

/** A sidecar /tmp with the canary, and a checkout whose apps/web holds `example` (under examples/). */
function sidecar(example: string): Sidecar {
  const tmp = realpathSync(mkdtempSync(join(tmpdir(), 'vaultfill-e2e-sidecar-')));
  scratchDirs.push(tmp);
  const token = join(tmp, '.cache', 'vaultfill', 'token-0123abcd');
  mkdirSync(dirname(token), { recursive: true });
  writeFileSync(token, `${canary}\n`, { mode: 0o600 });
  const checkout = join(tmp, '_cmp_server', 'b7f1c6e2');
  const app = join(checkout, 'apps', 'web');
  mkdirSync(dirname(app), { recursive: true });
  cpSync(join(repoRoot, 'examples', example), app, { recursive: true });
  return { tmp, token, checkout, app };
}

/** How the Application's render is run: backend settings and the credential are the sidecar's own. */
async function render(
  plugin: PluginConfig,
  where: Sidecar,
  options: { parameters?: Parameter[]; appEnv?: Record<string, string>; cwd?: string } = {},
): Promise<RunResult> {
  return runPlugin(plugin, await runOptions(where, options));
}

async function runOptions(where: Sidecar, options: { parameters?: Parameter[]; appEnv?: Record<string, string>; cwd?: string }): Promise<RunOptions> {
  return {
    cwd: options.cwd ?? where.app,
    checkoutRoot: where.checkout,
    appName: 'web',
    appNamespace: 'web',
    path: [bin, await helmDir],
    sidecarEnv: {
      AVP_TYPE: 'file',
      AVP_SECRETS_FILE: secretsFile,
      AVP_AUTH_TYPE: 'approle',
      AVP_ROLE_ID: 'sidecar-role',
      AVP_SECRET_ID: secretId,
      XDG_CACHE_HOME: join(where.tmp, '.cache'),
    },
    ...(options.parameters ? { parameters: options.parameters } : {}),
    ...(options.appEnv ? { appEnv: options.appEnv } : {}),
  };
}

function nothingLeaked(t: ExecutionContext, result: RunResult): void {
  for (const [stream, text] of [['stdout', result.stdout], ['stderr', result.stderr]] as const) {
    t.false(text.includes(canary), `the canary file reached ${stream}`);
    t.false(text.includes(secretId), `AVP_SECRET_ID reached ${stream}`);
  }
}

function refused(t: ExecutionContext, result: RunResult, code: number, message: RegExp): void {
  t.is(result.code, code, result.stderr);
  t.is(result.stdout, '');
  t.regex(result.stderr, message);
  nothingLeaked(t, result);
}

// --- helm: the reproductions ------------------------------------------------------------------
test('helm: a post-renderer shell that would print AVP_SECRET_ID and the token is refused', async (t) => {
  t.timeout(HELM_WAIT_MS, 'building helm with scripts/install-helm.mjs');
  const where = sidecar('helm');
  const script = `cat; printf '%s' "$AVP_SECRET_ID" >&2; cat ${where.token} >&2`;
  const result = await render(plugins.helm, where, {
    parameters: [{ name: 'helm-args', array: ['--post-renderer', 'bash', '--post-renderer-args', '-c', '--post-renderer-args', script] }],
  });
  refused(t, result, 2, /^error RENDER_ARGUMENT: helm-args\[0\] "--post-renderer" is not allowed: runs a program in the sidecar; allowed: --set, /);
});

test('helm: HELM_ARGS with a post-renderer is refused', async (t) => {
  t.timeout(HELM_WAIT_MS, 'building helm with scripts/install-helm.mjs');
  const where = sidecar('helm');
  const result = await render(plugins.helm, where, { appEnv: { HELM_ARGS: `--set a=1 --post-renderer bash --post-renderer-args -c --post-renderer-args cat${'${IFS}'}${where.token}` } });
  refused(t, result, 2, /^error RENDER_ARGUMENT: HELM_ARGS\[2\] "--post-renderer" is not allowed/);
});

test('helm: --set-file and -f naming sidecar files are refused, absolute or through ..', async (t) => {
  t.timeout(HELM_WAIT_MS, 'building helm with scripts/install-helm.mjs');
  const where = sidecar('helm');
  const up = relative(where.app, where.token);
  const cases: [string[], RegExp][] = [
    [['--set-file', 'token=/etc/hostname'], /"\/etc\/hostname" is not allowed: the --set-file file must be relative/],
    [['--set-file', `token=${where.token}`], /".*" is not allowed: the --set-file file must be relative/],
    [['--set-file', `token=${up}`], /".*token-0123abcd" is not allowed: the --set-file file resolves outside the repository checkout/],
    [['-f', where.token], /".*" is not allowed: the --values file must be relative/],
    [['--values', `values-prod.yaml,${up}`], /".*" is not allowed: the --values file resolves outside the repository checkout/],
    [['--values=https://attacker.example/values.yaml'], /".*" is not allowed: the --values file is a URL/],
    [['--name-template', '{{ env "AVP_SECRET_ID" }}'], /"--name-template" is not allowed: can read the sidecar's environment/],
  ];
  for (const [args, message] of cases) {
    const result = await render(plugins.helm, where, { parameters: [{ name: 'helm-args', array: args }] });
    refused(t, result, 2, new RegExp(`^error RENDER_ARGUMENT: helm-args\\[\\d\\] ${message.source}`));
  }
  const list = await render(plugins.helm, where, { parameters: [{ name: 'values-files', array: [`values-prod.yaml,${up}`] }] });
  refused(t, list, 2, /^error RENDER_ARGUMENT: values-files\[0\] ".*token-0123abcd" is not allowed: the --values file resolves outside/);
});

test('helm: a values file that is a symlink to a file outside the checkout is refused', async (t) => {
  t.timeout(HELM_WAIT_MS, 'building helm with scripts/install-helm.mjs');
  const where = sidecar('helm');
  symlinkSync(where.token, join(where.app, 'values-leak.yaml'));
  const result = await render(plugins.helm, where, { parameters: [{ name: 'values-files', array: ['values-leak.yaml'] }] });
  refused(t, result, 2, /^error RENDER_ARGUMENT: values-files\[0\] "values-leak.yaml" is not allowed: the --values file resolves outside the repository checkout\n/);
});

test('helm: a templates/ symlink, or a .Files.Get on a symlink, out of the chart is refused before helm runs', async (t) => {
  t.timeout(HELM_WAIT_MS, 'building helm with scripts/install-helm.mjs');
  const template = sidecar('helm');
  symlinkSync(template.token, join(template.app, 'templates', 'leak.yaml'));
  refused(t, await render(plugins.helm, template), 3, /^error RENDER_CHECKOUT: "apps\/web\/templates\/leak.yaml" is a symbolic link that leads outside the repository checkout/);

  const files = sidecar('helm');
  symlinkSync(dirname(files.token), join(files.app, 'files'));
  writeFileSync(join(files.app, 'templates', 'leak.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: leak}\ndata:\n  token: {{ .Files.Get "files/token-0123abcd" | quote }}\n');
  refused(t, await render(plugins.helm, files), 3, /^error RENDER_CHECKOUT: "apps\/web\/files" is a symbolic link/);
});

// --- helm: what keeps working -------------------------------------------------------------------
test('helm: values files anywhere in the checkout, helm-args and HELM_VALUES still render', async (t) => {
  t.timeout(HELM_WAIT_MS, 'building helm with scripts/install-helm.mjs');
  const where = sidecar('helm');
  writeFileSync(join(where.checkout, 'shared-values.yaml'), 'replicaCount: 4\n');
  mkdirSync(join(where.app, 'files'));
  writeFileSync(join(where.app, 'files', 'motd.txt'), 'hello');
  const result = await render(plugins.helm, where, {
    parameters: [
      { name: 'values-files', array: ['values-prod.yaml', '../../shared-values.yaml'] },
      { name: 'helm-args', array: ['--set-string', 'image.tag=2.0.0', '--set-file=motd=files/motd.txt', '-n', 'other', '--skip-tests'] },
    ],
    appEnv: { HELM_ARGS: '--set-json labels={"team":"web"}', HELM_VALUES: 'logLevel: error' },
  });
  t.is(result.code, 0, result.stderr);
  nothingLeaked(t, result);
  const manifests = parseManifests(result.stdout);
  const deployment = find(manifests, 'Deployment', 'web-demo-web');
  t.is(at(deployment, 'spec', 'replicas'), 4, 'a values file above the chart, inside the checkout');
  t.is(at(deployment, 'metadata', 'namespace'), 'other');
  t.is(at(deployment, 'spec', 'template', 'spec', 'containers', 0, 'image'), 'ghcr.io/example/demo-web:2.0.0');
  t.is(at(find(manifests, 'ConfigMap', 'web-demo-web'), 'data', 'LOG_LEVEL'), 'error');
});

// --- kustomize: the reproductions -------------------------------------------------------------
/** An overlay whose configMapGenerator reads the canary token: only LoadRestrictionsNone would allow it. */
function generatorOverlay(where: Sidecar): void {
  writeFileSync(
    join(where.app, 'overlays', 'prod', 'kustomization.yaml'),
    `resources: [../../base]\nconfigMapGenerator:\n  - name: leak\n    files: [token=${relative(join(where.app, 'overlays', 'prod'), where.token)}]\n`,
  );
}

test('kustomize: --load-restrictor LoadRestrictionsNone with a generator reading the token is refused', async (t) => {
  const where = sidecar('kustomize');
  generatorOverlay(where);
  const cwd = join(where.app, 'overlays', 'prod');
  for (const array of [['--load-restrictor', 'LoadRestrictionsNone'], ['--load-restrictor=LoadRestrictionsNone']]) {
    const result = await render(plugins.kustomize, where, { cwd, parameters: [{ name: 'kustomize-args', array }] });
    refused(t, result, 2, /^error RENDER_ARGUMENT: kustomize-args\[0\] "--load-restrictor LoadRestrictionsNone" is not allowed: --load-restrictor accepts only LoadRestrictionsRootOnly/);
  }
  // Without the flag, kustomize's own root restriction refuses the file, and says so without its content.
  const plain = await render(plugins.kustomize, where, { cwd });
  t.is(plain.code, 1);
  t.regex(plain.stderr, /security; file .* is not in or below/);
  nothingLeaked(t, plain);
});

test('kustomize: --enable-exec, --enable-alpha-plugins, --helm-command, --mount, --env and --output are refused', async (t) => {
  const where = sidecar('kustomize');
  const cwd = join(where.app, 'overlays', 'prod');
  const cases: [string[], RegExp][] = [
    [['--enable-exec'], /"--enable-exec" is not allowed: runs programs in the sidecar/],
    [['--enable-alpha-plugins'], /"--enable-alpha-plugins" is not allowed/],
    [['--enable-helm', '--helm-command', '/bin/sh'], /"--helm-command" is not allowed: runs a program of your choice/],
    [['--mount', `type=bind,src=${where.tmp},dst=/x`], /"--mount" is not allowed/],
    [['-e', 'AVP_SECRET_ID'], /"-e" is not allowed/],
    [['--output', where.tmp], /"--output" is not allowed: writes files in the sidecar/],
    [['../../../../..'], /"..\/..\/..\/..\/.." is not allowed: is not a flag/],
  ];
  for (const [array, message] of cases) {
    const result = await render(plugins.kustomize, where, { cwd, parameters: [{ name: 'kustomize-args', array }] });
    refused(t, result, 2, new RegExp(`^error RENDER_ARGUMENT: kustomize-args\\[\\d\\] ${message.source}`));
  }
});

test('kustomize: a resource symlinked out of the checkout is refused before kustomize runs', async (t) => {
  const where = sidecar('kustomize');
  symlinkSync(where.token, join(where.app, 'base', 'leak.yaml'));
  refused(t, await render(plugins.kustomize, where, { cwd: join(where.app, 'overlays', 'prod') }), 3, /^error RENDER_CHECKOUT: "apps\/web\/base\/leak.yaml" is a symbolic link/);
});

/** A chart under the overlay for kustomize's Helm inflator. */
function localChart(where: Sidecar, helmCharts: string, extra: Record<string, string> = {}): string {
  const dir = join(where.app, 'overlays', 'prod');
  const files: Record<string, string> = {
    'charts/c/Chart.yaml': 'apiVersion: v2\nname: c\nversion: 0.1.0\n',
    'charts/c/values.yaml': 'host: "<path:secret/data/demo/db#host>"\n',
    'charts/c/templates/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-chart\ndata:\n  release: {{ .Release.Name | quote }}\n  host: {{ .Values.host | quote }}\n',
    'kustomization.yaml': `resources: [../../base]\nhelmCharts:\n${helmCharts}`,
    ...extra,
  };
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

test('kustomize: --enable-helm renders a chart from the repository with the image\'s helm', async (t) => {
  t.timeout(HELM_WAIT_MS, 'building helm with scripts/install-helm.mjs');
  const where = sidecar('kustomize');
  const cwd = localChart(where, '  - name: c\n    releaseName: web\n');
  const result = await render(plugins.kustomize, where, { cwd, parameters: [{ name: 'kustomize-args', array: ['--enable-helm', '--helm-kube-version', 'v1.29.0'] }] });
  t.is(result.code, 0, result.stderr);
  nothingLeaked(t, result);
  t.deepEqual(at(find(parseManifests(result.stdout), 'ConfigMap', 'from-chart'), 'data'), { release: 'web', host: 'postgres.demo.svc.cluster.local' });
});

test('kustomize: --enable-helm cannot reach the sidecar\'s environment through a chart\'s nameTemplate', async (t) => {
  t.timeout(HELM_WAIT_MS, 'building helm with scripts/install-helm.mjs');
  const where = sidecar('kustomize');
  const cwd = localChart(where, `  - name: c\n    nameTemplate: '{{ env "AVP_SECRET_ID" }}'\n`);
  // Control: with the sidecar's whole environment, as the old plugin script ran it, helm
  // renders the credential into the manifests, as the release name.
  const direct = spawnSync('kubectl', ['kustomize', '.', '--enable-helm'], { cwd, encoding: 'utf8', env: cmpEnvironment(await runOptions(where, { cwd })) });
  t.true(direct.stdout.includes(secretId), 'the attack works against an untrimmed environment');

  const result = await render(plugins.kustomize, where, { cwd, parameters: [{ name: 'kustomize-args', array: ['--enable-helm'] }] });
  t.not(result.code, 0);
  t.is(result.stdout, '');
  nothingLeaked(t, result);
});

test('kustomize: --enable-helm cannot run a downloader plugin from the repository (helmGlobals.configHome)', async (t) => {
  t.timeout(HELM_WAIT_MS, 'building helm with scripts/install-helm.mjs');
  const where = sidecar('kustomize');
  // helm runs a downloader plugin's command as <plugin dir>/<command>; enough .. reach /bin/sh.
  const command = `${'../'.repeat(24)}bin/sh -c cat${'${IFS}'}${where.token}>&2;exit${'${IFS}'}1`;
  const cwd = localChart(where, '  - name: evil\n    repo: evil://charts.example\n    version: 1.0.0\n    releaseName: web\nhelmGlobals:\n  configHome: ./helm-home\n', {
    'helm-home/.data/plugins/evil/plugin.yaml': `name: evil\nversion: 0.1.0\nusage: x\ndescription: x\ndownloaders:\n  - command: "${command}"\n    protocols: [evil]\n`,
  });
  // Control: as the old plugin script ran it, the plugin runs and prints the token.
  const direct = spawnSync('kubectl', ['kustomize', '.', '--enable-helm'], { cwd, encoding: 'utf8', env: cmpEnvironment(await runOptions(where, { cwd })) });
  t.true(direct.stderr.includes(canary), 'the attack works when helm may load plugins from the repository');

  const result = await render(plugins.kustomize, where, { cwd, parameters: [{ name: 'kustomize-args', array: ['--enable-helm'] }] });
  t.is(result.code, 1);
  t.is(result.stdout, '');
  t.regex(result.stderr, /could not find protocol handler for: evil/);
  nothingLeaked(t, result);
});

// --- issue 14: Helm's toJson writes `<` as \u003c --------------------------------------------
test('helm: a placeholder that a template writes with toJson (`<` as \\u003c) is resolved; JSON text in a string is an error, never passed through', async (t) => {
  t.timeout(HELM_WAIT_MS, 'building helm with scripts/install-helm.mjs');
  const where = sidecar('helm');
  const template = join(where.app, 'templates', 'json.yaml');
  writeFileSync(template, 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: json\nstringData:\n  password: {{ .Values.db.password | toJson }}\n');
  const result = await render(plugins.helm, where);
  t.is(result.code, 0, result.stderr);
  t.is(at(find(parseManifests(result.stdout), 'Secret', 'json'), 'stringData', 'password'), 'correct-horse-battery-staple');
  // `toJson | quote`: the YAML value is JSON text whose `<` is still escaped.
  writeFileSync(template, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: json\ndata:\n  config.json: {{ dict "user" .Values.db.username | toJson | quote }}\n');
  const quoted = await render(plugins.helm, where);
  t.is(quoted.code, 5, quoted.stderr);
  t.is(quoted.stdout, '');
  t.regex(quoted.stderr, /error PLACEHOLDER_SYNTAX at helm template:\d+:\d+ \(document \d+, ConfigMap\/json, data\["config\.json"\]\): a placeholder written as \\u003cpath:… .*toRawJson/);
});

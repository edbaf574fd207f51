// `vaultfill helm` and `vaultfill kustomize` through main(), with stand-ins for helm, kustomize
// and kubectl that record how they were run. The real tools run in test/e2e/render.test.ts.
import test from 'ava';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runMain } from '../helpers/cli.js';

const manifest = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: <path:secret/data/app#password>\n';

interface Recorded {
  tool: string;
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /** The text of each --values file, read while the tool ran. */
  values: Record<string, string>;
}

/** A checkout (repo/apps/web), a bin directory of stand-ins, and a local secrets file. */
function setup(t: import('ava').ExecutionContext, behaviour: { exit?: number; stderr?: string; stdout?: string } = {}) {
  const base = realpathSync(mkdtempSync(path.join(tmpdir(), 'vaultfill-render-')));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const root = path.join(base, 'repo');
  const app = path.join(root, 'apps', 'web');
  const bin = path.join(base, 'bin');
  const log = path.join(base, 'runs.jsonl');
  mkdirSync(app, { recursive: true });
  mkdirSync(bin);
  writeFileSync(path.join(app, 'values-prod.yaml'), 'replicas: 3\n');
  writeFileSync(path.join(base, 'secrets.yaml'), 'secrets:\n  - path: secret/data/app\n    data: {password: hunter2-secret}\n');
  const stub = [
    `#!${process.execPath}`,
    "const fs = require('node:fs');",
    "const argv = process.argv.slice(2);",
    'const values = {};',
    "argv.forEach((a, i) => { if (a === '--values' && argv[i + 1]?.startsWith('/')) values[argv[i + 1]] = fs.readFileSync(argv[i + 1], 'utf8'); });",
    `fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ tool: require('node:path').basename(process.argv[1]), argv, cwd: process.cwd(), env: process.env, values }) + '\\n');`,
    `process.stderr.write(${JSON.stringify(behaviour.stderr ?? '')});`,
    `process.stdout.write(${JSON.stringify(behaviour.stdout ?? manifest)});`,
    `process.exitCode = ${behaviour.exit ?? 0};`,
    '',
  ].join('\n');
  for (const tool of ['helm', 'kustomize', 'kubectl']) {
    writeFileSync(path.join(bin, tool), stub);
    chmodSync(path.join(bin, tool), 0o755);
  }
  const runs = (): Recorded[] => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Recorded) : []);
  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    PATH: `${bin}:/usr/bin:/bin`,
    HOME: path.join(base, 'home'),
    AVP_TYPE: 'file',
    AVP_SECRETS_FILE: path.join(base, 'secrets.yaml'),
    AVP_SECRET_ID: 'sidecar-secret-id',
    VAULT_TOKEN: 'sidecar-vault-token',
    ARGOCD_APP_NAME: 'demo',
    ARGOCD_APP_NAMESPACE: 'demo-ns',
    ARGOCD_APP_SOURCE_PATH: 'apps/web',
    ...extra,
  });
  return { base, root, app, bin, runs, env };
}

function vaultfill(argv: string[], env: Record<string, string>, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return runMain(argv, { env, cwd });
}

test('helm runs helm template with the arguments the plugin script built, and generate fills its output', async (t) => {
  const { app, runs, env } = setup(t);
  const r = await vaultfill(
    ['helm'],
    env({
      KUBE_VERSION: 'v1.29.3+k3s1',
      KUBE_API_VERSIONS: 'v1,apps/v1',
      PARAM_VALUES_FILES_0: 'values-prod.yaml',
      PARAM_HELM_ARGS_0: '--set-string',
      PARAM_HELM_ARGS_1: 'image.tag=1.4.3 with spaces',
      ARGOCD_ENV_HELM_ARGS: '--set a=1\t-f values-prod.yaml',
      ARGOCD_ENV_HELM_VALUES: 'logLevel: error',
    }),
    app,
  );
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /password: hunter2-secret/);
  const [run] = runs();
  if (!run) return t.fail('helm did not run');
  const inline = run.argv[run.argv.length - 1] ?? '';
  t.deepEqual(run.argv, [
    'template', 'demo', '.', '--namespace', 'demo-ns', '--include-crds', '--kube-version', 'v1.29.3', '--api-versions', 'v1,apps/v1',
    '--values', 'values-prod.yaml', '--set-string', 'image.tag=1.4.3 with spaces', '--set', 'a=1', '-f', 'values-prod.yaml', '--values', inline,
  ]);
  t.is(run.cwd, app);
  t.deepEqual(run.values, { [inline]: 'logLevel: error\n' }, 'HELM_VALUES, applied last');
  t.false(existsSync(inline), 'the inline values file is removed afterwards');
  t.false(existsSync(path.dirname(inline)));
});

test('helm: the release-name parameter names the release; KUBE_VERSION 1.29+ becomes v1.29.0', async (t) => {
  const { app, runs, env } = setup(t);
  const r = await vaultfill(['helm'], env({ PARAM_RELEASE_NAME: 'shop', KUBE_VERSION: '1.29+' }), app);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(runs()[0]?.argv.slice(0, 8), ['template', 'shop', '.', '--namespace', 'demo-ns', '--include-crds', '--kube-version', 'v1.29.0']);
});

test('helm: refused arguments fail the render before helm runs, one line each, exit 2', async (t) => {
  const { app, runs, env } = setup(t);
  const r = await vaultfill(
    ['helm'],
    env({
      PARAM_RELEASE_NAME: '--post-renderer',
      PARAM_VALUES_FILES_0: 'values-prod.yaml,/etc/passwd',
      PARAM_HELM_ARGS_0: '--post-renderer',
      PARAM_HELM_ARGS_1: 'bash',
      ARGOCD_ENV_HELM_ARGS: '--set-file k=../../../secrets.yaml',
    }),
    app,
  );
  t.is(r.code, 2);
  t.is(r.stdout, '');
  t.deepEqual(runs(), [], 'helm never ran');
  const lines = r.stderr.trim().split('\n');
  t.regex(lines[0] ?? '', /^error RENDER_ARGUMENT: release-name "--post-renderer" is not allowed: the release name is not a valid helm release name/);
  t.regex(lines[1] ?? '', /^error RENDER_ARGUMENT: values-files\[0\] "\/etc\/passwd" is not allowed: the --values file must be relative/);
  t.regex(lines[2] ?? '', /^error RENDER_ARGUMENT: helm-args\[0\] "--post-renderer" is not allowed: runs a program in the sidecar; allowed: /);
  t.regex(lines[3] ?? '', /^error RENDER_ARGUMENT: HELM_ARGS\[1\] "..\/..\/..\/secrets.yaml" is not allowed: the --set-file file resolves outside the repository checkout/);
  t.is(lines[4], 'vaultfill: 4 errors; nothing was written to stdout');
  t.false(r.stderr.includes('hunter2-secret'));
});

test('helm: files anywhere in the checkout are allowed, beyond it only when run outside Argo CD', async (t) => {
  const { root, app, runs, env } = setup(t);
  writeFileSync(path.join(root, 'common.yaml'), 'x: 1\n');
  const inArgo = await vaultfill(['helm'], env({ PARAM_VALUES_FILES_0: '../../common.yaml' }), app);
  t.is(inArgo.code, 0, inArgo.stderr);
  t.is(runs().length, 1);
  // Without ARGOCD_APP_SOURCE_PATH the checkout is the working directory.
  const local = await vaultfill(['helm'], env({ ARGOCD_APP_SOURCE_PATH: '', PARAM_VALUES_FILES_0: '../../common.yaml' }), app);
  t.is(local.code, 2);
  t.regex(local.stderr, /values-files\[0\] "..\/..\/common.yaml" is not allowed: the --values file resolves outside the repository checkout/);
});

test('helm: a failing helm decides the exit status; its stderr passes through unchanged, with nothing after it', async (t) => {
  const { app, env } = setup(t, { exit: 7, stdout: '', stderr: 'Error: execution error at (demo/templates/x.yaml:1:3): boom\n' });
  const r = await vaultfill(['helm'], env(), app);
  t.is(r.code, 7);
  t.is(r.stdout, '');
  t.is(r.stderr, 'Error: execution error at (demo/templates/x.yaml:1:3): boom\n');
});

test('helm: warnings on stderr pass through and the render goes on', async (t) => {
  const { app, env } = setup(t, { stderr: 'walk.go:75: found symbolic link in path\n' });
  const r = await vaultfill(['helm'], env(), app);
  t.is(r.code, 0);
  t.is(r.stderr, 'walk.go:75: found symbolic link in path\n');
  t.regex(r.stdout, /hunter2-secret/);
});

test('helm: errors in the rendered manifests are located in "helm template"', async (t) => {
  const { app, env } = setup(t, { stdout: manifest.replace('#password', '#nope') });
  const r = await vaultfill(['helm'], env(), app);
  t.is(r.code, 5);
  t.regex(r.stderr, /^error KEY_NOT_FOUND at helm template:6:\d+ \(document 1, Secret\/db, stringData.password\)/);
});

test('helm: an empty but successful render is EMPTY_INPUT, as for generate', async (t) => {
  const { app, env } = setup(t, { stdout: '' });
  const r = await vaultfill(['helm'], env(), app);
  t.is(r.code, 3);
  t.regex(r.stderr, /EMPTY_INPUT/);
  t.is((await vaultfill(['helm', '--allow-empty'], env(), app)).code, 0);
});

test('the tools run without the sidecar\'s credentials and with helm\'s plugin locations pinned', async (t) => {
  const { base, app, runs, env } = setup(t);
  const r = await vaultfill(['helm'], env({ ARGOCD_ENV_AVP_KV_VERSION: '2', HTTPS_PROXY: 'http://proxy:3128', HELM_DATA_HOME: '/data/helm', LANG: 'C.UTF-8' }), app);
  t.is(r.code, 0, r.stderr);
  const seen = runs()[0]?.env ?? {};
  for (const name of ['AVP_SECRET_ID', 'VAULT_TOKEN', 'AVP_TYPE', 'AVP_SECRETS_FILE', 'ARGOCD_ENV_AVP_KV_VERSION', 'ARGOCD_APP_NAME']) t.false(name in seen, name);
  t.is(seen.HTTPS_PROXY, 'http://proxy:3128');
  t.is(seen.LANG, 'C.UTF-8');
  t.is(seen.HOME, path.join(base, 'home'));
  t.is(seen.HELM_PLUGINS, '/data/helm/plugins');
  t.is(seen.HELM_REGISTRY_CONFIG, path.join(base, 'home', '.config', 'helm', 'registry', 'config.json'));
  t.is(seen.HELM_REPOSITORY_CONFIG, path.join(base, 'home', '.config', 'helm', 'repositories.yaml'));
  t.is(seen.HELM_REPOSITORY_CACHE, path.join(base, 'home', '.cache', 'helm', 'repository'));
});

test('a checkout with a symlink out of it is refused before the tool runs (exit 3)', async (t) => {
  const { base, app, root, runs, env } = setup(t);
  mkdirSync(path.join(app, 'templates'));
  symlinkSync(path.join(base, 'secrets.yaml'), path.join(app, 'templates', 'x.yaml'));
  for (const command of ['helm', 'kustomize']) {
    const r = await vaultfill([command], env(), app);
    t.is(r.code, 3, command);
    t.is(r.stdout, '');
    t.is(r.stderr, `error RENDER_CHECKOUT: "apps/web/templates/x.yaml" is a symbolic link that leads outside the repository checkout; replace it with the file itself or a link inside the repository\n`);
  }
  t.deepEqual(runs(), []);
  t.true(existsSync(root));
});

test('kustomize runs kustomize build . with the allowed kustomize-args', async (t) => {
  const { app, runs, env } = setup(t);
  const r = await vaultfill(['kustomize'], env({ PARAM_KUSTOMIZE_ARGS_0: '--enable-helm', PARAM_KUSTOMIZE_ARGS_1: '--load-restrictor', PARAM_KUSTOMIZE_ARGS_2: 'LoadRestrictionsRootOnly' }), app);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /hunter2-secret/);
  t.deepEqual(runs().map((run) => [run.tool, run.argv]), [['kustomize', ['build', '.', '--enable-helm', '--load-restrictor', 'LoadRestrictionsRootOnly']]]);
});

test('kustomize falls back to kubectl kustomize . when there is no kustomize on PATH', async (t) => {
  const { bin, app, runs, env } = setup(t);
  rmSync(path.join(bin, 'kustomize'));
  const r = await vaultfill(['kustomize'], env({ PARAM_KUSTOMIZE_ARGS_0: '--enable-helm' }), app);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(runs().map((run) => [run.tool, run.argv]), [['kubectl', ['kustomize', '.', '--enable-helm']]]);
});

test('kustomize: refused arguments fail before kustomize runs', async (t) => {
  const { app, runs, env } = setup(t);
  const r = await vaultfill(['kustomize'], env({ PARAM_KUSTOMIZE_ARGS_0: '--load-restrictor', PARAM_KUSTOMIZE_ARGS_1: 'LoadRestrictionsNone' }), app);
  t.is(r.code, 2);
  t.regex(r.stderr, /^error RENDER_ARGUMENT: kustomize-args\[0\] "--load-restrictor LoadRestrictionsNone" is not allowed: --load-restrictor accepts only LoadRestrictionsRootOnly; allowed: --enable-helm, /);
  t.deepEqual(runs(), []);
});

test('helm and kustomize take no operands, and say so', async (t) => {
  const { app, env } = setup(t);
  for (const argv of [['helm', '.'], ['kustomize', 'overlays/prod']]) {
    const r = await vaultfill(argv, env(), app);
    t.is(r.code, 2);
    t.regex(r.stderr, /^error USAGE: (helm|kustomize) takes no arguments/);
  }
});

test('a missing tool is a settings error', async (t) => {
  const { app, env } = setup(t);
  const r = await vaultfill(['helm'], env({ PATH: '/nonexistent' }), app);
  t.is(r.code, 2);
  t.regex(r.stderr, /^error CONFIG: helm is not on PATH/);
});

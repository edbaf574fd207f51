import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  HELM_FLAGS,
  KUSTOMIZE_FLAGS,
  checkArguments,
  releaseNameProblem,
  setFilePairs,
  splitWords,
  valuesList,
  type Argument,
  type FlagTable,
} from '../../src/render/arguments.js';

const items = (where: string, ...values: string[]): Argument[] => values.map((value, i) => ({ value, where: `${where}[${i}]` }));

function refused(t: import('ava').ExecutionContext, table: FlagTable, values: string[], pattern: RegExp): void {
  const result = checkArguments(items('helm-args', ...values), table);
  t.is(result.errors.length, 1, `${JSON.stringify(values)} should be refused`);
  const error = result.errors[0];
  t.is(error?.code, 'RENDER_ARGUMENT');
  t.is(error?.exitCode, 2);
  t.regex(error?.message ?? '', pattern);
}

function accepted(t: import('ava').ExecutionContext, table: FlagTable, values: string[]): void {
  const result = checkArguments(items('helm-args', ...values), table);
  t.deepEqual(result.errors.map((e) => e.message), [], JSON.stringify(values));
}

// --- helm: the attacks of issue 13 ------------------------------------------------------
test('a post-renderer is refused, naming the argument, where it came from and what is allowed', (t) => {
  refused(t, HELM_FLAGS, ['--post-renderer', 'bash', '--post-renderer-args', '-c'], /^helm-args\[0\] "--post-renderer" is not allowed: runs a program in the sidecar; allowed: --set, /);
  refused(t, HELM_FLAGS, ['--post-renderer=bash'], /helm-args\[0\] "--post-renderer=bash" is not allowed: runs a program/);
  refused(t, HELM_FLAGS, ['--post-renderer-args', 'x'], /"--post-renderer-args" is not allowed/);
});

test('a refused flag after allowed ones is reported at its own index', (t) => {
  refused(t, HELM_FLAGS, ['--set', 'a=1', '--post-renderer', 'bash'], /^helm-args\[2\] "--post-renderer"/);
});

test('flags that read sidecar files, reach the network or the cluster, or write files are refused', (t) => {
  for (const flag of [
    '--output-dir', '--repo', '--version', '--ca-file', '--cert-file', '--key-file', '--keyring', '--kubeconfig', '--kube-token',
    '--kube-context', '--kube-apiserver', '--kube-ca-file', '--kube-as-user', '--registry-config', '--repository-config',
    '--repository-cache', '--username', '--password',
  ]) {
    refused(t, HELM_FLAGS, [flag, 'x'], new RegExp(`^helm-args\\[0\\] "${flag}" is not allowed: `));
  }
  for (const flag of ['--dependency-update', '--validate', '--enable-dns', '--debug', '--devel', '--verify', '--plain-http', '--insecure-skip-tls-verify', '--generate-name', '--release-name']) {
    refused(t, HELM_FLAGS, [flag], new RegExp(`"${flag}" is not allowed: `));
  }
  refused(t, HELM_FLAGS, ['--name-template', '{{ env "AVP_SECRET_ID" }}'], /"--name-template" is not allowed: can read the sidecar's environment/);
  refused(t, HELM_FLAGS, ['--dry-run=server'], /"--dry-run=server" is not allowed/);
});

test('unknown flags, positionals, -- and combined or attached short flags are refused', (t) => {
  refused(t, HELM_FLAGS, ['--no-such-flag'], /"--no-such-flag" is not allowed: is not a known render flag/);
  refused(t, HELM_FLAGS, ['other-chart'], /"other-chart" is not allowed: is not a flag/);
  refused(t, HELM_FLAGS, ['-'], /"-" is not allowed: is not a flag/);
  refused(t, HELM_FLAGS, [''], /"" is not allowed: is not a flag/);
  refused(t, HELM_FLAGS, ['--', '--post-renderer'], /"--" is not allowed: ends the flags/);
  refused(t, HELM_FLAGS, ['-fvalues.yaml'], /combined or attached short flags/);
  refused(t, HELM_FLAGS, ['-f=values.yaml'], /combined or attached short flags/);
  refused(t, HELM_FLAGS, ['-af', 'x'], /combined or attached short flags/);
  refused(t, HELM_FLAGS, ['-g'], /"-g" is not allowed: is not an allowed short flag/);
  refused(t, HELM_FLAGS, ['-h'], /is not an allowed short flag/);
  refused(t, HELM_FLAGS, ['--Set', 'a=1'], /is not a known render flag/);
});

test('a flag that needs a value must have it in the same source', (t) => {
  refused(t, HELM_FLAGS, ['--set'], /"--set" is not allowed: needs a value in the next item/);
  refused(t, HELM_FLAGS, ['--set', 'a=1', '-f'], /helm-args\[2\] "-f" is not allowed: needs a value/);
});

test('switches take no value, or =true / =false', (t) => {
  accepted(t, HELM_FLAGS, ['--include-crds', '--skip-tests=true', '--no-hooks=false']);
  refused(t, HELM_FLAGS, ['--skip-tests=yes'], /takes no value/);
  // A word after a switch is a positional, as it is for helm.
  refused(t, HELM_FLAGS, ['--skip-tests', 'true'], /helm-args\[1\] "true" is not allowed: is not a flag/);
});

// --- helm: what stays allowed -------------------------------------------------------------
test('every allowed helm flag passes in its --flag value and --flag=value forms', (t) => {
  for (const [name, flag] of Object.entries(HELM_FLAGS.allowed)) {
    if (flag.takes === 'nothing') {
      accepted(t, HELM_FLAGS, [`--${name}`]);
      continue;
    }
    const value = flag.files === 'pairs' ? 'key=file.yaml' : flag.files === 'list' ? 'file.yaml' : 'image.tag=v1';
    accepted(t, HELM_FLAGS, [`--${name}`, value]);
    accepted(t, HELM_FLAGS, [`--${name}=${value}`]);
  }
  for (const [letter, name] of Object.entries(HELM_FLAGS.short)) {
    t.truthy(HELM_FLAGS.allowed[name], `-${letter} is the short form of an allowed flag`);
    accepted(t, HELM_FLAGS, [`-${letter}`, name === 'values' ? 'file.yaml' : 'x']);
  }
});

test('a value is never read as a flag: whatever follows a flag that takes one is its value', (t) => {
  accepted(t, HELM_FLAGS, ['--set-string', '--post-renderer', '--set', '-f']);
  accepted(t, HELM_FLAGS, ['--set-string', 'image.tag=1.4.3 with spaces', '--set-json', 'a={"b":[1,2]}', '--set-literal', 'x={{ not a template }}']);
});

test('files named by --values, -f and --set-file are returned with the argument they came from', (t) => {
  const result = checkArguments(
    items('helm-args', '--values', 'a.yaml,b/c.yaml', '-f', 'd.yaml', '--values=e.yaml', '--set-file', 'cfg.main=files/x.conf,other=y.txt', '--set', 'f=g.yaml'),
    HELM_FLAGS,
  );
  t.deepEqual(result.errors, []);
  t.deepEqual(result.files, [
    { path: 'a.yaml', where: 'helm-args[1]', flag: 'values' },
    { path: 'b/c.yaml', where: 'helm-args[1]', flag: 'values' },
    { path: 'd.yaml', where: 'helm-args[3]', flag: 'values' },
    { path: 'e.yaml', where: 'helm-args[4]', flag: 'values' },
    { path: 'files/x.conf', where: 'helm-args[6]', flag: 'set-file' },
    { path: 'y.txt', where: 'helm-args[6]', flag: 'set-file' },
  ]);
});

test('values lists are split like helm does (CSV), and the forms where CSV and a split differ are refused', (t) => {
  t.deepEqual(valuesList('a.yaml'), ['a.yaml']);
  t.deepEqual(valuesList('a.yaml,b.yaml'), ['a.yaml', 'b.yaml']);
  t.deepEqual(valuesList(' a.yaml'), [' a.yaml'], 'CSV keeps spaces');
  t.regex(String(valuesList('"a,b.yaml"')), /quotes or line breaks/);
  t.regex(String(valuesList('a.yaml\n/etc/passwd')), /quotes or line breaks/);
  t.regex(String(valuesList('a.yaml,,b.yaml')), /must name a file/);
  t.regex(String(valuesList('')), /must name a file/);
  refused(t, HELM_FLAGS, ['--values', 'a.yaml,"/etc/passwd"'], /helm-args\[1\] "a.yaml,\\"\/etc\/passwd\\"" is not allowed: a values list with quotes/);
});

test('--set-file takes only plain key=path pairs', (t) => {
  t.deepEqual(setFilePairs('a=x.txt'), ['x.txt']);
  t.deepEqual(setFilePairs('a.b-c.d_e=dir/x.txt,f=y'), ['dir/x.txt', 'y']);
  for (const value of ['a', '=x', 'a[0]=x', 'a={x,y}', 'a=x\\,y', 'a={x}', 'a=', 'a=x,', 'a b=x']) {
    t.regex(String(setFilePairs(value)), /--set-file takes key=path pairs/, value);
  }
});

// --- kustomize ----------------------------------------------------------------------------
test('kustomize: the attacks of issue 13 are refused', (t) => {
  refused(t, KUSTOMIZE_FLAGS, ['--load-restrictor', 'LoadRestrictionsNone'], /^helm-args\[0\] "--load-restrictor LoadRestrictionsNone" is not allowed: --load-restrictor accepts only LoadRestrictionsRootOnly/);
  refused(t, KUSTOMIZE_FLAGS, ['--load-restrictor=LoadRestrictionsNone'], /"--load-restrictor LoadRestrictionsNone" is not allowed/);
  refused(t, KUSTOMIZE_FLAGS, ['--enable-exec'], /"--enable-exec" is not allowed: runs programs in the sidecar/);
  refused(t, KUSTOMIZE_FLAGS, ['--enable-alpha-plugins'], /"--enable-alpha-plugins" is not allowed: runs plugin programs/);
  refused(t, KUSTOMIZE_FLAGS, ['--helm-command', '/bin/sh'], /"--helm-command" is not allowed: runs a program of your choice/);
  refused(t, KUSTOMIZE_FLAGS, ['--helm-command=/bin/sh'], /"--helm-command=\/bin\/sh" is not allowed/);
  for (const flag of ['--mount', '--network-name', '--env', '--output', '--kubeconfig']) refused(t, KUSTOMIZE_FLAGS, [flag, 'x'], new RegExp(`"${flag}" is not allowed`));
  for (const flag of ['--network', '--as-current-user', '--helm-debug']) refused(t, KUSTOMIZE_FLAGS, [flag], new RegExp(`"${flag}" is not allowed`));
  refused(t, KUSTOMIZE_FLAGS, ['-e', 'X=1'], /"-e" is not allowed: is not an allowed short flag/);
  refused(t, KUSTOMIZE_FLAGS, ['-o', 'out'], /"-o" is not allowed/);
  refused(t, KUSTOMIZE_FLAGS, ['../other'], /is not a flag/);
  refused(t, KUSTOMIZE_FLAGS, ['--reorder', 'alphabetical'], /--reorder accepts only legacy, none/);
});

test('kustomize: the allowed flags pass unchanged', (t) => {
  accepted(t, KUSTOMIZE_FLAGS, ['--enable-helm', '--helm-kube-version', 'v1.29.0', '--helm-api-versions', 'monitoring.coreos.com/v1']);
  accepted(t, KUSTOMIZE_FLAGS, ['--load-restrictor', 'LoadRestrictionsRootOnly', '--load-restrictor=LoadRestrictionsRootOnly']);
  accepted(t, KUSTOMIZE_FLAGS, ['--reorder', 'none', '--reorder=legacy', '--enable-managedby-label', '--enable-helm=true']);
  t.deepEqual(checkArguments(items('kustomize-args', '--enable-helm'), KUSTOMIZE_FLAGS).files, []);
});

// --- release names and HELM_ARGS ------------------------------------------------------------
test('release names follow helm\'s rule, so one can never be read as a flag', (t) => {
  for (const name of ['demo', 'shop-1', 'a.b-c', '0']) t.is(releaseNameProblem(name), undefined, name);
  for (const name of ['--post-renderer', '-n', 'Demo', 'a_b', 'a-', '', 'a b', `a${'b'.repeat(53)}`]) {
    t.truthy(releaseNameProblem(name), name);
  }
});

test('HELM_ARGS splits on spaces, tabs and line breaks, like the words of the old script', (t) => {
  t.deepEqual(splitWords('--set-string image.tag=2.0.0  --values values-prod.yaml'), ['--set-string', 'image.tag=2.0.0', '--values', 'values-prod.yaml']);
  t.deepEqual(splitWords(' \t-f\na.yaml\n'), ['-f', 'a.yaml']);
  t.deepEqual(splitWords(''), []);
});

test('docs/argo-cd.md lists exactly the flags of the tables', (t) => {
  const readme = readFileSync(path.join(import.meta.dirname, '..', '..', 'docs', 'argo-cd.md'), 'utf8');
  for (const [plugin, table] of [['vaultfill-helm', HELM_FLAGS], ['vaultfill-kustomize', KUSTOMIZE_FLAGS]] as const) {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${plugin}\` | \`--`));
    if (!row) return t.fail(`no allowed-flags row for ${plugin} in docs/argo-cd.md`);
    const listed = new Set([...row.matchAll(/`(--?[a-z][a-z-]*)/g)].map((m) => m[1]));
    const expected = new Set([...Object.keys(table.allowed).map((name) => `--${name}`), ...Object.keys(table.short).map((letter) => `-${letter}`)]);
    t.deepEqual([...listed].sort(), [...expected].sort(), plugin);
  }
});

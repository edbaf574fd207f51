/** Runs the built binary as installed (npm test builds it first) with the local-file backend. */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { startCapture } from '../helpers/capture.js';
import { vaultfill as spawnAsync } from '../helpers/cli.js';
import { mkdtempSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

const root = path.resolve(import.meta.dirname, '../..');
const bin = path.join(root, JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).bin.vaultfill as string);

function fixture(): { dir: string; secrets: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'vaultfill-cli-'));
  const secrets = path.join(dir, 'secrets.yaml');
  writeFileSync(secrets, 'secrets:\n  - path: secret/data/app\n    data: {user: alice, password: hunter2-secret}\n');
  return { dir, secrets };
}

function vaultfill(args: string[], options: { input?: string; env?: Record<string, string>; cwd?: string; binary?: string } = {}) {
  const r = spawnSync(options.binary ?? bin, args, {
    input: options.input ?? '',
    encoding: 'utf8',
    cwd: options.cwd ?? root,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ...options.env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const manifest = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: <path:secret/data/app#password>\n';

test('generate - reads stdin and writes the resolved manifest', (t) => {
  const { secrets } = fixture();
  const r = vaultfill(['generate', '-'], { input: manifest, env: { AVP_TYPE: 'file', AVP_SECRETS_FILE: secrets } });
  t.is(r.code, 0, r.stderr);
  t.like(parseAllDocuments(r.stdout)[0]?.toJS(), { stringData: { password: 'hunter2-secret' } });
  t.is(r.stderr, '');
});

test('an Application that points the sidecar at its own Vault gets an error naming the setting, and that address gets no request', async (t) => {
  const { dir, secrets } = fixture();
  const sidecarFile = path.join(dir, 'projected-vault-token');
  writeFileSync(sidecarFile, 'sidecar-jwt-canary');
  const { address: attacker, seen } = await startCapture(t);
  const sidecar = { AVP_TYPE: 'vault', AVP_AUTH_TYPE: 'approle', AVP_ROLE_ID: 'sidecar-role-canary', AVP_SECRET_ID: 'sidecar-secret-canary', VAULT_ADDR: 'http://127.0.0.1:9' };
  const applications: Array<Record<string, string>> = [
    { ARGOCD_ENV_VAULT_ADDR: attacker },
    { ARGOCD_ENV_VAULT_ADDR: attacker, ARGOCD_ENV_AVP_AUTH_TYPE: 'k8s', ARGOCD_ENV_AVP_K8S_ROLE: 'x', ARGOCD_ENV_AVP_K8S_TOKEN_PATH: sidecarFile },
    { ARGOCD_ENV_AVP_TYPE: 'file', ARGOCD_ENV_AVP_SECRETS_FILE: secrets },
  ];
  for (const application of applications) {
    // Spawned without blocking this process, so the capture server would see a request.
    const r = await spawnAsync(['generate', '-'], { input: manifest, env: { ...sidecar, ...application } });
    t.is(r.code, 2, r.stderr);
    t.is(r.stdout, '');
    for (const name of Object.keys(application)) t.regex(r.stderr, new RegExp(`error CONFIG: ${name}: an Application may not set`));
    t.notRegex(r.stderr, /canary|hunter2/);
  }
  t.deepEqual(seen, [], 'the address an Application chose received nothing');
  // What an Application may set still applies.
  const kv1 = vaultfill(['generate', '-'], { input: manifest, env: { AVP_TYPE: 'file', AVP_SECRETS_FILE: secrets, ARGOCD_ENV_AVP_KV_VERSION: '1' } });
  t.is(kv1.code, 0, kv1.stderr);
  t.true(kv1.stdout.includes('hunter2-secret'));
});

test('generate walks a directory for yaml, yml and json files in path order, ignoring others', (t) => {
  const { dir, secrets } = fixture();
  const tree = path.join(dir, 'tree');
  mkdirSync(path.join(tree, 'sub'), { recursive: true });
  writeFileSync(path.join(tree, 'b.yml'), 'kind: ConfigMap\nmetadata: {name: b}\n');
  writeFileSync(path.join(tree, 'a.yaml'), 'kind: ConfigMap\nmetadata: {name: a}\ndata: {u: "<path:secret/data/app#user>"}\n');
  writeFileSync(path.join(tree, 'sub', 'c.json'), '{"kind": "ConfigMap", "metadata": {"name": "c"}}');
  writeFileSync(path.join(tree, 'README.md'), '# not a manifest <path:x#y>\n');
  const r = vaultfill(['generate', tree, '--secrets-file', secrets]);
  t.is(r.code, 0, r.stderr);
  const names = parseAllDocuments(r.stdout).map((d) => (d.toJS() as { metadata: { name: string } }).metadata.name);
  t.deepEqual(names, ['a', 'b', 'c']);
  t.true(r.stdout.includes('u: "alice"') || r.stdout.includes('u: alice'));
});

test('a directory is read inside itself: a symlink out is an error naming it, and a loop or a second link reads each file once', (t) => {
  const { dir, secrets } = fixture();
  const tree = path.join(dir, 'repo');
  mkdirSync(path.join(tree, 'sub'), { recursive: true });
  writeFileSync(path.join(tree, 'a.yaml'), 'kind: ConfigMap\nmetadata: {name: a}\n');
  symlinkSync('..', path.join(tree, 'sub', 'up')); // a loop: sub/up/sub/up/…
  symlinkSync('../a.yaml', path.join(tree, 'sub', 'again.yaml'));
  const inside = vaultfill(['generate', tree, '--secrets-file', secrets]);
  t.is(inside.code, 0, inside.stderr);
  t.deepEqual(parseAllDocuments(inside.stdout).map((d) => (d.toJS() as { metadata: { name: string } }).metadata.name), ['a']);

  // A file of the sidecar (the token cache, say) linked into the repository: JSON is YAML, so it would be echoed.
  const sidecar = path.join(dir, 'token-cache.json');
  writeFileSync(sidecar, '{"token": "hvs.sidecar-token-canary"}');
  symlinkSync(sidecar, path.join(tree, 'leak.yaml'));
  mkdirSync(path.join(dir, 'elsewhere'));
  writeFileSync(path.join(dir, 'elsewhere', 'x.yaml'), 'kind: ConfigMap\nmetadata: {name: elsewhere-canary}\n');
  symlinkSync(path.join(dir, 'elsewhere'), path.join(tree, 'linked-dir'));
  const out = vaultfill(['generate', tree, '--secrets-file', secrets]);
  t.is(out.code, 3);
  t.is(out.stdout, '');
  t.regex(out.stderr, /error INPUT_READ at .*repo\/leak\.yaml: .*leads outside .* through a symlink/);
  t.regex(out.stderr, /error INPUT_READ at .*repo\/linked-dir\/x\.yaml: .*leads outside/);
  t.notRegex(out.stderr, /canary/);
});

test('a missing key fails with exit 5, a located one-line error and nothing on stdout', (t) => {
  const { secrets } = fixture();
  const r = vaultfill(['generate', '-', '--secrets-file', secrets], { input: manifest.replace('#password', '#nope') });
  t.is(r.code, 5);
  t.is(r.stdout, '');
  t.regex(r.stderr, /^error KEY_NOT_FOUND at stdin:6:13 \(document 1, Secret\/db, stringData\.password\) <path:secret\/data\/app#nope>: key "nope" not found/);
  t.false(r.stderr.includes('hunter2'));
});

test('malformed YAML is an input error (exit 3) with line and column', (t) => {
  const { secrets } = fixture();
  const r = vaultfill(['generate', '-', '--secrets-file', secrets], { input: 'kind: Secret\ndata:\n  a: "<path:secret/data/app#user>\n' });
  t.is(r.code, 3);
  t.is(r.stdout, '');
  t.regex(r.stderr, /error YAML_PARSE at stdin:\d+:\d+ \(document 1\)/);
});

test('empty input is an error (exit 3) unless --allow-empty', (t) => {
  const empty = vaultfill(['generate', '-'], { input: '' });
  t.is(empty.code, 3);
  t.regex(empty.stderr, /EMPTY_INPUT/);
  const allowed = vaultfill(['generate', '-', '--allow-empty'], { input: '# nothing\n' });
  t.is(allowed.code, 0, allowed.stderr);
  t.is(allowed.stdout, '# nothing\n', 'what came in goes out, comments and all');
});

test('usage errors exit 2 without printing the usage text', (t) => {
  const r = vaultfill(['generate']);
  t.is(r.code, 2);
  t.is(r.stderr.trim().split('\n').length, 1);
  const unknown = vaultfill(['generate', '-', '--bogus']);
  t.is(unknown.code, 2);
});

test('missing settings name what is missing and which sources were consulted', (t) => {
  const r = vaultfill(['generate', '-'], { input: manifest, env: { VAULT_ADDR: 'http://127.0.0.1:1' } });
  t.is(r.code, 2);
  t.regex(r.stderr, /missing setting AVP_TYPE/);
  t.regex(r.stderr, /environment: VAULT_ADDR/);
  t.false(r.stderr.includes('127.0.0.1'), 'setting values are not echoed');
});

test('version prints the package version and help exits 0', (t) => {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  t.is(vaultfill(['version']).stdout.trim(), `vaultfill ${pkg.version}`);
  const help = vaultfill(['--help']);
  t.is(help.code, 0);
  t.regex(help.stdout, /vaultfill generate <path\|->/);
});

test('the binary runs through a symlink (as npm installs it) with arguments kept whole', (t) => {
  const { dir, secrets } = fixture();
  const link = path.join(dir, 'bin', 'vaultfill');
  mkdirSync(path.dirname(link));
  symlinkSync(bin, link);
  const odd = path.join(dir, `it's a "dir" $HOME`);
  mkdirSync(odd);
  writeFileSync(path.join(odd, 'm.yaml'), manifest);
  const r = vaultfill(['generate', odd], { binary: link, env: { AVP_TYPE: 'file', AVP_SECRETS_FILE: secrets } });
  t.is(r.code, 0, r.stderr);
  t.like(parseAllDocuments(r.stdout)[0]?.toJS(), { stringData: { password: 'hunter2-secret' } });
});

test('generate - reads stdin whole from a file, a slow pipe, and a non-blocking descriptor', (t) => {
  const { dir, secrets } = fixture();
  const env = { PATH: process.env['PATH'] ?? '', AVP_TYPE: 'file', AVP_SECRETS_FILE: secrets };
  // Two documents, the second after ~200 KB, so a reader that stopped early would lose it.
  const input = `${manifest}---\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  pad: "${'x'.repeat(200_000)}"\n---\n${manifest.replace('name: db', 'name: last')}`;
  const file = path.join(dir, 'in.yaml');
  writeFileSync(file, input);
  const names = (stdout: string) => parseAllDocuments(stdout).map((d) => (d.toJS() as { metadata: { name: string } }).metadata.name);
  const expected = ['db', 'big', 'last'];

  const fromFile = spawnSync('/bin/sh', ['-c', `exec "$0" generate - < "$1"`, bin, file], { encoding: 'utf8', env });
  t.is(fromFile.status, 0, fromFile.stderr);
  t.deepEqual(names(fromFile.stdout), expected);

  // The writer pauses mid-document; with O_NONBLOCK set on the shared pipe (as some parents
  // leave it), reads fail with EAGAIN until data comes, and the rest is read as a stream.
  for (const nonBlocking of [false, true]) {
    const script = `import os, sys, time
r, w = os.pipe()
os.set_blocking(r, ${nonBlocking ? 'False' : 'True'})
pid = os.fork()
if pid == 0:
    os.close(w); os.dup2(r, 0); os.execv(sys.argv[1], [sys.argv[1], 'generate', '-'])
os.close(r)
data = open(sys.argv[2], 'rb').read()
time.sleep(0.2); os.write(w, data[:100000]); time.sleep(0.2)
with os.fdopen(w, 'wb') as f: f.write(data[100000:])
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))`;
    const r = spawnSync('python3', ['-c', script, bin, file], { encoding: 'utf8', env });
    t.is(r.status, 0, r.stderr);
    t.deepEqual(names(r.stdout), expected, nonBlocking ? 'non-blocking' : 'blocking');
  }
});

test('the argocd-vault-plugin alias is declared for the same binary', (t) => {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  t.is(pkg.bin['argocd-vault-plugin'], pkg.bin['vaultfill']);
});

test('the YAML parser never prints: unknown tags in a secrets file, a -c file and a yamlParse value, and a collection key', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vaultfill-cli-'));
  const secrets = path.join(dir, 'secrets.yaml');
  writeFileSync(secrets, 'secrets:\n  - path: secret/data/app\n    data:\n      pw: !encrypted Hunter2-in-file\n      cfg: "db:\\n  user: app\\n  password: !encrypted Hunter2-in-value\\n"\n      keys: "? [a, b]\\n: Hunter2-keyed\\n"\n');
  const config = path.join(dir, 'config.yaml');
  writeFileSync(config, `AVP_TYPE: !plain file\nAVP_SECRETS_FILE: ${secrets}\n`);
  const input = 'kind: X\nuser: <path:secret/data/app#cfg | yamlParse | jsonPath {.db.user}>\npw: <path:secret/data/app#pw>\nk: <path:secret/data/app#keys | yamlParse>\n';
  const r = vaultfill(['generate', '-c', config, '-'], { input });
  t.is(r.code, 0, r.stderr);
  t.is(r.stderr, '');
  t.like(parseAllDocuments(r.stdout)[0]?.toJS(), { user: 'app', pw: 'Hunter2-in-file' });
});

test('a reader that stops early (| head) ends the run quietly: exit 141, no stack on stderr', (t) => {
  const { dir, secrets } = fixture();
  const big = path.join(dir, 'big.yaml');
  writeFileSync(big, Array.from({ length: 20_000 }, (_, i) => `kind: ConfigMap\nmetadata:\n  name: c${i}\n`).join('---\n') + `---\n${manifest}`);
  const r = spawnSync('bash', ['-c', 'set -o pipefail; "$0" generate --secrets-file "$1" "$2" | head -c 100 >/dev/null; echo "${PIPESTATUS[0]}" >&2', bin, secrets, big], { encoding: 'utf8' });
  t.is(r.stderr, '141\n');
});
